"""The S3 layout (docs/ARCHITECTURE.md): every key the app reads or writes is spelled here."""

from __future__ import annotations

import hashlib
import re
import uuid

from onair.errors import NotFound

INCOMING_PREFIX = "incoming/"
_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_id() -> str:
    return str(uuid.uuid4())


def unknown(what: str, value: str) -> NotFound:
    """The answer for an id that names nothing, in the API's terms (never the key that was looked up)."""
    return NotFound(f"no {what} has the id '{value[:80]}'")


def checked_id(value: str, what: str) -> str:
    """An id from a URL or an S3 key; anything else is unknown (and never becomes part of a key)."""
    if not _ID.match(value):
        raise unknown(what, value)
    return value


def incoming(upload_id: str) -> str:
    return f"{INCOMING_PREFIX}{upload_id}.xml"


def upload_id_of(key: str) -> str | None:
    if not (key.startswith(INCOMING_PREFIX) and key.endswith(".xml")):
        return None
    candidate = key[len(INCOMING_PREFIX) : -len(".xml")]
    return candidate if _ID.match(candidate) else None


def upload_status(upload_id: str) -> str:
    return f"uploads/{upload_id}.json"


def rejected(upload_id: str) -> str:
    return f"rejected/{upload_id}.json"


def schedule_file(schedule_id: str, name: str) -> str:
    """source.xml, schedule.json, or summary.json (written last: a schedule exists once it exists)."""
    return f"schedules/{schedule_id}/{name}"


def run_status(run_id: str) -> str:
    return f"runs/{run_id}/status.json"


def run_output(run_id: str, name: str) -> str:
    return f"runs/{run_id}/out/{name}"


def run_idempotency(schedule_id: str, idempotency_key: str) -> str:
    """The run an Idempotency-Key created; the key is hashed (any header text becomes a safe key)."""
    # surrogatepass: a header decoded with lone surrogates still hashes (strict UTF-8 would raise: a 500)
    digest = hashlib.sha256(idempotency_key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"idempotency/{schedule_id}/{digest}.json"
