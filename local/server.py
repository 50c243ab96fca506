"""The HTTP API process: routes from template.yaml, payload v2.0 events, the function's handler in-process."""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.apigw import HttpResponse, date_header, error_response, http_event, http_response, match_route
from local.template import App, load_template

# API Gateway HTTP APIs accept up to 10 MB; Lambda itself caps the event near 6 MB (the handler's concern).
MAX_BODY = 10 * 1024 * 1024


def make_handler(app: App) -> type[BaseHTTPRequestHandler]:
    from local.runtime import load_handler, new_context

    handlers = {route.function: load_handler(app, route.function) for route in app.routes}
    # An execution environment handles one event at a time: Lambda never calls a handler from two threads,
    # and handlers rely on it (Powertools' resolver keeps the current event and route on the app object, so
    # concurrent calls in one process answer with each other's results). The server's threads only read
    # and write HTTP; concurrency comes from the API worker processes (local/__main__.py --api-workers).
    invocation = threading.Lock()

    class ApiHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "onair-local"

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self._send(error_response(413, "Request Entity Too Large"))
                return
            body = self.rfile.read(length) if length else b""
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
                with invocation:
                    result: Any = handlers[found.route.function](
                        event, new_context(app, found.route.function)
                    )
                response = http_response(result)
            except Exception:
                # API Gateway hides the error; the stack's log shows it.
                print(f"[{found.route.function}] {found.route.route_key} failed:", file=sys.stderr)
                traceback.print_exc()
                response = error_response(500, "Internal Server Error")
            self._send(response)

        def _send(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            names = {name.lower() for name, _ in response.headers}
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            if "content-type" not in names:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(response.body)))
            self.send_header("apigw-requestid", "local")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def date_time_string(self, timestamp: float | None = None) -> str:
            return date_header()

        def log_message(self, format: str, *args: Any) -> None:
            print(f"[api] {self.address_string()} {format % args}", file=sys.stderr, flush=True)

    return ApiHandler


class SharedPortServer(ThreadingHTTPServer):
    """Several API processes listen on one port (SO_REUSEPORT): the kernel spreads connections over them,
    as API Gateway spreads requests over Lambda execution environments, so one process's GIL is no cap."""

    allow_reuse_port = True
    daemon_threads = True
    request_queue_size = 1024  # a burst of new connections waits in the backlog instead of being refused


def serve(template: str, port: int, env: dict[str, str], ready: Any) -> None:
    """Entry point of a spawned API process; `env` is the function's environment (one per process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops us with SIGTERM
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    os.environ.update(env)
    app = load_template(template)
    server = SharedPortServer(("127.0.0.1", port), make_handler(app))
    ready.set()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
