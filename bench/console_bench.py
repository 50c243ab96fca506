"""Console benchmark: the EPG grid of 150 channels x 24 h rendered in headless Chromium (goal: under 1 s).

    .venv/bin/python -m bench.console_bench [--repeat 7] [--profile radio|tv|both]
    .venv/bin/python -m bench.console_bench --screenshot docs/console-grid.png   (make screenshots)

A synthetic playout of the API's shape (GET /schedules/{id}/playout) is fed to the console's own guide
page (console/js/pages/guide.js -> epg.js renderGrid), the code the console runs. Per repetition it times,
with performance.now() in the page: the build (renderGrid: the HTML of every row and cell, parsed into the
DOM), the build plus the forced style and layout, and the whole until the next frame has been produced.
Profiles: radio (songs of 2.5-5.5 min, an ident between songs, news on the hour: ~20 cells an hour) and tv
(programmes of 15-120 min). Debian's Chromium, the browser tests' flags; the machine is shared, so read
p50 for the typical render and p95 for a disturbed one.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.console_harness import chromium_missing, launch_chromium, serve_console

GOAL_MS = 1000.0
DAY = "2026-06-01"
ZONE = "Europe/Paris"
DAY_START = datetime(2026, 5, 31, 22, 0, tzinfo=UTC)  # local midnight in Paris (CEST)
WORDS = [
    "morning",
    "news",
    "world",
    "garden",
    "kitchen",
    "detective",
    "island",
    "secret",
    "river",
    "city",
    "summer",
    "winter",
    "story",
    "live",
    "report",
    "football",
    "music",
    "night",
]
BENCH_PAGE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><base href="/console/">
<link rel="stylesheet" href="app.css"><title>EPG bench</title></head>
<body><main id="view"></main></body></html>"""


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.console_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--channels", type=int, default=150)
    parser.add_argument("--profile", choices=("radio", "tv", "both"), default="both")
    parser.add_argument("--screenshot", type=Path, help="write a PNG of the guide here instead of timing")
    args = parser.parse_args(argv)
    reason = chromium_missing()
    if reason:
        print(f"skipped: {reason}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    server = serve_console(None, {"auth": "none"}, {"/bench/": (BENCH_PAGE, "text/html; charset=utf-8")})
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="en-GB")
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server.url}/bench/")
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
        browser.close()
    server.close()
    if errors:
        print("page errors:", *errors, sep="\n", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
