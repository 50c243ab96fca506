"""Presigned uploads: the grant (POST /uploads), its status, and the import S3's notification triggers.

The upload's id is the schedule's id, and the object's time dates it, so deliveries of one notification
(even at once) write identical objects. A document that cannot be imported is a permanent failure: it is
recorded (rejected/{id}.json, the upload's status, a message in ImportDLQ with the reason) and not
retried. Storage and queue errors propagate, so SQS redelivers the message.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from typing import IO, Any

from onair import keys
from onair.errors import BadRequest, DocumentRejected, NotFound, TooLarge
from onair.ports import Services
from onair.records import RefreshPolicy
from onair.usecases import schedules
from onair.usecases.schedules import Excerpt

log = logging.getLogger("onair.uploads")

UPLOAD_CONTENT_TYPES = ("application/xml", "text/xml", "application/gzip")  # what a presigned PUT may send
DEFAULT_UPLOAD_TYPE = UPLOAD_CONTENT_TYPES[0]
REJECTION_ATTRIBUTES = ("error_code", "error_message", "error_findings", "upload_id")
FINAL = ("imported", "rejected")
LATER_PUTS_KEPT = 10


def create_upload(
    services: Services,
    *,
    strict: bool = False,
    content_type: str = DEFAULT_UPLOAD_TYPE,
    refresh: RefreshPolicy | None = None,
) -> dict[str, Any]:
    """A presigned PUT to incoming/{id}.xml; the import applies `strict` (and `refresh`) when S3 reports
    the object. The signature covers the key and the content type, and lasts `UPLOAD_URL_SECONDS`
    (15 minutes by default): the client must send exactly the returned `headers`."""
    if content_type not in UPLOAD_CONTENT_TYPES:
        raise BadRequest(
            f"content_type must be one of {', '.join(UPLOAD_CONTENT_TYPES)}, not '{content_type[:80]}'",
            code="invalid_request",
        )
    upload_id = keys.new_id()
    seconds = services.settings.upload_url_seconds
    expires_at = services.clock() + timedelta(seconds=seconds)
    status: dict[str, Any] = {"id": upload_id, "status": "pending", "strict": strict}
    if refresh is not None:
        status["refresh"] = refresh.model_dump()
    services.storage.put_json(keys.upload_status(upload_id), status)
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
        status: dict[str, Any] = services.storage.get_json(keys.upload_status(upload_id))
    except NotFound as error:
        raise keys.unknown("upload", upload_id) from error
    status.pop("refresh", None)
    return status


def upload_excerpt(services: Services, upload_id: str, *, line: int, context: int = 3) -> Excerpt:
    """The lines around `line` of the uploaded document (for a rejected upload's findings)."""
    get_upload(services, upload_id)
    try:
        source = services.storage.get_bytes(keys.incoming(upload_id))
    except NotFound as error:
        raise NotFound(f"upload {upload_id}'s document is no longer stored") from error
    from onair.readers.xml import read_body  # gunzip, bounded as the import was

    try:
        text = read_body(BytesIO(source), services.settings.max_upload_bytes).read()
    except DocumentRejected:
        text = source
    return schedules.excerpt(text, line, context)


@dataclass(frozen=True)
class Put:
    """What an S3 notification says of the PUT it reports."""

    etag: str | None = None  # S3's ETag: the MD5 of the bytes for a single-part SSE-S3 PUT (a presigned one)
    size: int | None = None
    at: str | None = None  # the event's time


def import_upload(services: Services, key: str, put: Put | None = None) -> dict[str, Any] | None:
    """Import the object an S3 notification names. Returns the upload's final status, or None to ignore.

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
    # The upload goes to a temporary file (/tmp) and is read from there: the import never holds it whole
    with tempfile.TemporaryFile() as document:
        try:
            if upload.size > limit:
                raise TooLarge(f"the upload is {upload.size} bytes; the limit is {limit}")
            storage.download(key, document)
            # What was read, which a PUT after the notification's may have replaced: its own digest
            read = {"etag": _md5(document), "bytes": document.tell()}
            strict = bool(current and current.get("strict"))
            parsed = _parse_for_good(document, max_bytes=limit, strict=strict)
        except DocumentRejected as rejection:
            return _reject(services, upload_id, rejection, {**(current or {}), "object": read})
        refresh = (current or {}).get("refresh")
        record = schedules.store_new(
            services,
            upload_id,
            parsed,
            created_at=upload.modified,
            refresh=RefreshPolicy.model_validate(refresh) if refresh else None,
        )
    status = {**(current or {}), "id": upload_id, "status": "imported", "schedule_id": record.id}
    status["object"] = read
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
    log.warning(
        "a PUT after the upload's final status was not imported",
        extra={"upload_id": current["id"], "etag": put.etag, "status": current["status"]},
    )
    return status


def _md5(document: IO[bytes]) -> str:
    """The hex MD5 of the file's bytes (S3's ETag of a one-part PUT); the file is left at its end."""
    document.seek(0)
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in iter(lambda: document.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _parse_for_good(document: IO[bytes], *, max_bytes: int, strict: bool) -> Any:
    """parse_schedule, for a queued upload: the parser is pure, so whatever it raises for this document it
    raises again. An exception that is not a rejection (a parser bug the document reveals) is logged and
    becomes one (`import_failed`), so the upload is rejected once rather than retried until the DLQ."""
    from onair.readers.schedule import parse_schedule

    try:
        return parse_schedule(document, max_bytes=max_bytes, strict=strict)
    except DocumentRejected:
        raise
    except Exception as error:
        log.exception("the parser failed on an upload")
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
    services.metrics.import_rejected(rejection.code)
    return status


def _findings_line(rejection: DocumentRejected) -> str:
    """'code line:column path' per finding, for a DLQ reader that looks at attributes only (the body has all)."""
    return "; ".join(
        " ".join(str(part) for part in (f.code, f"{f.line}:{f.column}" if f.line else None, f.path) if part)
        for f in rejection.details
    )


def _existing(services: Services, key: str) -> dict[str, Any] | None:
    try:
        return services.storage.get_json(key)  # type: ignore[no-any-return]
    except NotFound:
        return None
