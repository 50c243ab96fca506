"""ApiFunction's routes: schedules and their versions, runs, uploads, queue stats (docs/openapi.json).

Routes parse the request, call one use case, and return an answer model; `views` turns stored records
into answers. Everything else lives in onair.usecases.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from onair.bootstrap import Services, services
from onair.config import ApiSettings
from onair.errors import BadRequest
from onair.http import console, openapi, views
from onair.http.models import (
    Health,
    PlayoutWindow,
    QueueStats,
    RunAccepted,
    RunList,
    RunView,
    ScheduleList,
    ScheduleView,
    SourceExcerpt,
    UploadGrant,
    UploadStatus,
    VersionList,
)
from onair.http.resolver import (
    STRICT,
    answers,
    binary_response,
    new_resolver,
    query,
    query_flag,
    query_int,
    request_body,
)
from onair.records import RefreshPolicy
from onair.usecases import guide, runs, schedules, stats, uploads

app = new_resolver()


@app.get("/swagger", include_in_schema=False, compress=True)
def swagger():  # type: ignore[no-untyped-def]  # noqa: ANN201 (HTML: an annotated answer is validated as JSON)
    """Swagger UI over the whole API's document (feeds included), its assets inlined from Powertools'
    package (no CDN); `?format=json`: the document. Not Powertools' enable_swagger, which imports its
    OpenAPI models when the route is registered: every cold start of ApiFunction would pay for them."""
    spec, page = _swagger()
    if (app.current_event.query_string_parameters or {}).get("format") == "json":
        return Response(HTTPStatus.OK, content_types.APPLICATION_JSON, spec)
    return Response(HTTPStatus.OK, "text/html", page)


@cache
def _swagger() -> tuple[str, str]:
    """The document and the page, made once per environment: the routes never change, and merging the
    document and reading the assets (~1.5 MB) is far more work than answering."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    spec = openapi.document().replace("</", "<\\/")  # no "</script>" inside the page's script
    assets = Path(swagger_ui.__file__).parent
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    return spec, swagger_ui.generate_swagger_html(spec, js, css, "", None)


REFRESH = [
    query("refresh_days", "refresh policy: each day, a published run of this many days (1-31; 0 clears it)",
          kind="integer"),
    query("refresh_at", "refresh policy: the local time (HH:MM) after which each day's run is queued"),
]  # fmt: skip
PAGE = [
    query("limit", "at most this many items (1-100, default 20)", kind="integer"),
    query("cursor", "the next_cursor of the previous page"),
]
XML_BODY = {
    "required": True,
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in ("application/xml", "application/gzip")
    },
}


def _services() -> Services:
    return services(ApiSettings)


@app.get("/health", operation_id="health", summary="Liveness", tags=["service"])
def health() -> Health:
    return Health(status="ok")


def _document() -> schedules.Document:
    headers = app.current_event.headers
    media_type = (headers.get("content-type") or "application/xml").split(";")[0].strip().lower()
    encoding = (headers.get("content-encoding") or "").strip().lower()
    return schedules.Document(request_body(app), media_type, encoding, query_flag(app, "strict"))


def _refresh() -> RefreshPolicy | object | None:
    """The refresh policy the query sets: a policy, None (refresh_days=0: none), or KEEP (not given)."""
    days, at = (app.current_event.get_query_string_value(name) for name in ("refresh_days", "refresh_at"))
    if days is None and at is None:
        return schedules.KEEP
    count = query_int(app, "refresh_days", 0)
    if count == 0:
        return None
    return RefreshPolicy.model_validate({"days": count, "at": at or "00:00"})


def _if_match() -> int | None:
    header = app.current_event.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise BadRequest(f"If-Match must be a version this API gave (an ETag), not '{header[:80]}'",
                         code="invalid_request")  # fmt: skip
    return int(text)


def _schedule_answer(status: int, record: Any) -> Response[ScheduleView]:
    view = views.schedule(record)
    headers = {"ETag": f'"{record.version}"', "Location": f"/schedules/{record.id}"}
    return Response(status, content_types.APPLICATION_JSON, view, headers)


@app.post(
    "/schedules",
    operation_id="import_schedule",
    summary="Import a schedule",
    description="Validates an XMLTV listing or an OnAir schedule (XML, or gzip) and stores it as version 1. "
    "Findings carry code, line, column and element path.",
    tags=["schedules"],
    responses=answers(
        201, ScheduleView, "imported; Location: /schedules/{id}; ETag: its version", 400, 413, 415, 422
    ),
    openapi_extensions={"parameters": [STRICT, *REFRESH], "requestBody": XML_BODY},
)
def import_schedule() -> Response[ScheduleView]:
    refresh = _refresh()
    record = schedules.create_schedule(
        _services(),
        _document(),
        refresh=None if refresh is schedules.KEEP else refresh,  # type: ignore[arg-type]
    )
    return _schedule_answer(HTTPStatus.CREATED, record)


@app.get(
    "/schedules",
    operation_id="list_schedules",
    summary="Schedules, newest first",
    tags=["schedules"],
    responses=answers(200, ScheduleList, "a page of schedules", 400),
    openapi_extensions={"parameters": PAGE},
)
def list_schedules() -> ScheduleList:
    found, cursor = schedules.list_schedules(
        _services(),
        limit=query_int(app, "limit", 20),
        cursor=app.current_event.get_query_string_value("cursor"),
    )
    return ScheduleList(items=[views.schedule(record) for record in found], next_cursor=cursor)


@app.get(
    "/schedules/<schedule_id>",
    operation_id="get_schedule",
    summary="A schedule",
    tags=["schedules"],
    responses=answers(200, ScheduleView, "the schedule; ETag: its version", 404),
)
def get_schedule(schedule_id: str) -> Response[ScheduleView]:
    return _schedule_answer(HTTPStatus.OK, schedules.load_record(_services(), schedule_id))


@app.put(
    "/schedules/<schedule_id>",
    operation_id="replace_schedule",
    summary="A new version of a schedule",
    description="The same validation and errors as POST /schedules; the id, the feed and (unless the query "
    "sets it) the refresh policy stay. With If-Match (the ETag last read), a stale version is a 412 and "
    "nothing is stored.",
    tags=["schedules"],
    responses=answers(200, ScheduleView, "the new version; ETag: its version", 400, 404, 412, 413, 415, 422),
    openapi_extensions={"parameters": [STRICT, *REFRESH], "requestBody": XML_BODY},
)
def replace_schedule(schedule_id: str) -> Response[ScheduleView]:
    if_match = _if_match()
    record = schedules.replace_schedule(
        _services(), schedule_id, _document(), if_match=if_match, refresh=_refresh()
    )
    return _schedule_answer(HTTPStatus.OK, record)


@app.delete(
    "/schedules/<schedule_id>",
    operation_id="delete_schedule",
    summary="Delete a schedule",
    description="The schedule, its versions and its feed go (every object, every version of it); its runs "
    "keep their status and outputs until the runs/ lifecycle expires them.",
    tags=["schedules"],
    responses=answers(204, None, "deleted", 404),
)
def delete_schedule(schedule_id: str) -> Response[None]:
    schedules.delete_schedule(_services(), schedule_id)
    return Response(HTTPStatus.NO_CONTENT, content_types.APPLICATION_JSON, None)


@app.get(
    "/schedules/<schedule_id>/versions",
    operation_id="list_versions",
    summary="A schedule's versions, newest first",
    tags=["schedules"],
    responses=answers(200, VersionList, "every version", 404),
)
def list_versions(schedule_id: str) -> VersionList:
    return VersionList(
        items=[views.version(info) for info in schedules.list_versions(_services(), schedule_id)]
    )


@app.get(
    "/schedules/<schedule_id>/source",
    operation_id="get_schedule_source",
    summary="Lines of a version's document",
    description="The lines around `line` (with `context` lines either side, at most 10) of the current "
    "version's document, or of `version`'s.",
    tags=["schedules"],
    responses=answers(200, SourceExcerpt, "an excerpt", 400, 404),
    openapi_extensions={
        "parameters": [
            query("line", "the line a finding names (from 1)", kind="integer"),
            query("context", "lines before and after it (0-10, default 3)", kind="integer"),
            query("version", "a version number; the current one by default", kind="integer"),
        ]
    },
)
def get_schedule_source(schedule_id: str) -> SourceExcerpt:
    version = app.current_event.get_query_string_value("version")
    found = schedules.source_excerpt(
        _services(),
        schedule_id,
        line=query_int(app, "line", 1),
        context=query_int(app, "context", 3),
        version=None if version is None else query_int(app, "version", 0),
    )
    return SourceExcerpt(first_line=found.first_line, lines=found.lines)


# Lambda answers at most 6 MB, and binary bodies grow by a third in base64
PLAYOUT_ANSWER_BYTES = 4 * 1024 * 1024
PLAYOUT_RESPONSES = answers(200, PlayoutWindow, "the slots on air in the window", 400, 404, 413)
PLAYOUT_RESPONSES[413]["description"] = (
    "window_too_large: the answer would pass 4 MiB (gzipped when the request accepts gzip); ask for fewer "
    "hours or one channel"
)


def _accepts_gzip() -> bool:
    accepted = app.current_event.headers.get("accept-encoding") or ""
    codings = {part.split(";")[0].strip().lower(): part for part in accepted.split(",")}
    return "gzip" in codings and "q=0" not in codings["gzip"].replace(" ", "")


@app.get(
    "/schedules/<schedule_id>/playout",
    operation_id="get_schedule_playout",
    summary="The published playout in a window",
    description="The slots of the schedule's published run on air between `from` and `to` (instants with an "
    "offset; at most 48 hours; by default now to 24 hours later), its channels and the rule breaks in the "
    "window; with `channel`, that channel's only. 404 not_published before a run is published.",
    tags=["schedules"],
    responses=PLAYOUT_RESPONSES,
    openapi_extensions={
        "parameters": [
            query("from", "the window's start, e.g. 2026-06-01T00:00:00+02:00 (default: now)"),
            query("to", "the window's end (default: from + 24 h; at most from + 48 h)"),
            query("channel", "one channel's id"),
        ]
    },
)
def get_schedule_playout(schedule_id: str) -> Response[Any]:
    # Built as text from the slots' stored answers (a day of 150 radio channels is 80,000 slots): the
    # shape is PlayoutWindow's, which tests/integration/test_console_api.py checks each answer against.
    event = app.current_event
    span = guide.window(
        event.get_query_string_value("from"), event.get_query_string_value("to"), _services().clock()
    )
    found = guide.playout_window(_services(), schedule_id, span, event.get_query_string_value("channel"))
    head = {"run_id": found.run_id, "timezone": found.timezone, "channels": found.channels}
    text = (
        json.dumps({k: v for k, v in head.items() if v is not None}, ensure_ascii=False)[:-1]
        + ',"slots":['
        + ",".join(found.slots)
        + '],"rule_breaks":'
        + json.dumps(found.rule_breaks, ensure_ascii=False)
        + "}"
    )
    body = text.encode()
    headers = {"Vary": "Accept-Encoding", "Cache-Control": "private, no-cache"}
    if _accepts_gzip():
        # Level 1: a day of 150 radios (16 MB of JSON) packs to ~1 MB in a tenth of the CPU of level 9
        body = gzip.compress(body, compresslevel=1, mtime=0)
        headers["Content-Encoding"] = "gzip"
    if len(body) > PLAYOUT_ANSWER_BYTES:
        raise guide.WindowTooLarge(
            f"the window holds {len(found.slots)} slots, more than one answer carries: ask for fewer hours "
            "or one channel (?channel=)"
        )
    return binary_response(HTTPStatus.OK, content_types.APPLICATION_JSON, body, headers)


@app.post(
    "/schedules/<schedule_id>/feed-token",
    operation_id="rotate_feed_token",
    summary="A new feed token",
    description="The feed's URLs change; the old token is a 404 as soon as this answers.",
    tags=["feeds"],
    responses=answers(200, ScheduleView, "the schedule with its new feed URLs", 404),
)
def rotate_feed_token(schedule_id: str) -> Response[ScheduleView]:
    return _schedule_answer(HTTPStatus.OK, schedules.rotate_feed_token(_services(), schedule_id))


@app.post(
    "/schedules/<schedule_id>/runs",
    operation_id="create_run",
    summary="Request a run",
    description="Queues a playout run of the schedule's current version. The body is optional (every field "
    "has a default). `publish` (default true): when the run succeeds, its outputs become the schedule's "
    "feed. With an Idempotency-Key header, the same key and request give the same run, and its job is "
    "queued once; another request with the key is a 409. A run certain to make more slots than "
    "RunFunction's memory allows is a 422 run_too_large.",
    tags=["runs"],
    responses=answers(202, RunAccepted, "queued; Location: /runs/{id}", 400, 404, 409, 422),
    openapi_extensions={
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "repeats of the request with this key answer the same run (1 to "
                f"{runs.MAX_IDEMPOTENCY_KEY} characters; otherwise a 400 invalid_request)",
                "schema": {"type": "string", "minLength": 1, "maxLength": runs.MAX_IDEMPOTENCY_KEY},
            }
        ],
        "requestBody": {
            "required": False,
            "content": {
                content_types.APPLICATION_JSON: {"schema": runs.RunRequest.model_json_schema(by_alias=True)}
            },
        },
    },
)
def create_run(schedule_id: str) -> Response[RunAccepted]:
    # The body is optional (every field has a default), so it is validated here rather than by the resolver:
    # as bytes (JSON is UTF-8; anything else is invalid JSON, a 400) and strictly (`"days": true` or "5" is
    # a wrong type, not a 1 or a 5).
    request = runs.RunRequest.model_validate_json(request_body(app) or b"{}", strict=True)
    idempotency_key = app.current_event.headers.get("idempotency-key")
    status = runs.create_run(_services(), schedule_id, request, idempotency_key)
    return Response(
        HTTPStatus.ACCEPTED,
        content_types.APPLICATION_JSON,
        RunAccepted(id=status.id, status=status.status),
        {"Location": f"/runs/{status.id}"},
    )


@app.get(
    "/runs",
    operation_id="list_runs",
    summary="Runs, newest first",
    tags=["runs"],
    responses=answers(200, RunList, "a page of runs", 400),
    openapi_extensions={"parameters": [query("schedule_id", "only this schedule's runs"), *PAGE]},
)
def list_runs() -> RunList:
    event = app.current_event
    found, cursor = runs.list_runs(
        _services(),
        schedule_id=event.get_query_string_value("schedule_id"),
        limit=query_int(app, "limit", 20),
        cursor=event.get_query_string_value("cursor"),
    )
    return RunList(items=[views.run(status) for status in found], next_cursor=cursor)


@app.get(
    "/runs/<run_id>",
    operation_id="get_run",
    summary="A run's status",
    tags=["runs"],
    responses=answers(200, RunView, "queued, running, succeeded or failed", 404),
)
def get_run(run_id: str) -> RunView:
    return views.run(runs.load_status(_services(), run_id))


@app.get(
    "/runs/<run_id>/output/<name>",
    operation_id="get_run_output",
    summary="A run's output file",
    description="guide.xml, channels.m3u, playlist.m3u8, asrun.csv or playout.json; over 1 MiB, a 302 "
    "to a presigned S3 URL. channels.m3u is rendered from the run's lineup, always inline: the channels "
    "with a stream URL, and no guide URL on its first line (the feed's channels.m3u names the feed's guide).",
    tags=["runs"],
    responses={
        200: {"description": "the file", "content": {"*/*": {"schema": {"type": "string"}}}},
        302: {
            "description": "the file is larger than 1 MiB: its presigned S3 URL is in Location",
            "headers": {"Location": {"schema": {"type": "string"}}},
            "content": {},
        },
        404: answers(404, None, "", 404)[404],
    },
)
def get_run_output(run_id: str, name: str):  # type: ignore[no-untyped-def]  # noqa: ANN201 (bytes: an annotated answer is validated as JSON)
    output = runs.get_output(_services(), run_id, name)
    if output.redirect:
        return Response(HTTPStatus.FOUND, output.content_type, "", {"Location": output.redirect})
    return Response(HTTPStatus.OK, output.content_type, output.body)


@app.post(
    "/uploads",
    operation_id="create_upload",
    summary="Presigned upload of a large document",
    description="Answers a presigned S3 PUT URL for documents too large for POST /schedules. Send the "
    "returned headers with the PUT (the signature covers the content type); the URL expires at "
    "expires_at. The import then runs on S3's notification: poll GET /uploads/{id}.",
    tags=["uploads"],
    responses=answers(201, UploadGrant, "the presigned PUT; Location: /uploads/{id}", 400),
    openapi_extensions={
        "parameters": [
            STRICT,
            *REFRESH,
            query("content_type", "the Content-Type the PUT will send", list(uploads.UPLOAD_CONTENT_TYPES)),
        ]
    },
)
def create_upload() -> Response[UploadGrant]:
    content_type = app.current_event.get_query_string_value("content_type") or uploads.DEFAULT_UPLOAD_TYPE
    refresh = _refresh()
    grant = uploads.create_upload(
        _services(),
        strict=query_flag(app, "strict"),
        content_type=content_type,
        refresh=None if refresh is schedules.KEEP else refresh,  # type: ignore[arg-type]
    )
    return Response(
        HTTPStatus.CREATED,
        content_types.APPLICATION_JSON,
        UploadGrant.model_validate(grant),
        {"Location": f"/uploads/{grant['id']}"},
    )


@app.get(
    "/uploads/<upload_id>",
    operation_id="get_upload",
    summary="An upload's import status",
    tags=["uploads"],
    responses=answers(200, UploadStatus, "pending, imported (schedule_id) or rejected (error)", 404),
)
def get_upload(upload_id: str) -> UploadStatus:
    return UploadStatus.model_validate(uploads.get_upload(_services(), upload_id))


@app.get(
    "/uploads/<upload_id>/source",
    operation_id="get_upload_source",
    summary="Lines of an uploaded document",
    description="The lines around `line` of the document an upload brought (a rejected one's findings).",
    tags=["uploads"],
    responses=answers(200, SourceExcerpt, "an excerpt", 400, 404),
    openapi_extensions={
        "parameters": [
            query("line", "the line a finding names (from 1)", kind="integer"),
            query("context", "lines before and after it (0-10, default 3)", kind="integer"),
        ]
    },
)
def get_upload_source(upload_id: str) -> SourceExcerpt:
    found = uploads.upload_excerpt(
        _services(), upload_id, line=query_int(app, "line", 1), context=query_int(app, "context", 3)
    )
    return SourceExcerpt(first_line=found.first_line, lines=found.lines)


@app.get(
    "/queue-stats",
    operation_id="queue_stats",
    summary="Queue depths",
    description="Approximate SQS counts of the job and import queues and their dead-letter queues, at most "
    f"{stats.MAX_AGE.seconds} s old (each execution environment keeps its last answer that long); with "
    "`Cache-Control: no-cache` the queues are read now.",
    tags=["service"],
    responses=answers(200, QueueStats, "approximate counts"),
)
def queue_stats() -> QueueStats:
    directives = (app.current_event.headers.get("cache-control") or "").lower().replace(" ", "").split(",")
    fresh = bool({"no-cache", "no-store", "max-age=0"} & set(directives))
    return QueueStats.model_validate(stats.queue_stats(_services(), fresh=fresh))


console.register(app, _services)
