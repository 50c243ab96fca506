"""The operator console at /console/ (docs/ARCHITECTURE.md, "Console"): its static files, which ship with
ApiFunction (functions/api/console/: the handler names the folder), and GET /console/config.json, which
tells the console the import limit and how to sign in.

These routes are open in every AuthMode (template.yaml): a browser must load the sign-in page before it
holds a token. They answer files and the configuration only; everything the console shows comes from the
authorized routes. A request that API Gateway sent through a console route reaches nothing but these.

Files: ETag (a hash of the bytes) and If-None-Match (304), `Cache-Control: no-cache` (the names carry no
hash, so a browser revalidates each load: one small 304 per file), gzip when the request accepts it
(Powertools' compress), and a Content-Security-Policy that allows scripts from the console alone. A path
whose last segment has no "." is a page of the console's router (a deep link): it answers index.html.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from onair import keys
from onair.config import ApiSettings
from onair.errors import NotFound
from onair.http.models import ConsoleConfig, OidcClient
from onair.http.resolver import Resolver, error_response
from onair.ports import Services
from onair.writers import WRITERS

PREFIX = "/console"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}  # text only: Powertools compresses and validates bodies as text (binary needs resolver.binary_response)
CACHE_CONTROL = "no-cache"


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def _etag(body: bytes) -> str:
    # Weak: the same bytes are sent as they are or gzipped, depending on the request's Accept-Encoding.
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'


class Assets:
    """The console's files, read once per execution environment (they change only with a deployment)."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self._files: dict[str, Asset] = {}  # the files found (misses are not kept: any path can be asked)

    def serve_from(self, root: Path) -> None:
        self.root = root.resolve()
        self._files.clear()

    def find(self, relative: str) -> Asset | None:
        """The file at `relative` (below the root, of a type the console uses), or None."""
        found = self._files.get(relative) or self._read(relative)
        if found is not None:
            self._files[relative] = found
        return found

    def _read(self, relative: str) -> Asset | None:
        if self.root is None:
            return None
        parts = relative.split("/")
        if any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in parts):
            return None
        file = (self.root / relative).resolve()
        content_type = CONTENT_TYPES.get(file.suffix)
        if content_type is None or self.root not in file.parents or not file.is_file():
            return None
        body = file.read_bytes()
        return Asset(body, content_type, _etag(body))


ASSETS = Assets()


def serve_from(root: Path) -> None:
    """Where the console's files are (ApiFunction's handler passes its own console/ folder)."""
    ASSETS.serve_from(root)


def is_page(relative: str) -> bool:
    """A path of the console's router (schedules/{id}/guide…): its last segment has no "."."""
    return "." not in relative.rsplit("/", 1)[-1]


# --- configuration and headers -------------------------------------------------------------------------


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def config(settings: ApiSettings) -> ConsoleConfig:
    oidc = None
    if settings.auth_mode == "jwt":
        oidc = OidcClient(issuer=settings.oidc_issuer, client_id=settings.oidc_client_id, scope="openid")
    return ConsoleConfig(
        max_import_bytes=settings.max_import_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        auth=settings.auth_mode,
        formats=sorted(WRITERS),
        oidc=oidc,
    )


def content_security_policy(services: Services) -> str:
    """Scripts, styles and images from the console only (no inline script anywhere; inline styles because
    the grid positions its cells with style attributes); connections to the API (same origin), to the data
    bucket (the presigned upload PUT and large output GETs: the origin of a URL its client presigns) and,
    with jwt, to the issuer (discovery) and its token endpoint, whose origin only the issuer's discovery
    document names: any https origin, for connections only."""
    bucket = origin_of(services.storage.presigned_get(keys.incoming(keys.new_id()), 60))
    connect = ["'self'", bucket]
    if isinstance(services.settings, ApiSettings) and services.settings.auth_mode == "jwt":
        connect += [origin_of(services.settings.oidc_issuer), "https:"]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src " + " ".join(dict.fromkeys(c for c in connect if c)),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


_policies: dict[Services, str] = {}  # one per execution environment (tests build several)


def _headers(services: Services, etag: str) -> dict[str, str]:
    if services not in _policies:
        _policies[services] = content_security_policy(services)
    return {
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "Content-Security-Policy": _policies[services],
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def _not_modified(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return if_none_match.strip() == "*" or etag.removeprefix("W/") in tags


# --- routes --------------------------------------------------------------------------------------------


def register(app: Resolver, services: Callable[[], Services]) -> None:
    """The console's routes on ApiFunction's resolver (left out of the OpenAPI document: files, not API)."""

    def answer(asset: Asset) -> Response[Any]:
        headers = _headers(services(), asset.etag)
        if _not_modified(app.current_event.headers.get("if-none-match"), asset.etag):
            # No body at all: None would be serialized as JSON ("null") and "" gzipped (20 bytes), and a
            # 304 with a body breaks the connection it came on (the browser reads it as the next answer).
            return Response(HTTPStatus.NOT_MODIFIED, asset.content_type, "", headers, compress=False)
        return Response(HTTPStatus.OK, asset.content_type, asset.body, headers)

    def index() -> Asset:
        found = ASSETS.find("index.html")
        if found is None:
            raise NotFound("the console's files are not in this deployment")
        return found

    @app.get(PREFIX, include_in_schema=False)
    def console_root() -> Response[Any]:
        query = app.current_event.raw_query_string
        return Response(
            HTTPStatus.FOUND, "text/plain", "", {"Location": f"{PREFIX}/" + (f"?{query}" if query else "")}
        )

    @app.get(f"{PREFIX}/", include_in_schema=False, compress=True, cache_control=CACHE_CONTROL)
    def console_index() -> Response[Any]:
        return answer(index())

    @app.get(f"{PREFIX}/config\\.json", include_in_schema=False, compress=True, cache_control=CACHE_CONTROL)
    def console_config() -> Response[Any]:
        service = services()
        body = json.dumps(config(service.settings).model_dump(mode="json", exclude_none=True)).encode()  # type: ignore[arg-type]
        return answer(Asset(body, "application/json", _etag(body)))

    @app.get(f"{PREFIX}/.+", include_in_schema=False, compress=True, cache_control=CACHE_CONTROL)
    def console_file() -> Response[Any]:
        relative = app.current_event.path[len(PREFIX) + 1 :]
        found = ASSETS.find(relative)
        if found is None and is_page(relative):
            found = index()
        if found is None:
            raise NotFound(f"the console has no file '{relative[:80]}'")
        return answer(found)

    def console_routes_serve_the_console_only(app: Any, next_middleware: NextMiddleware) -> Response[Any]:
        # Defence in depth: a request API Gateway let in through an open console route must never run a
        # management route, whatever its raw path says.
        event = app.current_event
        route_path = str(event.get("routeKey") or "").partition(" ")[2]
        path = event.path
        if route_path.startswith(PREFIX) and not (path == PREFIX or path.startswith(f"{PREFIX}/")):
            return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")
        return next_middleware(app)

    app.use([console_routes_serve_the_console_only])
