"""Schedules and their life cycle: import (version 1), new versions, reads, the newest-first list, the
versions, deletion, the feed token and the refresh policy.

A schedule is its record (schedules/{id}/record.json), written last on every change: until it exists
the schedule does not, and a crash midway leaves nothing a reader can see. Versions are immutable
(versions/{n}/source.xml, schedule.json, info.json); the record names the current one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onair import keys
from onair.errors import BadRequest, DocumentRejected, NotFound, PreconditionFailed, UnsupportedMediaType
from onair.models import OnAirSchedule, findings_to_dicts
from onair.ports import ObjectChanged, ObjectExists, Services
from onair.records import RefreshPolicy, ScheduleRecord, VersionInfo

log = logging.getLogger("onair.schedules")

CONTENT_ENCODINGS = frozenset({"", "identity", "gzip", "x-gzip"})
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
MAX_LIST = 100
UPDATE_TRIES = 5  # conditional record updates retried when another writer came in between
EXCERPT_MAX_CONTEXT = 10
EXCERPT_MAX_LINE_CHARS = 500
SOURCE_CHUNK_BYTES = 1024 * 1024  # source.xml is stored from its file a piece at a time


@dataclass(frozen=True)
class Document:
    """A document as a request brings it."""

    body: bytes
    media_type: str = "application/xml"
    content_encoding: str = ""
    strict: bool = False


KEEP = object()  # "leave the refresh policy as it is" (PUT without refresh parameters)


def parse_document(services: Services, document: Document) -> Any:
    """The checked, parsed document (a ParsedSchedule), or a DocumentRejected; rejections are counted."""
    from onair.readers.schedule import parse_schedule  # lxml and the XSD: only the paths that parse

    try:
        if document.media_type not in XML_MEDIA_TYPES:
            raise UnsupportedMediaType(
                f"'{document.media_type[:80]}' is not accepted; send XML (application/xml) or gzip"
            )
        if document.content_encoding not in CONTENT_ENCODINGS:
            # gzip is recognised by its bytes whatever the header says; other codings would be read as XML
            raise UnsupportedMediaType(
                f"Content-Encoding '{document.content_encoding[:80]}' is not accepted; "
                "send the document as is or gzip"
            )
        return parse_schedule(
            document.body, max_bytes=services.settings.max_import_bytes, strict=document.strict
        )
    except DocumentRejected as rejection:
        services.metrics.import_rejected(rejection.code)
        raise


def create_schedule(
    services: Services, document: Document, *, refresh: RefreshPolicy | None = None
) -> ScheduleRecord:
    """POST /schedules: a new schedule, version 1."""
    return store_new(services, keys.new_id(), parse_document(services, document), refresh=refresh)


def store_new(
    services: Services,
    schedule_id: str,
    parsed: Any,
    *,
    created_at: datetime | None = None,
    refresh: RefreshPolicy | None = None,
) -> ScheduleRecord:
    """Store a parsed document as version 1 of `schedule_id`. Deliveries of one upload call this with the
    same id and time: they write identical objects, and the record once it is complete."""
    at = created_at or services.clock()
    info = _store_version(services, schedule_id, 1, parsed, at)
    token = keys.new_feed_token()
    services.storage.put_json(keys.feed_token(token), {"schedule_id": schedule_id})
    services.storage.put_json(keys.schedule_index(schedule_id, at), {"schedule_id": schedule_id})
    record = ScheduleRecord(
        id=schedule_id,
        created_at=at,
        updated_at=at,
        version=1,
        current=info,
        feed_token=token,
        refresh=refresh,
    )
    _write_refresh(services, record)
    try:
        services.storage.put_json(keys.schedule_record(schedule_id), _document(record), only_new=True)
    except ObjectExists:
        # Another delivery of the same upload finished first: its record stands, our token is not used.
        services.storage.delete(keys.feed_token(token))
        return load_record(services, schedule_id)
    services.metrics.import_accepted()
    return record


def replace_schedule(
    services: Services,
    schedule_id: str,
    document: Document,
    *,
    if_match: int | None = None,
    refresh: RefreshPolicy | object | None = KEEP,
) -> ScheduleRecord:
    """PUT /schedules/{id}: a new version (same checks and errors as POST); the id, the feed token and
    (unless given) the refresh policy stay. `if_match`: the version the client last saw (a 412 if not)."""
    record, etag = load_record_and_etag(services, schedule_id)
    _check_version(record, if_match)
    parsed = parse_document(services, document)
    version = record.version + 1
    info = _store_version(services, schedule_id, version, parsed, services.clock())
    changes: dict[str, Any] = {"version": version, "current": info, "updated_at": info.created_at}
    if refresh is not KEEP:
        changes["refresh"] = refresh
    updated = record.model_copy(update=changes)
    try:
        services.storage.put_json(keys.schedule_record(schedule_id), _document(updated), if_match=etag)
    except ObjectChanged as error:
        # Someone changed the record between our read and our write; their change stands. The version
        # files we wrote are unreachable (no record names them) and a later PUT overwrites them.
        raise PreconditionFailed(
            f"schedule {schedule_id} changed while this version was stored: read it and try again"
        ) from error
    _write_refresh(services, updated, had_policy=record.refresh is not None)
    services.metrics.import_accepted()
    return updated


def _check_version(record: ScheduleRecord, if_match: int | None) -> None:
    if if_match is not None and if_match != record.version:
        raise PreconditionFailed(
            f"If-Match names version {if_match}; the schedule is at version {record.version}"
        )


def _store_version(
    services: Services, schedule_id: str, version: int, parsed: Any, at: datetime
) -> VersionInfo:
    """The version's files: source, model, then its info (what GET /schedules/{id}/versions lists)."""
    from onair.playout.budget import SlotFloor

    storage = services.storage
    schedule = parsed.head  # an OnAir schedule is always whole
    source = parsed.source
    source.seek(0)
    storage.put_chunks(
        keys.version_file(schedule_id, version, "source.xml"),
        iter(lambda: source.read(SOURCE_CHUNK_BYTES), b""),
        "application/xml",
    )
    storage.put_chunks(
        keys.version_file(schedule_id, version, "schedule.json"),
        parsed.stored_json(schedule_id, at),
        "application/json",
    )
    onair = isinstance(schedule, OnAirSchedule)
    info = VersionInfo(
        version=version,
        created_at=at,
        format=schedule.format,
        source_bytes=parsed.source_bytes,
        **parsed.counts(),
        warnings=findings_to_dicts(parsed.warnings),
        timezone=schedule.timezone if onair else None,
        slot_floor=SlotFloor.of(schedule) if onair else None,
    )
    storage.put_json(keys.version_file(schedule_id, version, "info.json"), _document(info))
    return info


def _write_refresh(services: Services, record: ScheduleRecord, had_policy: bool = False) -> None:
    """The copy of the policy the refresh tick lists (none: no copy, removed if there was one)."""
    key = keys.refresh_policy(record.id)
    if record.refresh is None:
        if had_policy:
            services.storage.delete(key)
    else:
        timezone = record.current.timezone or "UTC"
        services.storage.put_json(
            key, {"schedule_id": record.id, "timezone": timezone, **record.refresh.model_dump()}
        )


def _document(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)  # type: ignore[no-any-return]


# --- reads ---------------------------------------------------------------------------------------------


def load_record(services: Services, schedule_id: str) -> ScheduleRecord:
    return load_record_and_etag(services, schedule_id)[0]


def load_record_and_etag(services: Services, schedule_id: str) -> tuple[ScheduleRecord, str]:
    keys.checked_id(schedule_id, "schedule")
    try:
        document, etag = services.storage.get_json_and_etag(keys.schedule_record(schedule_id))
    except NotFound as error:
        raise keys.unknown("schedule", schedule_id) from error
    return ScheduleRecord.model_validate(document), etag


def update_record(
    services: Services, schedule_id: str, change: Callable[[ScheduleRecord], ScheduleRecord]
) -> ScheduleRecord | None:
    """Apply `change` to the record, as a compare-and-swap retried a few times; None when the schedule is
    gone (deleted meanwhile: nothing to update)."""
    for _ in range(UPDATE_TRIES):
        try:
            record, etag = load_record_and_etag(services, schedule_id)
        except NotFound:
            return None
        updated = change(record)
        try:
            services.storage.put_json(keys.schedule_record(schedule_id), _document(updated), if_match=etag)
        except ObjectChanged:
            continue
        return updated
    raise ObjectChanged(keys.schedule_record(schedule_id))


def list_schedules(
    services: Services, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[ScheduleRecord], str | None]:
    """Newest first, `limit` at a time; the cursor is opaque (the last index key, encoded)."""
    if not 1 <= limit <= MAX_LIST:
        raise BadRequest(f"limit must be 1 to {MAX_LIST}", code="invalid_request")
    after = decode_cursor(cursor, keys.SCHEDULE_INDEX)
    found = services.storage.list_keys(keys.SCHEDULE_INDEX, start_after=after, limit=limit)
    records = []
    for key in found:
        with contextlib.suppress(NotFound):  # being deleted, or an import that never finished
            records.append(load_record(services, keys.indexed_id(key)))
    return records, encode_cursor(found[-1]) if len(found) == limit else None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, prefix: str) -> str | None:
    if not cursor:
        return None
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadRequest("cursor is not one this API gave", code="invalid_request") from error
    if not key.startswith(prefix):
        raise BadRequest("cursor is not one this API gave", code="invalid_request")
    return key


def list_versions(services: Services, schedule_id: str) -> list[VersionInfo]:
    """Newest first."""
    record = load_record(services, schedule_id)
    infos = []
    for key in services.storage.list_keys(keys.versions_prefix(schedule_id)):
        version = keys.version_of(key)
        if key.endswith("/info.json") and version is not None and version <= record.version:
            infos.append(VersionInfo.model_validate(services.storage.get_json(key)))
    return sorted(infos, key=lambda info: -info.version)


def read_model(services: Services, schedule_id: str, version: int | None) -> tuple[int, Iterator[bytes]]:
    """A version's schedule.json as stored, as its size (which tells what loading it costs:
    playout/budget.py) and its lines (models.load_stored); the current version when `version` is None."""
    if version is None:
        version = load_record(services, schedule_id).version
    try:
        return services.storage.get_lines(keys.version_file(schedule_id, version, "schedule.json"))
    except NotFound as error:
        raise NotFound(f"schedule {schedule_id} (version {version}) no longer exists") from error


@dataclass(frozen=True)
class Excerpt:
    first_line: int
    lines: list[str]


def source_excerpt(
    services: Services, schedule_id: str, *, line: int, context: int = 3, version: int | None = None
) -> Excerpt:
    """The lines around `line` of a version's source (the console shows them beside a finding)."""
    record = load_record(services, schedule_id)
    wanted = record.version if version is None else version
    if not 1 <= wanted <= record.version:
        raise NotFound(f"schedule {schedule_id} has no version {wanted}")
    source = services.storage.get_bytes(keys.version_file(schedule_id, wanted, "source.xml"))
    return excerpt(source, line, context)


def excerpt(source: bytes, line: int, context: int) -> Excerpt:
    if line < 1 or not 0 <= context <= EXCERPT_MAX_CONTEXT:
        raise BadRequest(f"line must be ≥ 1 and context 0 to {EXCERPT_MAX_CONTEXT}", code="invalid_request")
    first = max(1, line - context)
    lines = source.decode("utf-8", errors="replace").splitlines()[first - 1 : line + context]
    return Excerpt(first, [text[:EXCERPT_MAX_LINE_CHARS] for text in lines])


# --- deletion, token, policy ---------------------------------------------------------------------------


def delete_schedule(services: Services, schedule_id: str) -> None:
    """Every object of the schedule goes, every version of each: versions, feed copies, the token, the
    index entries, Idempotency-Key claims, the refresh copy; the record last, so that a deletion stopped
    midway can be repeated. Runs keep their status and outputs until the runs/ lifecycle expires them."""
    record = load_record(services, schedule_id)
    storage = services.storage
    storage.delete(keys.feed_token(record.feed_token))  # first: the feed is a 404 at once
    storage.delete(keys.refresh_policy(schedule_id))
    storage.delete(keys.schedule_index(schedule_id, record.created_at))
    storage.delete_prefix(keys.run_index_prefix(schedule_id))
    storage.delete_prefix(keys.idempotency_prefix(schedule_id))
    for key in storage.list_keys(keys.schedule_prefix(schedule_id)):
        if key != keys.schedule_record(schedule_id):
            storage.delete(key)
    storage.delete(keys.schedule_record(schedule_id))


def rotate_feed_token(services: Services, schedule_id: str) -> ScheduleRecord:
    """A new token for the schedule's feed; the old one is a 404 as soon as this answers."""
    token = keys.new_feed_token()
    services.storage.put_json(keys.feed_token(token), {"schedule_id": schedule_id})
    old: list[str] = []

    def swap(record: ScheduleRecord) -> ScheduleRecord:
        old.append(record.feed_token)
        return record.model_copy(update={"feed_token": token})

    updated = update_record(services, schedule_id, swap)
    if updated is None:
        services.storage.delete(keys.feed_token(token))
        raise keys.unknown("schedule", schedule_id)
    for previous in old:
        if previous != token:
            services.storage.delete(keys.feed_token(previous))
    return updated


def schedule_of_token(services: Services, token: str) -> str:
    keys.checked_token(token)
    try:
        return str(services.storage.get_json(keys.feed_token(token))["schedule_id"])
    except NotFound as error:
        raise NotFound("no feed has this token") from error
