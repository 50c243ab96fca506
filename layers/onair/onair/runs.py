"""Run requests and their status documents (runs/{id}/status.json), shared by the API and the run job."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from onair import keys
from onair.errors import BadRequest, Conflict, NotFound
from onair.formats.outputs import WRITERS
from onair.models import Model
from onair.services import Services
from onair.storage import ObjectExists

MAX_DAYS = 366
MAX_IDEMPOTENCY_KEY = 255


class RunRequest(Model):
    """The body of POST /schedules/{id}/runs."""

    from_: date | None = Field(default=None, alias="from", description="first day (schedule's local time)")
    days: int = Field(default=1, ge=1, le=MAX_DAYS)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    formats: list[str] | None = Field(default=None, description="output names; all when omitted")

    @field_validator("formats")
    @classmethod
    def known_formats(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            unknown = sorted(set(value) - WRITERS.keys())
            if unknown or not value:
                raise ValueError(f"unknown output(s) {unknown}; choose from {sorted(WRITERS)}")
        return value


class Job(Model):
    """The JobQueue message: everything a run needs, fixed when the run was requested (so retries agree)."""

    run_id: str
    schedule_id: str
    from_: date | None = Field(default=None, alias="from")
    days: int = Field(ge=1, le=MAX_DAYS)
    seed: int
    formats: list[str]

    def message(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


Status = Literal["queued", "running", "succeeded", "failed"]


class RunStatus(Model):
    id: str
    schedule_id: str
    status: Status
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    request: dict[str, Any]
    outputs: list[str] = Field(default_factory=list)
    report: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    attempts: int = 0


def save_status(services: Services, status: RunStatus) -> None:
    services.storage.put_json(keys.run_status(status.id), status.model_dump(mode="json", exclude_none=True))


def load_status(services: Services, run_id: str) -> RunStatus:
    keys.checked_id(run_id, "run")
    try:
        return RunStatus.model_validate(services.storage.get_json(keys.run_status(run_id)))
    except NotFound as error:
        raise keys.unknown("run", run_id) from error


def create_run(
    services: Services, schedule_id: str, request: RunRequest, idempotency_key: str | None = None
) -> RunStatus:
    """Queue a run. With an Idempotency-Key, the same key and request give the same run (not a second
    one); the same key with another request is a 409."""
    keys.checked_id(schedule_id, "schedule")
    try:
        services.storage.get_json(keys.schedule_file(schedule_id, "summary.json"))
    except NotFound as error:
        raise keys.unknown("schedule", schedule_id) from error
    job = Job.model_validate(
        {
            "run_id": keys.new_id(),
            "schedule_id": schedule_id,
            "from": request.from_,
            "days": request.days,
            "seed": request.seed,
            "formats": request.formats or list(WRITERS),
        }
    )
    if idempotency_key is not None:
        job = _claim(services, job, idempotency_key)
        try:
            status = load_status(services, job.run_id)  # created by the first request with this key
        except NotFound:
            pass  # claimed, but that request stopped before saving the run: finish its work
        else:
            if status.status == "queued":
                # That request may have stopped before its job reached the queue: send it again (a job
                # delivered twice runs once).
                services.queues.send(services.settings.job_queue_url, job.message())
            return status
    status = RunStatus(
        id=job.run_id,
        schedule_id=schedule_id,
        status="queued",
        created_at=services.clock(),
        request=job.message(),
    )
    save_status(services, status)  # before the message, so the job always finds its status
    services.queues.send(services.settings.job_queue_url, job.message())
    return status


def _claim(services: Services, job: Job, idempotency_key: str) -> Job:
    """The job this key stands for: `job` if the key is new, else the one the key was first used for."""
    if not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    key = keys.run_idempotency(job.schedule_id, idempotency_key)
    try:
        services.storage.put_json(key, job.message(), only_new=True)  # conditional: one winner per key
        return job
    except ObjectExists:
        first = Job.model_validate(services.storage.get_json(key))
    if first.model_copy(update={"run_id": job.run_id}) != job:
        raise Conflict(
            f"Idempotency-Key was already used for run {first.run_id} with another request",
            code="idempotency_key_reused",
        )
    return first


def public_view(status: RunStatus) -> dict[str, Any]:
    """GET /runs/{id}: the status with each output's API URL."""
    view = status.model_dump(mode="json", exclude_none=True, exclude={"outputs"})
    view["outputs"] = {name: f"/runs/{status.id}/output/{name}" for name in status.outputs}
    return view
