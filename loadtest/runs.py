"""What a load test's runs did, from their status documents: the figures `loadtest.run` and the Locust
summary report (stdlib only: Locust imports it too)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any


def max_overlap(intervals: Iterable[tuple[datetime, datetime]]) -> int:
    """The most runs that were running at one instant (touching intervals did not overlap)."""
    edges = sorted([edge for begin, end in intervals for edge in ((begin, 1), (end, -1))])
    running = highest = 0
    for _, change in edges:
        running += change
        highest = max(highest, running)
    return highest


def run_summary(statuses: list[dict[str, Any]]) -> dict[str, Any]:
    """How many runs there were by status, runs finished per minute (first start to last finish) and the
    most that ran at once (the template's run cap, when the queue was never empty)."""
    finished = [s for s in statuses if s["status"] in ("succeeded", "failed")]
    intervals = [
        (datetime.fromisoformat(s["started_at"]), datetime.fromisoformat(s["finished_at"])) for s in finished
    ]
    span = (max(e for _, e in intervals) - min(b for b, _ in intervals)).total_seconds() if intervals else 0
    return {
        "created": len(statuses),
        "by_status": dict(sorted(Counter(s["status"] for s in statuses).items())),
        "runs_per_minute": round(len(finished) / (span / 60), 1) if span else None,
        "max_concurrent": max_overlap(intervals),
        "failed_reasons": sorted({str(s.get("error")) for s in statuses if s["status"] == "failed"}),
    }
