"""The local stack against its emulator's floor: for each request kind, the S3/SQS calls one API request
makes, sent straight to the stack's moto servers as fast as they answer, against the same requests sent
to the stack's HTTP API; the API's throughput as a share of the floor (docs/PERFORMANCE.md, "Load").

    .venv/bin/python -m bench.emulator_floor                       # ~4 minutes on this machine
    .venv/bin/python -m bench.emulator_floor --seconds 5 --kinds "GET /runs/{id}" "GET /queue-stats"
    .venv/bin/python -m bench.emulator_floor --stack-args "--sqs-port 0"   # S3 and SQS in one emulator

One stack (`python -m local` on free ports) serves both sides, so the emulator, its state and the pollers
are the same. Each kind's calls are recorded in this process (bench.calls' Recorder, at botocore's events)
by invoking its handler against the stack's emulators; then, for --seconds each, alternating:
- floor: --concurrency workers (in --processes processes, each with its own clients) replay those calls
  in order, request after request. A request that creates things (a schedule, a run, an upload) is
  replayed with fresh ids, and its writes unconditionally (S3 does the same work but for one comparison);
- API: --concurrency keep-alive connections send the request itself to the stack's API (after 2 s
  unmeasured, so that every execution environment has started).
Requests per second of each; share = API / floor (goal ≥ 70 %). The mix is the Locust user's
(loadtest/mix.py). After a kind that queued jobs, JobQueue is purged: the pollers' backlog would
otherwise load the emulator during the next kinds.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import re
import secrets
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.calls import Call, Harness, Measured, Recorder, counted, kinds, measure
from loadtest.mix import WEIGHTS
from local.provision import DUMMY_CREDENTIALS, local_client, lookup
from local.stack import running_stack
from local.template import REGION, load_template

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TOKEN = re.compile(r"feed-tokens/([A-Za-z0-9_-]{43})\.json")
CONDITIONS = ("IfMatch", "IfNoneMatch")  # replayed writes are unconditional (the ids are fresh anyway)
# What each task of the Locust user sends, by request kind (loadtest/mix.py holds the weights).
TASK_KINDS = {
    "import_schedule": "POST /schedules",
    "request_run": "POST /schedules/{id}/runs",
    "poll_run": "GET /runs/{id}",
    "fetch_output": "GET /runs/{id}/output/guide.xml",
    "queue_stats": "GET /queue-stats",
    "import_malformed": "POST /schedules (malformed)",
}
MIX = "the Locust user's mix"


@dataclass(frozen=True)
class Plan:
    """What a replay of one request sends: its calls, and the ids to replace with fresh ones."""

    name: str
    calls: list[Call]
    fresh_uuids: frozenset[str]
    fresh_tokens: frozenset[str]


def plan(row: Measured) -> Plan:
    uuids: set[str] = set()
    tokens: set[str] = set()
    if row.kind.writes:
        for call in row.calls:
            for value in call.params.values():
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                uuids.update(_UUID.findall(text))
                tokens.update(_TOKEN.findall(text))
    return Plan(row.kind.name, row.calls, frozenset(uuids - row.known), frozenset(tokens))


def _fresh(value: Any, replace: dict[str, str]) -> Any:
    if not replace:
        return value
    if isinstance(value, str):
        for old, new in replace.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, bytes):
        for old, new in replace.items():
            value = value.replace(old.encode(), new.encode())
        return value
    return value


def _clients(endpoints: dict[str, str]) -> dict[str, Any]:
    from botocore.config import Config

    config = Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 1})
    return {service: local_client(service, endpoints[service], config) for service in ("s3", "sqs")}


def replay_once(clients: dict[str, Any], request: Plan) -> bool:
    """The request's calls, in order, with fresh ids; False if any failed."""
    replace = {old: str(uuid.uuid4()) for old in request.fresh_uuids}
    replace |= {old: secrets.token_urlsafe(32) for old in request.fresh_tokens}
    ok = True
    for call in request.calls:
        params = {k: _fresh(v, replace) for k, v in call.params.items() if k not in CONDITIONS}
        try:
            answer = clients[call.service]._make_api_call(call.operation, params)
            body = answer.get("Body")
            if body is not None:
                body.read()  # the handler reads what it gets
        except Exception:  # a replay error counts as a failed request, not a crash of the bench
            ok = False
    return ok


def _replay_worker(
    endpoints: dict[str, str],
    requests: list[Plan],
    weights: list[int],
    threads: int,
    go: Any,
    seconds: float,
    out: Any,
) -> None:
    clients = _clients(endpoints)
    for request in requests:
        replay_once(clients, request)  # connections open, lazy parts of botocore loaded
    out.put("ready")
    go.wait()
    end = time.monotonic() + seconds
    done, failed = [0], [0]
    lock = threading.Lock()

    def loop(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < end:
            ok = replay_once(clients, rng.choices(requests, weights)[0])
            with lock:
                done[0] += 1
                failed[0] += not ok

    workers = [threading.Thread(target=loop, args=(os.getpid() * 100 + n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put((done[0], failed[0]))


def floor_rate(
    endpoints: dict[str, str],
    requests: list[Plan],
    weights: list[int],
    concurrency: int,
    processes: int,
    seconds: float,
) -> tuple[float, int]:
    """Replayed requests per second (and failures) at `concurrency`, over `processes` processes."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    processes = max(1, min(processes, concurrency))
    shares = [concurrency // processes + (n < concurrency % processes) for n in range(processes)]
    go = ctx.Event()  # set once every process has its clients and has replayed each request once
    children = [
        ctx.Process(target=_replay_worker, args=(endpoints, requests, weights, share, go, seconds, out))
        for share in shares
    ]
    for child in children:
        child.start()
    for _ in children:
        assert out.get(timeout=300) == "ready"
    go.set()
    results = [out.get(timeout=seconds + 120) for _ in children]
    for child in children:
        child.join(10)
    return sum(r[0] for r in results) / seconds, sum(r[1] for r in results)


@dataclass(frozen=True)
class Send:
    name: str
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    expect: int


def api_rate(
    api: str, sends: list[Send], weights: list[int], concurrency: int, seconds: float
) -> tuple[float, int, list[float]]:
    """Requests per second (and unexpected answers, and every answer time in ms) at `concurrency`
    keep-alive connections to the stack's API."""
    parts = urlsplit(api)
    done, failed, times = [0], [0], []
    lock = threading.Lock()
    start = time.time() + 1.0

    def loop(seed: int) -> None:
        rng = random.Random(seed)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while time.time() < start:
            time.sleep(0.001)
        while time.time() < start + seconds:
            send = rng.choices(sends, weights)[0]
            began = time.perf_counter()
            try:
                connection.request(send.method, send.path, body=send.body, headers=send.headers)
                reply = connection.getresponse()
                reply.read()
                ok = reply.status == send.expect
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                ok = False
            elapsed = 1000 * (time.perf_counter() - began)
            with lock:
                done[0] += 1
                failed[0] += not ok
                times.append(elapsed)
        connection.close()

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(concurrency)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return done[0] / seconds, failed[0], times


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.emulator_floor", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=8, help="each measurement (default 8)")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="requests at once (default 8: the stack's --api-workers)"
    )
    parser.add_argument(
        "--processes", type=int, default=0, help="replay processes (default: one per concurrent request)"
    )
    parser.add_argument(
        "--kinds", nargs="*", default=None, help="only these request kinds (names as printed)"
    )
    parser.add_argument("--no-mix", action="store_true", help="skip the mix")
    parser.add_argument("--stack-args", default="", help="extra arguments for python -m local")
    parser.add_argument("--log", type=Path, default=Path("/tmp/onair-emulator-floor-stack.log"))
    args = parser.parse_args(argv)
    args.processes = args.processes or args.concurrency

    import boto3

    os.environ.update(DUMMY_CREDENTIALS)
    app = load_template()
    with running_stack(args.log, extra=args.stack_args.split()) as stack:
        endpoints = {"s3": stack.s3, "sqs": stack.sqs}
        recorder = Recorder()
        boto3.setup_default_session(region_name=REGION)
        recorder.attach(boto3.DEFAULT_SESSION.events)
        sqs = _clients(endpoints)["sqs"]
        harness = Harness(
            app,
            lookup(app, sqs),
            sqs,
            recorder,
            {
                "AWS_ENDPOINT_URL": stack.s3,
                "AWS_ENDPOINT_URL_S3": stack.s3,
                "AWS_ENDPOINT_URL_SQS": stack.sqs,
            },
        )
        measured = {}
        for kind in kinds(harness, workers_here=False):
            if kind.http is None or (args.kinds and kind.name not in args.kinds):
                continue
            measured[kind.name] = measure(recorder, kind, 3)
        job_queue = harness.resources.queue_urls["JobQueue"]

        def settle() -> None:
            """Drop queued jobs (the pollers' backlog) and let the running ones finish. (PurgeQueue
            works once a minute.)"""
            empty = 0
            while empty < 3:
                got = sqs.receive_message(QueueUrl=job_queue, MaxNumberOfMessages=10).get("Messages", [])
                empty = 0 if got else empty + 1
                if got:
                    entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)]
                    sqs.delete_message_batch(QueueUrl=job_queue, Entries=entries)
            time.sleep(2)

        def sends(rows: list[Measured]) -> list[Send]:
            out = []
            for row in rows:
                method, path, body, headers = row.kind.http  # type: ignore[misc]
                expect = 201 if row.kind.name in ("POST /schedules", "POST /uploads") else 200
                expect = {"POST /schedules/{id}/runs": 202, "POST /schedules (malformed)": 400}.get(
                    row.kind.name, expect
                )
                expect = 304 if "304" in row.kind.name else expect
                out.append(Send(row.kind.name, method, path, body, headers, expect))
            return out

        results = []
        cases: list[tuple[str, list[Measured], list[int]]] = [
            (name, [row], [1]) for name, row in measured.items()
        ]
        if not args.no_mix and all(kind in measured for kind in TASK_KINDS.values()):
            cases.append((MIX, [measured[TASK_KINDS[task]] for task in WEIGHTS], list(WEIGHTS.values())))
        started = time.monotonic()
        for name, rows, weights in cases:
            plans = [plan(row) for row in rows]
            if any(row.calls for row in rows):
                floor, floor_failed = floor_rate(
                    endpoints, plans, weights, args.concurrency, args.processes, args.seconds
                )
            else:
                floor, floor_failed = float("inf"), 0
            if any(row.kind.writes for row in rows):
                settle()
            # Unmeasured first: every execution environment of the function started (cold starts).
            api_rate(stack.api, sends(rows), weights, args.concurrency, 2)
            rate, failed, times = api_rate(stack.api, sends(rows), weights, args.concurrency, args.seconds)
            if any(row.kind.writes for row in rows):
                settle()
            calls = sum(len(row.calls) * w for row, w in zip(rows, weights, strict=True)) / sum(weights)
            results.append((name, rows, calls, floor, floor_failed, rate, failed, times))
            print(f"{name}: floor {floor:.0f}/s, API {rate:.0f}/s", file=sys.stderr, flush=True)
        load = os.getloadavg()

    print(
        f"Emulator floor vs API (bench.emulator_floor; {args.concurrency} at once, {args.seconds:g} s each, "
        f"{args.processes} replay processes; stack args '{args.stack_args}'; load average "
        f"{load[0]:.1f} {load[1]:.1f} at the end; {time.monotonic() - started:.0f} s)\n"
    )
    print(
        "| request | AWS calls | handler ms (in-process, warm) | floor req/s | API req/s | API p50 / p95 ms | share |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, rows, calls, floor, floor_failed, rate, failed, times in results:
        what = counted(rows[0].calls) if len(rows) == 1 else f"{calls:.1f} a request on average"
        ms = f"{rows[0].ms:.1f}" if len(rows) == 1 else "—"
        share = "—" if floor == float("inf") else f"{100 * rate / floor:.0f} %"
        floor_text = "∞ (no call)" if floor == float("inf") else f"{floor:.0f}"
        notes = []
        if floor_failed:
            notes.append(f"{floor_failed} replays failed")
        if failed:
            notes.append(f"{failed} unexpected answers")
        print(
            f"| {name}{' (' + '; '.join(notes) + ')' if notes else ''} | {what} | {ms} | {floor_text} | "
            f"{rate:.0f} | {_percentile(times, 0.5):.0f} / {_percentile(times, 0.95):.0f} | {share} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
