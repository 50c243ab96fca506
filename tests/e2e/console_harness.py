"""The console's browser-test harness: headless Debian Chromium (Playwright) and, until the API serves
/console/ itself, a small server that serves console/ at /console/ and forwards every other path to the
real local stack, so the console and the API share one origin exactly as they will. Switching to the
stack's own /console/ is the one line in `console_origin`.
"""

from __future__ import annotations

import http.client
import json
import mimetypes
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.template import ROOT, App
from onair.formats.outputs import WRITERS
from tests.e2e.conftest import LocalStack

CONSOLE = ROOT / "console"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# The network is closed and the profile is new: nothing may phone home or wait for it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def console_config(app: App, **overrides: Any) -> dict[str, Any]:
    """GET /console/config.json as the API is to answer it: the limits from template.yaml."""
    return {
        "max_import_bytes": int(app.parameters["MaxImportBytes"]),
        "auth": "none",
        "formats": sorted(WRITERS),
    } | overrides


@dataclass
class Forwarded:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class ConsoleServer:
    url: str
    server: ThreadingHTTPServer
    forwarded: list[Forwarded] = field(default_factory=list)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_console(
    api: str | None, config: dict[str, Any], pages: dict[str, tuple[bytes, str]] | None = None
) -> ConsoleServer:
    """Serves console/ at /console/ and forwards the rest to `api` (None: 404). `pages`: path -> (body,
    content type), extra pages of the caller's (the benchmark's)."""
    target = urlsplit(api) if api else None
    extra = pages or {}
    forwarded: list[Forwarded] = []
    root = CONSOLE.resolve()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # the test output is the browser's, not ours
            pass

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _asset(self, path: str) -> None:
            relative = path[len("/console/") :]
            if relative == "config.json":
                self._reply(200, json.dumps(config).encode(), {"Content-Type": "application/json"})
                return
            file = (root / relative).resolve()
            if relative and file.is_file() and root in file.parents:
                kind = (
                    TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                )
                self._reply(200, file.read_bytes(), {"Content-Type": kind, "Cache-Control": "no-cache"})
            elif "." in relative.rsplit("/", 1)[-1]:
                self._reply(404, b'{"message":"Not Found"}', {"Content-Type": "application/json"})
            else:  # a deep link: the page is index.html, the router draws the rest
                index = (root / "index.html").read_bytes()
                self._reply(
                    200, index, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"}
                )

        def _forward(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
            forwarded.append(Forwarded(self.command, self.path, {k.lower(): v for k, v in headers.items()}))
            if target is None:
                self._reply(404, b'{"message":"Not Found"}', {"Content-Type": "application/json"})
                return
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                answer = {
                    k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}
                }
                self._reply(response.status, payload, answer)
            finally:
                connection.close()

        def _serve(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in extra:
                self._reply(200, extra[path][0], {"Content-Type": extra[path][1]})
            elif path == "/console":
                self._reply(301, b"", {"Location": "/console/"})
            elif path.startswith("/console/") and self.command in ("GET", "HEAD"):
                self._asset(path)
            else:
                self._forward()

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="console-harness", daemon=True).start()
    return ConsoleServer(f"http://127.0.0.1:{server.server_address[1]}", server, forwarded)


@pytest.fixture(scope="session")
def console_server(local_stack: LocalStack) -> Iterator[ConsoleServer]:
    harness = serve_console(local_stack.api, console_config(local_stack.app))
    yield harness
    harness.close()


@pytest.fixture(scope="session")
def console_origin(local_stack: LocalStack, console_server: ConsoleServer) -> str:
    """Where the browser finds /console/ and the API. Once the API serves /console/: return local_stack.api"""
    return console_server.url


def chromium_missing() -> str | None:
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium): the console's browser tests need it"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    return None


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, never a downloaded build. Playwright gives every launch a fresh --user-data-dir."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@dataclass
class ConsolePage:
    """A fresh browser context on the console, and what its console said."""

    page: Any
    origin: str
    errors: list[str] = field(default_factory=list)
    uncaught: list[str] = field(default_factory=list)

    def open(self, path: str = "") -> Any:
        self.page.goto(f"{self.origin}/console/{path}")
        return self.page


@pytest.fixture
def console(browser: Any, console_origin: str) -> Iterator[ConsolePage]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30_000)
    opened = ConsolePage(page, console_origin)
    page.on("console", lambda message: message.type == "error" and opened.errors.append(message.text))
    page.on("pageerror", lambda error: opened.uncaught.append(str(error)))
    yield opened
    context.close()
