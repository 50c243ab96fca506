// Small DOM helpers: the console builds its pages with these (no framework, no build step).

/** h("a", {href: "x", onclick: f}, "text", child, [more]) -> an element; null/false children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** Text for innerHTML (the EPG builds its many cells as one string: much faster than createElement). */
export const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

export function fmtBytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

const instantFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
/** An ISO instant in the operator's own zone (the EPG shows the schedule's zone instead). */
export function fmtInstant(iso) {
  if (!iso) return "–";
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? String(iso) : instantFormat.format(ms);
}

export function fmtNumber(n) {
  return n === null || n === undefined ? "–" : Number(n).toLocaleString();
}

export function statusBadge(status) {
  return h("span", { class: `status ${status}` }, status);
}

/** A promise that resolves after `ms`, or at once when `signal` aborts (pages stop their polls so). */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function errorBox(error) {
  const box = h("div", { class: "error", role: "alert" }, error.code ? h("strong", {}, `${error.code}: `) : null,
    error.message || String(error));
  return box;
}
