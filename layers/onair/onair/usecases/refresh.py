"""The rolling horizon: each scheduler tick queues, for every schedule with a refresh policy whose local
time has passed `at` today, one published run of its next `days` days, once per (schedule, local day):
its Idempotency-Key is the day, so two ticks (or two deliveries of one) make one run."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from onair import keys
from onair.errors import NotFound, OnAirError
from onair.ports import Services
from onair.usecases.runs import RunRequest, create_run

log = logging.getLogger("onair.refresh")


@dataclass
class Tick:
    queued: list[str] = field(default_factory=list)  # run ids (a repeat of the day's run counts too)
    skipped: dict[str, str] = field(default_factory=dict)  # schedule id -> why


def idempotency_key(day: str) -> str:
    return f"refresh:{day}"


def tick(services: Services, now: datetime | None = None) -> Tick:
    at = now or services.clock()
    result = Tick()
    for key in services.storage.list_keys(keys.REFRESH_PREFIX, limit=1_000_000):
        try:
            policy = services.storage.get_json(key)
        except NotFound:
            continue  # the schedule was deleted (or its policy cleared) after the listing
        schedule_id = policy["schedule_id"]
        local = at.astimezone(ZoneInfo(policy["timezone"]))
        if local.time() < time.fromisoformat(policy["at"]):
            continue
        request = RunRequest.model_validate({"from": local.date(), "days": policy["days"], "publish": True})
        try:
            status = create_run(services, schedule_id, request, idempotency_key(local.date().isoformat()))
        except OnAirError as error:  # gone, or a run too large: one schedule never stops the others
            result.skipped[schedule_id] = f"{error.code}: {error.message}"
            log.warning("refresh skipped", extra={"schedule_id": schedule_id, "code": error.code})
            continue
        result.queued.append(status.id)
    return result
