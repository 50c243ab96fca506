"""What the use cases need from the outside world, built once per execution environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from onair.adapters.s3 import S3BlobStore
from onair.adapters.sqs import SqsQueues
from onair.config import Settings, settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    settings: Settings
    storage: S3BlobStore
    queues: SqsQueues
    clock: Callable[[], datetime] = field(default=utc_now)


@cache
def default_services() -> Services:
    """Real AWS clients (or moto, through AWS_ENDPOINT_URL), created on first use; tests call cache_clear()."""
    config = settings()
    return Services(config, S3BlobStore.from_bucket(config.bucket), SqsQueues.default())
