"""GET /queue-stats: approximate depths of the job and import queues and their dead-letter queues.

The depths are SQS's approximations in any case, so each execution environment keeps its last answer for
MAX_AGE: a dashboard or a client polling the route costs four GetQueueAttributes per environment every
MAX_AGE, not four per request. `fresh=True` (the route: `Cache-Control: no-cache`) reads the queues now.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from onair.ports import Services

MAX_AGE = timedelta(seconds=5)


@dataclass(frozen=True)
class _Answer:
    services: Services  # the environment's wiring it was read with: another one (a test's) reads its own
    at: datetime
    stats: dict[str, Any]


_last: _Answer | None = None


def queue_stats(services: Services, *, fresh: bool = False) -> dict[str, Any]:
    """The depths, at most MAX_AGE old unless `fresh`."""
    global _last
    now = services.clock()
    last = _last
    # (a clock that went back, a test's or NTP's, reads again)
    if (
        not fresh
        and last is not None
        and last.services is services
        and timedelta(0) <= now - last.at < MAX_AGE
    ):
        return copy.deepcopy(last.stats)
    settings, queues = services.settings, services.queues
    stats = {
        "jobs": queues.depth(settings.job_queue_url),
        "imports": queues.depth(settings.import_queue_url),
        "dead_letters": {
            "jobs": queues.depth(settings.job_dlq_url)["visible"],
            "imports": queues.depth(settings.import_dlq_url)["visible"],
        },
        "run_concurrency_limit": settings.run_concurrency_limit,
    }
    _last = _Answer(services, now, copy.deepcopy(stats))
    return stats
