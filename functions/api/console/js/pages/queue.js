// Queue stats: GET /queue-stats every few seconds while the page is open.

import { api } from "../api.js";
import { fmtNumber, h, sleep } from "../dom.js";

export const REFRESH_MS = 3000;

export async function render(view, _params, ctx) {
  const body = h("tbody");
  const updated = h("p", { class: "muted", id: "queue-updated" }, "Loading…");
  view.append(h("h1", {}, "Queues"),
    h("table", { id: "queue-stats" },
      h("thead", {}, h("tr", {}, ["Queue", "Visible", "In flight", "Delayed", "Dead letters"].map((n, i) => h("th", { scope: "col", class: i ? "num" : null }, n)))),
      body),
    updated);
  let refreshes = 0;
  while (!ctx.signal.aborted) {
    try {
      const stats = await api("queue-stats", { signal: ctx.signal });
      const line = (name, depth, dead) => h("tr", {}, h("th", { scope: "row" }, name),
        h("td", { class: "num" }, fmtNumber(depth.visible)), h("td", { class: "num" }, fmtNumber(depth.in_flight)),
        h("td", { class: "num" }, fmtNumber(depth.delayed)), h("td", { class: "num" }, fmtNumber(dead)));
      body.replaceChildren(
        line("Run jobs", stats.jobs, stats.dead_letters.jobs),
        line("Imports", stats.imports, stats.dead_letters.imports),
        h("tr", {}, h("th", { scope: "row" }, "Run cap"), h("td", { class: "num", colspan: 4 }, `${fmtNumber(stats.run_concurrency_limit)} run(s) at once`)));
      refreshes += 1;
      updated.dataset.refreshes = String(refreshes);
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s.`;
    } catch (error) {
      if (error.name === "AbortError") return;
      updated.textContent = `Could not read the queues: ${error.message}. Retrying…`;
    }
    await sleep(REFRESH_MS, ctx.signal);
  }
}
