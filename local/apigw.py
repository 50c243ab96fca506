"""API Gateway HTTP API (payload format 2.0) in miniature: route matching, event building, response mapping."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from local.template import ACCOUNT_ID, Route

API_ID = "local"


@dataclass(frozen=True)
class Match:
    route: Route
    path_parameters: dict[str, str]


def _pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            # A greedy variable catches a trailing slash too (/console/ by /console/{proxy+}), as API
            # Gateway does: a route key itself cannot end in "/".
            parts.append(f"(?P<{segment[1:-2]}>.*)")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


def match_route(routes: Iterable[Route], method: str, path: str) -> Match | None:
    """API Gateway picks the most specific route: literal segments beat parameters, a method beats ANY."""
    candidates = []
    for route in routes:
        if route.method not in (method.upper(), "ANY"):
            continue
        found = _pattern(route.path).match(path)
        if found:
            literals = sum(1 for s in route.path.split("/") if s and not s.startswith("{"))
            candidates.append(((literals, route.method != "ANY"), Match(route, found.groupdict())))
    return max(candidates, key=lambda c: c[0])[1] if candidates else None


def http_event(
    method: str,
    path: str,
    *,
    route: Route | None = None,
    path_parameters: dict[str, str] | None = None,
    query: str = "",
    headers: dict[str, str] | Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """A payload v2.0 event as API Gateway sends it to Lambda."""
    lowered: dict[str, str] = {}
    for name, value in headers.items() if isinstance(headers, dict) else headers:
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value  # repeated headers: joined
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    route_key = route.route_key if route else "$default"
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": lowered.get("host", "localhost").split(".")[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        # The local API encodes every body, as API Gateway does for binary media: handlers must decode.
        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True
    return event


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_response(result: Any) -> HttpResponse:
    """Maps a handler's result as API Gateway does for payload v2.0 (a bare value is a 200 JSON body)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = json.dumps(result).encode()
        return HttpResponse(200, [("content-type", "application/json")], body)
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or [])
    return HttpResponse(int(result["statusCode"]), headers, body)


def error_response(status: int, message: str) -> HttpResponse:
    return HttpResponse(
        status, [("content-type", "application/json")], json.dumps({"message": message}).encode()
    )


def date_header() -> str:
    return formatdate(usegmt=True)
