"""In-memory implementations of onair.ports, and `Services` built from them: the use cases' unit tests
(tests/unit/test_usecases_*.py) run on these, fast and without moto.

They keep the adapters' contract (onair.ports): a missing object raises NotFound; `only_new` on a key that
exists raises ObjectExists; `if_match` on another version, or on a key that is gone, raises ObjectChanged;
ETags are what S3 gives a single-part PUT (the MD5 of the bytes, quoted); keys list in ascending order;
`delete` and `delete_prefix` remove every version. tests/integration/test_blobstore_contract.py runs the
same checks against FakeBlobStore and the moto-backed S3BlobStore, so the two cannot drift apart.

Hooks stand in for the world between two calls of a use case: `store.hooks` are called with (operation,
key) before each operation, and may raise (an outage: errors.Unavailable) or write (another writer).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import IO, Any
from urllib.parse import quote

from local.provision import Resources, function_environment
from local.template import load_template
from onair.config import Settings
from onair.errors import NotFound
from onair.ports import ObjectChanged, ObjectExists, ObjectInfo, Services

Hook = Callable[[str, str], None]  # (operation, key)
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test sets: `clock()` answers `clock.now` until the test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class Version:
    data: bytes
    content_type: str
    etag: str
    modified: datetime


class FakeBlobStore:
    """The BlobStore port in a dict: every PUT adds a version of its key, as in the versioned bucket."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.hooks: list[Hook] = []
        self._versions: dict[str, list[Version]] = {}

    # --- what a test looks at ---------------------------------------------------------------------------

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(key for key in self._versions if key.startswith(prefix))

    def versions(self, key: str) -> list[Version]:
        """Every version of `key` still stored, oldest first ([] once it is deleted)."""
        return list(self._versions.get(key, []))

    def snapshot(self) -> dict[str, str]:
        """Key -> current ETag: equal before and after a call that changed nothing stored."""
        return {key: versions[-1].etag for key, versions in sorted(self._versions.items())}

    def once(self, operation: str, key: str, action: Callable[[], None]) -> None:
        """Run `action` (once) just before the next `operation` on `key`."""

        def hook(called: str, on: str) -> None:
            if (called, on) == (operation, key):
                self.hooks.remove(hook)
                action()

        self.hooks.append(hook)

    # --- the port ---------------------------------------------------------------------------------------

    def _before(self, operation: str, key: str) -> None:
        for hook in list(self.hooks):
            hook(operation, key)

    def _current(self, key: str) -> Version:
        versions = self._versions.get(key)
        if not versions:
            raise NotFound("the requested object does not exist")
        return versions[-1]

    def get_bytes_and_etag(self, key: str) -> tuple[bytes, str]:
        self._before("get", key)
        current = self._current(key)
        return current.data, current.etag

    def get_bytes(self, key: str) -> bytes:
        return self.get_bytes_and_etag(key)[0]

    def get_lines(self, key: str) -> tuple[int, Iterator[bytes]]:
        data = self.get_bytes(key)
        return len(data), iter(data.split(b"\n"))

    def download(self, key: str, file: IO[bytes]) -> None:
        file.write(self.get_bytes(key))

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def get_json_and_etag(self, key: str) -> tuple[Any, str]:
        data, etag = self.get_bytes_and_etag(key)
        return json.loads(data), etag

    def stat(self, key: str) -> ObjectInfo:
        self._before("stat", key)
        current = self._current(key)
        return ObjectInfo(len(current.data), current.modified, current.etag)

    def put_bytes(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        only_new: bool = False,
        if_match: str | None = None,
    ) -> str:
        self._before("put", key)
        versions = self._versions.get(key)
        current = versions[-1] if versions else None
        if if_match is not None and (current is None or current.etag != if_match):
            raise ObjectChanged(key)
        if only_new and current is not None:
            # S3 checks both conditions; the adapter reports any failure of an If-Match write as a change
            raise ObjectChanged(key) if if_match is not None else ObjectExists(key)
        etag = f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
        # S3's Last-Modified has whole seconds
        version = Version(bytes(data), content_type, etag, self.clock().replace(microsecond=0))
        self._versions.setdefault(key, []).append(version)
        return etag

    def put_json(self, key: str, value: Any, *, only_new: bool = False, if_match: str | None = None) -> str:
        data = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
        return self.put_bytes(key, data, "application/json", only_new=only_new, if_match=if_match)

    def put_chunks(self, key: str, chunks: Iterable[bytes], content_type: str) -> None:
        self.put_bytes(key, b"".join(chunks), content_type)

    def copy(self, source: str, key: str) -> None:
        self._before("copy", key)
        original = self._current(source)
        self.put_bytes(key, original.data, original.content_type)

    def list_keys(self, prefix: str, *, start_after: str | None = None, limit: int = 1000) -> list[str]:
        self._before("list", prefix)
        # str order is code point order, which is UTF-8 byte order: S3's
        found = [key for key in self.keys(prefix) if start_after is None or key > start_after]
        return found[:limit]

    def delete(self, key: str) -> None:
        self._before("delete", key)
        self._versions.pop(key, None)

    def delete_prefix(self, prefix: str) -> int:
        self._before("delete", prefix)
        gone = self.keys(prefix)
        for key in gone:
            del self._versions[key]
        return len(gone)

    def presigned_put(self, key: str, seconds: int, content_type: str) -> str:
        return f"https://blobs.invalid/{quote(key)}?method=PUT&expires={seconds}&type={quote(content_type)}"

    def presigned_get(self, key: str, seconds: int) -> str:
        return f"https://blobs.invalid/{quote(key)}?method=GET&expires={seconds}"


@dataclass(frozen=True)
class Sent:
    queue_url: str
    body: Any  # as the consumer reads it: the JSON the adapter sends, decoded
    attributes: dict[str, str]
    message_id: str


class FakeQueues:
    """The MessageQueue port: records what was sent; `take` receives (and deletes) a queue's messages."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.hooks: list[Hook] = []
        self._waiting: dict[str, list[Sent]] = {}
        self._ids = itertools.count(1)

    def send(self, queue_url: str, body: Any, attributes: dict[str, str] | None = None) -> str:
        for hook in list(self.hooks):
            hook("send", queue_url)
        decoded = body if isinstance(body, str) else json.loads(json.dumps(body, sort_keys=True))
        message = Sent(queue_url, decoded, dict(attributes or {}), f"message-{next(self._ids)}")
        self.sent.append(message)
        self._waiting.setdefault(queue_url, []).append(message)
        return message.message_id

    def take(self, queue_url: str) -> list[Any]:
        """The bodies waiting on `queue_url`, oldest first; they leave the queue."""
        return [message.body for message in self._waiting.pop(queue_url, [])]

    def depth(self, queue_url: str) -> dict[str, int]:
        return {"visible": len(self._waiting.get(queue_url, [])), "in_flight": 0, "delayed": 0}


@dataclass
class FakeMetrics:
    """The Metrics port: each call, as (name, arguments)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def import_accepted(self) -> None:
        self.calls.append(("import_accepted", {}))

    def import_rejected(self, code: str) -> None:
        self.calls.append(("import_rejected", {"code": code}))

    def run_finished(self, *, succeeded: bool, seconds: float | None, rule_breaks: int | None) -> None:
        self.calls.append(
            ("run_finished", {"succeeded": succeeded, "seconds": seconds, "rule_breaks": rule_breaks})
        )

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@cache
def template_settings() -> dict[str, str]:
    """Every function's variables from template.yaml (queue URLs as a deployment spells them): the limits
    the use cases read are the template's, not values repeated here."""
    app = load_template()
    resources = Resources(
        app.bucket_name, {q: app.queue_url(q) for q in app.queues}, {q: app.queues[q].arn for q in app.queues}
    )
    env: dict[str, str] = {}
    for function_id in app.functions:
        env |= function_environment(app, function_id, resources)
    return env


@dataclass(frozen=True)
class World:
    """The fakes behind one `Services`, for the test to drive and inspect."""

    services: Services
    store: FakeBlobStore
    queues: FakeQueues
    metrics: FakeMetrics
    clock: FakeClock

    @property
    def settings(self) -> Settings:
        return self.services.settings


def world(now: datetime = START, **settings: Any) -> World:
    """Services over fresh fakes, with the template's settings (`settings` overrides fields by name)."""
    clock = FakeClock(now)
    store, queues, metrics = FakeBlobStore(clock), FakeQueues(), FakeMetrics()
    config = Settings.from_env(template_settings()).model_copy(update=settings)
    return World(Services(config, store, queues, metrics, clock), store, queues, metrics, clock)
