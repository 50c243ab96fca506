"""Use cases behind the HTTP routes that are not imports or runs: uploads, outputs, queue stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from onair import keys
from onair.errors import BadRequest, NotFound
from onair.runs import load_status
from onair.services import Services
from onair.writers import WRITERS

INLINE_OUTPUT_BYTES = 1024 * 1024  # larger outputs are answered with a redirect to a presigned S3 URL
UPLOAD_CONTENT_TYPES = ("application/xml", "text/xml", "application/gzip")  # what a presigned PUT may send
DEFAULT_UPLOAD_TYPE = UPLOAD_CONTENT_TYPES[0]


def create_upload(
    services: Services, *, strict: bool = False, content_type: str = DEFAULT_UPLOAD_TYPE
) -> dict[str, Any]:
    """A presigned PUT to incoming/{id}.xml; the import applies `strict` when S3 reports the object.

    The signature covers the key and the content type, and lasts `UPLOAD_URL_SECONDS` (15 minutes by
    default): the client must send exactly the returned `headers`, and S3 refuses any other key or type.
    """
    if content_type not in UPLOAD_CONTENT_TYPES:
        raise BadRequest(
            f"content_type must be one of {', '.join(UPLOAD_CONTENT_TYPES)}, not '{content_type[:80]}'",
            code="invalid_request",
        )
    upload_id = keys.new_id()
    seconds = services.settings.upload_url_seconds
    expires_at = services.clock() + timedelta(seconds=seconds)
    services.storage.put_json(
        keys.upload_status(upload_id), {"id": upload_id, "status": "pending", "strict": strict}
    )
    return {
        "id": upload_id,
        "url": services.storage.presigned_put(keys.incoming(upload_id), seconds, content_type),
        "method": "PUT",
        "headers": {"Content-Type": content_type},
        "expires_at": expires_at.isoformat(),
    }


def get_upload(services: Services, upload_id: str) -> dict[str, Any]:
    keys.checked_id(upload_id, "upload")
    try:
        status = services.storage.get_json(keys.upload_status(upload_id))
    except NotFound as error:
        raise keys.unknown("upload", upload_id) from error
    status.pop("summary", None)
    return status


@dataclass(frozen=True)
class Output:
    content_type: str
    body: bytes | None = None
    redirect: str | None = None


def get_output(services: Services, run_id: str, name: str) -> Output:
    status = load_status(services, run_id)
    if name not in status.outputs:
        raise NotFound(f"run {run_id} has no output '{name[:80]}' (it has {sorted(status.outputs)})")
    key = keys.run_output(run_id, name)
    content_type = WRITERS[name][0]
    try:
        if services.storage.stat(key).size > INLINE_OUTPUT_BYTES:
            return Output(content_type, redirect=services.storage.presigned_get(key, 300))
        return Output(content_type, body=services.storage.get_bytes(key))
    except NotFound as error:  # listed in the status, but the object is gone (deleted by hand)
        raise NotFound(f"run {run_id}'s output '{name}' is no longer stored") from error


def queue_stats(services: Services) -> dict[str, Any]:
    settings, queues = services.settings, services.queues
    return {
        "jobs": queues.depth(settings.job_queue_url),
        "imports": queues.depth(settings.import_queue_url),
        "dead_letters": {
            "jobs": queues.depth(settings.job_dlq_url)["visible"],
            "imports": queues.depth(settings.import_dlq_url)["visible"],
        },
        "run_concurrency_limit": settings.run_concurrency_limit,
    }


# --- The API's answers, as documented in docs/openapi.json (the routes build plain dicts) ----------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Answer):
    code: str = Field(description="finding code, e.g. notwell or an XMLTV tv_validate_file code")
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = Field(default=None, description="element path, or the request field at fault")


class ErrorInfo(_Answer):
    code: str = Field(description="stable error code, e.g. not_well_formed, invalid_schedule, not_found")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorBody(_Answer):
    """Every 4xx (and 500) answer."""

    error: ErrorInfo


class ScheduleSummary(_Answer):
    id: str
    format: Literal["xmltv", "onair"]
    created_at: datetime
    source_bytes: int = Field(description="size of the document after gunzip")
    channels: int
    programmes: int | None = Field(default=None, description="XMLTV listings")
    items: int | None = Field(default=None, description="OnAir schedules: library items")
    warnings: list[ErrorDetail] = Field(description="findings that did not stop the import (lenient mode)")


class RunAccepted(_Answer):
    id: str
    status: Literal["queued", "running", "succeeded", "failed"] = Field(
        description="queued; a repeated Idempotency-Key answers its run's current status"
    )


class RunView(_Answer):
    id: str
    schedule_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    request: dict[str, Any] = Field(description="the run request as queued: from, days, seed, formats")
    outputs: dict[str, str] = Field(description="output name -> its API path")
    report: dict[str, Any] | None = Field(default=None, description="counts, rule breaks, fill errors")
    error: ErrorInfo | None = None
    attempts: int = 0


class UploadGrant(_Answer):
    id: str
    url: str = Field(description="presigned S3 URL: PUT the document there")
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="send exactly these headers with the PUT (they are signed)")
    expires_at: datetime


class UploadedObject(_Answer):
    etag: str | None = Field(description="hex MD5 of the bytes (S3's ETag for the PUT)")
    bytes: int | None = None


class LaterPut(UploadedObject):
    at: str | None = Field(default=None, description="when S3 reported the PUT")


class UploadStatus(_Answer):
    id: str
    status: Literal["pending", "imported", "rejected"]
    strict: bool = False
    schedule_id: str | None = None
    error: ErrorInfo | None = None
    object: UploadedObject | None = Field(
        default=None, description="the object that was imported or rejected"
    )
    later_puts: list[LaterPut] = Field(
        default_factory=list,
        description="objects PUT to the URL after the upload was imported or rejected: not imported (the "
        "last 10). The URL stays valid until it expires; request a new upload for another document.",
    )


class QueueDepth(_Answer):
    visible: int
    in_flight: int
    delayed: int


class DeadLetters(_Answer):
    jobs: int
    imports: int


class QueueStats(_Answer):
    jobs: QueueDepth
    imports: QueueDepth
    dead_letters: DeadLetters
    run_concurrency_limit: int
