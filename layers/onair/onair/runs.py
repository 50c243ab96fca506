"""Run requests and their status documents (runs/{id}/status.json), shared by the API and the run job."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from onair import keys
from onair.errors import NotFound
from onair.formats.outputs import WRITERS
from onair.models import Model
from onair.services import Services

MAX_DAYS = 366


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
    return RunStatus.model_validate(services.storage.get_json(keys.run_status(run_id)))


def create_run(services: Services, schedule_id: str, request: RunRequest) -> RunStatus:
    keys.checked_id(schedule_id, "schedule")
    try:
        services.storage.get_json(keys.schedule_file(schedule_id, "summary.json"))
    except NotFound as error:
        raise NotFound(f"no schedule has the id '{schedule_id}'") from error
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


def public_view(status: RunStatus) -> dict[str, Any]:
    """GET /runs/{id}: the status with each output's API URL."""
    view = status.model_dump(mode="json", exclude_none=True, exclude={"outputs"})
    view["outputs"] = {name: f"/runs/{status.id}/output/{name}" for name in status.outputs}
    return view
