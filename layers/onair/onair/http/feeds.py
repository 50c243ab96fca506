"""FeedFunction's routes: a schedule's published feed at stable URLs, for players (no IAM or JWT: players
cannot sign requests, so the token in the path is the credential).

Answers carry ETag and Last-Modified and honour If-None-Match / If-Modified-Since (304), with a
Cache-Control a CDN can use. A feed file is immutable (its path names its run), so the bytes are kept in
this environment's memory after the first read: a poll costs two small S3 reads (token, pointer).
"""

from __future__ import annotations

from collections import OrderedDict
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from onair.bootstrap import Services, services
from onair.config import FeedSettings
from onair.http.resolver import answers, new_resolver
from onair.usecases import feeds

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


def _services() -> Services:
    return services(FeedSettings)


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


def _answer(token: str, name: str) -> Response[Any]:
    service = _services()
    answer = feeds.feed_file(service, token, name)
    extra: dict[str, str] = {}
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
    if answer.size > INLINE_BYTES:
        url = service.storage.presigned_get(answer.key, PRESIGNED_SECONDS)
        return Response(HTTPStatus.FOUND, answer.content_type, "", {**headers, "Location": url})
    if app.current_event.request_context.http.method == "HEAD":
        return Response(
            HTTPStatus.OK, answer.content_type, "", {**headers, "Content-Length": str(answer.size)}
        )
    return Response(
        HTTPStatus.OK, answer.content_type, _cache.get(answer.key, service.storage.get_bytes), headers
    )


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
def get_feed_file(token: str, name: str):  # noqa: ANN201
    return _answer(token, name)


@app.head("/feeds/<token>/<name>", operation_id="head_feed_file", **FEED_DOC)  # type: ignore[arg-type]
def head_feed_file(token: str, name: str):  # noqa: ANN201
    return _answer(token, name)
