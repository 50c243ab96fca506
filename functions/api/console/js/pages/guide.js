// The EPG page of a schedule's published playout: one day at a time from
// GET /schedules/{id}/playout?from=&to= (the API bounds the window), zoom 1 h / 3 h / 24 h, paging by day,
// a now-line, arrow keys between programmes, Enter or click for a programme's details.

import { ApiError, api } from "../api.js";
import { h } from "../dom.js";
import { addDays, cellAt, clockLabel, dayOf, dayStart, moveTarget, position, renderGrid, zoneOffset } from "../epg.js";

const ZOOMS = [1, 3, 24];
const NOW_TICK_MS = 30_000;
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

function fact(name, value) {
  return value === null || value === undefined || value === "" ? [] : [h("dt", {}, name), h("dd", {}, value)];
}

function duration(ms) {
  const s = Math.round(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return [hh ? `${hh} h` : "", mm ? `${mm} min` : "", ss ? `${ss} s` : ""].filter(Boolean).join(" ") || "0 s";
}

/**
 * Mounts the guide into `root`. load(startMs, endMs) resolves to the API's playout for that window; the
 * console passes an API read, the benchmark a synthetic playout (the same rendering either way).
 */
export function mountGuide(root, { title, timeZone, load, day, zoom = 3, onState = () => {}, signal, now = () => Date.now() }) {
  const zone = timeZone || browserZone;
  const offset = zoneOffset(zone);
  let current = day || dayOf(now(), offset);
  let zoomHours = ZOOMS.includes(Number(zoom)) ? Number(zoom) : 3;
  let model = null;

  const scroll = h("div", { class: `epg epg-scroll z${zoomHours}`, id: "epg" });
  const dateInput = h("input", { type: "date", value: current, "aria-label": "Day", onchange: () => dateInput.value && show(dateInput.value) });
  const zoomButtons = ZOOMS.map((hours) => h("button", { type: "button", class: "secondary", "aria-pressed": String(hours === zoomHours), onclick: () => setZoom(hours) }, `${hours} h`));
  const status = h("p", { role: "status", class: "muted", id: "guide-status" });
  const dialog = h("dialog", { id: "programme", "aria-labelledby": "programme-title" });
  root.append(
    h("h1", {}, title),
    h("div", { class: "guide-bar" },
      h("div", { class: "group", role: "group", "aria-label": "Day" },
        h("button", { type: "button", class: "secondary", onclick: () => show(addDays(current, -1)) }, "◀ Previous day"),
        dateInput,
        h("button", { type: "button", class: "secondary", onclick: () => show(addDays(current, 1)) }, "Next day ▶"),
        h("button", { type: "button", class: "secondary", onclick: () => show(dayOf(now(), offset), true) }, "Now")),
      h("div", { class: "group", role: "group", "aria-label": "Zoom" }, h("span", {}, "Zoom"), zoomButtons),
      h("span", { class: "muted" }, `Times in ${zone}`),
      h("ul", { class: "legend", "aria-label": "Kinds" }, ["programme", "event", "block", "filler"].map((k) => h("li", { class: `k-${k}` }, k)))),
    status, scroll, dialog);

  function applyZoom() {
    const width = Math.max(200, scroll.clientWidth - parseFloat(getComputedStyle(scroll).scrollPaddingLeft || "176"));
    scroll.style.setProperty("--ppm", `${width / (zoomHours * 60)}px`);
    scroll.classList.remove("z1", "z3", "z24");
    scroll.classList.add(`z${zoomHours}`);
    zoomButtons.forEach((b, k) => b.setAttribute("aria-pressed", String(ZOOMS[k] === zoomHours)));
  }

  function scrollToMinute(minute) {
    const ppm = parseFloat(scroll.style.getPropertyValue("--ppm")) || 1;
    scroll.scrollLeft = Math.max(0, minute * ppm - 30 * ppm);
  }

  function focused() {
    return model?.grid.querySelector('[role="gridcell"][tabindex="0"]') || null;
  }

  function setZoom(hours) {
    const cell = focused();
    const at = cell ? position(model, cell) : null;
    zoomHours = hours;
    applyZoom();
    if (at) scrollToMinute((model.rows[at.r].slots[at.i].from - model.start) / 60_000);
    onState(current, zoomHours);
  }

  function moveTo(from, to) {
    if (!to) return;
    if (from) from.removeAttribute("tabindex");
    to.tabIndex = 0;
    to.focus();
  }

  function details(cell) {
    const at = position(model, cell);
    if (!at) return;
    const row = model.rows[at.r];
    const { slot, s, e, breaks } = row.slots[at.i];
    const when = `${dayOf(s, offset)} ${clockLabel(s, offset)} – ${dayOf(e, offset) === dayOf(s, offset) ? "" : `${dayOf(e, offset)} `}${clockLabel(e, offset)}`;
    dialog.replaceChildren(
      h("h2", { id: "programme-title" }, slot.title),
      h("dl", { class: "facts" },
        fact("Channel", row.channel.name || row.channel.id), fact("Time", `${when} (${zone})`), fact("Duration", duration(e - s)),
        fact("Kind", slot.kind), fact("Item", slot.item_id), fact("Artist", slot.artist), fact("Category", slot.category),
        fact("Pool", slot.pool), fact("Block", slot.block),
        fact("Rule breaks", breaks ? h("ul", {}, breaks.map((b) => h("li", {}, `${b.rule.replaceAll("_", " ")}: ${b.rule.startsWith("max_") ? `${b.by} play(s) over` : `${duration(b.by * 1000)} short`}`))) : "none")),
      h("form", { method: "dialog" }, h("button", { type: "submit" }, "Close")));
    dialog.showModal();
  }

  scroll.addEventListener("keydown", (event) => {
    const cell = event.target.closest?.('[role="gridcell"]');
    if (!cell || !model) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      details(cell);
      return;
    }
    const at = position(model, cell);
    const to = at && moveTarget(model, at, event.key, event.ctrlKey || event.metaKey);
    if (to) {
      event.preventDefault();
      moveTo(cell, cellAt(model, to.r, to.i));
    } else if (event.key.startsWith("Arrow")) event.preventDefault(); // at an edge: stay, do not scroll
  });
  scroll.addEventListener("click", (event) => {
    const cell = event.target.closest('[role="gridcell"]');
    if (!cell) return;
    moveTo(focused(), cell);
    details(cell);
  });

  const timing = { build: 0, layout: 0 };
  async function show(nextDay, jumpToNow = false) {
    current = nextDay;
    dateInput.value = current;
    onState(current, zoomHours);
    const start = dayStart(current, offset);
    const end = dayStart(addDays(current, 1), offset);
    status.textContent = "Loading…";
    let playout;
    try {
      playout = await load(start, end);
    } catch (error) {
      if (error.name === "AbortError") return;
      scroll.replaceChildren();
      model = null;
      status.textContent = error instanceof ApiError && error.code === "not_published"
        ? "Nothing is published yet: run the schedule with “publish” on." : `The playout could not be read: ${error.message}`;
      return;
    }
    if (nextDay !== current) return; // a later page request won
    model?.cancel();
    const t0 = performance.now();
    model = renderGrid(scroll, playout, { start, end, offset, now: now(), label: `Programme guide, ${current} (${zone})` });
    const t1 = performance.now();
    applyZoom();
    void scroll.scrollHeight; // the layout, measured with the build
    timing.build = t1 - t0;
    timing.layout = performance.now() - t0;
    const cells = playout.slots?.length || 0;
    status.textContent = `${model.rows.length} channel(s), ${cells} programme(s) on ${current}.`;
    const t = now();
    if (jumpToNow || (t >= start && t < end)) scrollToMinute(Math.max(0, (t - start) / 60_000));
    else scroll.scrollLeft = 0;
  }

  const ticker = setInterval(() => {
    const line = scroll.querySelector(".epg-now");
    if (line && model) line.style.setProperty("--now", String((now() - model.start) / 60_000));
  }, NOW_TICK_MS);
  const resized = () => applyZoom();
  window.addEventListener("resize", resized);
  signal?.addEventListener("abort", () => {
    clearInterval(ticker);
    window.removeEventListener("resize", resized);
  });
  applyZoom();
  return { show, setZoom, timing, get model() { return model; }, ready: show(current) };
}

export async function render(view, [id], ctx) {
  const path = `schedules/${encodeURIComponent(id)}`;
  const schedule = await api(path, { signal: ctx.signal });
  let zone = schedule.timezone;
  if (zone === undefined) {
    // The zone decides where a day starts: a one-minute window of the playout tells it.
    const t = new Date();
    const probe = await api(`${path}/playout?${new URLSearchParams({ from: t.toISOString(), to: new Date(+t + 60_000).toISOString() })}`, { signal: ctx.signal })
      .catch((error) => (error.code === "not_published" ? null : Promise.reject(error)));
    zone = probe?.timezone;
  }
  view.append(h("p", {}, h("a", { href: path }, "← Schedule ", id)));
  const guide = mountGuide(view, {
    title: `Guide · ${schedule.name || id}`,
    timeZone: zone || undefined,
    day: ctx.query.get("day") || undefined,
    zoom: ctx.query.get("zoom") || 3,
    signal: ctx.signal,
    load: (start, end) => api(`${path}/playout?${new URLSearchParams({ from: new Date(start).toISOString(), to: new Date(end).toISOString() })}`, { signal: ctx.signal }),
    onState: (day, zoom) => history.replaceState(null, "", `?${new URLSearchParams({ day, zoom })}`),
  });
  await guide.ready;
}
