"""The documents the use cases store (docs/ARCHITECTURE.md#s3-layout), as pydantic models: what is in S3
is validated on the way in and out, and one definition serves the API answers built from them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from onair.models import LocalTime, Model
from onair.playout.budget import SlotFloor

MAX_DAYS = 366
MAX_REFRESH_DAYS = 31
Format = Literal["xmltv", "onair"]
RunState = Literal["queued", "running", "succeeded", "failed"]


class RefreshPolicy(Model):
    """Each day after `at` (the schedule's local time; UTC for XMLTV listings), one published run of the
    next `days` days is queued."""

    days: int = Field(ge=1, le=MAX_REFRESH_DAYS)
    at: Annotated[LocalTime, Field(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")]


class VersionInfo(Model):
    """schedules/{id}/versions/{n}/info.json: what one import of the schedule's document gave."""

    version: int = Field(ge=1)
    created_at: datetime
    format: Format
    source_bytes: int
    channels: int
    programmes: int | None = None
    items: int | None = None
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    timezone: str | None = None  # OnAir schedules: the zone their times are in
    slot_floor: SlotFloor | None = None  # OnAir: what the API needs to refuse a run too large, early


class RunBrief(Model):
    id: str
    status: RunState
    created_at: datetime
    finished_at: datetime | None = None


class FeedFile(Model):
    etag: str
    bytes: int


class Published(Model):
    """schedules/{id}/published.json, the feed's pointer: written last when a published run succeeds, so
    a reader sees one run's outputs or the next one's, never a mix."""

    run_id: str
    run_created_at: datetime  # a run requested earlier never replaces a later one that published first
    version: int | None
    published_at: datetime
    files: dict[str, FeedFile]  # stored name (onair.writers.OUTPUTS' stored_as) -> the feed's copy
    previous_run_id: str | None = None  # the run it replaced: its copies stay while a reader may need them
    # Channels with a live timeline (schedules/{id}/feed/{run}/live/{channel}.json), in schedule order
    live: list[str] = Field(default_factory=list)


class ScheduleRecord(Model):
    """schedules/{id}/record.json: written last on every change, so a schedule exists once it does."""

    id: str
    created_at: datetime
    updated_at: datetime
    version: int = Field(ge=1)
    current: VersionInfo
    feed_token: str
    refresh: RefreshPolicy | None = None
    published: Published | None = None
    last_run: RunBrief | None = None


class Job(Model):
    """The JobQueue message: everything a run needs, fixed when the run was requested (so retries agree)."""

    run_id: str
    schedule_id: str
    version: int | None = None  # the schedule version the run reads (None: jobs queued before versions)
    from_: date | None = Field(default=None, alias="from")
    days: int = Field(ge=1, le=MAX_DAYS)
    seed: int
    formats: list[str]
    publish: bool = False

    def message(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class RunStatus(Model):
    """runs/{id}/status.json."""

    id: str
    schedule_id: str
    schedule_version: int | None = None
    status: RunState
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    request: dict[str, Any]
    outputs: list[str] = Field(default_factory=list)
    # Each stored output's feed ETag and size, taken as it was written, and guide.xml.gz's (made as the guide
    # was written) for a run to publish: publishing copies them within the bucket. Empty in older statuses.
    files: dict[str, FeedFile] = Field(default_factory=dict)
    report: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    published: bool = False  # its outputs became the schedule's feed
    sent_at: datetime | None = None  # the job message was sent: a repeated request sends nothing
    lease_until: datetime | None = None  # running: when the delivery running it ends, at the latest

    def brief(self) -> RunBrief:
        return RunBrief(
            id=self.id, status=self.status, created_at=self.created_at, finished_at=self.finished_at
        )
