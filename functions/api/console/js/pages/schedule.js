// One schedule: its facts, feed URLs (copy buttons), refresh policy, versions, warnings with their source
// lines, a run form, the run's progress until it finishes and its report, and the recent runs.
// Sections that read the API on their own show their own error, so one missing read spoils no other.

import { ApiError, api, apiUrl, download, send } from "../api.js";
import { errorBox, fmtBytes, fmtInstant, fmtNumber, h, sleep, statusBadge } from "../dom.js";
import { apiSource, fileSource, findingsTable } from "../findings.js";

const RUN_POLL_MS = 1000;

function fact(name, value) {
  return [h("dt", {}, name), h("dd", {}, value ?? "–")];
}

function refreshText(refresh) {
  return refresh ? `every ${refresh.days} day(s) at ${refresh.at}` : "none";
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without clipboard permission: select a field holding the text, for ctrl+C.
    const field = h("input", { value: text, readonly: true, "aria-label": "Feed URL" });
    button.after(field);
    field.select();
  }
  button.textContent = "Copied";
  setTimeout(() => (button.textContent = "Copy"), 2000);
}

function section(title, id, ...content) {
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

function summary(schedule) {
  const counts = schedule.format === "xmltv" ? fact("Programmes", fmtNumber(schedule.programmes)) : fact("Library items", fmtNumber(schedule.items));
  return h("dl", { class: "facts", id: "facts" },
    fact("Format", schedule.format), fact("Version", schedule.version), fact("Imported", fmtInstant(schedule.created_at)),
    schedule.updated_at ? fact("Updated", fmtInstant(schedule.updated_at)) : [],
    fact("Source", fmtBytes(schedule.source_bytes)), fact("Channels", fmtNumber(schedule.channels)), counts,
    fact("Warnings", fmtNumber(schedule.warnings?.length || 0)),
    "refresh" in schedule ? fact("Refresh", refreshText(schedule.refresh)) : [],
    "published" in schedule ? fact("Feed", schedule.published ? `published ${fmtInstant(schedule.published.published_at)} (run ${schedule.published.run_id})` : "not published") : []);
}

function feeds(schedule, reload) {
  if (!schedule.feed) return h("p", { class: "muted" }, "This API shows no feed for the schedule.");
  const rows = Object.entries(schedule.feed.urls || {}).map(([name, path]) => {
    const url = apiUrl(path);
    const button = h("button", { type: "button", class: "secondary", "aria-label": `Copy the ${name} URL` }, "Copy");
    button.addEventListener("click", () => copy(url, button));
    return h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, h("code", {}, url)), h("td", {}, button));
  });
  const rotate = h("button", { type: "button", class: "secondary" }, "New feed token");
  rotate.addEventListener("click", async () => {
    if (!confirm("A new token changes every feed URL; the old URLs stop at once. Go on?")) return;
    await api(`schedules/${encodeURIComponent(schedule.id)}/feed-token`, { method: "POST" });
    reload();
  });
  return h("div", {}, h("table", { id: "feeds" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Feed"), h("th", { scope: "col" }, "URL"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Copy")))), h("tbody", {}, rows)),
    schedule.published ? null : h("p", { class: "muted" }, "The feeds answer once a run is published."), h("p", {}, rotate));
}

async function versions(id, signal) {
  const answer = await api(`schedules/${encodeURIComponent(id)}/versions`, { signal });
  return h("table", { id: "versions" },
    h("thead", {}, h("tr", {}, ["Version", "Imported", "Size", "Channels", "Programmes / items", "Warnings"].map((n, i) => h("th", { scope: "col", class: i ? null : "num" }, n)))),
    h("tbody", {}, answer.items.map((v) => h("tr", {}, h("td", { class: "num" }, v.version), h("td", {}, fmtInstant(v.created_at)), h("td", {}, fmtBytes(v.source_bytes)),
      h("td", {}, fmtNumber(v.channels)), h("td", {}, fmtNumber(v.programmes ?? v.items)), h("td", {}, fmtNumber(v.warnings))))));
}

function report(run) {
  const r = run.report || {};
  const rows = [];
  const add = (name, value) => rows.push(h("tr", {}, h("th", { scope: "row" }, name), h("td", { class: "num" }, value)));
  const breaks = Object.entries(r.rule_breaks || {});
  if (!breaks.length) add("Rule breaks", "0");
  for (const [rule, n] of breaks) add(`Rule break: ${rule.replaceAll("_", " ")}`, fmtNumber(n));
  add("Underruns", fmtNumber(r.underruns ?? 0));
  add("Overruns", fmtNumber(r.overruns ?? 0));
  add("Fill error", `${r.fill_error_seconds ?? 0} s`);
  for (const [kind, n] of Object.entries(r.changes || {})) add(`Listing fix: ${kind.replaceAll("_", " ")}`, fmtNumber(n));
  return h("table", { id: "run-report" }, h("caption", {}, "Report"), h("tbody", {}, rows));
}

function outputs(run) {
  const names = Object.entries(run.outputs || {});
  if (!names.length) return null;
  return h("ul", { class: "outputs" }, names.map(([name, path]) => {
    const link = h("a", { href: apiUrl(path) }, name);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      download(path, name).catch((error) => link.after(errorBox(error)));
    });
    return h("li", {}, link);
  }));
}

function runView(run, scheduleId) {
  const done = run.status === "succeeded" || run.status === "failed";
  return h("div", { class: "panel", id: "run", dataset: { status: run.status, published: String(Boolean(run.published)) } },
    h("p", {}, "Run ", h("code", {}, run.id), ": ", statusBadge(run.status), " ",
      done ? null : h("progress", { "aria-label": "Run progress" })),
    h("dl", { class: "facts" }, fact("Requested", fmtInstant(run.created_at)), fact("Started", fmtInstant(run.started_at)), fact("Finished", fmtInstant(run.finished_at)),
      fact("Range", `${run.request?.from || "default"} · ${run.request?.days ?? 1} day(s) · seed ${run.request?.seed ?? 0}`),
      // A run says succeeded a moment before its outputs become the feed (and the guide's playout)
      fact("Published", run.published ? "yes: the feeds and the guide show this run" : run.request?.publish === false ? "no (not asked)" : done ? "not yet" : "when it succeeds")),
    run.error ? errorBox(run.error) : null,
    run.status === "succeeded" ? [report(run), outputs(run),
      run.request?.publish === false ? null : h("p", {}, h("a", { href: `schedules/${encodeURIComponent(scheduleId)}/guide` }, "Open the guide"))] : null);
}

export function runBody(form, formats) {
  const body = { days: Number(form.days.value || 1), seed: Number(form.seed.value || 0) };
  if (form.from.value) body.from = form.from.value;
  if (formats.length) {
    const picked = formats.filter((name) => form.querySelector(`input[name="format"][value="${name}"]`).checked);
    if (!picked.length) throw new Error("choose at least one output");
    if (picked.length < formats.length) body.formats = picked;
  }
  if (!form.publish.checked) body.publish = false; // the API publishes by default; sent only when off
  return body;
}

export async function render(view, [id], ctx) {
  const path = `schedules/${encodeURIComponent(id)}`;
  const schedule = await api(path, { signal: ctx.signal });
  const reload = () => ctx.navigate(path, { replace: true });
  const formats = Array.isArray(ctx.config.formats) ? ctx.config.formats : [];

  const runBox = h("div", { id: "run-box" });
  const form = h("form", { id: "run-form" },
    h("div", { class: "form-row" },
      h("label", {}, "From", h("input", { type: "date", name: "from" })),
      h("label", {}, "Days", h("input", { type: "number", name: "days", min: 1, max: 366, value: 1, required: true })),
      h("label", {}, "Seed", h("input", { type: "number", name: "seed", min: 0, value: 0, required: true })),
      h("label", {}, h("input", { type: "checkbox", name: "publish", checked: true }), "Publish (the feeds and the guide show this run)")),
    formats.length ? h("fieldset", {}, h("legend", {}, "Outputs"), h("div", { class: "form-row" },
      formats.map((name) => h("label", {}, h("input", { type: "checkbox", name: "format", value: name, checked: true }), name)))) : null,
    h("button", { type: "submit" }, "Run"));

  async function follow(runId) {
    let publishing = 0; // polls after succeeded, waiting for its outputs to become the feed
    for (;;) {
      let run;
      try {
        run = await api(`runs/${encodeURIComponent(runId)}`, { signal: ctx.signal });
      } catch (error) {
        if (error.name === "AbortError") return;
        runBox.replaceChildren(errorBox(error));
        return;
      }
      const shown = runBox.querySelector("#run");
      if (!shown || shown.dataset.status !== run.status || shown.dataset.published !== String(Boolean(run.published))) {
        runBox.replaceChildren(runView(run, id)); // redrawn on a change only: a download link stays put
      }
      const waiting = run.status === "succeeded" && !run.published && run.request?.publish !== false;
      if (run.status === "failed" || (run.status === "succeeded" && (!waiting || ++publishing > 30))) return run;
      await sleep(RUN_POLL_MS, ctx.signal);
      if (ctx.signal.aborted) return;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const accepted = await api(`${path}/runs`, { method: "POST", body: runBody(form, formats), headers: { "Idempotency-Key": crypto.randomUUID() }, signal: ctx.signal });
      history.replaceState(null, "", `?${new URLSearchParams({ run: accepted.id })}`);
      await follow(accepted.id);
    } catch (error) {
      if (error.name !== "AbortError") runBox.replaceChildren(errorBox(error), error.details?.length ? findingsTable(error.details) : null);
    } finally {
      button.disabled = false;
    }
  });

  // A new version of the document (PUT), with the current version as If-Match.
  const versionInput = h("input", { type: "file", name: "file", accept: ".xml,.gz,application/xml,application/gzip", "aria-label": "New version file" });
  const versionResult = h("div");
  const versionForm = h("form", { id: "version-form" }, h("div", { class: "form-row" }, versionInput,
    h("label", {}, "Refresh every", h("input", { type: "number", name: "refresh_days", min: 0, max: 31, size: 3 }), "days (0: none)"),
    h("label", {}, "at", h("input", { type: "time", name: "refresh_at" })),
    h("button", { type: "submit" }, "Upload new version")), versionResult);
  versionForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = versionInput.files[0];
    if (!file) return;
    const query = new URLSearchParams();
    if (versionForm.refresh_days.value) query.set("refresh_days", versionForm.refresh_days.value);
    if (versionForm.refresh_at.value) query.set("refresh_at", versionForm.refresh_at.value);
    const magic = new Uint8Array(await file.slice(0, 2).arrayBuffer());
    const headers = { "Content-Type": magic[0] === 0x1f && magic[1] === 0x8b ? "application/gzip" : "application/xml" };
    if (schedule.version) headers["If-Match"] = `"${schedule.version}"`;
    const reply = await send("PUT", apiUrl(`${path}?${query}`), file, headers);
    if (reply.status === 200) return reload();
    const error = new ApiError(reply.status, reply.body);
    versionResult.replaceChildren(errorBox(error), error.details.length ? findingsTable(error.details, { source: fileSource(file) }) : null);
  });

  const versionsBox = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const runsBox = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  view.append(...[
    h("p", {}, h("a", { href: "./" }, "← Schedules")),
    h("h1", {}, "Schedule ", h("code", {}, schedule.name || id)),
    summary(schedule),
    h("p", {}, h("a", { class: "button", href: `${path}/guide` }, "Guide")),
    section("Feeds", "feeds-h", feeds(schedule, reload)),
    section("Run", "run-h", form, runBox),
    section("Recent runs", "runs-h", runsBox),
    section("Versions", "versions-h", versionsBox, versionForm),
    schedule.warnings?.length
      ? section("Warnings", "warnings-h", findingsTable(schedule.warnings, { caption: `${schedule.warnings.length} warning(s)`, source: apiSource(`${path}/source`, schedule.version ? { version: schedule.version } : {}) }))
      : null,
  ].filter(Boolean));

  versions(id, ctx.signal).then((table) => versionsBox.replaceChildren(table), (error) => error.name !== "AbortError" && versionsBox.replaceChildren(errorBox(error)));
  api(`runs?${new URLSearchParams({ schedule_id: id, limit: 10 })}`, { signal: ctx.signal }).then((answer) => {
    runsBox.replaceChildren(answer.items.length ? h("table", { id: "runs" },
      h("thead", {}, h("tr", {}, ["Run", "Status", "Requested", "Finished"].map((n) => h("th", { scope: "col" }, n)))),
      h("tbody", {}, answer.items.map((run) => {
        const link = h("a", { href: `${path}?run=${encodeURIComponent(run.id)}` }, run.id);
        return h("tr", {}, h("td", {}, link), h("td", {}, statusBadge(run.status)), h("td", {}, fmtInstant(run.created_at)), h("td", {}, fmtInstant(run.finished_at)));
      }))) : h("p", { class: "muted" }, "No runs yet."));
  }, (error) => error.name !== "AbortError" && runsBox.replaceChildren(errorBox(error)));
  const shown = ctx.query.get("run");
  if (shown) follow(shown);
}
