"""FeedFunction's routes: a schedule's published feed at stable URLs, for players (no IAM or JWT: players
cannot sign requests, so the token in the path is the credential).

Answers carry ETag and Last-Modified and honour If-None-Match / If-Modified-Since (304), with a
Cache-Control a CDN can use. A feed file is immutable (its path names its run), so the bytes are kept in
this environment's memory after the first read: a poll costs two small S3 reads (token, pointer).

Live channels (`/feeds/{token}/live/{channel}.m3u8`, docs/LIVE.md): the playlist of the instant, computed
from the channel's timeline held in memory; token and pointer are kept for live.POINTER_SECONDS, so a poll
usually costs no S3 read at all. channels.m3u is rendered from the run's lineup once per run, host and
token (absolute guide and live URLs of the host the player used).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response

from onair.bootstrap import Services, services
from onair.config import FeedSettings
from onair.errors import NotFound
from onair.http.resolver import answers, new_resolver
from onair.keys import channel_name
from onair.usecases import feeds

if TYPE_CHECKING:
    from onair.usecases.live import LiveChannels

app = new_resolver()

FEED_MAX_AGE = 300  # players refresh hourly to daily; a CDN may serve a copy five minutes old
INLINE_BYTES = 4 * 1024 * 1024  # Lambda answers at most 6 MB, and binary bodies grow by a third in base64
PRESIGNED_SECONDS = 3600  # S3 checks a URL's expiry when the download starts: a slow one still finishes
CACHE_BYTES = 64 * 1024 * 1024


class _FileCache:
    """Feed files by key, least recently used out first, within CACHE_BYTES."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self._files: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str, load: Any) -> bytes:
        if key in self._files:
            self._files.move_to_end(key)
            return self._files[key]
        data: bytes = load(key)
        self._files[key] = data
        self.size += len(data)
        while self.size > self.limit and len(self._files) > 1:
            _, dropped = self._files.popitem(last=False)
            self.size -= len(dropped)
        return data


_cache = _FileCache(CACHE_BYTES)
_live: LiveChannels | None = None  # made by the first live request (_live_channels)
HLS = "application/vnd.apple.mpegurl"
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$")


def _services() -> Services:
    return services(FeedSettings)


def _live_channels() -> LiveChannels:
    """The live routes' state, and their modules (HLS, media, timelines) loaded on the first live request:
    an environment that answers only guide and lineup polls never imports them (a shorter cold start)."""
    global _live
    if _live is None:
        from onair.usecases.live import LiveChannels

        _live = LiveChannels()
    return _live


def _not_modified(answer: feeds.FeedFileAnswer) -> bool:
    headers = app.current_event.headers
    tags = headers.get("if-none-match")
    if tags is not None:
        return (
            answer.etag in {tag.strip().removeprefix("W/") for tag in tags.split(",")} or tags.strip() == "*"
        )
    since = headers.get("if-modified-since")
    if since:
        try:
            return answer.last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False  # an unreadable date is ignored, as RFC 9110 says
    return False


def _wants_gzip() -> bool:
    accepted = app.current_event.headers.get("accept-encoding") or ""
    codings = {part.split(";")[0].strip().lower(): part for part in accepted.split(",")}
    return "gzip" in codings and "q=0" not in codings["gzip"].replace(" ", "")


def base_url(service: Services) -> str:
    """The API's URL as the player reached it: PUBLIC_BASE_URL when set (a CDN's), else API Gateway's
    domain (requestContext.domainName; the Host header in the local stack) and X-Forwarded-Proto (http
    when absent, as in the local stack). A host that is not a plain name or address is not trusted."""
    if service.settings.public_base_url:
        return service.settings.public_base_url.rstrip("/")
    event = app.current_event
    host = event.request_context.domain_name or event.headers.get("host") or ""
    if not _HOST.match(host):
        host = "localhost"
    proto = (event.headers.get("x-forwarded-proto") or "http").split(",")[0].strip().lower()
    return f"{'https' if proto == 'https' else 'http'}://{host}"


def _rendered_channels(service: Services, token: str, answer: feeds.FeedFileAnswer) -> bytes:
    """channels.m3u for this request: the stored lineup with absolute guide and live URLs, rendered once per
    (run, host, token) and kept with the feed files (a run's lineup and live channels never change)."""
    from onair.writers.m3u import render_channels_m3u  # lazily, as WRITERS: the live polls never load it

    base = base_url(service)
    live = set(answer.live)
    guide_url = f"{base}/feeds/{token}/{feeds.GUIDE_GZ}"

    def live_url(channel_id: str) -> str | None:
        return base + feeds.live_path(token, channel_id) if channel_id in live else None

    def render(_: str) -> bytes:
        return render_channels_m3u(_cache.get(answer.key, service.storage.get_bytes), guide_url, live_url)

    return _cache.get(f"{answer.key} {base} {token}", render)


def _answer(token: str, name: str) -> Response[Any]:
    service = _services()
    answer = feeds.feed_file(service, token, name)
    extra: dict[str, str] = {}
    rendered = _rendered_channels(service, token, answer) if name == "channels.m3u" else None
    if rendered is not None:
        # The bytes depend on the host asked (absolute URLs): their own ETag, and a cache keyed by host
        etag = f'"{hashlib.sha256(rendered).hexdigest()[:32]}"'
        answer = feeds.FeedFileAnswer(**{**answer.__dict__, "etag": etag, "size": len(rendered)})
    if name == "guide.xml":
        extra["Vary"] = "Accept-Encoding"
        if _wants_gzip():
            gz = feeds.feed_file(service, token, feeds.GUIDE_GZ)
            answer = feeds.FeedFileAnswer(**{**gz.__dict__, "content_type": answer.content_type})
            extra["Content-Encoding"] = "gzip"
    headers = {
        "ETag": answer.etag,
        "Last-Modified": format_datetime(answer.last_modified, usegmt=True),
        "Cache-Control": f"public, max-age={FEED_MAX_AGE}",
        **extra,
    }
    if _not_modified(answer):
        return Response(HTTPStatus.NOT_MODIFIED, answer.content_type, "", headers)
    if answer.size > INLINE_BYTES and rendered is None:
        url = service.storage.presigned_get(answer.key, PRESIGNED_SECONDS)
        return Response(HTTPStatus.FOUND, answer.content_type, "", {**headers, "Location": url})
    if app.current_event.request_context.http.method == "HEAD":
        return Response(
            HTTPStatus.OK, answer.content_type, "", {**headers, "Content-Length": str(answer.size)}
        )
    body = rendered if rendered is not None else _cache.get(answer.key, service.storage.get_bytes)
    return Response(HTTPStatus.OK, answer.content_type, body, headers)


FEED_DOC = {
    "summary": "A feed file",
    "description": "guide.xml (gzip with Accept-Encoding: gzip), guide.xml.gz, channels.m3u and the other "
    "outputs of the schedule's published run. No authorization: the token is the credential. ETag and "
    "Last-Modified; a matching If-None-Match or If-Modified-Since is a 304; over 4 MiB a 302 to S3.",
    "tags": ["feeds"],
    "responses": {
        200: {"description": "the file", "content": {"*/*": {"schema": {"type": "string"}}}},
        302: {"description": "a large file: its presigned S3 URL is in Location", "content": {}},
        304: {"description": "not modified", "content": {}},
        404: answers(404, None, "", 404)[404],
    },
}


# No return annotation on these routes: Powertools validates an annotated answer as JSON text, and a feed
# file is bytes (guide.xml.gz is not even UTF-8).


@app.get("/feeds/<token>/<name>", operation_id="get_feed_file", **FEED_DOC)  # type: ignore[arg-type]
def get_feed_file(token: str, name: str):  # type: ignore[no-untyped-def]  # noqa: ANN201
    return _answer(token, name)


@app.head("/feeds/<token>/<name>", operation_id="head_feed_file", **FEED_DOC)  # type: ignore[arg-type]
def head_feed_file(token: str, name: str):  # type: ignore[no-untyped-def]  # noqa: ANN201
    return _answer(token, name)


# --- live channels ----------------------------------------------------------------------------------------


def _hls(token: str, channel: str, rendition: int | None) -> Response[str]:
    service = _services()
    channel_id = unquote(channel)
    answer = _live_channels().playlist(
        service,
        token,
        channel_id,
        rendition,
        window=service.settings.live_window_segments,  # type: ignore[attr-defined]
        rendition_uri=lambda r: f"{channel_name(channel_id)}/{r}.m3u8",  # beside the multivariant playlist
    )
    headers = {"Cache-Control": f"public, max-age={answer.max_age}"}
    return Response(HTTPStatus.OK, HLS, answer.body, headers)


def _stem(name: str, what: str) -> str:
    if not name.endswith(".m3u8") or len(name) == len(".m3u8"):
        raise NotFound(f"no such {what}: live playlists end in .m3u8")
    return name[: -len(".m3u8")]


LIVE_DOC: dict[str, Any] = {
    "tags": ["feeds"],
    "responses": {
        200: {
            "description": "the HLS playlist (RFC 8216) of this instant",
            "content": {HLS: {"schema": {"type": "string"}}},
        },
        404: {
            "description": "no such feed, channel or rendition; `off_air` outside the published timeline",
            "content": answers(404, None, "", 404)[404]["content"],
        },
    },
}


@app.get(
    "/feeds/<token>/live/<channel>",
    operation_id="get_live_channel",
    summary="A live channel's playlist",
    description="`{channel}.m3u8` (the channel id percent-encoded): the HLS media playlist of the instant "
    "(a sliding window of segments, EXT-X-PROGRAM-DATE-TIME, one EXT-X-DATERANGE per programme, breaks with "
    "SCTE35-OUT/IN), or a multivariant playlist when the channel's media share a ladder of several "
    "renditions. Cache-Control max-age: half a target duration. 404 `off_air` before or after the "
    "published timeline. No authorization: the token is the credential.",
    **LIVE_DOC,
)
def get_live_channel(token: str, channel: str):  # type: ignore[no-untyped-def]  # noqa: ANN201
    return _hls(token, _stem(channel, "live channel"), None)


@app.get(
    "/feeds/<token>/live/<channel>/<rendition>",
    operation_id="get_live_rendition",
    summary="One rendition of a live channel",
    description="`{rendition}.m3u8` (0, 1, …, as the multivariant playlist lists them): that rendition's "
    "HLS media playlist of the instant.",
    **LIVE_DOC,
)
def get_live_rendition(token: str, channel: str, rendition: str):  # type: ignore[no-untyped-def]  # noqa: ANN201
    number = _stem(rendition, "rendition")
    if not (number.isascii() and number.isdigit() and len(number) <= 3):
        raise NotFound("no such rendition: 0.m3u8, 1.m3u8, …")
    return _hls(token, channel, int(number))
