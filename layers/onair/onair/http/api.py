"""ApiFunction's routes: schedules and their versions, runs, uploads, queue stats (docs/openapi.json).

Routes parse the request, call one use case, and return an answer model; `views` turns stored records
into answers. Everything else lives in onair.usecases.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from onair.bootstrap import Services, services
from onair.config import ApiSettings
from onair.errors import BadRequest
from onair.http import openapi, views
from onair.http.models import (
    Health,
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
    new_resolver,
    query,
    query_flag,
    query_int,
    request_body,
)
from onair.records import RefreshPolicy
from onair.usecases import runs, schedules, stats, uploads


class _WholeApi:
    """What Powertools' /swagger asks of a merge (configure_openapi_merge would find the resolvers by
    scanning files): the whole API's document, feeds included, built when first asked for."""

    def get_openapi_json_schema(self) -> str:
        return openapi.document()


app = new_resolver()
app._openapi_merge = _WholeApi()  # type: ignore[assignment]
app.enable_swagger(path="/swagger", compress=True)  # assets inlined from Powertools' package, no CDN

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
    "to a presigned S3 URL.",
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
def get_run_output(run_id: str, name: str):  # noqa: ANN201 (bytes: an annotated answer is validated as JSON)
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
