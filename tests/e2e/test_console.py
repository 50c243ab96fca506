"""The operator console (issue 11) in headless Debian Chromium against the real local stack, which serves
the console itself (ApiFunction's /console/) on the API's origin.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bench.xmltv_gen import write_listing
from local.template import ROOT, TEMPLATE, CfnLoader
from tests.e2e.conftest import LocalStack, put_presigned, running_stack, wait_for

# The harness is also this module's plugin (its fixtures: browser, console_origin, console).
pytest.register_assert_rewrite("tests.e2e.console_harness")
pytest_plugins = ["tests.e2e.console_harness"]

from tests.e2e.console_harness import CONSOLE, ConsolePage, Sent, new_console, until  # noqa: E402

pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "samples" / "radio-rotation.xml"
DAY = "2026-06-01"
NOON = "2026-06-01T10:00:00Z"  # an instant inside DAY in Europe/Paris, the sample's zone
MALFORMED = b"""<?xml version="1.0" encoding="UTF-8"?>
<tv generator-info-name="console test">
  <channel id="one.example"><display-name>One</display-name></channel>
  <programme start="20260601060000 +0000" stop="20260601070000 +0000" channel="one.example">
    <title>Morning</title>
  </programme>
  <programme start="20260601070000 +0000" stop="20260601080000 +0000" channel="one.example">
    <title>Broken</titel>
  </programme>
</tv>
"""
MALFORMED_LINE = 8
TIMES = r"\d\d:\d\d\u2013\d\d:\d\d"  # "HH:MM", an en dash (U+2013), "HH:MM"
CELL_NAME = re.compile(rf"^.+ {TIMES}(, rule break)?$")


# --- helpers -----------------------------------------------------------------------------------------------


def import_via_api(stack: LocalStack, document: bytes) -> dict[str, Any]:
    reply = stack.request("POST", "/schedules", document, {"content-type": "application/xml"})
    assert reply.status == 201, reply.body
    return reply.json()


def finished_run(stack: LocalStack, run_id: str) -> dict[str, Any]:
    """The run once it failed, or succeeded and (when it publishes) became the feed: its status says
    succeeded a moment before its outputs are published."""

    def done() -> dict[str, Any] | None:
        run = stack.request("GET", f"/runs/{run_id}").json()
        publishes = run["request"].get("publish", True)
        finished = run["status"] == "failed" or (
            run["status"] == "succeeded" and run["published"] == publishes
        )
        return run if finished else None

    return wait_for(done, 90, f"run {run_id}")


def run_via_api(stack: LocalStack, schedule_id: str, request: dict[str, Any]) -> dict[str, Any]:
    reply = stack.request(
        "POST", f"/schedules/{schedule_id}/runs", json.dumps(request), {"content-type": "application/json"}
    )
    assert reply.status == 202, reply.body
    run = finished_run(stack, reply.json()["id"])
    assert run["status"] == "succeeded", run
    return run


def sample_channels() -> list[dict[str, str]]:
    namespace = {"o": "urn:onair:schedule:1"}
    root = ET.parse(SAMPLE).getroot()
    return [
        {"id": c.get("id"), "name": c.get("name")} for c in root.findall("o:channels/o:channel", namespace)
    ]


def day_window(day: str = DAY) -> str:
    """The query of one local day of the sample's zone (Europe/Paris, CEST in June): what the guide reads."""
    return f"from={day}T00:00:00%2B02:00&to={day}T23:59:59.999%2B02:00"


def playout_of(stack: LocalStack, schedule_id: str) -> dict[str, Any]:
    """DAY of the schedule's published playout, from GET /schedules/{id}/playout as the guide reads it."""
    reply = stack.request("GET", f"/schedules/{schedule_id}/playout?{day_window()}")
    assert reply.status == 200, reply.body
    return reply.json()


MOUNT_GUIDE = """async ({data, day, now, zoom}) => {
  const { mountGuide } = await import("./js/pages/guide.js");
  const epg = await import("./js/epg.js");
  const view = document.getElementById("view");
  view.replaceChildren();
  window.guide = mountGuide(view, { title: "Guide", timeZone: data.timezone, load: async () => data, day, zoom, now: () => Date.parse(now) });
  window.epg = epg;
  await window.guide.ready;
  await window.guide.model.complete;
}"""
ACTIVE = """() => {
  const at = window.epg.position(window.guide.model, document.activeElement);
  if (!at) return null;
  const x = window.guide.model.rows[at.r].slots[at.i];
  return { r: at.r, i: at.i, from: x.from, to: x.to, cells: window.guide.model.rows[at.r].slots.length,
           rows: window.guide.model.rows.length, name: document.activeElement.getAttribute("aria-label"),
           stops: document.querySelectorAll('[role="gridcell"][tabindex="0"]').length };
}"""


@pytest.fixture(scope="module")
def sample_run(local_stack: LocalStack) -> tuple[dict[str, Any], dict[str, Any]]:
    """The radio sample imported and run for DAY, published."""
    summary = import_via_api(local_stack, SAMPLE.read_bytes())
    run = run_via_api(local_stack, summary["id"], {"from": DAY, "days": 1})
    return summary, run


def mount_real_guide(
    console: ConsolePage, local_stack: LocalStack, summary: dict[str, Any], zoom: int = 1
) -> Any:
    """The guide component on a real published playout, at a fixed "now" (NOON) so that the keyboard
    model's starting cell is known."""
    page = console.open("component-test")  # the not-found page: a console document with nothing running
    page.get_by_role("heading", name="Not found").wait_for()
    data = playout_of(local_stack, summary["id"])
    page.evaluate(MOUNT_GUIDE, {"data": data, "day": DAY, "now": NOON, "zoom": zoom})
    return page


def chosen_text(page: Any) -> str:
    return page.locator("#chosen").inner_text()


def expected_failures_only(console: ConsolePage, *statuses: int) -> None:
    """Chromium logs every 4xx answer as a console error; a rejection's own status is expected, nothing else."""
    assert console.uncaught == []
    allowed = [f"status of {status}" for status in statuses]
    assert [e for e in console.errors if not any(a in e for a in allowed)] == []


# --- import ------------------------------------------------------------------------------------------------


def test_valid_file_imports_and_opens_its_schedule_page(console, local_stack):
    # Given the import page
    page = console.open("import")
    # When the operator picks the radio sample with the file input and imports it
    page.set_input_files("#file", str(SAMPLE))
    assert "POST /schedules" in chosen_text(page)
    page.get_by_role("button", name="Import").click()
    # Then the import succeeds and links to the schedule, whose page shows what was stored
    link = page.locator("#imported-link")
    link.wait_for()
    schedule_id = link.inner_text().removeprefix("Open schedule ")
    stored = local_stack.request("GET", f"/schedules/{schedule_id}").json()
    link.click()
    page.wait_for_url(f"**/console/schedules/{schedule_id}")
    until(page, "() => document.activeElement.tagName === 'H1'")  # the new page's heading has the focus
    facts = page.locator("#facts")
    assert "onair" in facts.inner_text()
    assert re.search(rf"Channels\s+{stored['channels']}\b", facts.inner_text())
    assert page.get_by_role("button", name="Run", exact=True).is_visible()
    assert console.uncaught == []


def test_dropped_file_imports(console):
    # Given the import page, when a file is dropped on it (a real DragEvent carrying a File)
    page = console.open("import")
    page.locator(".drop").wait_for()
    page.evaluate(
        """(text) => {
          const data = new DataTransfer();
          data.items.add(new File([text], "dropped.xml", { type: "application/xml" }));
          document.querySelector(".drop").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
        }""",
        SAMPLE.read_text(),
    )
    # Then it is the chosen file, and importing it succeeds
    assert chosen_text(page).startswith("dropped.xml")
    page.get_by_role("button", name="Import").click()
    page.locator("#imported-link").wait_for()
    assert console.uncaught == []


def test_imported_schedule_is_listed_and_found_by_search(console):
    page = console.open("import")
    page.set_input_files("#file", str(SAMPLE))
    page.get_by_role("button", name="Import").click()
    schedule_id = page.locator("#imported-link").inner_text().removeprefix("Open schedule ")
    page.get_by_role("link", name="Schedules", exact=True).click()
    row = page.locator(f'#schedules tr[data-id="{schedule_id}"]')
    row.wait_for()
    assert "onair" in row.inner_text()
    page.get_by_label("Search").fill(schedule_id[:13])
    assert page.locator("#schedules tbody tr").count() >= 1
    assert row.is_visible()
    page.get_by_label("Search").fill("no-such-schedule-anywhere")
    assert page.locator("#schedules tbody tr").count() == 0
    assert console.errors == [] and console.uncaught == []


def findings_at(page: Any, line: int) -> tuple[Any, Any]:
    """The findings table's row for `line`, and the source excerpt row under it."""
    table = page.locator("table.findings")
    table.wait_for()
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    assert headers == ["Code", "Line", "Column", "Path", "Message"]
    row = table.locator("tr.finding").filter(
        has=page.locator("td:nth-child(2)", has_text=re.compile(rf"^{line}$"))
    )
    assert row.count() >= 1, table.inner_text()
    excerpt = row.first.locator("xpath=following-sibling::tr[1][contains(@class, 'excerpt')]")
    excerpt.locator("pre").wait_for()
    return row.first, excerpt


@pytest.mark.parametrize("packing", ["xml", "gzip"])
def test_malformed_file_shows_its_finding_at_its_line(console, tmp_path, packing):
    # Given a document whose line 8 closes <title> with </titel> (sent as is, or gzipped)
    path = tmp_path / ("broken.xml" if packing == "xml" else "broken.xml.gz")
    path.write_bytes(MALFORMED if packing == "xml" else gzip.compress(MALFORMED))
    page = console.open("import")
    # When it is imported
    page.set_input_files("#file", str(path))
    page.get_by_role("button", name="Import").click()
    # Then the findings table has a row at line 8, with the source lines around it read from the file,
    # line 8 itself marked
    _, excerpt = findings_at(page, MALFORMED_LINE)
    marked = excerpt.locator("mark")
    assert marked.get_attribute("data-line") == str(MALFORMED_LINE)
    assert "<title>Broken</titel>" in marked.inner_text()
    source = MALFORMED.decode().splitlines()
    numbers = excerpt.locator("[data-line]").evaluate_all(
        "(lines) => lines.map((l) => Number(l.dataset.line))"
    )
    assert numbers == list(range(MALFORMED_LINE - 2, MALFORMED_LINE + 3))
    shown = excerpt.locator("[data-line]").all_inner_texts()
    for number, text in zip(numbers, shown, strict=True):
        assert source[number - 1].strip() in text
    expected_failures_only(console, 400, 422)


def large_listing(path: Path, stack: LocalStack) -> Path:
    """An XMLTV listing just over the API's import limit (template.yaml's MaxImportBytes)."""
    write_listing(path, int(stack.app.parameters["MaxImportBytes"]) + 256 * 1024)
    return path


PROGRESS_PROBE = """() => {
  window.progressSeen = [];
  const bar = document.getElementById("upload-progress");
  new MutationObserver(() => window.progressSeen.push(bar.value)).observe(bar, { attributes: true });
  const text = document.getElementById("progress-text");
  new MutationObserver(() => window.progressSeen.push(text.textContent)).observe(text, { childList: true, characterData: true, subtree: true });
}"""


def test_large_upload_shows_progress_to_100_percent_and_the_import_finishing(console, local_stack, tmp_path):
    # Given a listing over the API's limit
    path = large_listing(tmp_path / "large.xml", local_stack)
    page = console.open("import")
    page.set_input_files("#file", str(path))
    assert "presigned upload" in chosen_text(page)
    page.evaluate(PROGRESS_PROBE)
    before = len(console.api_calls())
    # When it is imported
    page.get_by_role("button", name="Import").click()
    # Then the upload's progress bar reaches 100 % and the import finishes through the upload
    until(page, "() => document.getElementById('upload-progress').value === 100", 120)
    assert page.locator("#progress-text").inner_text() == "100 %"
    link = page.locator("#imported-link")
    link.wait_for(timeout=120_000)
    schedule_id = link.inner_text().removeprefix("Open schedule ")
    calls = [(s.method, s.path) for s in console.api_calls()[before:]]
    assert ("POST", "/uploads") in calls and ("POST", "/schedules") not in calls
    # the file went straight to the bucket (moto), cross-origin, allowed by the template's bucket CORS
    (put,) = [s for s in console.sent if s.method == "PUT"]
    assert put.url.startswith(local_stack.endpoint + "/") and "/incoming/" in put.path
    assert local_stack.request("GET", f"/schedules/{schedule_id}").status == 200
    assert 100 in page.evaluate("window.progressSeen")
    assert console.errors == [] and console.uncaught == []


def preflight(stack: LocalStack, origin: str, url: str) -> tuple[int, dict[str, str]]:
    """The CORS preflight a browser on `origin` sends before the presigned PUT."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        connection.request(
            "OPTIONS",
            f"{parts.path}?{parts.query}",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def test_the_bucket_allows_the_consoles_origin_and_no_other(local_stack):
    # Given a presigned upload URL (the local bucket: moto, with template.yaml's CORS rules applied)
    grant = local_stack.request("POST", "/uploads").json()
    # Then a preflight from the console's origin (the API's) is allowed, one from elsewhere refused
    status, headers = preflight(local_stack, local_stack.api, grant["url"])
    assert (status, headers.get("access-control-allow-origin")) == (200, local_stack.api)
    assert "PUT" in headers["access-control-allow-methods"]
    status, _ = preflight(local_stack, "https://elsewhere.example", grant["url"])
    assert status == 403  # a browser fails a preflight that is not a 2xx: no PUT follows


def download_large_output(console: ConsolePage, stack: LocalStack, schedule_id: str, run_id: str) -> Sent:
    """Opens the run on its schedule page and downloads its playout.json (over 1 MiB: the API answers a
    302 to a presigned GET, which the console follows cross-origin); answers the bucket's GET."""
    page = console.open(f"schedules/{schedule_id}?run={run_id}")
    link = page.locator("#run ul.outputs").get_by_role("link", name="playout.json")
    with page.expect_download() as waiting:
        link.click()
    download = waiting.value
    with open(download.path(), "rb") as saved:
        body = saved.read()
    reply = stack.request("GET", f"/runs/{run_id}/output/playout.json")  # urllib follows the 302
    assert len(body) > 1024 * 1024 and body == reply.body
    (bucket,) = [s for s in console.sent if s.url.startswith(stack.endpoint + "/") and s.method == "GET"]
    return bucket


def test_large_output_downloads_from_the_bucket_through_the_redirect(console, local_stack):
    summary = import_via_api(local_stack, SAMPLE.read_bytes())
    run = run_via_api(local_stack, summary["id"], {"from": DAY, "days": 3})
    bucket = download_large_output(console, local_stack, summary["id"], run["id"])
    assert "/runs/" in bucket.path and "playout.json" in bucket.path
    assert console.errors == [] and console.uncaught == []


def test_rejected_large_upload_shows_its_finding_from_the_file(console, local_stack, tmp_path):
    # Given a listing over the limit, broken at one line deep inside it
    path = large_listing(tmp_path / "large.xml", local_stack)
    lines = path.read_text().splitlines(keepends=True)
    broken = next(n for n in range(len(lines) // 2, len(lines)) if lines[n].lstrip().startswith("<title"))
    lines[broken] = lines[broken].replace("</title>", "</titel>")
    path.write_text("".join(lines))
    page = console.open("import")
    # When it is imported (through the presigned upload)
    page.set_input_files("#file", str(path))
    page.get_by_role("button", name="Import").click()
    # Then the rejection's finding is at that line, with that line from the file marked
    _, excerpt = findings_at(page, broken + 1)
    assert "</titel>" in excerpt.locator("mark").inner_text()
    assert page.get_by_role("alert").filter(has_text="Rejected").is_visible()
    assert console.errors == [] and console.uncaught == []


def test_rejected_upload_page_shows_source_lines_from_the_api(console, local_stack):
    reply = local_stack.request("POST", "/uploads")
    grant = reply.json()
    assert put_presigned(grant["url"], MALFORMED, grant["headers"]) == 200
    wait_for(
        lambda: local_stack.request("GET", f"/uploads/{grant['id']}").json()["status"] == "rejected",
        60,
        "the rejection",
    )
    page = console.open(f"uploads/{grant['id']}")
    _, excerpt = findings_at(page, MALFORMED_LINE)
    assert "<title>Broken</titel>" in excerpt.locator("mark").inner_text()
    assert console.uncaught == []


# --- a schedule and its runs --------------------------------------------------------------------------------


def test_run_from_the_form_reaches_succeeded_with_its_report(console, local_stack):
    # Given an imported schedule, opened by its deep link
    summary = import_via_api(local_stack, SAMPLE.read_bytes())
    page = console.open(f"schedules/{summary['id']}")
    form = page.locator("#run-form")
    # When the operator asks for a day from DAY with seed 7, without the as-run log
    form.get_by_label("From").fill(DAY)
    form.get_by_label("Days").fill("1")
    form.get_by_label("Seed").fill("7")
    form.get_by_label("asrun.csv").uncheck()
    form.get_by_role("button", name="Run").click()
    # Then the run is followed until it succeeds, and its report and outputs are shown
    page.locator('#run[data-status="succeeded"]').wait_for(timeout=120_000)
    # and until its outputs are the feed (a moment after it succeeds)
    page.locator('#run[data-published="true"]').wait_for(timeout=30_000)
    assert "yes: the feeds and the guide show this run" in page.locator("#run").inner_text()
    report = page.locator("#run-report")
    assert "Underruns" in report.inner_text() and "Fill error" in report.inner_text()
    outputs = page.locator("#run ul.outputs").inner_text()
    assert "guide.xml" in outputs and "asrun.csv" not in outputs
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    run = local_stack.request("GET", f"/runs/{run_id}").json()
    assert run["status"] == "succeeded"
    assert run["request"]["seed"] == 7 and run["request"]["from"] == DAY
    assert "asrun.csv" not in run["outputs"]
    breaks = sum(run["report"]["rule_breaks"].values())
    assert (breaks == 0 and "Rule breaks" in report.inner_text()) or "Rule break:" in report.inner_text()
    assert console.uncaught == []


def test_schedule_page_shows_versions_and_copies_feed_urls(browser, console_origin, local_stack):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    summary = import_via_api(local_stack, SAMPLE.read_bytes())
    page.goto(f"{console_origin}/console/schedules/{summary['id']}")
    page.locator("#versions tbody tr").first.wait_for()
    assert page.locator("#versions tbody tr td").first.inner_text() == "1"
    row = page.locator("#feeds tr", has_text="guide.xml").first
    url = row.locator("code").inner_text()
    row.get_by_role("button").click()
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert local_stack.request("GET", url.removeprefix(console_origin)).status in (200, 404)
    context.close()


# --- the EPG grid -------------------------------------------------------------------------------------------


def test_grid_is_an_aria_grid_of_named_rows_and_cells(console, local_stack, sample_run):
    # Given the guide of a real run of the radio sample
    summary, _ = sample_run
    page = mount_real_guide(console, local_stack, summary)
    # When Chromium's own accessibility tree is read
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]

    def named(role: str) -> list[str]:
        return [
            n.get("name", {}).get("value", "")
            for n in nodes
            if n.get("role", {}).get("value") == role and not n.get("ignored")
        ]

    # Then there is one grid, a row per channel named by its rowheader, and a gridcell per programme
    # whose name holds its title and times
    assert len(named("grid")) == 1
    assert named("rowheader") == [c["name"] for c in sample_channels()]
    cells = named("gridcell")
    assert len(cells) == page.locator('[role="gridcell"]').count() > 0
    assert all(CELL_NAME.match(name) for name in cells), [n for n in cells if not CELL_NAME.match(n)][:5]
    first = playout_of(local_stack, summary["id"])["slots"][0]
    assert any(name.startswith(first["title"] + " ") for name in cells)
    assert console.uncaught == []


def test_grid_keyboard_moves_between_programmes_and_opens_details(console, local_stack, sample_run):
    summary, _ = sample_run
    page = mount_real_guide(console, local_stack, summary)
    # Given the single tab stop of the grid (the programme on air at NOON in the first row)
    page.locator('[role="gridcell"][tabindex="0"]').focus()
    start = page.evaluate(ACTIVE)
    assert start["r"] == 0 and start["stops"] == 1
    assert start["from"] <= page.evaluate(f"Date.parse('{NOON}')") < start["to"]
    # When the arrow keys move, the focus and the single tab stop move with them
    page.keyboard.press("ArrowRight")
    right = page.evaluate(ACTIVE)
    assert (right["r"], right["i"], right["stops"]) == (0, start["i"] + 1, 1)
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(ACTIVE)["i"] == start["i"]
    page.keyboard.press("ArrowDown")
    down = page.evaluate(ACTIVE)
    assert down["r"] == 1 and down["from"] <= start["from"] < down["to"]  # on air when the first began
    page.keyboard.press("ArrowUp")
    assert page.evaluate(ACTIVE)["r"] == 0
    page.keyboard.press("End")
    end = page.evaluate(ACTIVE)
    assert end["i"] == end["cells"] - 1
    page.keyboard.press("Home")
    assert page.evaluate(ACTIVE)["i"] == 0
    page.keyboard.press("Control+End")
    last = page.evaluate(ACTIVE)
    assert (last["r"], last["i"]) == (last["rows"] - 1, last["cells"] - 1)
    page.keyboard.press("ArrowDown")  # at the edge: stays
    assert page.evaluate(ACTIVE)["r"] == last["r"]
    page.keyboard.press("Control+Home")
    assert page.evaluate(ACTIVE)["r"] == 0 and page.evaluate(ACTIVE)["i"] == 0
    # And Enter opens the programme's details, Escape closes them and the focus is back on the programme
    page.keyboard.press("ArrowRight")
    focused = page.evaluate(ACTIVE)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_role("heading").inner_text() == re.sub(rf" {TIMES}.*$", "", focused["name"])
    details = dialog.inner_text()
    for fact in ("Channel", "Time", "Item", "Rule breaks"):
        assert fact in details
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate(ACTIVE)["i"] == focused["i"]
    assert console.uncaught == []


def test_grid_click_opens_details_with_pool_block_and_rule_breaks(console, local_stack, sample_run):
    # Given the guide of a run that broke rotation rules
    summary, _ = sample_run
    data = playout_of(local_stack, summary["id"])
    assert data["rule_breaks"], "the radio sample breaks rules on its small library"
    page = mount_real_guide(console, local_stack, summary)
    # When a programme marked with a rule break is clicked
    cell = page.locator('[role="gridcell"][aria-label$=", rule break"]').first
    cell.scroll_into_view_if_needed()
    cell.click()
    # Then its details list the pool, the block and the rule broken
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    text = dialog.inner_text()
    assert re.search(r"Pool\s+\S+", text) and re.search(r"Block\s+\d\d:\d\d-\d\d:\d\d", text)
    assert re.search(r"(artist|title) separation|max plays", text)
    assert console.uncaught == []


def test_grid_zoom_changes_the_scale_not_the_cells(console, local_stack, sample_run):
    summary, _ = sample_run
    page = mount_real_guide(console, local_stack, summary, zoom=1)
    cells = page.locator('[role="gridcell"]').count()
    widths = {}
    for hours in (1, 3, 24):
        page.get_by_role("button", name=f"{hours} h", exact=True).click()
        assert (
            page.get_by_role("button", name=f"{hours} h", exact=True).get_attribute("aria-pressed") == "true"
        )
        widths[hours] = page.evaluate("document.querySelector('.epg-canvas').getBoundingClientRect().width")
    assert widths[1] > widths[3] > widths[24]
    assert page.locator('[role="gridcell"]').count() == cells
    assert console.uncaught == []


def test_published_schedule_shows_its_guide_page(console, local_stack, sample_run):
    summary, _ = sample_run
    page = console.open(f"schedules/{summary['id']}/guide?day={DAY}&zoom=3")
    grid = page.get_by_role("grid")
    grid.wait_for()
    assert page.get_by_role("rowheader").all_inner_texts() == [c["name"] for c in sample_channels()]
    assert page.get_by_role("gridcell").count() > 0
    page.get_by_role("button", name="Next day ▶").click()
    page.wait_for_url(re.compile(r"day=2026-06-02"))
    page.get_by_role("button", name="◀ Previous day").click()
    page.wait_for_url(re.compile(rf"day={DAY}"))
    page.get_by_role("gridcell").first.click()
    page.get_by_role("dialog").wait_for()
    assert console.errors == [] and console.uncaught == []


def test_guide_page_of_today_draws_the_now_line(console, local_stack):
    summary = import_via_api(local_stack, SAMPLE.read_bytes())
    run_via_api(local_stack, summary["id"], {"days": 1})
    page = console.open(f"schedules/{summary['id']}/guide")
    page.get_by_role("grid").wait_for()
    assert page.locator(".epg-now").count() == 1
    assert console.errors == [] and console.uncaught == []


# --- queue, pages, size, colours, sign-in ---------------------------------------------------------------------


def test_queue_stats_refresh_on_their_own(console, local_stack):
    page = console.open("queue")
    page.locator("#queue-updated").wait_for()
    until(page, "() => Number(document.getElementById('queue-updated').dataset.refreshes) >= 2", 30)
    table = page.locator("#queue-stats").inner_text()
    assert "Run jobs" in table and "Imports" in table
    assert f"{local_stack.app.parameters['RunConcurrency']} run(s) at once" in table
    assert console.errors == [] and console.uncaught == []


PAGES = [
    pytest.param("import", "h1", id="import"),
    pytest.param("queue", "#queue-updated[data-refreshes]", id="queue"),
    pytest.param("", "#list-status:not(:empty)", id="schedules"),
    pytest.param("schedules/{id}", "#versions", id="schedule"),
    pytest.param("schedules/{id}/guide", '[role="grid"]', id="guide"),
    pytest.param("no/such/page", "h1", id="not-found"),
]


@pytest.mark.parametrize(("path", "ready"), PAGES)
def test_no_error_in_the_browser_console(console, sample_run, path, ready):
    summary, _ = sample_run
    page = console.open(path.format(id=summary["id"]))
    page.locator(ready).first.wait_for()
    page.wait_for_load_state("networkidle")
    assert console.errors == []
    assert console.uncaught == []


def test_first_load_is_under_200_kb(console, sample_run):
    # Every asset together is the bound for any page's first load
    assets = sum(f.stat().st_size for f in CONSOLE.rglob("*") if f.is_file())
    assert assets < 200 * 1024, f"console/ holds {assets} bytes"
    # And a deep link to the heaviest page (the guide) transfers what it loads, well within it
    summary, _ = sample_run
    page = console.open(f"schedules/{summary['id']}/guide")
    page.wait_for_load_state("networkidle")
    loaded = page.evaluate("""() => [performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")]
        .filter((e) => new URL(e.name).pathname.startsWith("/console/")).map((e) => [new URL(e.name).pathname, e.transferSize])""")
    names = {name for name, _ in loaded}
    assert {"/console/js/epg.js", "/console/js/pages/guide.js", "/console/app.css"} <= names
    assert 0 < sum(size for _, size in loaded) < 200 * 1024


def luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: tuple[float, ...], bg: tuple[float, ...]) -> float:
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


TEXT_COLOURS = """() => {
  const rgba = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return rgba(getComputedStyle(document.body).backgroundColor);
  };
  const seen = new Map();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.data.trim() || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility !== "visible" || Number(style.opacity) === 0) continue;
    const item = { fg: rgba(style.color), bg: background(el), size: parseFloat(style.fontSize), bold: Number(style.fontWeight) >= 700,
                   what: `${el.tagName.toLowerCase()}.${el.className} "${walker.currentNode.data.trim().slice(0, 30)}"` };
    seen.set(JSON.stringify([item.fg, item.bg, item.size, item.bold]), item);
  }
  // The grid draws its titles and times as generated content (::before, ::after), not text nodes
  for (const el of document.querySelectorAll(".c")) {
    for (const pseudo of ["::before", "::after"]) {
      const style = getComputedStyle(el, pseudo);
      if (style.content === "none" || style.content === "normal" || !el.getClientRects().length) continue;
      const item = { fg: rgba(style.color), bg: background(el), size: parseFloat(style.fontSize), bold: Number(style.fontWeight) >= 700,
                     what: `${el.className}${pseudo} "${el.dataset.t}"` };
      seen.set(JSON.stringify([item.fg, item.bg, item.size, item.bold]), item);
    }
  }
  return [...seen.values()];
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_rendered_text_passes_wcag_aa(browser, console_origin, local_stack, sample_run, tmp_path, scheme):
    # Given the pages with the most colours (the guide, a rejection with its marked source line), in each scheme
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1400, "height": 900})
    opened = ConsolePage(context.new_page(), console_origin)
    summary, _ = sample_run
    samples = []
    page = mount_real_guide(opened, local_stack, summary, zoom=1)
    page.locator('[role="gridcell"][aria-label$=", rule break"]').first.scroll_into_view_if_needed()
    samples += page.evaluate(TEXT_COLOURS)
    (tmp_path / "broken.xml").write_bytes(MALFORMED)
    page = opened.open("import")
    page.set_input_files("#file", str(tmp_path / "broken.xml"))
    page.get_by_role("button", name="Import").click()
    findings_at(page, MALFORMED_LINE)
    samples += page.evaluate(TEXT_COLOURS)
    context.close()
    # Then every text is at least 4.5:1 on its background (3:1 when large: 24 px, or 18.66 px bold)
    failures = []
    for s in samples:
        large = s["size"] >= 24 or (s["bold"] and s["size"] >= 18.66)
        ratio = contrast(tuple(s["fg"]), tuple(s["bg"]))
        if ratio < (3 if large else 4.5):
            failures.append(f"{ratio:.2f} {s['what']} {s['fg']} on {s['bg']}")
    assert len(samples) > 10
    assert failures == []


def test_pkce_challenge_and_authorization_request(console):
    page = console.open("component-test")
    # RFC 7636, appendix B: the S256 challenge of its example verifier
    challenge = page.evaluate(
        """async () => (await import("./js/auth.js")).pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")"""
    )
    assert challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    # The authorization request carries a fresh verifier's challenge, a state, and the console's callback
    answer = page.evaluate("""async () => {
      const auth = await import("./js/auth.js");
      const url = await auth.authorizationUrl({ authorization_endpoint: "https://id.example/authorize",
        token_endpoint: "https://id.example/token", client_id: "onair-console", scope: "openid email" }, "schedules");
      const pending = JSON.parse(sessionStorage.getItem("onair.oidc.pending"));
      return { url, pending, expected: await auth.pkceChallenge(pending.verifier) };
    }""")
    from urllib.parse import parse_qs, urlsplit

    query = {k: v[0] for k, v in parse_qs(urlsplit(answer["url"]).query).items()}
    assert answer["url"].startswith("https://id.example/authorize?")
    assert query["response_type"] == "code" and query["client_id"] == "onair-console"
    assert query["code_challenge_method"] == "S256" and query["code_challenge"] == answer["expected"]
    assert query["state"] == answer["pending"]["state"] and len(answer["pending"]["verifier"]) >= 43
    assert query["redirect_uri"] == f"{console.origin}/console/callback"
    assert query["scope"] == "openid email"
    assert console.errors == [] and console.uncaught == []


def jwt_template(path: Path) -> Path:
    """template.yaml deployed with AuthMode=jwt (an issuer that is never reached: sign-in stops at its button)."""
    template = yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)  # a SafeLoader that reads !Ref and co.
    parameters = template["Parameters"]
    parameters["AuthMode"]["Default"] = "jwt"
    parameters["JwtIssuer"]["Default"] = "https://id.example"
    parameters["JwtAudience"]["Default"] = "onair-console,other"
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def jwt_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A second local stack from the template with AuthMode=jwt (the local stack checks no token)."""
    folder = tmp_path_factory.mktemp("jwt-stack")
    with running_stack(folder / "stack.log", jwt_template(folder / "template.yaml")) as stack:
        yield stack


def test_jwt_mode_signs_in_first_then_sends_the_bearer_to_the_api_only(browser, jwt_stack, tmp_path):
    # Given the API deployed with AuthMode=jwt: its config.json names the issuer and the console's client
    config = jwt_stack.request("GET", "/console/config.json").json()
    assert config["auth"] == "jwt"
    assert config["oidc"] == {"issuer": "https://id.example", "client_id": "onair-console", "scope": "openid"}
    context, console = new_console(browser, jwt_stack.api)
    try:
        page = console.page
        # When there is no token, the console asks to sign in and calls no API
        console.open("import")
        page.get_by_role("button", name="Sign in").wait_for()
        assert console.api_calls() == []
        # When this tab holds a token (as the callback leaves it), every API call carries it, and the
        # presigned PUT to S3 does not
        page.evaluate(
            """() => sessionStorage.setItem("onair.token", JSON.stringify({ token: "token-123", expiresAt: Date.now() + 3600e3 }))"""
        )
        console.open("import")
        page.set_input_files("#file", str(large_listing(tmp_path / "large.xml", jwt_stack)))
        page.get_by_role("button", name="Import").click()
        page.locator("#imported-link").wait_for(timeout=120_000)
        calls = console.api_calls()
        assert calls, "the import called the API"
        assert {s.headers.get("authorization") for s in calls} == {"Bearer token-123"}
        puts = [s for s in console.sent if s.method == "PUT"]
        assert len(puts) == 1 and "authorization" not in puts[0].headers
        assert page.get_by_role("button", name="Sign out").is_visible()
        # And a large output, downloaded with the bearer, is fetched from the bucket without it (a
        # presigned URL with a second authorization is refused by S3)
        summary = import_via_api(jwt_stack, SAMPLE.read_bytes())
        run = run_via_api(jwt_stack, summary["id"], {"from": DAY, "days": 3})
        bucket = download_large_output(console, jwt_stack, summary["id"], run["id"])
        assert "authorization" not in bucket.headers
        assert console.uncaught == []
    finally:
        context.close()
