"""Use cases behind the HTTP routes that are not imports or runs: uploads, outputs, queue stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from onair import keys
from onair.errors import NotFound
from onair.formats.outputs import WRITERS
from onair.runs import load_status
from onair.services import Services

INLINE_OUTPUT_BYTES = 1024 * 1024  # larger outputs are answered with a redirect to a presigned S3 URL


def create_upload(services: Services, *, strict: bool = False) -> dict[str, Any]:
    """A presigned PUT to incoming/{id}.xml; the import applies `strict` when S3 reports the object."""
    upload_id = keys.new_id()
    seconds = services.settings.upload_url_seconds
    expires_at = services.clock() + timedelta(seconds=seconds)
    services.storage.put_json(
        keys.upload_status(upload_id), {"id": upload_id, "status": "pending", "strict": strict}
    )
    return {
        "id": upload_id,
        "url": services.storage.presigned_put(keys.incoming(upload_id), seconds),
        "method": "PUT",
        "headers": {},
        "expires_at": expires_at.isoformat(),
    }


def get_upload(services: Services, upload_id: str) -> dict[str, Any]:
    keys.checked_id(upload_id, "upload")
    status = services.storage.get_json(keys.upload_status(upload_id))
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
    if services.storage.size(key) > INLINE_OUTPUT_BYTES:
        return Output(content_type, redirect=services.storage.presigned_get(key, 300))
    return Output(content_type, body=services.storage.get_bytes(key))


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
