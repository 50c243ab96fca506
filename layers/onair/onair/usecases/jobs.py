"""The run job: load the schedule's version, generate the playout, write the outputs, record the status,
and, for a published run that succeeded, make its outputs the schedule's feed (onair.usecases.feeds)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from onair import collector
from onair.errors import NotFound, OnAirError, RunInProgress, Transient
from onair.models import OnAirSchedule, load_stored
from onair.playout.budget import SlotBudget
from onair.playout.engine import generate
from onair.playout.shelf import ProgrammeShelf
from onair.playout.types import RunRange
from onair.ports import ObjectChanged, Services
from onair.records import FeedFile, Job, RunStatus
from onair.usecases import feeds, live, schedules
from onair.usecases.runs import load_status, load_status_and_etag, note_run, save_status
from onair.writers import WRITERS

RERUN_CODE = "job_failed"  # retried to exhaustion: a delivery after that (a DLQ redrive) runs it again
FAILED_CODE = "cannot_generate"  # any other exception: the same schedule and request would fail again
START_TRIES = 3  # re-reads when another delivery changes the status between our read and our write
MAX_MESSAGE = 1000

Step = Literal["leave", "wait", "run"]


def next_step(status: RunStatus, now: datetime) -> Step:
    """What a delivery of a run's job does, given the run's status.

    leave: it is finished (a late duplicate delivery changes nothing); wait: another delivery runs it and
    can still be alive (its lease holds); run: it is queued, or its last delivery died mid-job (the lease
    ran out: Lambda ended that invocation), or it failed after every retry and came back from the DLQ.
    """
    if status.status == "succeeded":
        return "leave"
    if status.status == "failed":
        return "run" if (status.error or {}).get("code") == RERUN_CODE else "leave"
    if status.status == "running" and status.lease_until is not None and now < status.lease_until:
        return "wait"
    return "run"


@dataclass(frozen=True)
class _Started:
    status: RunStatus
    etag: str  # the version this delivery wrote: its final write is conditional on it


def execute_run(
    services: Services, message: dict[str, Any], *, lease: timedelta, receive_count: int = 1
) -> RunStatus | None:
    """Run one job, at most once at a time, and never again once it finished. `lease` is how long this
    delivery can live (the invocation's remaining time): past it, another delivery may take the run over.

    Failures of the job itself (domain errors, the slot budget, anything the engine or a writer raises
    from the stored schedule and the request) fail the run at once: retrying gives the same answer.
    Transient errors (storage, queues) propagate so SQS redelivers the message; on its last delivery the
    run is marked failed (job_failed) before it goes to JobDLQ. None: the run does not exist (no status).
    """
    job = Job.model_validate(message)
    started = _start(services, job.run_id, lease)
    if not isinstance(started, _Started):
        if started is not None and job.publish and started.status == "succeeded" and not started.published:
            return feeds.publish(services, started)  # the delivery that ran it stopped before publishing
        return started
    try:
        report, files = _generate(services, job)
    except Transient as error:
        if receive_count >= services.settings.max_receive_count:
            _finish(services, started, error=_error(RERUN_CODE, error))
        raise
    except OnAirError as error:
        return _finish(services, started, error=error.to_dict()["error"])
    except Exception as error:  # deterministic: generation and writing use only the schedule and request
        return _finish(services, started, error=_error(FAILED_CODE, error))
    finished = _finish(services, started, report=report, outputs=job.formats, files=files)
    if job.publish and finished.status == "succeeded" and not finished.published:
        finished = feeds.publish(services, finished)
    return finished


def _start(services: Services, run_id: str, lease: timedelta) -> _Started | RunStatus | None:
    """Take the run (queued -> running, with a lease), or answer why not. Conditional on the version read:
    of two deliveries at once one wins; the other sees the winner's lease and waits."""
    for _ in range(START_TRIES):
        try:
            status, etag = load_status_and_etag(services, run_id)
        except NotFound:
            return None  # no run to execute or to mark failed: retrying cannot create one
        now = services.clock()
        step = next_step(status, now)
        if step == "leave":
            return status
        if step == "wait":
            raise RunInProgress(f"run {run_id} is running elsewhere until {status.lease_until}")
        running = status.model_copy(
            update={"status": "running", "started_at": now, "attempts": status.attempts + 1}
            | {"lease_until": now + lease, "finished_at": None, "error": None}
        )
        new_etag = _swap(services, running, etag)
        if new_etag is not None:
            return _Started(running, new_etag)
        # another delivery moved it on between our read and our write: look again
    raise RunInProgress(f"run {run_id} changed {START_TRIES} times while this delivery tried to start it")


# The whole run without cyclic collections (onair.collector): the listing's models and the playout's slots
# live until it returns, and are freed, by reference counting, before the collector is back.
@collector.paused()
def _generate(services: Services, job: Job) -> tuple[dict[str, Any], dict[str, FeedFile]]:
    """The run's report, and the feed files of its stored outputs."""
    began = time.perf_counter()
    size, lines = schedules.read_model(services, job.schedule_id, job.version)
    memory_mb = services.settings.run_memory_mb
    leanest = SlotBudget.of(memory_mb, size)
    if leanest.slots == 0:  # loading it would already take the memory the slots need
        raise leanest.exceeded()
    with ProgrammeShelf() as shelf:  # a listing's programmes, their XML in /tmp
        schedule = load_stored(lines, take=shelf.add).schedule
        budget = SlotBudget.of(memory_mb, size, schedule.format)
        playout = generate(schedule, RunRange(job.from_, job.days), job.seed, budget, shelf)
        generated = time.perf_counter()
        files: dict[str, FeedFile] = {}
        for name in job.formats:
            chunks = WRITERS[name][1](schedule, playout)
            files |= feeds.store_output(services, job.run_id, name, chunks, to_publish=job.publish)
        written = time.perf_counter()
    report = {
        "format": schedule.format,
        "slots": len(playout.slots),
        "channels": len({slot.channel for slot in playout.slots}),
        **playout.report.summary(),
        "generation_seconds": round(generated - began, 3),
        "write_seconds": round(written - generated, 3),
    }
    if isinstance(schedule, OnAirSchedule):
        # HLS items and slates: resolved and laid out as live timelines (None, at no cost, without them)
        section = live.build_run_live(services, job.run_id, schedule, playout)
        if section is not None:
            report["live"] = section
    return report, files


def _swap(services: Services, status: RunStatus, etag: str) -> str | None:
    """Write `status` if the stored one is still version `etag`: its new ETag, or None if another writer
    came first. A write that landed but whose answer was lost (the SDK's retry of it is then refused, the
    version having changed) is recognised by its content, which no other writer produces."""
    try:
        return save_status(services, status, if_match=etag)
    except ObjectChanged:
        current, current_etag = load_status_and_etag(services, status.id)
        return current_etag if current == status else None


def _error(code: str, error: BaseException) -> dict[str, Any]:
    return {"code": code, "message": f"{type(error).__name__}: {error}"[:MAX_MESSAGE]}


def _finish(services: Services, started: _Started, **changes: Any) -> RunStatus:
    final = "failed" if changes.get("error") else "succeeded"
    status = started.status.model_copy(
        update={"status": final, "finished_at": services.clock(), "lease_until": None, **changes}
    )
    if _swap(services, status, started.etag) is None:
        # This delivery outlived its lease and another one took the run over: that one's result stands
        # (the same bytes: outputs are deterministic).
        return load_status(services, status.id)
    started_at, finished = status.started_at, status.finished_at
    report = changes.get("report")
    note_run(services, status)
    services.metrics.run_finished(
        succeeded=final == "succeeded",
        seconds=(finished - started_at).total_seconds() if started_at and finished else None,
        rule_breaks=sum(report["rule_breaks"].values()) if report else None,
    )
    return status
