"""moto's server (`python -m moto.server`), tuned for load: the emulator must not be what a load test measures.

    python -m local.moto_server -H 127.0.0.1 -p 4566
    python -m local.moto_server -H 127.0.0.1 -p 4566 --sqs-endpoint http://127.0.0.1:4567   # S3 alone

The same WSGI app as moto's own entry point, served by waitress instead of werkzeug's development server,
which answers every request with `Connection: close` (each SDK call paid a new TCP connection and a new
thread) and then waits 10 ms for stray request bytes before it lets the connection go. waitress keeps
connections alive and serves them from a fixed pool of threads. Flask's debug mode stays off; SQS's
message clock (fast_clock) and S3's version listing (prefix_scoped_versions) cost what real S3 and SQS
make them cost, not a walk of every message or every object; conditional writes are atomic, as S3's are
(atomic_conditional_writes).

S3 and SQS may run in two of these processes (the local stack does: each emulator has a core's worth of
GIL). S3's event notifications are then sent to the SQS process with --sqs-endpoint (moto would deliver
them to a queue in its own process, where none exists).
Measured under `make load`: docs/PERFORMANCE.md, "Load".
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

# Long polls (ReceiveMessage with WaitTimeSeconds) hold a thread each: one per SQS poller, plus the callers.
THREADS = 48


def fast_clock() -> None:
    """moto's SQS asks every message of a queue whether it is visible or delayed, for each GetQueueAttributes
    and ReceiveMessage, through `unix_time_millis()`: two naive-datetime constructions per message. With a
    backlog of a few thousand jobs that made the emulator the ceiling of a load test (py-spy: 54 % of its
    CPU). time.time() is the same instant, about twenty times cheaper. Real SQS answers these in constant
    time."""
    import moto.sqs.models as sqs_models

    original = sqs_models.unix_time_millis  # type: ignore[attr-defined]  # moto's own import, patched where used

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else original(dt)

    sqs_models.unix_time_millis = unix_time_millis  # type: ignore[attr-defined]


def cached_dispatch() -> None:
    """moto's server finds the backend of every request under one lock, by listing its own package
    directory (a stat per service, ~160) twice and then matching the host against every service's URL
    patterns: ~9 ms per request on this machine, serialized, so ~110 requests/s whatever the threads
    (the ceiling the first load tests met). The answer depends only on the host it is asked about: here
    it is worked out once per host."""
    import functools

    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = tuple(backends.list_of_moto_modules())  # the installed package does not change
    backends.list_of_moto_modules = lambda: modules
    find = functools.lru_cache(maxsize=512)(DomainDispatcherApplication.get_backend_for_host)
    DomainDispatcherApplication.get_backend_for_host = find  # type: ignore[method-assign]


_listing = threading.local()  # the prefix of the ListObjectVersions this thread answers


def prefix_scoped_versions() -> None:
    """moto's ListObjectVersions deep-copies every version of every object in the bucket (their bytes
    too) and only then keeps the prefix asked for: its cost grows with the bucket, and a load test that
    fills it slows down by itself (py-spy: 60 % of the emulator's CPU once a few thousand runs had
    published; the app lists versions to delete a key or a prefix). Here the copy skips the keys outside
    the prefix; what is answered is the same. Scoped per thread, since waitress serves requests from
    several."""
    from moto.s3.models import S3Backend
    from moto.s3.utils import _VersionedKeyStore

    every_list = _VersionedKeyStore._iterlists
    list_versions = S3Backend.list_object_versions

    def iterlists(self: _VersionedKeyStore) -> Iterator[tuple[str, list[Any]]]:
        prefix = getattr(_listing, "prefix", "")
        for key, versions in every_list(self):
            if key.startswith(prefix):
                yield key, versions

    def list_object_versions(self: S3Backend, bucket_name: str, *args: Any, **kwargs: Any) -> Any:
        _listing.prefix = kwargs.get("prefix") or ""
        try:
            return list_versions(self, bucket_name, *args, **kwargs)
        finally:
            _listing.prefix = ""

    _VersionedKeyStore.iterlists = _VersionedKeyStore.lists = iterlists
    S3Backend.list_object_versions = list_object_versions  # type: ignore[method-assign]  # a patch of moto's


def atomic_conditional_writes() -> None:
    """moto checks a PUT's or DELETE's If-Match / If-None-Match, then writes, with nothing between: two
    writers on one ETag can both pass the check (S3 lets one win and answers the other 412). The run
    status and the feed pointer are compare-and-swaps on the ETag, so every object PUT and DELETE is made
    one step here, under one lock (the emulator's writes are memory copies: the lock costs little)."""
    from moto.s3.responses import S3Response

    lock = threading.RLock()
    for name in ("put_object", "delete_object"):
        original = getattr(S3Response, name)
        if getattr(original, "_onair_atomic", False):
            continue

        def atomic(self: S3Response, *, _original: Any = original) -> Any:
            with lock:
                return _original(self)

        atomic._onair_atomic = True  # type: ignore[attr-defined]
        setattr(S3Response, name, atomic)


def notifications_to(sqs_endpoint: str) -> None:
    """S3's notifications to SQS queues, sent to the emulator at `sqs_endpoint` (SQS in a process of its
    own). Like moto's own delivery, a failure is dropped: S3 delivers events asynchronously, and at least
    once, not exactly once."""
    import boto3
    import moto.s3.notifications as notifications

    sqs = boto3.client(
        "sqs",
        endpoint_url=sqs_endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def send(account_id: str, event_body: Any, queue_name: str, region_name: str) -> None:
        try:
            sqs.send_message(
                QueueUrl=f"{sqs_endpoint}/{account_id}/{queue_name}", MessageBody=json.dumps(event_body)
            )
        except Exception as error:  # as moto: the PUT that caused it has succeeded
            print(f"S3 notification to {queue_name} not delivered: {error!r}", file=sys.stderr, flush=True)

    notifications._send_sqs_message = send


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.moto_server", description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    parser.add_argument(
        "--sqs-endpoint", default="", help="SQS runs in the emulator there: S3 notifications go to it"
    )
    args = parser.parse_args(argv)

    def stop(*_: Any) -> None:
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    import waitress

    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto's entry point: URLs moto builds use it

    fast_clock()
    cached_dispatch()
    prefix_scoped_versions()
    atomic_conditional_writes()
    if args.sqs_endpoint:
        notifications_to(args.sqs_endpoint.rstrip("/"))
    app = DomainDispatcherApplication(create_backend_app)
    waitress.serve(
        app,
        host=args.host,
        port=args.port,
        threads=THREADS,
        connection_limit=1000,
        channel_timeout=300,
        ident="moto",
        _quiet=True,
    )


if __name__ == "__main__":
    main()
