"""The run job: load the schedule, generate the playout, write the outputs, record the status."""

from __future__ import annotations

import time
from typing import Any

from onair import keys, observability
from onair.errors import NotFound, OnAirError
from onair.formats.outputs import WRITERS
from onair.imports import load_schedule
from onair.playout import generate
from onair.playout.types import RunRange
from onair.runs import Job, RunStatus, load_status, save_status
from onair.services import Services


def execute_run(services: Services, message: dict[str, Any], *, receive_count: int = 1) -> RunStatus:
    """Run one job. Safe to repeat: a finished run is left alone; outputs are deterministic.

    Domain errors (the schedule is gone, a bad request) fail the run at once. Anything else propagates so
    SQS redelivers the message; on its last delivery the run is marked failed before it goes to JobDLQ.
    """
    job = Job.model_validate(message)
    status = load_status(services, job.run_id)
    if status.status == "succeeded" or (status.status == "failed" and status.error["code"] != "job_failed"):
        return status  # a job_failed run came back from JobDLQ (a redrive): it runs again, below
    status = status.model_copy(
        update={"status": "running", "started_at": services.clock(), "attempts": status.attempts + 1}
        | {"finished_at": None, "error": None}
    )
    save_status(services, status)
    try:
        report = _generate(services, job)
    except OnAirError as error:
        return _finish(services, status, error=error.to_dict()["error"])
    except Exception as error:
        if receive_count >= services.settings.max_receive_count:
            _finish(
                services, status, error={"code": "job_failed", "message": f"{type(error).__name__}: {error}"}
            )
        raise
    return _finish(services, status, report=report, outputs=job.formats)


def _generate(services: Services, job: Job) -> dict[str, Any]:
    began = time.perf_counter()
    try:
        stored = load_schedule(services, job.schedule_id)
    except NotFound as error:
        raise NotFound(f"schedule {job.schedule_id} no longer exists") from error
    schedule = stored.schedule
    playout = generate(schedule, RunRange(job.from_, job.days), job.seed)
    generated = time.perf_counter()
    for name in job.formats:
        content_type, write = WRITERS[name]
        services.storage.put_bytes(keys.run_output(job.run_id, name), write(schedule, playout), content_type)
    return {
        "format": schedule.format,
        "slots": len(playout.slots),
        "channels": len({slot.channel for slot in playout.slots}),
        **playout.report.summary(),
        "generation_seconds": round(generated - began, 3),
        "write_seconds": round(time.perf_counter() - generated, 3),
    }


def _finish(services: Services, status: RunStatus, **changes: Any) -> RunStatus:
    final = "failed" if changes.get("error") else "succeeded"
    status = status.model_copy(update={"status": final, "finished_at": services.clock(), **changes})
    save_status(services, status)
    started, finished = status.started_at, status.finished_at
    report = changes.get("report")
    observability.run_finished(
        succeeded=final == "succeeded",
        seconds=(finished - started).total_seconds() if started and finished else None,
        rule_breaks=sum(report["rule_breaks"].values()) if report else None,
    )
    return status
