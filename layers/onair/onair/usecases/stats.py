"""GET /queue-stats: approximate depths of the job and import queues and their dead-letter queues."""

from __future__ import annotations

from typing import Any

from onair.ports import Services


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
