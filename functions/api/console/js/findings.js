// A document's findings as a table (Code, Line, Column, Path, Message), each with the source lines around
// its line. The lines come from the File the operator picked (read here, streamed: a 200 MiB upload is
// never held whole) or, when the file is not at hand, from the API's bounded source excerpt.

import { api } from "./api.js";
import { h } from "./dom.js";

export const CONTEXT = 2; // lines each side of a finding's line
const MAX_EXCERPTS = 50; // findings beyond this show no excerpt (a lenient import can carry thousands)
const SHOWN_CHARS = 240; // of a long line, the part around the finding's column

/** Excerpts from a File (XML, or gzip by its magic bytes): Map(line -> {first_line, lines}). */
export function fileSource(file) {
  return async (findings) => {
    const wanted = new Map(); // line -> chars to keep of it
    for (const { line, column } of findings) {
      for (let n = Math.max(1, line - CONTEXT); n <= line + CONTEXT; n += 1) {
        wanted.set(n, Math.max(wanted.get(n) || 0, (n === line ? column || 0 : 0) + SHOWN_CHARS + 200));
      }
    }
    const last = Math.max(...wanted.keys());
    const magic = new Uint8Array(await file.slice(0, 2).arrayBuffer());
    let stream = file.stream();
    if (magic[0] === 0x1f && magic[1] === 0x8b) stream = stream.pipeThrough(new DecompressionStream("gzip"));
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    const text = new Map();
    let lineNo = 1;
    let partial = "";
    try {
      reading: for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        let start = 0;
        for (;;) {
          const newline = value.indexOf("\n", start);
          const piece = value.slice(start, newline === -1 ? undefined : newline);
          const keep = wanted.get(lineNo);
          if (keep && partial.length < keep) partial += piece.slice(0, keep - partial.length);
          if (newline === -1) break;
          if (keep) text.set(lineNo, partial.replace(/\r$/, ""));
          partial = "";
          lineNo += 1;
          if (lineNo > last) break reading;
          start = newline + 1;
        }
      }
      if (partial && wanted.has(lineNo)) text.set(lineNo, partial);
    } finally {
      reader.cancel().catch(() => {});
    }
    const excerpts = new Map();
    for (const { line } of findings) {
      const first = Math.max(1, line - CONTEXT);
      const lines = [];
      for (let n = first; n <= line + CONTEXT && text.has(n); n += 1) lines.push(text.get(n));
      excerpts.set(line, { first_line: first, lines });
    }
    return excerpts;
  };
}

/** Excerpts from the API: GET {path}?line=N&context=K (uploads/{id}/source, schedules/{id}/source). */
export function apiSource(path, extra = {}) {
  return async (findings) => {
    const excerpts = new Map();
    const lines = [...new Set(findings.map((f) => f.line))];
    await Promise.all(
      lines.map(async (line) => {
        const query = new URLSearchParams({ line, context: CONTEXT, ...extra });
        excerpts.set(line, await api(`${path}?${query}`));
      }),
    );
    return excerpts;
  };
}

function excerptBlock(excerpt, finding) {
  const pre = h("pre", { "aria-label": `Source lines ${excerpt.first_line}–${excerpt.first_line + excerpt.lines.length - 1}` });
  excerpt.lines.forEach((text, i) => {
    const number = excerpt.first_line + i;
    let shown = text;
    if (number === finding.line && finding.column > SHOWN_CHARS / 2) {
      const from = finding.column - SHOWN_CHARS / 2;
      shown = `…${text.slice(from, from + SHOWN_CHARS)}${text.length > from + SHOWN_CHARS ? "…" : ""}`;
    } else if (text.length > SHOWN_CHARS) {
      shown = `${text.slice(0, SHOWN_CHARS)}…`;
    }
    const content = [h("span", { class: "ln", "aria-hidden": "true" }, number), shown];
    pre.append(number === finding.line ? h("mark", { dataset: { line: number } }, ...content) : h("span", { dataset: { line: number } }, ...content, "\n"));
  });
  return pre;
}

/**
 * The findings table. `source(findings)` resolves to excerpts by line (fileSource / apiSource); the table
 * is drawn at once and the excerpts fill in when they arrive.
 */
export function findingsTable(findings, { caption, source } = {}) {
  const body = h("tbody");
  const table = h("table", { class: "findings" }, h("caption", {}, caption || `${findings.length} finding(s)`),
    h("thead", {}, h("tr", {}, ["Code", "Line", "Column", "Path", "Message"].map((name, i) => h("th", { scope: "col", class: i === 1 || i === 2 ? "num" : null }, name)))),
    body);
  const slots = new Map();
  findings.forEach((finding, index) => {
    body.append(h("tr", { class: "finding" },
      h("td", {}, h("code", {}, finding.code)),
      h("td", { class: "num" }, finding.line ?? "–"),
      h("td", { class: "num" }, finding.column ?? "–"),
      h("td", {}, finding.path ? h("code", {}, finding.path) : "–"),
      h("td", {}, finding.message)));
    if (finding.line && index < MAX_EXCERPTS) {
      const cell = h("td", { colspan: 5 }, h("span", { class: "muted" }, "Reading the source…"));
      body.append(h("tr", { class: "excerpt" }, cell));
      slots.set(finding, cell);
    }
  });
  const wanted = [...slots.keys()];
  if (source && wanted.length) {
    source(wanted)
      .then((excerpts) => {
        for (const [finding, cell] of slots) {
          const excerpt = excerpts.get(finding.line);
          cell.replaceChildren(excerpt && excerpt.lines.length ? excerptBlock(excerpt, finding) : h("span", { class: "muted" }, "No such line in the source."));
        }
      })
      .catch((error) => {
        for (const cell of slots.values()) cell.replaceChildren(h("span", { class: "muted" }, `Source not available: ${error.message}`));
      });
  } else {
    for (const cell of slots.values()) cell.parentElement.remove();
  }
  if (findings.length > MAX_EXCERPTS) table.append(h("tfoot", {}, h("tr", {}, h("td", { colspan: 5, class: "muted" }, `Source lines are shown for the first ${MAX_EXCERPTS} findings.`))));
  return table;
}
