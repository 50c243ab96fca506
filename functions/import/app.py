"""ImportFunction: the HTTP API (imports, reads, run requests) and S3 upload notifications from ImportQueue.

Thin by design: routing, HTTP mapping and batch handling here; everything else in the onair layer.
"""

from __future__ import annotations

import base64
import binascii
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from onair import api, imports, runs
from onair.adapters.powertools import logger, metrics, tracer
from onair.errors import BadRequest, Finding, OnAirError, Transient
from onair.services import default_services

API_VERSION = "0.1.0"
ERROR_MEANINGS = {
    400: "invalid request or document (error.code says which)",
    404: "no such resource",
    409: "conflict",
    413: "document too large",
    415: "unsupported media type or encoding",
    422: "well-formed but not processable: not a valid schedule, or a run too large (error.code says which)",
    503: "storage or a queue failed for a moment: repeat the request (with its Idempotency-Key)",
}


class _Resolver(APIGatewayHttpResolver):
    """Powertools documents a 422 for request validation on every route; this API answers those with a 400
    `invalid_request` (see `_invalid_request`), so the generated document leaves that 422 out."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        schema = super().get_openapi_schema(**kwargs)
        for item in (schema.paths or {}).values():
            for operation in (item.get, item.post):
                if operation and operation.responses:
                    default = operation.responses.get(422)
                    if getattr(default, "description", None) == "Validation Error":
                        del operation.responses[422]
        if schema.components and schema.components.schemas:
            for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
                schema.components.schemas.pop(name, None)
        return schema


app = _Resolver(enable_validation=True)
app.configure_openapi(
    title="OnAir",
    version=API_VERSION,
    summary="Broadcast schedules in (XMLTV, OnAir), playouts and EPGs out",
    description="Errors are 4xx answers with the body `{error: {code, message, details}}`. "
    "See README.md and docs/FORMATS.md.",
)
app.enable_swagger(path="/swagger", compress=True)  # assets inlined from Powertools' package, no CDN
uploads = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _answers(status: int, model: type[Any] | None, description: str, *errors: int) -> dict[int, Any]:
    """The `responses` of a route for the OpenAPI document: its success and the errors it can answer."""
    success: dict[str, Any] = {"description": description}
    if model is not None:
        success["content"] = {content_types.APPLICATION_JSON: {"model": model}}
    failures = {
        code: {
            "description": ERROR_MEANINGS[code],
            "content": {content_types.APPLICATION_JSON: {"model": api.ErrorBody}},
        }
        for code in (*errors, 503)  # every route that reads or writes storage can meet a transient error
    }
    return {status: success, **failures}


def _query(name: str, description: str, values: list[str]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string", "enum": values}}  # fmt: skip


STRICT = _query("strict", "every finding is an error (lenient by default)", ["true", "false"])


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body), headers)


def _error(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> Response[Any]:
    return _json(status, {"error": {"code": code, "message": message, "details": details or []}})


@app.exception_handler(OnAirError)
def _domain_error(error: OnAirError) -> Response[Any]:
    return _json(error.status, error.to_dict())


@app.exception_handler([RequestValidationError, ValidationError])
def _invalid_request(error: RequestValidationError | ValidationError) -> Response[Any]:
    details = [
        Finding(problem["type"], problem["msg"], path=".".join(map(str, problem["loc"]))).to_dict()
        for problem in error.errors()
    ]
    return _error(HTTPStatus.BAD_REQUEST, "invalid_request", "the request is not valid", details)


@app.exception_handler(Transient)
def _unavailable(error: Transient) -> Response[Any]:
    logger.warning("transient error", exc_info=error)
    body = {"error": {"code": "unavailable", "message": "try again: " + str(error)[:200], "details": []}}
    return _json(HTTPStatus.SERVICE_UNAVAILABLE, body, {"Retry-After": "1"})


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[Any]:
    logger.exception("unexpected error")
    request_id = app.current_event.request_context.request_id
    return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", f"unexpected error; request id {request_id}")


@app.exception_handler(RouteNotFound)
def _no_route(error: RouteNotFound) -> Response[Any]:
    return _error(HTTPStatus.NOT_FOUND, "not_found", "no such route")


@app.get("/health", operation_id="health", summary="Liveness", tags=["service"])
def health() -> dict[str, str]:
    return {"status": "ok"}


def _body() -> bytes:
    """The request body as sent, whatever it holds: the one place it is decoded. API Gateway base64-encodes
    binary bodies and passes text ones as a string; no route reads Powertools' `decoded_body`, which decodes
    to text and fails on bytes that are not UTF-8."""
    event = app.current_event
    raw = event.body or ""
    if not event.is_base64_encoded:
        return raw.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error as error:
        raise BadRequest("the body is not valid base64", code="invalid_request") from error


def _strict() -> bool:
    """`?strict=true`: every finding is an error (as XMLTV's tv_validate_file judges); lenient by default."""
    value = (app.current_event.get_query_string_value("strict") or "false").lower()
    if value not in ("true", "false"):
        raise BadRequest(f"strict must be true or false, not '{value}'", code="invalid_request")
    return value == "true"


@app.post(
    "/schedules",
    operation_id="import_schedule",
    summary="Import a schedule",
    description="Validates an XMLTV listing or an OnAir schedule (XML, or gzip) and stores it. "
    "Findings carry code, line, column and element path.",
    tags=["schedules"],
    responses=_answers(201, api.ScheduleSummary, "imported; Location: /schedules/{id}", 400, 413, 415, 422),
    openapi_extensions={
        "parameters": [STRICT],
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ("application/xml", "application/gzip")
            },
        },
    },
)
def import_schedule() -> Response[Any]:
    event = app.current_event
    media_type = (event.headers.get("content-type") or "application/xml").split(";")[0].strip().lower()
    encoding = (event.headers.get("content-encoding") or "").strip().lower()
    summary = imports.import_document(
        default_services(), _body(), strict=_strict(), media_type=media_type, content_encoding=encoding
    )
    return _json(HTTPStatus.CREATED, summary, {"Location": f"/schedules/{summary['id']}"})


@app.get(
    "/schedules/<schedule_id>",
    operation_id="get_schedule",
    summary="A schedule's summary",
    tags=["schedules"],
    responses=_answers(200, api.ScheduleSummary, "the summary of the import", 404),
)
def get_schedule(schedule_id: str) -> dict[str, Any]:
    return imports.get_schedule_summary(default_services(), schedule_id)


@app.post(
    "/schedules/<schedule_id>/runs",
    operation_id="create_run",
    summary="Request a run",
    description="Queues a playout run. The body is optional (every field has a default). With an "
    "Idempotency-Key header, the same key and request give the same run, and its job is queued once; "
    "another request with the key is a 409. A run certain to make more slots than RunFunction's memory "
    "allows is a 422 run_too_large.",
    tags=["runs"],
    responses=_answers(202, api.RunAccepted, "queued; Location: /runs/{id}", 400, 404, 409, 422),
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
def create_run(schedule_id: str) -> Response[Any]:
    # The body is optional (every field has a default), so it is validated here rather than by the resolver:
    # as bytes (JSON is UTF-8; anything else is invalid JSON, a 400) and strictly (`"days": true` or "5" is
    # a wrong type, not a 1 or a 5).
    request = runs.RunRequest.model_validate_json(_body() or b"{}", strict=True)
    idempotency_key = app.current_event.headers.get("idempotency-key")
    status = runs.create_run(default_services(), schedule_id, request, idempotency_key)
    return _json(
        HTTPStatus.ACCEPTED, {"id": status.id, "status": status.status}, {"Location": f"/runs/{status.id}"}
    )


@app.get(
    "/runs/<run_id>",
    operation_id="get_run",
    summary="A run's status",
    tags=["runs"],
    responses=_answers(200, api.RunView, "queued, running, succeeded or failed", 404),
)
def get_run(run_id: str) -> dict[str, Any]:
    return runs.public_view(runs.load_status(default_services(), run_id))


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
        404: _answers(404, None, "", 404)[404],
    },
)
def get_run_output(run_id: str, name: str) -> Response[Any]:
    output = api.get_output(default_services(), run_id, name)
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
    responses=_answers(201, api.UploadGrant, "the presigned PUT; Location: /uploads/{id}", 400),
    openapi_extensions={
        "parameters": [
            STRICT,
            _query("content_type", "the Content-Type the PUT will send", list(api.UPLOAD_CONTENT_TYPES)),
        ]
    },
)
def create_upload() -> Response[Any]:
    content_type = app.current_event.get_query_string_value("content_type") or api.DEFAULT_UPLOAD_TYPE
    upload = api.create_upload(default_services(), strict=_strict(), content_type=content_type)
    return _json(HTTPStatus.CREATED, upload, {"Location": f"/uploads/{upload['id']}"})


@app.get(
    "/uploads/<upload_id>",
    operation_id="get_upload",
    summary="An upload's import status",
    tags=["uploads"],
    responses=_answers(200, api.UploadStatus, "pending, imported (schedule_id) or rejected (error)", 404),
)
def get_upload(upload_id: str) -> dict[str, Any]:
    return api.get_upload(default_services(), upload_id)


@app.get(
    "/queue-stats",
    operation_id="queue_stats",
    summary="Queue depths",
    description="Approximate SQS counts of the job and import queues and their dead-letter queues.",
    tags=["service"],
    responses=_answers(200, api.QueueStats, "approximate counts"),
)
def queue_stats() -> dict[str, Any]:
    return api.queue_stats(default_services())


def openapi_document() -> str:
    """The OpenAPI document committed as docs/openapi.json (`make openapi` writes it)."""
    return app.get_openapi_json_schema() + "\n"


def import_upload_record(record: SQSRecord) -> None:
    """One ImportQueue message: an S3 event (or S3's s3:TestEvent, which has no Records and is ignored)."""
    notification = json.loads(record.body)
    for s3_record in notification.get("Records", []):
        s3_object = s3_record["s3"]["object"]
        key = unquote_plus(s3_object["key"])  # S3 URL-encodes keys in events
        put = imports.Put(s3_object.get("eTag"), s3_object.get("size"), s3_record.get("eventTime"))
        outcome = imports.import_upload(default_services(), key, put)
        logger.info(
            "upload processed", extra={"key": key, "status": (outcome or {}).get("status", "ignored")}
        )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(event, import_upload_record, uploads, context)
    return app.resolve(event, context)


if __name__ == "__main__":  # make openapi: python functions/import/app.py docs/openapi.json
    import sys
    from pathlib import Path

    Path(sys.argv[1]).write_text(openapi_document())
