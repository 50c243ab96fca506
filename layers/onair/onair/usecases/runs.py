"""Run requests, their status documents (runs/{id}/status.json), the run list and the run outputs."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from onair import keys
from onair.errors import BadRequest, Conflict, Finding, NotFound
from onair.models import Model
from onair.playout.budget import SlotBudget, SlotFloor
from onair.ports import ObjectChanged, ObjectExists, Services
from onair.records import MAX_DAYS, Job, RunStatus, ScheduleRecord
from onair.usecases import schedules
from onair.writers import LINEUP_OUTPUT, WRITERS

log = logging.getLogger("onair.runs")

MAX_IDEMPOTENCY_KEY = 255
MAX_LIST = 100
INLINE_OUTPUT_BYTES = 1024 * 1024  # larger outputs are answered with a redirect to a presigned S3 URL
PRESIGNED_GET_SECONDS = 3600  # S3 checks a URL's expiry when the download starts: a slow one finishes
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
    publish: bool = Field(default=True, description="on success, the outputs become the schedule's feed")

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
    """Queue a run of the schedule's current version. With an Idempotency-Key, the same key and request
    give the same run (not a second one); the same key with another request is a 409."""
    record = schedules.load_record(services, schedule_id)
    if record.current.slot_floor is not None:
        _check_size(services, record.current.slot_floor, request)
    job = Job.model_validate(
        {
            "run_id": keys.new_id(),
            "schedule_id": schedule_id,
            "version": record.version,
            "from": request.from_,
            "days": request.days,
            "seed": request.seed,
            "formats": request.formats or list(WRITERS),
            "publish": request.publish,
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
        schedule_version=job.version,
        status="queued",
        created_at=services.clock(),
        request=job.message(),
    )
    for index in (
        keys.run_index(status.id, status.created_at),
        keys.run_index(status.id, status.created_at, schedule_id),
    ):
        services.storage.put_json(
            index, {"run_id": status.id}
        )  # not empty: moto's server hangs on a 0-byte PUT
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
    note_run(services, sent)
    return sent


def note_run(services: Services, status: RunStatus) -> None:
    """The schedule's record shows its latest run (a newer one is not replaced by an older one). A summary
    the run does not depend on: when other writers keep winning the record (runs of one schedule requested
    at once), the request or the job goes on without it, and the run's next note (its end) tries again."""

    def note(record: ScheduleRecord) -> ScheduleRecord:
        last = record.last_run
        if last is not None and last.id != status.id and last.created_at > status.created_at:
            return record
        return record.model_copy(update={"last_run": status.brief()})

    try:
        schedules.update_record(services, status.schedule_id, note)
    except ObjectChanged:
        log.warning("run not noted", extra={"schedule_id": status.schedule_id, "run_id": status.id})


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
    if first.model_copy(update={"run_id": job.run_id, "version": job.version}) != job:
        raise Conflict(
            f"Idempotency-Key was already used for run {first.run_id} with another request",
            code="idempotency_key_reused",
        )
    return first


def list_runs(
    services: Services, *, schedule_id: str | None = None, limit: int = 20, cursor: str | None = None
) -> tuple[list[RunStatus], str | None]:
    """Newest first; a schedule's runs, or every run."""
    if not 1 <= limit <= MAX_LIST:
        raise BadRequest(f"limit must be 1 to {MAX_LIST}", code="invalid_request")
    if schedule_id is not None:
        keys.checked_id(schedule_id, "schedule")
    prefix = keys.run_index_prefix(schedule_id)
    after = schedules.decode_cursor(cursor, prefix)
    found = services.storage.list_keys(prefix, start_after=after, limit=limit)
    runs = []
    for key in found:
        with contextlib.suppress(NotFound):  # a request that stopped before saving its status
            runs.append(load_status(services, keys.indexed_id(key)))
    return runs, schedules.encode_cursor(found[-1]) if len(found) == limit else None


@dataclass(frozen=True)
class Output:
    content_type: str
    body: bytes | None = None
    redirect: str | None = None


def get_output(services: Services, run_id: str, name: str) -> Output:
    """A run's output. channels.m3u is stored as its lineup and rendered here, always inline (a channel list
    is small), without a guide URL (a run has no feed URL of its own: the feed's channels.m3u names one)
    and without live URLs."""
    status = load_status(services, run_id)
    if name not in status.outputs:
        raise NotFound(f"run {run_id} has no output '{name[:80]}' (it has {sorted(status.outputs)})")
    key = keys.run_output(run_id, name)
    content_type = WRITERS[name][0]
    try:
        if name == LINEUP_OUTPUT:
            from onair.writers.m3u import render_channels_m3u  # lazily, as WRITERS: no writer at cold start

            return Output(content_type, body=render_channels_m3u(services.storage.get_bytes(key), None, None))
        if services.storage.stat(key).size > INLINE_OUTPUT_BYTES:
            return Output(content_type, redirect=services.storage.presigned_get(key, PRESIGNED_GET_SECONDS))
        return Output(content_type, body=services.storage.get_bytes(key))
    except NotFound as error:  # listed in the status, but the object is gone (expired, deleted by hand)
        raise NotFound(f"run {run_id}'s output '{name}' is no longer stored") from error
