"""moto's server (`python -m moto.server`), tuned for load: the emulator must not be what a load test measures.

    python -m local.moto_server -H 127.0.0.1 -p 4566

The same WSGI app as moto's own entry point, served by waitress instead of werkzeug's development server,
which answers every request with `Connection: close` (each SDK call paid a new TCP connection and a new
thread) and then waits 10 ms for stray request bytes before it lets the connection go. waitress keeps
connections alive and serves them from a fixed pool of threads. Flask's debug mode stays off, and SQS's
message clock is cheaper (fast_clock).
Measured under `make load`: docs/PERFORMANCE.md, "Load".
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
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

    original = sqs_models.unix_time_millis

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else original(dt)

    sqs_models.unix_time_millis = unix_time_millis


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.moto_server", description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv)

    def stop(*_: Any) -> None:
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    import waitress

    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto's entry point: URLs moto builds use it

    fast_clock()
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
