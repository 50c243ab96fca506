"""The HTTP API: routes from template.yaml, payload v2.0 events, each invocation in an environment of the
route's function (local/environments.py), as API Gateway invokes Lambda."""

from __future__ import annotations

import re
import sys
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from typing import Any, BinaryIO

from local.apigw import HttpResponse, date_header, error_response, http_event, http_response, match_route
from local.environments import InvocationFailed, Pool
from local.template import App

# API Gateway HTTP APIs accept up to 10 MB; Lambda itself caps the event near 6 MB (the handler's concern).
MAX_BODY = 10 * 1024 * 1024
# A client that stops sending mid-request (or idles on a keep-alive connection) frees its thread after this.
IDLE_SECONDS = 60
_CHUNK_LINE = 4096  # a chunk-size line (hex size and extensions) or a trailer line, at most
_DIGITS = re.compile(r"[0-9]+")


class BadFraming(Exception):
    """A request whose body cannot be read as HTTP/1.1 frames it (RFC 9112 section 6): answered with
    `status`, and the connection closed, since where the next request starts is unknown."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def content_length(headers: Message) -> int | None:
    """The Content-Length, or None without one; invalid (not digits, several values) is a 400."""
    values = [v.strip() for value in headers.get_all("content-length") or [] for v in value.split(",")]
    if not values:
        return None
    if len(set(values)) != 1 or not _DIGITS.fullmatch(values[0]):
        raise BadFraming(400, "Bad Request: invalid Content-Length")
    return int(values[0])


def body_framing(headers: Message) -> tuple[str, int]:
    """('chunked', 0), ('length', n) or ('none', 0); what cannot be read is a 400, too much a 413."""
    codings = [c.strip().lower() for v in headers.get_all("transfer-encoding") or [] for c in v.split(",")]
    length = content_length(headers)
    if codings:
        if codings != ["chunked"]:
            raise BadFraming(400, "Bad Request: unsupported Transfer-Encoding")
        if length is not None:  # both: the request smuggling pattern, refused (RFC 9112 section 6.1)
            raise BadFraming(400, "Bad Request: both Content-Length and Transfer-Encoding")
        return "chunked", 0
    if length is None:
        return "none", 0
    if length > MAX_BODY:
        raise BadFraming(413, "Request Entity Too Large")
    return "length", length


def read_chunked(rfile: BinaryIO | BufferedIOBase, limit: int) -> bytes:
    """A chunked body (RFC 9112 section 7.1), refused past `limit` bytes; trailers are read and dropped."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(_CHUNK_LINE + 1)
        if len(line) > _CHUNK_LINE or not line.endswith(b"\n"):
            raise BadFraming(400, "Bad Request: invalid chunk size line")
        size_text = line.split(b";", 1)[0].strip()
        if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_text):
            raise BadFraming(400, "Bad Request: invalid chunk size")
        size = int(size_text, 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise BadFraming(413, "Request Entity Too Large")
        data = rfile.read(size)
        if len(data) != size or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise BadFraming(400, "Bad Request: truncated chunk")
        parts.append(data)
    for _ in range(100):  # trailer fields, up to the empty line
        line = rfile.readline(_CHUNK_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return b"".join(parts)
        if not line.endswith(b"\n"):
            break
    raise BadFraming(400, "Bad Request: invalid trailer section")


def make_handler(app: App, pools: dict[str, Pool]) -> type[BaseHTTPRequestHandler]:
    """Request handlers for `app`'s routes; `pools` holds the execution environments of each routed function.
    The server's threads only read and write HTTP: an environment runs one event at a time, as in Lambda
    (Powertools' resolver keeps the current event on the app object, so a handler must never be called from
    two threads at once)."""

    class ApiHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "onair-local"
        timeout = IDLE_SECONDS
        # TCP_NODELAY: the head and the body of an answer go out in two writes, and with Nagle's algorithm
        # the body waited for the client's delayed ACK of the head (up to 40 ms on Linux) on every answer.
        disable_nagle_algorithm = True

        def handle_expect_100(self) -> bool:
            # Answer a body that will be refused before the client sends it (curl asks past 1 MB).
            try:
                body_framing(self.headers)
            except BadFraming as error:
                self._refuse(error)
                return False
            return super().handle_expect_100()

        def _refuse(self, error: BadFraming) -> None:
            self.close_connection = True  # the body was not read: the stream holds no next request
            self._send(error_response(error.status, error.message), close=True)

        def _read_body(self) -> bytes:
            framing, length = body_framing(self.headers)
            if framing == "chunked":
                return read_chunked(self.rfile, MAX_BODY)
            body = self.rfile.read(length) if length else b""
            if len(body) != length:
                raise BadFraming(400, "Bad Request: the body is shorter than its Content-Length")
            return body

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            try:
                body = self._read_body()
            except BadFraming as error:
                self._refuse(error)
                return
            found = match_route(app.routes, self.command, path)
            if found is None:
                self._send(error_response(404, "Not Found"))
                return
            event = http_event(
                self.command,
                path,
                route=found.route,
                path_parameters=found.path_parameters,
                query=query,
                headers=self.headers.items(),
                body=body,
                source_ip=self.client_address[0],
            )
            try:
                response = http_response(pools[found.route.function].invoke(event))
            except InvocationFailed as error:
                # API Gateway hides the error; the stack's log shows it.
                print(f"[{found.route.function}] {found.route.route_key} failed: {error}", file=sys.stderr)
                response = error_response(500, "Internal Server Error")
            self._send(response)

        def _send(self, response: HttpResponse, *, close: bool = False) -> None:
            self.send_response(response.status)
            names = {name.lower() for name, _ in response.headers}
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            if "content-type" not in names:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(response.body)))
            self.send_header("apigw-requestid", "local")
            if close:
                self.send_header("connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def date_time_string(self, timestamp: float | None = None) -> str:
            return date_header()

        def log_message(self, format: str, *args: Any) -> None:
            print(f"[api] {self.address_string()} {format % args}", file=sys.stderr, flush=True)

    return ApiHandler


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a burst of new connections waits in the backlog instead of being refused


def http_server(app: App, port: int, pools: dict[str, Pool]) -> ApiServer:
    """The server, bound and listening on 127.0.0.1:`port`; the caller runs serve_forever()."""
    return ApiServer(("127.0.0.1", port), make_handler(app, pools))
