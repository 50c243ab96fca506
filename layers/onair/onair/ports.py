"""What the use cases need from the outside world, as Protocols, and `Services`, the bundle a use case is
given: the adapters (onair/adapters/) implement the Protocols over S3, SQS and Powertools, bound once by
onair.bootstrap; tests/fakes.py implements them in memory.

The contract every implementation keeps: a missing object raises errors.NotFound; a failed condition
raises ObjectExists / ObjectChanged; an outage raises errors.Unavailable (the use cases retry nothing
themselves: a Transient error propagates to the handler, which answers 503 or lets SQS redeliver).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Protocol

from onair.config import Settings

Clock = Callable[[], datetime]  # an aware datetime (UTC)


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    modified: datetime
    etag: str


class ConditionFailed(Exception):
    """A conditional write did not happen: the object is not in the state the writer required."""


class ObjectExists(ConditionFailed):
    """A conditional write (If-None-Match: *) found the key already written."""


class ObjectChanged(ConditionFailed):
    """A conditional write (If-Match: the ETag read) found another version: someone wrote in between."""


class BlobStore(Protocol):
    def get_bytes_and_etag(self, key: str) -> tuple[bytes, str]: ...

    def get_bytes(self, key: str) -> bytes: ...

    def get_lines(self, key: str) -> tuple[int, Iterator[bytes]]:
        """The object's size and its lines (split at b"\\n", which they lose), read as they are iterated:
        a large object is never held whole."""
        ...

    def download(self, key: str, file: IO[bytes]) -> None:
        """Write the object into `file` as it arrives: a large object is never held whole."""
        ...

    def get_json(self, key: str) -> Any: ...

    def get_json_and_etag(self, key: str) -> tuple[Any, str]: ...

    def stat(self, key: str) -> ObjectInfo: ...

    def put_bytes(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        only_new: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write and answer the new ETag; `only_new` / `if_match` make it a compare-and-swap."""
        ...

    def put_json(
        self, key: str, value: Any, *, only_new: bool = False, if_match: str | None = None
    ) -> str: ...

    def put_chunks(self, key: str, chunks: Iterable[bytes], content_type: str) -> None:
        """Write a large object from pieces without holding it whole."""
        ...

    def copy(self, source: str, key: str) -> None:
        """Write `key` as a copy of the object at `source`, its content type too, within the store (the
        bytes never travel through this process)."""
        ...

    def list_keys(self, prefix: str, *, start_after: str | None = None, limit: int = 1000) -> list[str]:
        """Keys under `prefix` in ascending order, after `start_after`, at most `limit`."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under `prefix`, every version of it too; answers how many keys went."""
        ...

    def delete(self, key: str) -> None:
        """Remove one key, every version of it (no error when it is already gone)."""
        ...

    def presigned_put(self, key: str, seconds: int, content_type: str) -> str: ...

    def presigned_get(self, key: str, seconds: int) -> str: ...


# --- media playlists (live channels, docs/LIVE.md) -------------------------------------------------------


class FetchError(Exception):
    """A playlist that could not be fetched; `code` is the run-report finding code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # unreachable | too_large | bad_scheme | blocked_address | blocked_key
        self.message = message


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects: relative URIs in the body resolve against it (RFC 3986 5.1.3)
    body: bytes | None  # None: 304 Not Modified, the copy behind the ETag sent is current
    etag: str | None


class Fetcher(Protocol):
    """Item playlists are hostile input: an implementation bounds time, size and redirects, and reaches
    nothing it should not (onair.adapters.urls.UrlFetcher for http(s); usecases.live.S3Fetcher for s3)."""

    def fetch(self, url: str, etag: str | None = None) -> Fetched:
        """GET `url` (conditionally when `etag` is given). Raises FetchError, nothing else."""
        ...


class NoWebFetcher:
    """The web as Services without one see it (use-case tests): no http(s) playlist can be reached.
    onair.bootstrap binds the real, bounded one."""

    def fetch(self, url: str, etag: str | None = None) -> Fetched:
        raise FetchError("unreachable", f"no web fetcher here: {url[:200]} is not fetched")


class PlaylistCache(Protocol):
    """What one playlist URI resolved to, with the ETag it was served with. Entries are JSON objects
    ({"etag", "url", "value"}) so a store can keep them as they are."""

    def get(self, uri: str) -> dict[str, Any] | None: ...

    def put(self, uri: str, entry: dict[str, Any]) -> None: ...


class MessageQueue(Protocol):
    def send(self, queue_url: str, body: Any, attributes: dict[str, str] | None = None) -> str: ...

    def depth(self, queue_url: str) -> dict[str, int]:
        """Approximate counts: visible, in_flight, delayed."""
        ...


class Metrics(Protocol):
    """The business metrics (docs/ARCHITECTURE.md lists them); plain calls, flushed by the handler."""

    def import_accepted(self) -> None: ...

    def import_rejected(self, code: str) -> None: ...

    def run_finished(self, *, succeeded: bool, seconds: float | None, rule_breaks: int | None) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """What every use case is given (its first argument). Here rather than in onair.bootstrap, which binds
    the adapters: a use case that imported the wiring would depend on boto3 and Powertools through it."""

    settings: Settings
    storage: BlobStore
    queues: MessageQueue
    metrics: Metrics
    clock: Clock = field(default=utc_now)
    http: Fetcher = field(default_factory=NoWebFetcher)  # item playlists over http(s) (live channels)
