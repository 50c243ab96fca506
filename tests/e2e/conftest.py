"""Starts `python -m local` once per session on free ports and talks to it over HTTP (stdlib only)."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest

from local.provision import local_client
from local.template import ROOT, App, load_template
from tests.conftest import Reply

START_TIMEOUT = 60.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@dataclass
class LocalStack:
    api: str
    endpoint: str
    app: App
    log: Path
    _clients: dict[str, Any] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: bytes | str | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(self.api + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(
                    response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
                )
        except urllib.error.HTTPError as error:
            return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def client(self, service: Literal["s3", "sqs"]) -> Any:
        if service not in self._clients:
            self._clients[service] = local_client(service, self.endpoint)
        return self._clients[service]

    def keys(self, prefix: str) -> set[str]:
        pages = (
            self.client("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.app.bucket_name, Prefix=prefix)
        )
        return {item["Key"] for page in pages for item in page.get("Contents", [])}


def put_presigned(url: str, body: bytes, headers: dict[str, str]) -> int:
    """PUT with exactly the headers the upload response lists (urllib would add a form Content-Type)."""
    parts = urlsplit(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.netloc, timeout=30)
    try:
        connection.request("PUT", f"{parts.path}?{parts.query}", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wait_for(probe: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Polls until `probe` returns something truthy (and returns it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_stack(log: Path, template: Path | None = None) -> Iterator[LocalStack]:
    """`python -m local` on free ports (from `template`, else template.yaml), until the block ends."""
    api_port, moto_port = free_port(), free_port()
    command = [sys.executable, "-m", "local", "--port", str(api_port), "--moto-port", str(moto_port)]
    if template is not None:
        command += ["--template", str(template)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    stack = LocalStack(
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{moto_port}",
        load_template(template) if template else load_template(),
        log,
    )

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the local stack exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            return stack.request("GET", "/health").status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, START_TIMEOUT, "the local stack's /health")
        yield stack
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("local-stack") / "stack.log") as stack:
        yield stack
