"""The `onair` client against a fake API (http.server in a thread): progress, exit codes, SigV4, redirects."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from onair_cli.__main__ import main
from onair_cli.http import region_of, signs_by_default


class FakeApi(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[dict[str, Any]] = []
        self.run_states = ["queued", "running", "failed"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeApi

    def log_message(self, *args: Any) -> None:
        pass

    def answer(
        self, status: int, body: bytes, content_type: str = "application/json", **headers: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append(
            {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
        )
        if self.path == "/runs/r1":
            state = (
                self.server.run_states.pop(0)
                if len(self.server.run_states) > 1
                else self.server.run_states[0]
            )
            body = {"id": "r1", "status": state}
            if state == "failed":
                body["error"] = {"code": "job_failed", "message": "boom"}
            self.answer(200, json.dumps(body).encode())
        elif self.path == "/runs/r1/output/guide.xml":
            self.answer(302, b"", Location=f"{self.server.url}/bucket/guide.xml?X-Amz-Signature=abc")
        elif self.path.startswith("/bucket/guide.xml"):
            self.answer(200, b"<tv/>", "application/xml")
        elif self.path == "/queue-stats":
            self.answer(200, b'{"jobs": {"visible": 0}}')
        else:
            error = {"error": {"code": "not_found", "message": "no such route", "details": []}}
            self.answer(404, json.dumps(error).encode())


@pytest.fixture
def api() -> Iterator[FakeApi]:
    server = FakeApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def onair(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err, sleep=lambda _seconds: None)
    return code, out.getvalue(), err.getvalue()


def test_wait_shows_each_status_and_exits_non_zero_when_the_run_failed(api):
    code, out, err = onair("--url", api.url, "wait", "r1")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "job_failed"
    assert [line.split(" (")[0] for line in err.splitlines()] == ["r1: queued", "r1: running", "r1: failed"]


def test_wait_gives_up_after_the_timeout(api):
    api.run_states = ["running"]
    code, _out, err = onair("--url", api.url, "--timeout", "0", "wait", "r1")
    assert code == 1 and "still running after 0 s" in err


def test_sigv4_signs_api_calls_and_not_the_presigned_redirect(api, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    target = tmp_path / "guide.xml"
    code, _out, err = onair(
        "--url", api.url, "--sigv4", "--region", "eu-west-1", "get", "r1", "guide.xml", "-o", str(target)
    )
    assert code == 0, err
    assert target.read_bytes() == b"<tv/>"
    to_api, to_s3 = api.seen
    authorization = to_api["headers"]["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization and "x-amz-date" in to_api["headers"]
    # the presigned URL carries its own signature: a second one would make S3 refuse the request
    assert "authorization" not in to_s3["headers"]


def test_local_stack_is_not_signed(api):
    code, out, _err = onair("--url", api.url, "queue-stats")
    assert code == 0 and json.loads(out) == {"jobs": {"visible": 0}}
    assert "authorization" not in api.seen[0]["headers"]


def test_api_errors_are_reported_with_their_code(api):
    code, out, err = onair("--url", api.url, "get", "r2", "guide.xml")
    assert code == 1 and out == ""
    assert "404 not_found: no such route" in err


def test_unreachable_api_is_reported(api):
    url = api.url
    api.shutdown()
    api.server_close()
    code, _out, err = onair("--url", url, "queue-stats")
    assert code == 1 and "cannot reach" in err


@pytest.mark.parametrize(
    ("url", "signed", "region"),
    [
        ("http://127.0.0.1:3000", False, None),
        ("http://localhost:3000", False, None),
        ("https://abc123.execute-api.eu-west-3.amazonaws.com", True, "eu-west-3"),
        ("https://api.example.com", True, None),
    ],
)
def test_signing_and_region_follow_the_url(url, signed, region, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert signs_by_default(url) is signed
    assert region_of(url) == region


def test_url_comes_from_the_environment(api, monkeypatch):
    monkeypatch.setenv("ONAIR_URL", api.url)
    code, _out, _err = onair("queue-stats")
    assert code == 0 and api.seen
