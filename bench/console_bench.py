"""Console benchmark: the EPG grid of 150 channels x 24 h rendered in headless Chromium (goal: under 1 s).

    .venv/bin/python -m bench.console_bench [--repeat 7] [--profile radio|tv|both]
    .venv/bin/python -m bench.console_bench --screenshot docs/console-grid.png   (make screenshots)

The local stack (`python -m local`, on free ports) serves the console as on AWS (ApiFunction's /console/:
gzip, CSP); a synthetic playout of the API's shape (GET /schedules/{id}/playout) is fed to the console's
own guide (functions/api/console/js/pages/guide.js -> epg.js renderGrid), the code the console runs. Per repetition it times,
with performance.now() in the page: the build (renderGrid: the HTML of every row and cell, parsed into the
DOM), the build plus the forced style and layout, and the whole until the next frame has been produced.
Profiles: radio (songs of 2.5-5.5 min, an ident between songs, news on the hour: ~20 cells an hour) and tv
(programmes of 15-120 min). Debian's Chromium, the browser tests' flags; the machine is shared, so read
p50 for the typical render and p95 for a disturbed one.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.xmltv_gen import WORDS
from tests.e2e.conftest import running_stack
from tests.e2e.console_harness import chromium_missing, launch_chromium

GOAL_MS = 1000.0
DAY = "2026-06-01"
ZONE = "Europe/Paris"
DAY_START = datetime(2026, 5, 31, 22, 0, tzinfo=UTC)  # local midnight in Paris (CEST)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def synthetic_playout(channels: int, profile: str, seed: int = 7) -> dict[str, Any]:
    """The API's playout for one day: channels, back-to-back slots from just before midnight to just after."""
    rng = random.Random(seed)
    slots: list[dict[str, Any]] = []
    breaks: list[dict[str, Any]] = []
    for c in range(channels):
        channel = f"ch{c + 1:03d}"
        at = DAY_START - timedelta(minutes=rng.randint(0, 40))
        end = DAY_START + timedelta(hours=24, minutes=30)
        songs = 0
        while at < end:
            if profile == "radio":
                top_of_hour = at.minute == 0 and at.second < 30
                if top_of_hour:
                    kind, title, seconds, pool = "event", "News on the hour", 180, None
                elif songs % 3 == 2:
                    kind, title, seconds, pool = "filler", f"Station ident {c + 1}", 8, "idents"
                else:
                    kind, title, seconds = (
                        "block",
                        f"{rng.choice(WORDS).title()} {rng.choice(WORDS)}",
                        rng.randint(150, 330),
                    )
                    pool = "daytime"
                songs += 1
                nxt = at + timedelta(seconds=seconds)
                boundary = at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
                if kind != "event" and nxt > boundary:  # the news starts on the hour: the song is cut
                    nxt = boundary
            else:
                kind, pool = "programme", None
                title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))).title()
                nxt = at + timedelta(minutes=rng.choice((15, 30, 30, 45, 60, 60, 90, 120)))
            slot = {
                "channel": channel,
                "start": _iso(at),
                "stop": _iso(nxt),
                "title": title,
                "kind": kind,
                "item_id": f"item-{rng.randint(1, 5000)}",
                "pool": pool,
                "block": "06:00-10:00" if pool else None,
            }
            slots.append(slot)
            if rng.random() < 0.01:
                breaks.append(
                    {
                        "rule": "artist_separation",
                        "channel": channel,
                        "item_id": slot["item_id"],
                        "at": slot["start"],
                        "by": 420.0,
                    }
                )
            at = nxt
    return {
        "run_id": "bench",
        "timezone": ZONE,
        "channels": [
            {"id": f"ch{c + 1:03d}", "name": f"Channel {c + 1}", "number": str(c + 1)}
            for c in range(channels)
        ],
        "slots": slots,
        "rule_breaks": breaks,
    }


MOUNT = """async ({data, day, zoom, now, title = "Guide · bench"}) => {
  const { mountGuide } = await import("./js/pages/guide.js");
  const view = document.getElementById("view");
  view.replaceChildren();
  window.guide = mountGuide(view, { title, timeZone: data.timezone, load: async () => data, day, zoom, now: () => now });
  await window.guide.ready;
  await window.guide.model.complete;
  return document.querySelectorAll('[role="gridcell"]').length;
}"""

TIME_ONE = """async (day) => {
  const t0 = performance.now();
  await window.guide.show(day);
  const laidOut = performance.now();
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const frame = performance.now() - t0;
  await window.guide.model.complete;
  return { build: window.guide.timing.build, layout: window.guide.timing.layout, frame, complete: performance.now() - t0 };
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(page: Any, profile: str, repeat: int, channels: int) -> dict[str, Any]:
    data = synthetic_playout(channels, profile)
    now = int(datetime(2026, 6, 1, 18, 10, tzinfo=UTC).timestamp() * 1000)
    cells = page.evaluate(MOUNT, {"data": data, "day": DAY, "zoom": 24, "now": now})
    runs = [page.evaluate(TIME_ONE, DAY) for _ in range(repeat)]
    figures = {key: [run[key] for run in runs] for key in ("build", "layout", "frame", "complete")}
    return {
        "profile": profile,
        "channels": channels,
        "cells": cells,
        "json_bytes": len(json.dumps(data)),
        **{f"{key}_p50": statistics.median(v) for key, v in figures.items()},
        **{f"{key}_p95": percentile(v, 0.95) for key, v in figures.items()},
    }


def screenshot(page: Any, path: Path) -> None:
    """A legible picture of the guide at the 3 h zoom, now-line at 20:10 local: eleven TV channels and a
    music radio (blocks of songs, idents, the news on the hour as events), one programme with a rule break."""
    data = synthetic_playout(12, "tv", seed=3)
    radio = synthetic_playout(1, "radio", seed=5)
    names = [
        "One",
        "Two",
        "News 24",
        "Kids",
        "Sport",
        "Cinema",
        "Arts",
        "Docs",
        "Radio Hits",
        "Weather",
        "Local",
        "Classics",
    ]
    for channel, name in zip(data["channels"], names, strict=True):
        channel["name"] = name
    data["slots"] = [s for s in data["slots"] if s["channel"] != "ch009"] + [
        s | {"channel": "ch009"} for s in radio["slots"]
    ]
    for slot in data["slots"]:
        if slot["kind"] == "programme" and slot["title"].startswith("News"):
            slot["kind"] = "event"
    evening = next(s for s in data["slots"] if s["channel"] == "ch002" and s["start"] >= "2026-06-01T18:30")
    data["rule_breaks"] = [
        {
            "rule": "title_separation",
            "channel": "ch002",
            "item_id": evening["item_id"],
            "at": evening["start"],
            "by": 1800.0,
        }
    ]
    now = int(datetime(2026, 6, 1, 18, 10, tzinfo=UTC).timestamp() * 1000)
    page.set_viewport_size({"width": 1400, "height": 800})
    page.evaluate(MOUNT, {"data": data, "day": DAY, "zoom": 3, "now": now, "title": "Guide · Demo network"})
    page.evaluate(
        "document.querySelector('.epg-scroll').scrollLeft = document.querySelector('.epg-now').offsetLeft - 420"
    )
    page.locator('[role="gridcell"][tabindex="0"]').focus()
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "radio-rotation.xml"


def station(channels: int) -> bytes:
    """An OnAir schedule of `channels` music radios on the radio sample's library and pools: songs all
    day from a shuffled pool with idents between, the news at the top of every hour."""
    text = SAMPLE.read_text()
    head = text[: text.index("<channels>")]
    library = text[text.index("<library>") : text.index("</pools>") + len("</pools>")]
    hours = " ".join(f"{h:02d}:00" for h in range(24))
    rows = [head, "<channels>"]
    rows += [f'<channel id="r{c:03d}" name="Radio {c}"/>' for c in range(1, channels + 1)]
    rows += ["</channels>", library, "<blocks>"]
    rows += [
        f'<block channel="r{c:03d}" days="mon tue wed thu fri sat sun" start="00:00" end="24:00" '
        'pool="daytime-mix" filler="idents"/>'
        for c in range(1, channels + 1)
    ]
    rows += ["</blocks>", "<events>"]
    rows += [
        f'<event channel="r{c:03d}" days="mon tue wed thu fri sat sun" time="{at}" item="news"/>'
        for c in range(1, channels + 1)
        for at in hours.split()
    ]
    rows += ["</events>", "</schedule>"]
    return "\n".join(rows).encode()


# Set before the page's scripts run (DevTools, so the console's CSP allows it): the time the guide's status
# says the grid is drawn, and the next frame after it.
GUIDE_PROBE = r"""(() => {
  const seen = {};
  window.__guide = seen;
  new MutationObserver(() => {
    const status = document.getElementById("guide-status");
    if (!seen.drawn && status && /programme\(s\) on/.test(status.textContent)) {
      seen.drawn = performance.now();
      requestAnimationFrame(() => setTimeout(() => (seen.frame = performance.now()), 0));
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
})();"""


def measure_page(browser: Any, stack: Any, channels: int, repeat: int) -> dict[str, Any]:
    """A real published run of a `channels`-station radio: GET /schedules/{id}/playout of a day (the API
    read), and the guide page opened by its URL until the grid's first frame (HTML, modules, config,
    schedule, playout, render), fresh browser context each time."""
    reply = stack.request("POST", "/schedules", station(channels), {"content-type": "application/xml"})
    assert reply.status == 201, reply.body[:500]
    schedule = reply.json()
    body = json.dumps({"from": DAY, "days": 1})
    run = stack.request(
        "POST", f"/schedules/{schedule['id']}/runs", body, {"content-type": "application/json"}
    )
    assert run.status == 202, run.body
    deadline = time.monotonic() + 600
    # A run's status says succeeded before its outputs become the feed: wait for published (or failed)
    while not (status := stack.request("GET", f"/runs/{run.json()['id']}").json()).get("published") and (
        status["status"] != "failed"
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the run did not finish in 10 minutes")
        time.sleep(1)
    if status["status"] != "succeeded":
        raise RuntimeError(f"the run failed: {status.get('error')}")
    window = f"from={DAY}T00:00:00%2B02:00&to={DAY}T23:59:59.999%2B02:00"
    path = f"/schedules/{schedule['id']}/playout?{window}"
    reads, cold = [], 0.0
    for n in range(repeat + 1):
        t0 = time.perf_counter()
        answer = stack.request("GET", path, headers={"accept-encoding": "gzip"})
        elapsed = (time.perf_counter() - t0) * 1000
        assert answer.status == 200, answer.body[:300]
        if n == 0:
            cold = elapsed  # this environment parses the run's playout.json first
        else:
            reads.append(elapsed)
    slots = len(json.loads(gzip.decompress(answer.body))["slots"])
    pages, fetches, renders = [], [], []
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
        context.add_init_script(GUIDE_PROBE)
        page = context.new_page()
        page.goto(f"{stack.api}/console/schedules/{schedule['id']}/guide?day={DAY}&zoom=24")
        page.get_by_role("grid").wait_for(timeout=60_000)
        deadline = time.monotonic() + 60
        while not page.evaluate("() => window.__guide.frame") and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        pages.append(page.evaluate("() => window.__guide.frame"))
        fetch, arrived = page.evaluate(
            """() => performance.getEntriesByType("resource").filter((e) => e.name.includes("/playout?"))
                .map((e) => [e.responseEnd - e.startTime, e.responseEnd])[0]"""
        )
        fetches.append(fetch)
        renders.append(pages[-1] - arrived)
        context.close()
    return {
        "slots": slots,
        "gzip_bytes": len(answer.body),
        "cold": cold,
        "read_p50": statistics.median(reads),
        "read_p95": percentile(reads, 0.95),
        "page_p50": statistics.median(pages),
        "page_p95": percentile(pages, 0.95),
        "fetch_p50": statistics.median(fetches),
        "fetch_p95": percentile(fetches, 0.95),
        "render_p50": statistics.median(renders),
        "render_p95": percentile(renders, 0.95),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.console_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--channels", type=int, default=150)
    parser.add_argument("--profile", choices=("radio", "tv", "both"), default="both")
    parser.add_argument("--screenshot", type=Path, help="write a PNG of the guide here instead of timing")
    parser.add_argument(
        "--page",
        action="store_true",
        help="also a real run of a --channels station, published: the API's playout read and the guide "
        "page from its URL to the grid's first frame",
    )
    args = parser.parse_args(argv)
    reason = chromium_missing()
    if reason:
        print(f"skipped: {reason}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as folder,
        running_stack(Path(folder) / "stack.log") as stack,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="en-GB")
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # A console page where nothing runs (the router's not-found page): the guide is mounted on it
        page.goto(f"{stack.api}/console/bench")
        page.get_by_role("heading", name="Not found").wait_for()
        if args.screenshot:
            screenshot(page, args.screenshot)
            print(f"wrote {args.screenshot}")
        else:
            profiles = ("radio", "tv") if args.profile == "both" else (args.profile,)
            print(
                f"EPG grid, {args.channels} channels x 24 h, zoom 24 h, {args.repeat} renders each, Chromium {browser.version}"
            )
            print(
                "| profile | cells | build p50 / p95 | + layout p50 / p95 | first screen drawn p50 / p95 | every row built p50 / p95 | goal (first screen) |"
            )
            print("|---|---|---|---|---|---|---|")
            for profile in profiles:
                r = measure(page, profile, args.repeat, args.channels)
                verdict = "met" if r["frame_p95"] < GOAL_MS else "MISSED"
                print(
                    f"| {profile} | {r['cells']:,} | {r['build_p50']:.0f} / {r['build_p95']:.0f} ms | "
                    f"{r['layout_p50']:.0f} / {r['layout_p95']:.0f} ms | {r['frame_p50']:.0f} / {r['frame_p95']:.0f} ms | "
                    f"{r['complete_p50']:.0f} / {r['complete_p95']:.0f} ms | "
                    f"< {GOAL_MS:.0f} ms {verdict} |"
                )
            if args.page:
                r = measure_page(browser, stack, args.channels, args.repeat)
                print()
                print(
                    f"Guide page, a real published run ({args.channels} radios, {r['slots']:,} slots on {DAY}; "
                    f"the day's answer {r['gzip_bytes'] / 1024:.0f} KiB gzipped), {args.repeat} loads"
                )
                print(
                    "| GET playout, first read | GET playout p50 / p95 | page to grid drawn p50 / p95 "
                    "| the page's playout fetch p50 / p95 | from its answer to the grid drawn p50 / p95 |"
                )
                print("|---|---|---|---|---|")
                print(
                    f"| {r['cold']:.0f} ms | {r['read_p50']:.0f} / {r['read_p95']:.0f} ms | "
                    f"{r['page_p50']:.0f} / {r['page_p95']:.0f} ms | {r['fetch_p50']:.0f} / {r['fetch_p95']:.0f} ms | "
                    f"{r['render_p50']:.0f} / {r['render_p95']:.0f} ms |"
                )
        browser.close()
    if errors:
        print("page errors:", *errors, sep="\n", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
