"""Run requests and their status documents (runs/{id}/status.json), shared by the API and the run job."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from onair import keys
from onair.adapters.s3 import ObjectChanged, ObjectExists
from onair.errors import BadRequest, Conflict, Finding, NotFound
from onair.models import Model
from onair.playout.budget import SlotBudget, SlotFloor
from onair.services import Services
from onair.writers import WRITERS

MAX_DAYS = 366
MAX_IDEMPOTENCY_KEY = 255
# A day's margin inside years 1-9999 on each side: every instant of a run (its last day's midnight, an
# event of up to 24 h that starts then, in any zone's offset, in UTC too) stays a date Python can hold.
FIRST_RUN_DAY = date(1, 1, 2)
LAST_RUN_DAY = date(9999, 12, 28)


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

    @model_validator(mode="after")
    def within_the_calendar(self) -> RunRequest:
        # Ordinals, not date arithmetic: 9999-12-31 plus a day would raise OverflowError, not ValueError.
        if self.from_ is not None and not (
            FIRST_RUN_DAY.toordinal() <= self.from_.toordinal()
            and self.from_.toordinal() + self.days - 1 <= LAST_RUN_DAY.toordinal()
        ):
            raise ValueError(
                f"the run's days must lie between {FIRST_RUN_DAY.isoformat()} and {LAST_RUN_DAY.isoformat()}"
            )
        return self


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
    sent_at: datetime | None = None  # the job message was sent: a repeated request sends nothing
    lease_until: datetime | None = None  # running: when the delivery running it ends, at the latest


# Every change of a status after its creation is a conditional write on the ETag it was read with, so two
# writers never both move a run on (two deliveries both starting it, a late one undoing "succeeded").
def save_status(
    services: Services, status: RunStatus, *, only_new: bool = False, if_match: str | None = None
) -> str:
    """Write the status; answers its new ETag. Raises ObjectExists / ObjectChanged when the condition fails."""
    document = status.model_dump(mode="json", exclude_none=True)
    return services.storage.put_json(
        keys.run_status(status.id), document, only_new=only_new, if_match=if_match
    )


def load_status(services: Services, run_id: str) -> RunStatus:
    return load_status_and_etag(services, run_id)[0]


def load_status_and_etag(services: Services, run_id: str) -> tuple[RunStatus, str]:
    keys.checked_id(run_id, "run")
    try:
        document, etag = services.storage.get_json_and_etag(keys.run_status(run_id))
    except NotFound as error:
        raise keys.unknown("run", run_id) from error
    return RunStatus.model_validate(document), etag


def create_run(
    services: Services, schedule_id: str, request: RunRequest, idempotency_key: str | None = None
) -> RunStatus:
    """Queue a run. With an Idempotency-Key, the same key and request give the same run (not a second
    one); the same key with another request is a 409."""
    keys.checked_id(schedule_id, "schedule")
    try:
        summary = services.storage.get_json(keys.schedule_file(schedule_id, "summary.json"))
    except NotFound as error:
        raise keys.unknown("schedule", schedule_id) from error
    if "slot_floor" in summary:  # OnAir schedules imported since the floor exists
        _check_size(services, SlotFloor.model_validate(summary["slot_floor"]), request)
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
            status, etag = load_status_and_etag(services, job.run_id)  # made by the key's first request
        except NotFound:
            pass  # claimed, but that request stopped before saving the run: finish its work
        else:
            if status.status == "queued" and status.sent_at is None:
                return _send(services, job, status, etag)  # that request stopped before sending the job
            return status  # the job was sent: answer the run, queue nothing
    status = RunStatus(
        id=job.run_id,
        schedule_id=schedule_id,
        status="queued",
        created_at=services.clock(),
        request=job.message(),
    )
    try:
        # before the message, so the job always finds its status
        etag = save_status(services, status, only_new=True)
    except ObjectExists:
        # A concurrent request with this key saved it, or our own write landed and the SDK's retry of it
        # was refused: send unless that is recorded as done (a job sent twice runs once).
        status, etag = load_status_and_etag(services, job.run_id)
        if status.status != "queued" or status.sent_at is not None:
            return status
    return _send(services, job, status, etag)


def _check_size(services: Services, floor: SlotFloor, request: RunRequest) -> None:
    """Refuse a run certain to pass its slot budget: its floor exceeds the largest budget any run gets.
    (The engine enforces the exact budget while generating; this only answers sooner, and never wrongly.)"""
    budget = SlotBudget.of(services.settings.run_memory_mb)
    if request.from_ is not None:
        least = floor.slots(request.from_, request.days)
    else:  # today in the schedule's zone, when the job runs: today or, past midnight, tomorrow
        today = services.clock().astimezone(ZoneInfo(floor.timezone)).date()
        least = min(floor.slots(day, request.days) for day in (today, today + timedelta(days=1)))
    if least > budget.slots:
        raise budget.exceeded(at_least=least)


def _send(services: Services, job: Job, status: RunStatus, etag: str) -> RunStatus:
    """Queue the job, then record that it was sent, so that repeats of the request send nothing more."""
    services.queues.send(services.settings.job_queue_url, job.message())
    sent = status.model_copy(update={"sent_at": services.clock()})
    with contextlib.suppress(ObjectChanged):  # a delivery of the job moved the run on: it was received
        save_status(services, sent, if_match=etag)
    return sent


def _claim(services: Services, job: Job, idempotency_key: str) -> Job:
    """The job this key stands for: `job` if the key is new, else the one the key was first used for."""
    if not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        message = f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters, not {len(idempotency_key)}"
        raise BadRequest(
            message,
            code="invalid_request",
            details=[Finding("idempotency_key", message, path="header Idempotency-Key")],
        )
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
    view = status.model_dump(mode="json", exclude_none=True, exclude={"outputs", "sent_at", "lease_until"})
    view["outputs"] = {name: f"/runs/{status.id}/output/{name}" for name in status.outputs}
    return view
