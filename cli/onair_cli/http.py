"""HTTP to the OnAir API with urllib, signed with SigV4 (service execute-api) for a deployed stack."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import urlencode, urlsplit

LOCAL_URL = "http://127.0.0.1:3000"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")


class ApiError(Exception):
    """An answer with an error status, or no answer at all."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are the caller's decision: a presigned S3 URL must be fetched without the API's signature."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def signs_by_default(url: str) -> bool:
    """SigV4 unless the API is the local stack (loopback, no authentication)."""
    return (urlsplit(url).hostname or "") not in LOOPBACK


def region_of(url: str) -> str | None:
    """The region of an execute-api URL, else the environment's."""
    match = API_HOST.match(urlsplit(url).hostname or "")
    if match:
        return match.group(1)
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


@dataclass
class Api:
    url: str = LOCAL_URL
    sigv4: bool = False
    region: str | None = None
    timeout: float = 60.0
    _opener: urllib.request.OpenerDirector = field(
        default_factory=lambda: urllib.request.build_opener(_NoRedirect), repr=False
    )

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Reply:
        """One API call; a status >= 400 raises ApiError with the API's error body."""
        url = self.url.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
        headers = dict(headers or {})
        if self.sigv4:
            headers = self._signed(method, url, body, headers)
        reply = send(self._opener, urllib.request.Request(url, body, headers, method=method), self.timeout)
        if reply.status >= 400:
            raise error_of(reply, f"{method} {path}")
        return reply

    def _signed(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.session import Session

        credentials = Session().get_credentials()
        if credentials is None:
            raise ApiError("no AWS credentials found for SigV4 (configure a profile or use --no-sigv4)")
        region = self.region or region_of(url)
        if not region:
            raise ApiError("no region for SigV4: pass --region or set AWS_REGION")
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())


def send(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float) -> Reply:
    try:
        with opener.open(request, timeout=timeout) as response:
            return Reply(response.status, _lower(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:  # 3xx (not followed) and 4xx/5xx
        return Reply(error.code, _lower(error.headers.items()), error.read())
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ApiError(f"cannot reach {request.full_url.split('?')[0]}: {reason}") from error


def put_file(url: str, file: BinaryIO, size: int, headers: dict[str, str], timeout: float) -> Reply:
    """PUT a file to a presigned URL, streamed, with exactly the headers the grant lists."""
    request = urllib.request.Request(url, file, {**headers, "Content-Length": str(size)}, method="PUT")
    reply = send(urllib.request.build_opener(), request, timeout)
    if reply.status >= 400:
        raise error_of(reply, "PUT to the presigned URL")
    return reply


def get_plain(url: str, timeout: float) -> Reply:
    reply = send(urllib.request.build_opener(), urllib.request.Request(url), timeout)
    if reply.status >= 400:
        raise error_of(reply, "GET of the redirect")
    return reply


def error_of(reply: Reply, what: str) -> ApiError:
    try:
        body = reply.json()
        error = body["error"]
        message = f"{what}: {reply.status} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        body = reply.body.decode("utf-8", "replace")
        message = f"{what}: {reply.status} {body[:500]}"
    return ApiError(message, reply.status, body)


def _lower(items: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in items}
