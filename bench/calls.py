"""AWS calls and handler time per request kind, counted at botocore's events as the handlers make them.

    .venv/bin/python -m bench.calls                            # in-process on moto's mock_aws (no network)
    .venv/bin/python -m bench.calls --listing-mb 50 --days 7   # + a presigned upload's import and a long run

Every SDK call a handler makes passes `before-call` (presigning makes none; each part of a multipart upload
makes one), so the counts are the handlers' own, not a reading of the code. The milliseconds are the
median of --repeat warm invocations in this process: a floor (no network, no gateway), the figure docs/SCALE.md
compares with its assumptions. bench.emulator_floor records the same kinds against the local stack's
emulators and replays them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench  # noqa: F401  (puts layers/onair on sys.path)
from bench import REPO_ROOT
from local.apigw import http_event, http_response, match_route
from local.provision import DUMMY_CREDENTIALS, Resources, function_environment
from local.runtime import load_handler, new_context
from local.sqs import sqs_record
from local.template import REGION, App

SCHEDULE = (REPO_ROOT / "events" / "schedule.xml").read_bytes()
MALFORMED = b"<tv>\n  <channel id='a'>\n</tv>\n"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Call:
    service: str  # "s3", "sqs"
    operation: str  # "PutObject"
    params: dict[str, Any]  # the API parameters, file bodies read into bytes (what a replay sends)

    @property
    def name(self) -> str:
        return f"{self.service.upper()} {self.operation}"


class Recorder:
    """Records the SDK calls made while `recording()`, in every thread of this process, except those of
    a block under `aside()` (the harness playing SQS's part)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.on = False
        self._lock = threading.Lock()
        self._aside = threading.local()

    def attach(self, events: Any) -> None:
        """Register on a botocore event emitter (boto3's default session's) before any client exists:
        each client copies the session's handlers when it is created."""
        events.register("provide-client-params", self._params)
        events.register("before-call", self._call)

    @staticmethod
    def _params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # Presigning emits this too, but never before-call: only a call that is sent is recorded.
        context["bench_params"] = {name: _readable(value) for name, value in params.items()}

    def _call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.on and not getattr(self._aside, "on", False):
            call = Call(model.service_model.service_name, model.name, context.get("bench_params", {}))
            with self._lock:
                self.calls.append(call)

    @contextmanager
    def aside(self) -> Iterator[None]:
        self._aside.on = True
        try:
            yield
        finally:
            self._aside.on = False

    @contextmanager
    def recording(self) -> Iterator[list[Call]]:
        self.calls, self.on = [], True
        try:
            yield self.calls
        finally:
            self.on = False


def _readable(value: Any) -> Any:
    """A file-like Body (s3transfer's chunks) as its bytes, left where it was for the real call."""
    if hasattr(value, "read") and hasattr(value, "seek") and hasattr(value, "tell"):
        where = value.tell()
        data = value.read()
        value.seek(where)
        return data
    return value


def counted(calls: list[Call]) -> str:
    """'3 S3 PutObject, 1 SQS SendMessage' in the order first made."""
    counts = Counter(call.name for call in calls)
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or "none"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Harness:
    """The template's functions loaded in this process with the environment the local stack gives them
    (one environment for all: they share the bucket and queues), invoked as API Gateway and the SQS
    event source mappings invoke them."""

    app: App
    resources: Resources
    sqs: Any  # a client of the emulator, for the queues' side of an SQS invocation
    recorder: Recorder
    endpoints: dict[str, str] = field(default_factory=dict)  # AWS_ENDPOINT_URL_*; {} under mock_aws

    def __post_init__(self) -> None:
        for function_id in self.app.functions:
            os.environ.update(function_environment(self.app, function_id, self.resources))
        os.environ.update(self.endpoints)

    def handler(self, function_id: str) -> Callable[[dict[str, Any], Any], Any]:
        return load_handler(self.app, function_id)

    def http(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        path, _, query = path.partition("?")
        match = match_route(self.app.routes, method, path)
        assert match is not None, f"{method} {path} is no route of the template"
        event = http_event(
            method,
            path,
            route=match.route,
            path_parameters=match.path_parameters,
            query=query,
            headers=headers or {},
            body=body,
        )
        function = match.route.function
        with redirect_stdout(sys.stderr):  # the handlers' log lines and metrics
            result = self.handler(function)(event, new_context(self.app, function))
        answer = http_response(result)
        return Answer(answer.status, {k.lower(): v for k, v in answer.headers}, answer.body)

    def next_message(
        self, queue_id: str, wanted: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        """The queue's next message that `wanted` accepts (the others are made visible again)."""
        with self.recorder.aside():  # the event source mapping's calls, not the function's
            return self._next_message(queue_id, wanted, timeout)

    def _next_message(
        self, queue_id: str, wanted: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        url = self.resources.queue_urls[queue_id]
        deadline = time.monotonic() + timeout
        passed_over: list[str] = []  # kept out of sight while looking (or the oldest comes back every time)
        try:
            while time.monotonic() < deadline:
                answer = self.sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=int(timeout) + 1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                found = None
                for message in answer.get("Messages", []):
                    if found is None and wanted(message):
                        found = message
                    else:
                        passed_over.append(message["ReceiptHandle"])
                if found is not None:
                    return found
                time.sleep(0.05)
            raise TimeoutError(f"no wanted message on {queue_id} within {timeout:.0f} s")
        finally:
            for receipt in passed_over:  # visible again to whoever wants them
                self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)

    def deliver(self, function_id: str, queue_id: str, message: dict[str, Any]) -> Any:
        """One invocation of the queue's event source mapping with `message`, deleted if it succeeded."""
        event = {"Records": [sqs_record(message, self.resources.queue_arns[queue_id])]}
        with redirect_stdout(sys.stderr):
            result = self.handler(function_id)(event, new_context(self.app, function_id))
        if not result.get("batchItemFailures"):
            with self.recorder.aside():
                self.sqs.delete_message(
                    QueueUrl=self.resources.queue_urls[queue_id], ReceiptHandle=message["ReceiptHandle"]
                )
        return result


@dataclass
class Kind:
    """One kind of request: how to make it once, and what it answered."""

    name: str
    send: Callable[[], Any]  # makes the request once (through the harness)
    writes: bool = False  # it creates ids: a replay substitutes fresh ones
    http: tuple[str, str, bytes | None, dict[str, str]] | None = None  # (method, path, body, headers)


@dataclass
class Measured:
    kind: Kind
    calls: list[Call]
    ms: float  # median of the warm repeats
    first_ms: float
    known: set[str]  # ids in the request itself (kept by a replay)


def measure(recorder: Recorder, kind: Kind, repeat: int) -> Measured:
    """The calls of one request (the last of `repeat`) and the median time of the warm ones."""
    times, calls = [], []
    first = 0.0
    for index in range(repeat + 1):
        with recorder.recording() as made:
            began = time.perf_counter()
            kind.send()
            elapsed = 1000 * (time.perf_counter() - began)
        if index == 0:
            first = elapsed
        else:
            times.append(elapsed)
        calls = list(made)
    known = set(_UUID.findall(kind.http[1])) if kind.http else set()
    return Measured(kind, calls, statistics.median(times) if times else first, first, known)


def kinds(harness: Harness, *, workers_here: bool) -> Iterator[Kind]:
    """The request kinds of the load tests' mix and docs/SCALE.md, in the order a client makes them.
    `workers_here`: the SQS functions run in this process (mock_aws); otherwise the stack's pollers run
    them and this waits for their outcome."""
    h = harness
    xml = {"content-type": "application/xml"}
    as_json = {"content-type": "application/json"}

    def ok(answer: Answer, *statuses: int) -> Answer:
        assert answer.status in statuses, (answer.status, answer.body[:300])
        return answer

    schedule = ok(h.http("POST", "/schedules", SCHEDULE, xml), 201).json()
    sid = schedule["id"]
    yield Kind(
        "POST /schedules",
        lambda: ok(h.http("POST", "/schedules", SCHEDULE, xml), 201),
        writes=True,
        http=("POST", "/schedules", SCHEDULE, xml),
    )
    yield Kind(
        "POST /schedules (malformed)",
        lambda: ok(h.http("POST", "/schedules", MALFORMED, xml), 400),
        http=("POST", "/schedules", MALFORMED, xml),
    )
    yield Kind(
        "GET /schedules/{id}",
        lambda: ok(h.http("GET", f"/schedules/{sid}"), 200),
        http=("GET", f"/schedules/{sid}", None, {}),
    )
    run_body = b'{"from": "2026-12-01", "days": 1}'
    yield Kind(
        "POST /schedules/{id}/runs",
        lambda: ok(h.http("POST", f"/schedules/{sid}/runs", run_body, as_json), 202),
        writes=True,
        http=("POST", f"/schedules/{sid}/runs", run_body, as_json),
    )
    yield Kind(
        "POST /schedules/{id}/runs + Idempotency-Key",
        lambda: ok(
            h.http(
                "POST", f"/schedules/{sid}/runs", run_body, as_json | {"idempotency-key": str(uuid.uuid4())}
            ),
            202,
        ),
        writes=True,
    )
    run_id = ok(h.http("POST", f"/schedules/{sid}/runs", run_body, as_json), 202).json()["id"]
    if workers_here:
        # The queue holds the jobs of every run requested above; each repeat runs the next one, and
        # the run measured for the outputs below is this one.
        def run_next(timeout: float = 30) -> None:
            message = h.next_message("JobQueue", lambda m: True, timeout)
            h.deliver("RunFunction", "JobQueue", message)

        yield Kind("RunFunction: a 1-day job, every output, published", run_next)
        while True:
            try:
                run_next(timeout=0.5)
            except TimeoutError:
                break
    status = wait_published(h, run_id)
    yield Kind(
        "GET /runs/{id}",
        lambda: ok(h.http("GET", f"/runs/{run_id}"), 200),
        http=("GET", f"/runs/{run_id}", None, {}),
    )
    output = status["outputs"]["guide.xml"]
    yield Kind(
        "GET /runs/{id}/output/guide.xml",
        lambda: ok(h.http("GET", output), 200),
        http=("GET", output, None, {}),
    )
    yield Kind(
        "GET /queue-stats",
        lambda: ok(h.http("GET", "/queue-stats"), 200),
        http=("GET", "/queue-stats", None, {}),
    )
    yield Kind("GET /health", lambda: ok(h.http("GET", "/health"), 200), http=("GET", "/health", None, {}))
    for name in ("guide.xml.gz", "channels.m3u"):
        path = schedule["feed"]["urls"][name]
        etag = settled_etag(h, path)  # the environment now holds its bytes
        yield Kind(
            f"GET /feeds/{{token}}/{name}",
            lambda p=path: ok(h.http("GET", p), 200),
            http=("GET", path, None, {}),
        )
        conditional = {"if-none-match": etag}
        yield Kind(
            f"GET /feeds/{{token}}/{name}, If-None-Match: 304",
            lambda p=path, c=conditional: ok(h.http("GET", p, None, c), 304),
            http=("GET", path, None, conditional),
        )
    yield Kind(
        "POST /uploads",
        lambda: ok(h.http("POST", "/uploads"), 201),
        writes=True,
        http=("POST", "/uploads", None, {}),
    )


def settled_etag(h: Harness, path: str, timeout: float = 120) -> str:
    """The feed file's ETag once the feed stays on one run for 3 s. The runs requested by the kinds above
    may still be publishing, one after another: each switch drops the copies of the run before the one it
    replaces, so a file read just then can be gone (404), and its bytes change with every switch."""
    deadline = time.monotonic() + timeout
    last, since = "", time.monotonic()
    while time.monotonic() < deadline:
        answer = h.http("GET", path)
        etag = answer.headers.get("etag", "") if answer.status == 200 else ""
        if etag != last:
            last, since = etag, time.monotonic()
        elif etag and time.monotonic() - since >= 3:
            return etag
        time.sleep(0.25)
    raise TimeoutError(f"{path}: the feed did not settle within {timeout:.0f} s")


def wait_published(h: Harness, run_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = h.http("GET", f"/runs/{run_id}").json()
        if status["status"] == "failed":
            raise RuntimeError(f"run {run_id} failed: {status.get('error')}")
        if status.get("published"):
            return status  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise TimeoutError(f"run {run_id} was not published within {timeout:.0f} s: {status}")


def big_listing(h: Harness, recorder: Recorder, megabytes: float, days: int) -> list[tuple[str, Measured]]:
    """A presigned upload of a generated listing, its import (ImportFunction) and a run of it."""
    import boto3

    from bench.xmltv_gen import write_listing

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "listing.xml"
        write_listing(listing, int(megabytes * 1024 * 1024))
        grant = h.http("POST", "/uploads").json()
        key = f"incoming/{grant['id']}.xml"
        # One PUT, as the presigned URL takes it (upload_file's multipart upload gets no notification
        # from moto); the uploader's call, not recorded
        boto3.client("s3").put_object(Bucket=h.resources.bucket, Key=key, Body=listing.read_bytes())
    # the upload's id, not its key: an S3 event URL-encodes the key ("incoming%2F...")
    message = h.next_message("ImportQueue", lambda m: grant["id"] in m["Body"])
    with recorder.recording() as made:
        began = time.perf_counter()
        h.deliver("ImportFunction", "ImportQueue", message)
        elapsed = 1000 * (time.perf_counter() - began)
    kind = Kind(f"ImportFunction: a presigned upload of {megabytes:g} MiB", lambda: None)
    rows.append(("", Measured(kind, list(made), elapsed, elapsed, set())))
    upload = h.http("GET", f"/uploads/{grant['id']}").json()
    assert upload["status"] == "imported", upload
    body = json.dumps({"from": "2026-06-01", "days": days}).encode()
    run_id = h.http(
        "POST", f"/schedules/{upload['schedule_id']}/runs", body, {"content-type": "application/json"}
    ).json()["id"]
    message = h.next_message("JobQueue", lambda m: run_id in m["Body"])
    with recorder.recording() as made:
        began = time.perf_counter()
        h.deliver("RunFunction", "JobQueue", message)
        elapsed = 1000 * (time.perf_counter() - began)
    status = h.http("GET", f"/runs/{run_id}").json()
    report = status.get("report", {})
    note = ", ".join(f"{k} {report.get(k)}" for k in ("slots", "generation_seconds", "write_seconds"))
    kind = Kind(f"RunFunction: a {days}-day job of that listing ({status['status']}; {note})", lambda: None)
    rows.append(("", Measured(kind, list(made), elapsed, elapsed, set())))
    return rows


def table(rows: list[Measured]) -> str:
    lines = ["| request | AWS calls | calls | warm ms (median) | first ms |", "|---|---|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row.kind.name} | {counted(row.calls)} | {len(row.calls)} | {row.ms:.1f} | {row.first_ms:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calls", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="warm invocations per kind (default 7)")
    parser.add_argument("--listing-mb", type=float, default=0, help="also import and run a generated listing")
    parser.add_argument("--days", type=int, default=7, help="days of the listing's run")
    parser.add_argument("--keys", action="store_true", help="also list each call's key or queue")
    args = parser.parse_args(argv)

    os.environ.update(DUMMY_CREDENTIALS)  # never a real credential near the mock
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS"):
        os.environ.pop(name, None)  # mock_aws only sees AWS's own endpoints
    import boto3
    from moto import mock_aws

    from local.provision import provision
    from local.template import load_template

    recorder = Recorder()
    with mock_aws():
        boto3.setup_default_session()  # mock_aws drops the default session: attach to the new one
        recorder.attach(boto3.DEFAULT_SESSION.events)
        app = load_template()
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        harness = Harness(app, provision(app, s3, sqs), sqs, recorder)
        rows = [measure(recorder, kind, args.repeat) for kind in kinds(harness, workers_here=True)]
        if args.listing_mb:
            rows += [row for _, row in big_listing(harness, recorder, args.listing_mb, args.days)]
    print(f"AWS calls per request kind (bench.calls, in-process on mock_aws, {args.repeat} warm repeats)\n")
    print(table(rows))
    if args.keys:
        for row in rows:
            print(f"\n{row.kind.name}:")
            for call in row.calls:
                where = call.params.get("Key") or call.params.get("Prefix") or call.params.get("QueueUrl", "")
                print(f"  {call.name} {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
