// The EPG grid: channels as rows, time as columns, an ARIA grid (role=grid > row > rowheader + gridcell)
// with a roving tabindex. renderGrid() builds one window (a day) in one innerHTML assignment, which is
// what lets 150 channels x 24 h of four-minute songs render well under a second (bench/console_bench.py);
// zoom only changes the --ppm custom property. Times are shown in the schedule's zone.

import { esc } from "./dom.js";

const MINUTE = 60_000;

/** offset(ms) -> the zone's UTC offset in ms at that instant (cached per quarter hour). */
export function zoneOffset(timeZone) {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
  });
  const cache = new Map();
  return (ms) => {
    const bucket = Math.floor(ms / (15 * MINUTE));
    let offset = cache.get(bucket);
    if (offset === undefined) {
      const at = bucket * 15 * MINUTE;
      const p = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
      offset = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - at;
      cache.set(bucket, offset);
    }
    return offset;
  };
}

/** The instant of local midnight starting `day` ("YYYY-MM-DD") in the zone. */
export function dayStart(day, offset) {
  const [y, m, d] = day.split("-").map(Number);
  const wall = Date.UTC(y, m - 1, d);
  let instant = wall - offset(wall);
  instant = wall - offset(instant); // the second guess lands on the right side of a DST change
  return instant;
}

export function dayOf(ms, offset) {
  return new Date(ms + offset(ms)).toISOString().slice(0, 10);
}

export function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

function clock(ms, offset) {
  const m = ((Math.floor((ms + offset(ms)) / MINUTE) % 1440) + 1440) % 1440;
  const hh = Math.floor(m / 60);
  const mm = m % 60;
  return `${hh < 10 ? "0" : ""}${hh}:${mm < 10 ? "0" : ""}${mm}`;
}

/** "HH:MM" in the zone, for labels and accessible names. */
export function clockLabel(ms, offset) {
  return clock(ms, offset);
}

/**
 * Builds the grid into `host` (replacing its content) and returns the model the keyboard code uses.
 * playout: the API's {channels: [{id, name, number?}], slots: [{channel, start, stop, title, kind, ...}],
 * rule_breaks: [{rule, channel, item_id, at, by}]}; start/end: the window's instants (ms).
 */
export function renderGrid(host, playout, { start, end, offset, label, now = Date.now() }) {
  const minutes = (end - start) / MINUTE;
  const rows = [];
  const byChannel = new Map();
  for (const channel of playout.channels || []) {
    const row = { channel, slots: [], starts: [], breaks: [] };
    rows.push(row);
    byChannel.set(channel.id, row);
  }
  for (const slot of playout.slots || []) {
    let row = byChannel.get(slot.channel);
    if (!row) {
      row = { channel: { id: slot.channel, name: slot.channel }, slots: [], starts: [], breaks: [] };
      rows.push(row);
      byChannel.set(slot.channel, row);
    }
    const s = Date.parse(slot.start);
    const e = Date.parse(slot.stop);
    if (e <= start || s >= end) continue;
    row.slots.push({ slot, s, e });
  }
  for (const row of rows) {
    row.slots.sort((a, b) => a.s - b.s);
    // Each cell's drawn span: clipped to the window and to the previous cell (an overlap, which the API's
    // listing fixes should have removed, is drawn from where the previous programme ends).
    let cursor = start;
    row.slots = row.slots.filter((x) => {
      x.from = Math.max(x.s, start, cursor);
      x.to = Math.min(x.e, end);
      if (x.to <= x.from) return false;
      x.gap = x.from - cursor;
      cursor = x.to;
      return true;
    });
    row.starts = row.slots.map((x) => x.s);
  }
  for (const rb of playout.rule_breaks || []) {
    const row = byChannel.get(rb.channel);
    if (!row) continue;
    const at = Date.parse(rb.at);
    const i = lastAtOrBefore(row.starts, at);
    if (i >= 0 && at < row.slots[i].e) (row.slots[i].breaks ||= []).push(rb);
  }

  const ticks = [];
  for (let t = Math.ceil(start / (15 * MINUTE)) * 15 * MINUTE; t < end; t += 15 * MINUTE) {
    const local = Math.round((t + offset(t)) / MINUTE) % 60;
    const kind = local === 0 ? "" : local === 30 ? " half" : " quarter";
    ticks.push(`<span class="tick${kind}" style="--a:${(t - start) / MINUTE}">${clock(t, offset)}</span>`);
  }
  const shells = rows.map(({ channel }, r) => `<div role="row" class="epg-row" data-r="${r}"><div role="rowheader">${channel.number ? `<span class="num">${esc(channel.number)}</span>` : ""}${esc(channel.name || channel.id)}</div></div>`);
  const nowMinute = now >= start && now < end ? (now - start) / MINUTE : null;
  host.innerHTML = `<div class="epg-canvas" style="--minutes:${minutes}"><div class="epg-ruler" aria-hidden="true"><span class="corner">Channel</span>${ticks.join("")}</div><div role="grid" class="epg-grid" aria-label="${esc(label)}" aria-rowcount="${rows.length}">${shells.join("")}</div>${nowMinute === null ? "" : `<div class="epg-now" aria-hidden="true" style="--now:${nowMinute}"></div>`}</div>`;

  const grid = host.querySelector('[role="grid"]');
  const rowEls = grid.children;
  // A cell is one element: rows are flex lines (cells back to back, --g minutes of gap before each), far
  // cheaper to lay out than absolutely placed boxes; the accessible name is the aria-label, and the title
  // and times are drawn by ::before/::after from data attributes, so a cell too narrow at this zoom to
  // show them (classes q1/q3/q24, see app.css) builds no text box at all. Text layout and DOM nodes are
  // what a large grid costs.
  function cellsHtml(r) {
    const html = [];
    for (const { slot, s, e, from, to, gap, breaks } of rows[r].slots) {
      const d = (to - from) / MINUTE;
      const title = esc(slot.title);
      const times = `${clock(s, offset)}–${clock(e, offset)}`;
      const q = d < 2 ? " q1" : d < 6 ? " q3" : d < 48 ? " q24" : "";
      html.push(`<div role="gridcell" class="c k-${esc(slot.kind || "programme")}${q}" style="--g:${gap / MINUTE};--d:${d}" aria-label="${title} ${times}${breaks ? ", rule break" : ""}" data-t="${title}" data-tm="${times}">${breaks ? `<i class="rbm" aria-hidden="true">!</i>` : ""}</div>`);
    }
    return html.join("");
  }

  const filled = new Uint8Array(rows.length);
  function fill(r) {
    if (r < 0 || r >= rows.length || filled[r]) return;
    filled[r] = 1;
    rowEls[r].insertAdjacentHTML("beforeend", cellsHtml(r));
  }
  // The rows on screen are built now; the others right after, a few at a time between frames, so the
  // first screen does not wait for the whole day of every channel (keys build a row on demand).
  const rowHeight = rowEls[0]?.getBoundingClientRect().height || 52;
  const firstShown = Math.max(0, Math.floor(host.scrollTop / rowHeight) - 2);
  const lastShown = Math.min(rows.length - 1, Math.ceil((host.scrollTop + (host.clientHeight || 900)) / rowHeight) + 2);
  for (let r = firstShown; r <= lastShown; r += 1) fill(r);
  let cancelled = false;
  const complete = new Promise((resolve) => {
    let next = 0;
    const step = () => {
      if (cancelled) return resolve(false);
      const until = performance.now() + 12;
      while (next < rows.length && performance.now() < until) fill(next++);
      if (next < rows.length) setTimeout(step, 0);
      else resolve(true);
    };
    setTimeout(step, 0);
  });
  const model = { rows, grid, start, end, minutes, fill, complete, cancel: () => (cancelled = true) };
  // The roving tab stop: the programme on air now in the first row that has one, or the first programme.
  for (let r = 0; r < rows.length; r += 1) {
    if (!rows[r].slots.length) continue;
    const i = nowMinute === null ? 0 : Math.max(0, lastAtOrBefore(rows[r].starts, now));
    cellAt(model, r, i).tabIndex = 0;
    break;
  }
  return model;
}

/** Index of the last sorted value <= x, or -1. */
export function lastAtOrBefore(sorted, x) {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Where a grid cell sits in the model: {r, i} (row index, slot index), or null. */
export function position(model, cell) {
  const row = cell?.closest('[role="row"]');
  if (!row || !model.grid.contains(row)) return null;
  const r = Number(row.dataset.r);
  const i = Array.prototype.indexOf.call(row.children, cell) - 1;
  return i < 0 ? null : { r, i };
}

export function cellAt(model, r, i) {
  model.fill(r);
  return model.grid.children[r]?.children[i + 1] || null;
}

/** The cell an arrow/Home/End/PageUp/PageDown key moves to from {r, i}, or null to stay. */
export function moveTarget(model, { r, i }, key, ctrl = false) {
  const { rows } = model;
  const vertical = (step) => {
    const anchor = rows[r].slots[i].from;
    for (let n = r + step; n >= 0 && n < rows.length; n += step) {
      if (!rows[n].slots.length) continue;
      return { r: n, i: Math.max(0, lastAtOrBefore(rows[n].starts, anchor)) };
    }
    return null;
  };
  const nonEmpty = rows.map((row, n) => (row.slots.length ? n : -1)).filter((n) => n >= 0);
  switch (key) {
    case "ArrowRight": return i + 1 < rows[r].slots.length ? { r, i: i + 1 } : null;
    case "ArrowLeft": return i > 0 ? { r, i: i - 1 } : null;
    case "ArrowDown": return vertical(1);
    case "ArrowUp": return vertical(-1);
    case "Home": return ctrl ? { r: nonEmpty[0], i: 0 } : { r, i: 0 };
    case "End": {
      if (!ctrl) return { r, i: rows[r].slots.length - 1 };
      const last = nonEmpty[nonEmpty.length - 1];
      return { r: last, i: rows[last].slots.length - 1 };
    }
    case "PageDown": {
      let target = null;
      for (let k = 0, at = { r, i }; k < 5; k += 1) {
        const next = moveTarget(model, at, "ArrowDown");
        if (!next) break;
        target = at = next;
      }
      return target;
    }
    case "PageUp": {
      let target = null;
      for (let k = 0, at = { r, i }; k < 5; k += 1) {
        const next = moveTarget(model, at, "ArrowUp");
        if (!next) break;
        target = at = next;
      }
      return target;
    }
    default: return null;
  }
}
