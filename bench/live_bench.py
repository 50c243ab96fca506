"""Live playlist benchmark: the per-request work of GET /feeds/{token}/live/{channel}.m3u8.

    .venv/bin/python -m bench.live_bench [--requests 20000] [--library 500]
    .venv/bin/python -m bench.live_bench --handler [--requests 5000]     # through FeedFunction's handler

A 7-day channel of 1-minute items cut in 2 s segments (10,080 slots, 302,400 segments), every 10th slot
a break, from a library of --library distinct media (and once with every slot its own media, the
largest timeline a week can make). Prints the timeline's JSON size, the time to load it (what an API
instance does once per run and channel), and live_playlist's p50/p95/max over random instants of the
week: the handler time the issue bounds at p95 < 10 ms; then again with the loaded timeline frozen out of
the garbage collector (gc.freeze), which removes most of the tail. Measured, never asserted.

--handler: the same week stored as a published feed in moto (in-process, provisioned from template.yaml),
its segments s3:// library objects, and GET /feeds/{token}/live/bench.m3u8 sent through FeedFunction's
real lambda_handler (Powertools' resolver, logging, metrics; the token, pointer and timeline caches;
presigned segment URLs) at a controlled clock. Three sets: viewers at the live edge (instants within a
minute: the presigned URLs are reused), random instants of the week (every URL signed anew), and with
the pointer cache off (every request reads the token and the pointer from moto). Plus the environment's
memory after loading the timeline (RSS).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from datetime import UTC, datetime

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


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def s3_media(n: int, bucket: str) -> MediaIndex:
    uri = f"s3://{bucket}/library/items/{n:05d}/index.m3u8"
    base = uri.rsplit("/", 1)[0]
    segments = tuple(f"{base}/seg_{k:03d}.ts" for k in range(30))
    return MediaIndex(uri, (Rendition(uri, 2, (2000,) * 30, segments),))


def handler_bench(library: int, requests: int) -> None:
    import os
    from dataclasses import replace

    import boto3
    from moto import mock_aws

    from local.apigw import http_event, match_route
    from local.provision import DUMMY_CREDENTIALS, function_environment, provision
    from local.runtime import load_handler, new_context
    from local.template import REGION, load_template

    os.environ.update(DUMMY_CREDENTIALS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        app = load_template()
        resources = provision(
            app, boto3.client("s3", region_name=REGION), boto3.client("sqs", region_name=REGION)
        )
        os.environ.update(function_environment(app, "FeedFunction", resources))
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # one log line a request would be the bench's output
        from onair import keys
        from onair.bootstrap import services
        from onair.config import FeedSettings
        from onair.records import Published

        bucket = resources.bucket
        items = [s3_media(n, bucket) for n in range(library)]
        slots = [
            LiveSlot(START + n * 60_000, START + (n + 1) * 60_000, f"Item {n}",
                     "filler" if n % 10 == 9 else "programme", f"item-{n % library}", items[n % library].uri)
            for n in range(WEEK_MS // 60_000)
        ]  # fmt: skip
        timeline, _ = build_timeline("bench", slots, {m.uri: m for m in items})
        raw = timeline.to_json()
        del timeline, slots, items
        schedule_id, run_id, token = keys.new_id(), keys.new_id(), keys.new_feed_token()
        storage = services(FeedSettings).storage
        storage.put_json(keys.feed_token(token), {"schedule_id": schedule_id})
        storage.put_bytes(keys.feed_live(schedule_id, run_id, "bench"), raw, "application/json")
        pointer = Published(
            run_id=run_id, run_created_at=datetime_of(START), version=1, published_at=datetime_of(START),
            files={}, live=["bench"],
        )  # fmt: skip
        storage.put_json(keys.published(schedule_id), pointer.model_dump(mode="json"))
        handler = load_handler(app, "FeedFunction")
        import onair.http.feeds as routes

        clock: list[int] = [START]
        real = routes._services
        routes._services = lambda: replace(real(), clock=lambda: datetime_of(clock[0]))  # type: ignore[assignment]
        path = f"/feeds/{token}/live/bench.m3u8"
        match = match_route(app.routes, "GET", path)
        assert match is not None

        def poll(instant: int) -> float:
            clock[0] = instant
            event = http_event("GET", path, route=match.route, path_parameters=match.path_parameters)
            context = new_context(app, "FeedFunction")
            began = time.perf_counter_ns()
            result = handler(event, context)
            elapsed = (time.perf_counter_ns() - began) / 1e6
            assert result["statusCode"] == 200, result
            return elapsed

        before = rss_mb()
        first = poll(START + 3600_000)
        print(
            f"handler, library {library} media ({len(raw) / 1e6:.1f} MB timeline JSON): first request "
            f"(loads the timeline) {first:.0f} ms, RSS +{rss_mb() - before:.0f} MB"
        )
        rng = random.Random(11)
        edge = START + 3 * 24 * 3600_000
        sets = [
            ("live edge (a minute of instants)", [edge + rng.randrange(60_000) for _ in range(requests)], 5.0),
            ("random instants of the week", [START + rng.randrange(WEEK_MS) for _ in range(requests)], 5.0),
            ("pointer cache off (token + pointer from moto)", [edge + rng.randrange(60_000) for _ in range(requests)], 0.0),
        ]  # fmt: skip
        for name, instants, pointer_seconds in sets:
            routes._live.pointer_seconds = pointer_seconds
            times = sorted(poll(t) for t in instants)
            p50, p95, p99 = (
                statistics.median(times),
                times[int(0.95 * len(times))],
                times[int(0.99 * len(times))],
            )
            print(
                f"  {name}: p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms, max {times[-1]:.1f} ms "
                f"over {len(times):,} requests"
            )
        routes._services = real  # type: ignore[assignment]
        routes._live.clear()
        services.cache_clear()


def datetime_of(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--library", type=int, default=500)
    parser.add_argument("--window", type=int, default=6)
    parser.add_argument("--handler", action="store_true", help="through FeedFunction's handler, on moto")
    args = parser.parse_args()
    if args.handler:
        for library in (args.library, WEEK_MS // 60_000):
            handler_bench(library, args.requests)
        return
    for library in (args.library, WEEK_MS // 60_000):
        for freeze in (False, True):
            measure(library, args.requests, args.window, freeze)


if __name__ == "__main__":
    main()
