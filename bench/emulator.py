"""A moto server (S3 and SQS) in a process of its own, for benchmarks that must not count the emulator's
memory or time as the client's."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from local.stack import HOST, free_port


@contextmanager
def moto_server(timeout: float = 10.0) -> Iterator[str]:
    """Its endpoint URL once it accepts connections; stopped when the block ends."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"moto server on port {port} did not start") from None
                time.sleep(0.1)
        yield f"http://{HOST}:{port}"
    finally:
        server.terminate()
        server.wait()
