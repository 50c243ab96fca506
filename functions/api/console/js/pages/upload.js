// One upload by its id (a deep link): its import status, and a rejection's findings with the source lines
// read from the API (GET /uploads/{id}/source), since the file itself is not at hand here.

import { api } from "../api.js";
import { h, sleep, statusBadge } from "../dom.js";
import { apiSource, findingsTable } from "../findings.js";

export async function render(view, [id], ctx) {
  const path = `uploads/${encodeURIComponent(id)}`;
  const state = h("p", { role: "status", id: "upload-status" });
  const result = h("div");
  view.append(h("h1", {}, `Upload ${id}`), state, result);
  for (;;) {
    const upload = await api(path, { signal: ctx.signal });
    state.replaceChildren("Status: ", statusBadge(upload.status));
    if (upload.status === "imported") {
      result.replaceChildren(h("p", {}, h("a", { href: `schedules/${encodeURIComponent(upload.schedule_id)}` }, `Open schedule ${upload.schedule_id}`)));
      return;
    }
    if (upload.status === "rejected") {
      const error = upload.error || {};
      result.replaceChildren(h("div", { class: "error", role: "alert" }, h("strong", {}, `Rejected (${error.code}): `), error.message),
        error.details?.length ? findingsTable(error.details, { caption: "Findings", source: apiSource(`${path}/source`) }) : null);
      return;
    }
    await sleep(1000, ctx.signal);
    if (ctx.signal.aborted) return;
  }
}
