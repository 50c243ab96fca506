"""`python -m local` as a child process on free ports, until a block ends: the one launcher the e2e tests,
the load tests and the benchmarks share.

    with running_stack(Path("/tmp/stack.log")) as stack:
        urllib.request.urlopen(f"{stack.api}/health")
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from local.template import ROOT

HOST = "127.0.0.1"
START_TIMEOUT = 60.0  # a loaded shared machine takes several seconds to start every environment
STOP_TIMEOUT = 20.0


class StackFailed(RuntimeError):
    """The stack exited or did not answer /health in time; the message ends with its log's tail."""


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice; the child binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Endpoints:
    api: str  # the HTTP API
    s3: str  # the emulator serving S3
    sqs: str  # the emulator serving SQS (the same URL when one process serves both)
    log: Path
    pid: int


def _log_tail(log: Path, chars: int = 4000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def running_stack(
    log: Path,
    *,
    template: Path | None = None,
    extra: Sequence[str] = (),
    timeout: float = START_TIMEOUT,
) -> Iterator[Endpoints]:
    """`python -m local` (from `template`, else template.yaml) on free ports, its output in `log`; yields
    once /health answers 200, and stops it (SIGTERM, then SIGKILL) when the block ends."""
    api_port, s3_port, sqs_port = free_port(), free_port(), free_port()
    command = [sys.executable, "-m", "local", "--port", str(api_port), "--moto-port", str(s3_port)]
    command += ["--sqs-port", str(sqs_port)]
    if template is not None:
        command += ["--template", str(template)]
    command += list(extra)
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    api = f"http://{HOST}:{api_port}"
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(api):
            if process.poll() is not None:
                raise StackFailed(f"the local stack exited ({process.returncode}):\n{_log_tail(log)}")
            if time.monotonic() > deadline:
                raise StackFailed(f"the local stack did not answer within {timeout:.0f} s:\n{_log_tail(log)}")
            time.sleep(0.2)
        yield Endpoints(api, f"http://{HOST}:{s3_port}", f"http://{HOST}:{sqs_port}", log, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
