// The schedules list: GET /schedules (newest first, paged by cursor), searchable on the loaded pages.

import { api } from "../api.js";
import { fmtInstant, fmtNumber, h, statusBadge } from "../dom.js";

const PAGE = 100;

function feedState(schedule) {
  if (schedule.published) return h("span", {}, "published ", fmtInstant(schedule.published.published_at));
  return h("span", { class: "muted" }, schedule.feed ? "not published" : "–");
}

function row(schedule) {
  const contents = schedule.format === "xmltv" ? `${fmtNumber(schedule.programmes)} programmes` : `${fmtNumber(schedule.items)} items`;
  return h("tr", { dataset: { id: schedule.id } },
    h("td", {}, h("a", { href: `schedules/${encodeURIComponent(schedule.id)}` }, schedule.name || schedule.id)),
    h("td", {}, schedule.format),
    h("td", { class: "num" }, fmtNumber(schedule.channels)),
    h("td", { class: "num" }, contents),
    h("td", { class: "num" }, schedule.version ?? "–"),
    h("td", {}, schedule.last_run ? [statusBadge(schedule.last_run.status), " ", fmtInstant(schedule.last_run.finished_at || schedule.last_run.created_at)] : h("span", { class: "muted" }, "never")),
    h("td", {}, feedState(schedule)),
    h("td", {}, fmtInstant(schedule.updated_at || schedule.created_at)));
}

export function matches(schedule, words) {
  const text = [schedule.id, schedule.name, schedule.format, schedule.last_run?.status, schedule.published ? "published" : "unpublished"]
    .filter(Boolean).join(" ").toLowerCase();
  return words.every((word) => text.includes(word));
}

export async function render(view, _params, ctx) {
  const search = h("input", { type: "search", id: "search", placeholder: "id, format, status…", value: ctx.query.get("q") || "" });
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const count = h("p", { class: "muted", role: "status", id: "list-status" });
  view.append(
    h("h1", {}, "Schedules"),
    h("div", { class: "form-row" }, h("label", { for: "search" }, "Search"), search, h("a", { class: "button", href: "import" }, "Import a schedule")),
    h("table", { id: "schedules" },
      h("thead", {}, h("tr", {}, ["Schedule", "Format", "Channels", "Programmes / items", "Version", "Last run", "Feed", "Updated"]
        .map((name, i) => h("th", { scope: "col", class: [2, 3, 4].includes(i) ? "num" : null }, name)))),
      body),
    count, more);

  const loaded = [];
  let cursor = null;
  function draw() {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = loaded.filter((s) => matches(s, words));
    body.replaceChildren(...shown.map(row));
    count.textContent = loaded.length
      ? `${shown.length} of ${loaded.length} loaded schedule(s)${cursor ? " (more on the server)" : ""}.`
      : "No schedules yet: import one.";
    more.hidden = !cursor;
  }
  async function page() {
    const query = new URLSearchParams({ limit: PAGE });
    if (cursor) query.set("cursor", cursor);
    const answer = await api(`schedules?${query}`, { signal: ctx.signal });
    loaded.push(...answer.items);
    cursor = answer.next_cursor || null;
    draw();
  }
  search.addEventListener("input", () => {
    history.replaceState(null, "", search.value ? `?${new URLSearchParams({ q: search.value })}` : location.pathname);
    draw();
  });
  more.addEventListener("click", () => page());
  await page();
}
