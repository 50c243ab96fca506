"""Importing documents: from the API body or from an S3 upload. Both paths apply the same rules."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onair import keys
from onair.adapters import powertools as observability
from onair.errors import DocumentRejected, NotFound, TooLarge, UnsupportedMediaType
from onair.models import OnAirSchedule, StoredSchedule, findings_to_dicts, stored_json_chunks
from onair.playout.budget import SlotFloor
from onair.readers.schedule import ParsedSchedule, parse_schedule
from onair.services import Services

CONTENT_ENCODINGS = frozenset({"", "identity", "gzip", "x-gzip"})
SLOT_FLOOR = "slot_floor"  # summary.json only: what the API needs to refuse a run too large, early
REJECTION_ATTRIBUTES = ("error_code", "error_message", "error_findings", "upload_id")
XML_MEDIA_TYPES = frozenset(
    {
        "application/xml",
        "text/xml",
        "application/xmltv+xml",
        "application/gzip",
        "application/x-gzip",
        "application/octet-stream",
    }
)


def import_document(
    services: Services,
    body: bytes,
    *,
    strict: bool,
    media_type: str = "application/xml",
    content_encoding: str = "",
) -> dict[str, Any]:
    """Import a document sent in a request. Accepted and rejected documents are counted (metrics)."""
    try:
        if media_type not in XML_MEDIA_TYPES:
            raise UnsupportedMediaType(
                f"'{media_type[:80]}' is not accepted; send XML (application/xml) or gzip"
            )
        if content_encoding not in CONTENT_ENCODINGS:
            # gzip is recognised by its bytes whatever the header says; other codings would be read as XML
            raise UnsupportedMediaType(
                f"Content-Encoding '{content_encoding[:80]}' is not accepted; send the document as is or gzip"
            )
        parsed = parse_schedule(body, max_bytes=services.settings.max_import_bytes, strict=strict)
    except DocumentRejected as rejection:
        observability.import_rejected(rejection.code)
        raise
    return store_schedule(services, keys.new_id(), parsed)


def store_schedule(
    services: Services, schedule_id: str, parsed: ParsedSchedule, created_at: datetime | None = None
) -> dict[str, Any]:
    """Write source, model, then summary; the summary is the commit marker that makes the schedule exist."""
    storage = services.storage
    stored = StoredSchedule(
        id=schedule_id,
        created_at=created_at or services.clock(),
        warnings=findings_to_dicts(parsed.warnings),
        schedule=parsed.schedule,
    )
    summary = {
        "id": schedule_id,
        "format": parsed.schedule.format,
        "created_at": stored.created_at.isoformat(),
        "source_bytes": len(parsed.source),
        **parsed.schedule.counts(),
        "warnings": stored.warnings,
    }
    storage.put_bytes(keys.schedule_file(schedule_id, "source.xml"), parsed.source, "application/xml")
    storage.put_chunks(
        keys.schedule_file(schedule_id, "schedule.json"), stored_json_chunks(stored), "application/json"
    )
    floor = (
        {SLOT_FLOOR: SlotFloor.of(parsed.schedule).model_dump()}
        if isinstance(parsed.schedule, OnAirSchedule)
        else {}
    )
    storage.put_json(keys.schedule_file(schedule_id, "summary.json"), summary | floor)
    observability.import_accepted()
    return summary


def get_schedule_summary(services: Services, schedule_id: str) -> dict[str, Any]:
    keys.checked_id(schedule_id, "schedule")
    try:
        summary = services.storage.get_json(keys.schedule_file(schedule_id, "summary.json"))
    except NotFound as error:
        raise keys.unknown("schedule", schedule_id) from error
    summary.pop(SLOT_FLOOR, None)
    return summary


def load_schedule(services: Services, schedule_id: str) -> StoredSchedule:
    return StoredSchedule.model_validate_json(read_schedule(services, schedule_id))


def read_schedule(services: Services, schedule_id: str) -> bytes:
    """schedule.json as stored (its size tells what loading it costs: see playout/budget.py)."""
    return services.storage.get_bytes(keys.schedule_file(schedule_id, "schedule.json"))


@dataclass(frozen=True)
class Put:
    """What an S3 notification says of the PUT it reports."""

    etag: str | None = None  # S3's ETag: the MD5 of the bytes for a single-part SSE-S3 PUT (a presigned one)
    size: int | None = None
    at: str | None = None  # the event's time


FINAL = ("imported", "rejected")
LATER_PUTS_KEPT = 10


def import_upload(services: Services, key: str, put: Put | None = None) -> dict[str, Any] | None:
    """Import the object an S3 notification names. Returns the upload's final status, or None to ignore.

    A document that cannot be imported is a permanent failure: it is recorded (rejected/{id}.json, the upload
    status, a message in ImportDLQ with the reason) and not retried. Storage and queue errors propagate, so
    the message is retried.

    The first object decides an upload. The presigned URL cannot be revoked, so a client may PUT again
    until it expires: such a later object is not imported, and the upload's status lists it (`later_puts`).
    """
    upload_id = keys.upload_id_of(key)
    if upload_id is None:
        return None
    status_key = keys.upload_status(upload_id)
    storage = services.storage
    current = _existing(services, status_key)
    if current and current.get("status") in FINAL:
        return _after_final(services, current, put or Put())
    limit = services.settings.max_upload_bytes
    upload = storage.stat(key)
    read = {"etag": (put or Put()).etag, "bytes": upload.size}
    try:
        if upload.size > limit:
            raise TooLarge(f"the upload is {upload.size} bytes; the limit is {limit}")
        data = storage.get_bytes(key)
        # What was read, which a PUT after the notification's may have replaced: its own digest
        read = {"etag": hashlib.md5(data, usedforsecurity=False).hexdigest(), "bytes": len(data)}
        strict = bool(current and current.get("strict"))
        parsed = _parse_for_good(data, max_bytes=limit, strict=strict)
    except DocumentRejected as rejection:
        return _reject(services, upload_id, rejection, {**(current or {}), "object": read})
    # The upload names its schedule, and the object's time dates it: deliveries of one notification,
    # even at once, write identical bytes.
    summary = store_schedule(services, upload_id, parsed, created_at=upload.modified)
    status = {**(current or {}), "id": upload_id, "status": "imported", "schedule_id": upload_id}
    status |= {"object": read, "summary": summary}
    storage.put_json(status_key, status)
    return status


def _after_final(services: Services, current: dict[str, Any], put: Put) -> dict[str, Any]:
    """A notification for an upload already imported or rejected: a repeated delivery (the same object), or
    a later PUT to the URL, which is recorded (the last few) and not imported."""
    later = list(current.get("later_puts", []))
    known = {(current.get("object") or {}).get("etag"), *(p.get("etag") for p in later)}
    if put.etag is None or put.etag in known or "object" not in current:
        return current  # the same object again (or a status from before objects were recorded)
    later = [*later, {"etag": put.etag, "bytes": put.size, "at": put.at}][-LATER_PUTS_KEPT:]
    status = {**current, "later_puts": later}
    services.storage.put_json(keys.upload_status(current["id"]), status)
    observability.logger.warning(
        "a PUT after the upload's final status was not imported",
        extra={"upload_id": current["id"], "etag": put.etag, "status": current["status"]},
    )
    return status


def _parse_for_good(data: bytes, *, max_bytes: int, strict: bool) -> ParsedSchedule:
    """parse_schedule, for a queued upload: the parser is pure, so whatever it raises for these bytes it
    raises again. An exception that is not a rejection (a parser bug the document reveals) is logged and
    becomes one (`import_failed`), so the upload is rejected once rather than retried until the DLQ."""
    try:
        return parse_schedule(data, max_bytes=max_bytes, strict=strict)
    except DocumentRejected:
        raise
    except Exception as error:
        observability.logger.exception("the parser failed on an upload")
        raise DocumentRejected(
            f"the document could not be imported ({type(error).__name__}: {str(error)[:300]})",
            code="import_failed",
        ) from error


def _reject(
    services: Services, upload_id: str, rejection: DocumentRejected, current: dict[str, Any]
) -> dict[str, Any]:
    report = {"id": upload_id, "status": "rejected", "rejected_at": services.clock().isoformat()}
    report |= rejection.to_dict()
    services.storage.put_json(keys.rejected(upload_id), report)
    services.queues.send(
        services.settings.import_dlq_url,
        {"upload_id": upload_id, "key": keys.incoming(upload_id), **rejection.to_dict()},
        dict(
            zip(
                REJECTION_ATTRIBUTES,
                (rejection.code, rejection.message, _findings_line(rejection), upload_id),
                strict=True,
            )
        ),
    )
    status = {**current, "id": upload_id, "status": "rejected", **rejection.to_dict()}
    services.storage.put_json(keys.upload_status(upload_id), status)
    observability.import_rejected(rejection.code)
    return status


def _findings_line(rejection: DocumentRejected) -> str:
    """'code line:column path' per finding, for a DLQ reader that looks at attributes only (the body has all)."""
    return "; ".join(
        " ".join(str(part) for part in (f.code, f"{f.line}:{f.column}" if f.line else None, f.path) if part)
        for f in rejection.details
    )


def _existing(services: Services, key: str) -> dict[str, Any] | None:
    try:
        return services.storage.get_json(key)
    except NotFound:
        return None
