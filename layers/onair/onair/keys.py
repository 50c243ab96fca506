"""The S3 layout (docs/ARCHITECTURE.md): every key the app reads or writes is spelled here."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import datetime
from urllib.parse import quote

from onair.errors import NotFound

INCOMING_PREFIX = "incoming/"
_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 random bytes, base64url without padding
FEED_TOKEN_BYTES = 32  # 256 random bits: the feed's only credential (players cannot sign requests)
# Index keys sort newest first: S3 lists keys in ascending order, so the time is stored inverted.
_INVERT_MS = 10**14


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


def new_feed_token() -> str:
    return secrets.token_urlsafe(FEED_TOKEN_BYTES)


def checked_token(value: str) -> str:
    if not _TOKEN.match(value):
        raise NotFound("no feed has this token")
    return value


def schedule_prefix(schedule_id: str) -> str:
    return f"schedules/{schedule_id}/"


def schedule_record(schedule_id: str) -> str:
    """The schedule's record, written last on every change: a schedule exists once it exists."""
    return f"schedules/{schedule_id}/record.json"


def version_file(schedule_id: str, version: int, name: str) -> str:
    """source.xml (the document as received, after gunzip), schedule.json (the model), info.json."""
    return f"schedules/{schedule_id}/versions/{version:06d}/{name}"


def versions_prefix(schedule_id: str) -> str:
    return f"schedules/{schedule_id}/versions/"


def version_of(key: str) -> int | None:
    """The version number in a version_file key."""
    found = re.search(r"/versions/(\d{6})/", key)
    return int(found[1]) if found else None


def published(schedule_id: str) -> str:
    """The feed's pointer: the published run (written last, so a feed switches at once)."""
    return f"schedules/{schedule_id}/published.json"


def feed_file(schedule_id: str, run_id: str, name: str) -> str:
    """A published run's output, copied under its schedule: the feed outlives the run's own expiry, and
    goes with the schedule when it is deleted."""
    return f"schedules/{schedule_id}/feed/{run_id}/{name}"


def channel_name(channel_id: str) -> str:
    """A channel id as one path segment of a key or a URL: percent-encoded, so that no id (any text of
    1-200 characters) nests a folder or reaches out of its own (`/`, `..` are encoded or harmless)."""
    name = quote(channel_id, safe="")
    return "%2E" + name[1:] if name.startswith(".") else name  # "." and ".." never a whole segment


def run_live(run_id: str, channel_id: str) -> str:
    """A run's live timeline of one channel (onair.live.timeline, numbered from 0)."""
    return f"runs/{run_id}/live/{channel_name(channel_id)}.json"


def feed_live(schedule_id: str, run_id: str, channel_id: str) -> str:
    """The published timeline of a channel: the run's, spliced onto the one published before it."""
    return f"schedules/{schedule_id}/feed/{run_id}/live/{channel_name(channel_id)}.json"


# s3:// item media must lie under this prefix of the data bucket: the feed function presigns GETs of the
# segments a playlist names, and must never be made to presign any other object of the bucket.
LIBRARY_PREFIX = "library/"
MEDIA_PREFIX = "media/"


def media_cache(uri: str) -> str:
    """What a media playlist URI resolved to, with its ETag: the next run's conditional GET."""
    return f"{MEDIA_PREFIX}{hashlib.sha256(uri.encode('utf-8', 'surrogatepass')).hexdigest()}.json"


def feed_prefix(schedule_id: str) -> str:
    return f"schedules/{schedule_id}/feed/"


def feed_run_prefix(schedule_id: str, run_id: str) -> str:
    """Every feed copy of one run (feed_file, feed_live)."""
    return f"{feed_prefix(schedule_id)}{run_id}/"


def feed_token(token: str) -> str:
    return f"feed-tokens/{token}.json"


def refresh_policy(schedule_id: str) -> str:
    """A copy of a schedule's refresh policy: the refresh tick lists this prefix, not every schedule."""
    return f"{REFRESH_PREFIX}{schedule_id}.json"


REFRESH_PREFIX = "refresh/"
SCHEDULE_INDEX = "index/schedules/"


def _inverted(at: datetime) -> str:
    return f"{_INVERT_MS - int(at.timestamp() * 1000):014d}"


def schedule_index(schedule_id: str, created_at: datetime) -> str:
    """A small object per schedule (its id), newest first: GET /schedules lists these."""
    return f"{SCHEDULE_INDEX}{_inverted(created_at)}-{schedule_id}"


def run_index(run_id: str, created_at: datetime, schedule_id: str | None = None) -> str:
    """A small object per run (its id), newest first: all runs, and (with `schedule_id`) a schedule's runs."""
    return f"{run_index_prefix(schedule_id)}{_inverted(created_at)}-{run_id}"


def run_index_prefix(schedule_id: str | None = None) -> str:
    return f"index/schedule-runs/{schedule_id}/" if schedule_id else "index/runs/"


def indexed_id(key: str) -> str:
    """The id at the end of an index key."""
    return key.rsplit("/", 1)[1].split("-", 1)[1]


def run_status(run_id: str) -> str:
    return f"runs/{run_id}/status.json"


def run_output(run_id: str, name: str) -> str:
    return f"runs/{run_id}/out/{name}"


def idempotency_prefix(schedule_id: str) -> str:
    return f"idempotency/{schedule_id}/"


def run_idempotency(schedule_id: str, idempotency_key: str) -> str:
    """The run an Idempotency-Key created; the key is hashed (any header text becomes a safe key)."""
    # surrogatepass: a header decoded with lone surrogates still hashes (strict UTF-8 would raise: a 500)
    digest = hashlib.sha256(idempotency_key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{idempotency_prefix(schedule_id)}{digest}.json"
