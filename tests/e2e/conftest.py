"""Starts `python -m local` once per session on free ports (local.stack) and talks to it over HTTP."""

from __future__ import annotations

import http.client
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
from local.stack import running_stack as stack_process
from local.template import App, load_template
from tests.conftest import Reply


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@dataclass
class LocalStack:
    api: str
    endpoint: str  # S3's emulator
    sqs_endpoint: str
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
            endpoint = self.sqs_endpoint if service == "sqs" else self.endpoint
            self._clients[service] = local_client(service, endpoint)
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


@contextmanager
def running_stack(log: Path, template: Path | None = None) -> Iterator[LocalStack]:
    """`python -m local` on free ports (from `template`, else template.yaml), until the block ends."""
    with stack_process(log, template=template) as stack:
        yield LocalStack(
            stack.api,
            stack.s3,
            stack.sqs,
            load_template(template) if template else load_template(),
            log,
        )


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("local-stack") / "stack.log") as stack:
        yield stack
