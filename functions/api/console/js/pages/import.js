// Import: a file from <input type=file> or dropped on the page. Up to the API's limit it is POSTed to
// /schedules; over it (or when the API answers 413) it goes to POST /uploads and the presigned PUT, then
// the import is polled at GET /uploads/{id}. Both sends are XMLHttpRequests for their progress events.

import { api, apiUrl, send } from "../api.js";
import { fmtBytes, h, sleep } from "../dom.js";
import { fileSource, findingsTable } from "../findings.js";

const POLL_MS = 1000;

async function isGzip(file) {
  const magic = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  return magic[0] === 0x1f && magic[1] === 0x8b;
}

export function importQuery(form) {
  const query = new URLSearchParams();
  if (form.strict.checked) query.set("strict", "true");
  if (form.refresh_days.value) query.set("refresh_days", form.refresh_days.value);
  if (form.refresh_at.value) query.set("refresh_at", form.refresh_at.value);
  return query;
}

export function render(view, _params, ctx) {
  const limit = Number(ctx.config.max_import_bytes) || null;
  const input = h("input", { type: "file", name: "file", id: "file", accept: ".xml,.gz,.xmltv,application/xml,text/xml,application/gzip" });
  const chosen = h("p", { id: "chosen", class: "muted" }, "No file chosen yet.");
  const drop = h("label", { class: "drop", for: "file" },
    h("strong", {}, "Drop an XMLTV listing or an OnAir schedule here"), h("br"),
    h("span", {}, "or choose a file: "), input,
    h("br"), h("span", { class: "muted" }, "XML or gzip. ",
      limit ? `Up to ${fmtBytes(limit)} it is sent directly; larger files go through a presigned upload.` : ""));
  const button = h("button", { type: "submit", disabled: true }, "Import");
  const form = h("form", { class: "import" },
    drop, chosen,
    h("fieldset", {}, h("legend", {}, "Options"),
      h("div", { class: "form-row" },
        h("label", {}, h("input", { type: "checkbox", name: "strict" }), "Strict (every finding is an error)"),
        h("label", {}, "Refresh every", h("input", { type: "number", name: "refresh_days", min: 1, max: 31, size: 3, inputmode: "numeric" }), "days"),
        h("label", {}, "at", h("input", { type: "time", name: "refresh_at" })))),
    button);
  const progress = h("progress", { max: 100, value: 0, id: "upload-progress", "aria-labelledby": "progress-label" });
  const progressText = h("span", { id: "progress-text" }, "");
  const progressRow = h("p", { hidden: true }, h("span", { id: "progress-label" }, "Upload progress"), " ", progress, " ", progressText);
  const status = h("p", { role: "status", id: "import-status" });
  const result = h("div", { id: "import-result" });
  view.append(h("h1", {}, "Import a schedule"), form, progressRow, status, result);

  let file = null;
  function choose(picked) {
    file = picked || null;
    button.disabled = !file;
    if (!file) return;
    const route = limit && file.size > limit ? "a presigned upload (over the API's limit)" : "POST /schedules";
    chosen.textContent = `${file.name} · ${fmtBytes(file.size)} · goes through ${route}`;
    result.replaceChildren();
    status.textContent = "";
  }
  input.addEventListener("change", () => choose(input.files[0]));
  for (const name of ["dragenter", "dragover"]) {
    view.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  view.addEventListener("dragleave", (event) => {
    if (!view.contains(event.relatedTarget)) drop.classList.remove("over");
  });
  view.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const dropped = event.dataTransfer?.files;
    if (dropped?.length) {
      input.files = dropped;
      choose(dropped[0]);
    }
  });

  function showProgress(loaded, total) {
    const percent = total ? Math.min(100, Math.floor((100 * loaded) / total)) : 0;
    progress.value = percent;
    progressText.textContent = `${percent} %`;
  }

  function rejected(error, picked) {
    status.textContent = "";
    result.replaceChildren(
      h("div", { class: "error", role: "alert" }, h("strong", {}, `Rejected (${error.code}): `), error.message),
      error.details?.length ? findingsTable(error.details, { caption: `Findings in ${picked.name}`, source: fileSource(picked) }) : null,
    );
  }

  async function imported(summary) {
    status.textContent = "";
    const warnings = summary.warnings?.length || 0;
    result.replaceChildren(h("div", { class: "ok" },
      h("strong", {}, "Imported. "), `${summary.format} schedule, ${summary.channels} channel(s)`,
      warnings ? `, ${warnings} warning(s)` : "", ". ",
      h("a", { href: `schedules/${encodeURIComponent(summary.id)}`, id: "imported-link" }, `Open schedule ${summary.id}`)));
  }

  async function viaUpload(picked, gzip, query) {
    const uploadQuery = new URLSearchParams(query);
    uploadQuery.set("content_type", gzip ? "application/gzip" : "application/xml");
    const grant = await api(`uploads?${uploadQuery}`, { method: "POST", signal: ctx.signal });
    status.textContent = "Uploading…";
    showProgress(0, picked.size);
    const put = await send(grant.method || "PUT", grant.url, picked, grant.headers || {}, showProgress, ctx.signal);
    if (put.status < 200 || put.status >= 300) throw new Error(`the upload's PUT answered ${put.status}`);
    showProgress(picked.size, picked.size);
    status.textContent = `Uploaded; importing (upload ${grant.id})…`;
    for (;;) {
      const upload = await api(`uploads/${encodeURIComponent(grant.id)}`, { signal: ctx.signal });
      if (upload.status === "imported") return imported(await api(`schedules/${encodeURIComponent(upload.schedule_id)}`, { signal: ctx.signal }));
      if (upload.status === "rejected") return rejected(upload.error || { code: "rejected", message: "the upload was rejected" }, picked);
      await sleep(POLL_MS, ctx.signal);
      if (ctx.signal.aborted) return;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file) return;
    const picked = file;
    button.disabled = true;
    result.replaceChildren();
    progressRow.hidden = false;
    showProgress(0, picked.size);
    try {
      const gzip = await isGzip(picked);
      const query = importQuery(form);
      if (limit && picked.size > limit) {
        await viaUpload(picked, gzip, query);
        return;
      }
      status.textContent = "Sending…";
      const reply = await send("POST", apiUrl(`schedules?${query}`), picked,
        { "Content-Type": gzip ? "application/gzip" : "application/xml" }, showProgress, ctx.signal);
      if (reply.status === 201) await imported(reply.body);
      else if (reply.status === 413) await viaUpload(picked, gzip, query); // larger than the API takes after gunzip
      else rejected((reply.body && reply.body.error) || { code: `http_${reply.status}`, message: "the API refused the document" }, picked);
    } catch (error) {
      if (error.name === "AbortError") return;
      status.textContent = "";
      result.replaceChildren(h("div", { class: "error", role: "alert" }, error.code ? `${error.code}: ` : "", error.message));
    } finally {
      button.disabled = !file;
    }
  });
}
