"""The HTTP(S) adapter of the Fetcher port (onair.ports): bounded fetching of item playlists.

Item URIs come from users' schedules, so a fetch is hostile input: it is bounded in time (per operation
and in total), in size, in redirects (only to http/https, never file:, ftp: or data:), and by default never
reaches a non-global address (loopback, private, link-local: the Lambda runtime API listens on one). Every
failure is a `FetchError` with a finding code; nothing else escapes `UrlFetcher.fetch`.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urljoin, urlsplit

from onair.ports import Fetched, FetchError

HTTP_SCHEMES = ("http", "https")
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024


def _check_peer(sock: socket.socket, allow_private: bool) -> None:
    if allow_private:
        return
    address = ipaddress.ip_address(sock.getpeername()[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global:
        sock.close()
        raise FetchError("blocked_address", f"{address} is not a public address")


class _Guarded(http.client.HTTPConnection):
    """Checks the address actually connected to (not the one a name resolved to earlier: no DNS
    rebinding), before a byte of the request (or of TLS) is sent."""

    def __init__(self, *args: Any, allow_private: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._allow_private = allow_private

    def connect(self) -> None:
        super().connect()
        _check_peer(self.sock, self._allow_private)


class _GuardedHTTPS(http.client.HTTPSConnection, _Guarded):
    """MRO: HTTPSConnection.connect -> _Guarded.connect (socket, check) -> then the TLS handshake."""


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self._allow_private = allow_private

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_Guarded, req, allow_private=self._allow_private)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self._allow_private = allow_private

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _GuardedHTTPS,
            req,
            context=self._context,  # type: ignore[attr-defined]  # HTTPSHandler's, undeclared in typeshed
            allow_private=self._allow_private,
        )


class UrlFetcher:
    """urllib without its defaults: only HTTP and HTTPS handlers (no file:, ftp:, data:, no proxy from
    the environment), redirects followed here so each hop's scheme is checked and counted."""

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        deadline: float = 15.0,
        max_bytes: int = 8 * 1024 * 1024,
        max_redirects: int = 3,
        allow_private: bool = False,
        user_agent: str = "OnAir-live/1",
    ) -> None:
        self.timeout = timeout  # per socket operation
        self.deadline = deadline  # the whole fetch, redirects included (a trickling server is cut off)
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        opener = urllib.request.OpenerDirector()
        for handler in (
            _HTTPHandler(allow_private),
            _HTTPSHandler(allow_private),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ):
            opener.add_handler(handler)
        self._opener = opener

    def fetch(self, url: str, etag: str | None = None) -> Fetched:
        ends = time.monotonic() + self.deadline
        try:
            return self._fetch(url, etag, ends)
        except FetchError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as error:
            # URLError, timeouts, resets, bad status lines, malformed URLs: the server cannot be read.
            raise FetchError("unreachable", f"{url}: {error}") from error

    def _fetch(self, url: str, etag: str | None, ends: float) -> Fetched:
        for _hop in range(self.max_redirects + 1):
            _check_url(url)
            headers = {"User-Agent": self.user_agent, "Accept": "application/vnd.apple.mpegurl, */*"}
            if etag is not None:
                headers["If-None-Match"] = etag
            request = urllib.request.Request(url, headers=headers)
            try:
                response = self._opener.open(request, timeout=self._remaining(ends, url))
            except urllib.error.HTTPError as error:
                with error:
                    if error.code == 304 and etag is not None:
                        return Fetched(url, None, error.headers.get("ETag") or etag)
                    location = error.headers.get("Location") if error.code in REDIRECTS else None
                    if location is None:
                        raise FetchError("unreachable", f"{url}: HTTP {error.code}") from None
                url = urljoin(url, location.strip())
                continue
            with response:
                return Fetched(url, self._read(response, url, ends), response.headers.get("ETag"))
        raise FetchError("unreachable", f"more than {self.max_redirects} redirects (a loop?), last to {url}")

    def _read(self, response: http.client.HTTPResponse, url: str, ends: float) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError("too_large", f"{url}: {declared} bytes, more than {self.max_bytes}")
        chunks: list[bytes] = []
        size = 0
        while True:
            self._remaining(ends, url)
            chunk = response.read1(CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError("too_large", f"{url}: more than {self.max_bytes} bytes")
            chunks.append(chunk)

    def _remaining(self, ends: float, url: str) -> float:
        left = ends - time.monotonic()
        if left <= 0:
            raise FetchError("unreachable", f"{url}: no answer within {self.deadline} s")
        return min(self.timeout, left)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in HTTP_SCHEMES:
        raise FetchError("bad_scheme", f"{url[:200]}: only http and https are fetched")
    if not parts.hostname:
        raise FetchError("unreachable", f"{url[:200]}: no host")
