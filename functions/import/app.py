"""ImportFunction: the HTTP API (imports, reads, run requests) and S3 upload notifications from ImportQueue.

Thin by design: routing, HTTP mapping and batch handling here; everything else in the onair layer.
"""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from onair import api, imports, runs
from onair.errors import BadRequest, OnAirError
from onair.observability import logger, metrics, tracer
from onair.services import default_services

app = APIGatewayHttpResolver(enable_validation=True)
uploads = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


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
        {"code": problem["type"], "path": ".".join(map(str, problem["loc"])), "message": problem["msg"]}
        for problem in error.errors()
    ]
    return _error(HTTPStatus.BAD_REQUEST, "invalid_request", "the request is not valid", details)


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[Any]:
    logger.exception("unexpected error")
    request_id = app.current_event.request_context.request_id
    return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", f"unexpected error; request id {request_id}")


@app.exception_handler(RouteNotFound)
def _no_route(error: RouteNotFound) -> Response[Any]:
    return _error(HTTPStatus.NOT_FOUND, "not_found", "no such route")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def _strict() -> bool:
    """`?strict=true`: every finding is an error (as XMLTV's tv_validate_file judges); lenient by default."""
    value = (app.current_event.get_query_string_value("strict") or "false").lower()
    if value not in ("true", "false"):
        raise BadRequest(f"strict must be true or false, not '{value}'", code="invalid_request")
    return value == "true"


@app.post("/schedules")
def import_schedule() -> Response[Any]:
    event = app.current_event
    media_type = (event.headers.get("content-type") or "application/xml").split(";")[0].strip().lower()
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    summary = imports.import_document(default_services(), body, strict=_strict(), media_type=media_type)
    return _json(HTTPStatus.CREATED, summary, {"Location": f"/schedules/{summary['id']}"})


@app.get("/schedules/<schedule_id>")
def get_schedule(schedule_id: str) -> dict[str, Any]:
    return imports.get_schedule_summary(default_services(), schedule_id)


@app.post("/schedules/<schedule_id>/runs")
def create_run(schedule_id: str) -> Response[Any]:
    # The body is optional (every field has a default), so it is validated here rather than by the resolver.
    text = app.current_event.decoded_body or "{}"
    request = runs.RunRequest.model_validate_json(text)
    idempotency_key = app.current_event.headers.get("idempotency-key")
    status = runs.create_run(default_services(), schedule_id, request, idempotency_key)
    return _json(
        HTTPStatus.ACCEPTED, {"id": status.id, "status": status.status}, {"Location": f"/runs/{status.id}"}
    )


@app.get("/runs/<run_id>")
def get_run(run_id: str) -> dict[str, Any]:
    return runs.public_view(runs.load_status(default_services(), run_id))


@app.get("/runs/<run_id>/output/<name>")
def get_run_output(run_id: str, name: str) -> Response[Any]:
    output = api.get_output(default_services(), run_id, name)
    if output.redirect:
        return Response(HTTPStatus.FOUND, output.content_type, "", {"Location": output.redirect})
    return Response(HTTPStatus.OK, output.content_type, output.body)


@app.post("/uploads")
def create_upload() -> Response[Any]:
    upload = api.create_upload(default_services(), strict=_strict())
    return _json(HTTPStatus.CREATED, upload, {"Location": f"/uploads/{upload['id']}"})


@app.get("/uploads/<upload_id>")
def get_upload(upload_id: str) -> dict[str, Any]:
    return api.get_upload(default_services(), upload_id)


@app.get("/queue-stats")
def queue_stats() -> dict[str, Any]:
    return api.queue_stats(default_services())


def import_upload_record(record: SQSRecord) -> None:
    """One ImportQueue message: an S3 event (or S3's s3:TestEvent, which has no Records and is ignored)."""
    notification = json.loads(record.body)
    for s3_record in notification.get("Records", []):
        key = unquote_plus(s3_record["s3"]["object"]["key"])  # S3 URL-encodes keys in events
        outcome = imports.import_upload(default_services(), key)
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
