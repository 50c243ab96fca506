"""Live playlist benchmark: the per-request work of GET /feeds/{token}/live/{channel}.m3u8.

    .venv/bin/python -m bench.live_bench [--requests 20000] [--library 500]

A 7-day channel of 1-minute items cut in 2 s segments (10,080 slots, 302,400 segments), every 10th slot
a break, from a library of --library distinct media (and once with every slot its own media, the
largest timeline a week can make). Prints the timeline's JSON size, the time to load it (what an API
instance does once per run and channel), and live_playlist's p50/p95/max over random instants of the
week: the handler time the issue bounds at p95 < 10 ms; then again with the loaded timeline frozen out of
the garbage collector (gc.freeze), which removes most of the tail. Measured, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time

import bench  # noqa: F401  (puts layers/onair on sys.path)
from onair.live.media import MediaIndex, Rendition
from onair.live.playlist import live_playlist
from onair.live.timeline import LiveSlot, Timeline, build_timeline

WEEK_MS = 7 * 24 * 3600 * 1000
START = 1_800_000_000_000


def media(n: int) -> MediaIndex:
    uri = f"https://media.example/items/{n:05d}/index.m3u8"
    base = uri.rsplit("/", 1)[0]
    segments = tuple(f"{base}/seg_{k:03d}.ts" for k in range(30))
    return MediaIndex(uri, (Rendition(uri, 2, (2000,) * 30, segments),))


def week(library: int) -> Timeline:
    items = [media(n) for n in range(library)]
    slots = [
        LiveSlot(
            START + n * 60_000,
            START + (n + 1) * 60_000,
            f"Item {n}",
            "filler" if n % 10 == 9 else "programme",
            f"item-{n % library}",
            items[n % library].uri,
        )
        for n in range(WEEK_MS // 60_000)
    ]
    timeline, findings = build_timeline("bench", slots, {m.uri: m for m in items})
    assert not findings
    return timeline


def measure(library: int, requests: int, window: int, freeze: bool) -> None:
    began = time.perf_counter()
    timeline = week(library)
    built = time.perf_counter() - began
    raw = timeline.to_json()
    began = time.perf_counter()
    loaded = Timeline.from_json(raw)
    load = time.perf_counter() - began
    if freeze:
        gc.freeze()  # the loaded timeline out of the collector's scans (what an API instance should do)
    rng = random.Random(7)
    instants = [START + rng.randrange(WEEK_MS) for _ in range(requests)]
    times = []
    for now in instants:
        began = time.perf_counter_ns()
        live_playlist(loaded, now, window)
        times.append((time.perf_counter_ns() - began) / 1e6)
    if freeze:
        gc.unfreeze()
    times.sort()
    p50, p95, p99 = statistics.median(times), times[int(0.95 * len(times))], times[int(0.99 * len(times))]
    print(
        f"library {library:>6} media | {timeline.seq_end:,} segments, {len(timeline.pieces):,} pieces | "
        f"build {built:.2f} s | JSON {len(raw) / 1e6:.2f} MB, load {load * 1000:.0f} ms | "
        f"live_playlist ({window} segments{', gc frozen' if freeze else ''}) p50 {p50:.3f} ms, "
        f"p95 {p95:.3f} ms, p99 {p99:.3f} ms, max {times[-1]:.3f} ms over {requests:,} instants"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--library", type=int, default=500)
    parser.add_argument("--window", type=int, default=6)
    args = parser.parse_args()
    for library in (args.library, WEEK_MS // 60_000):
        for freeze in (False, True):
            measure(library, args.requests, args.window, freeze)


if __name__ == "__main__":
    main()
