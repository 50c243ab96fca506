"""The API's answers: the routes return these, Powertools validates them and documents them in the OpenAPI
document (docs/openapi.json), so the two cannot drift apart. Extra fields are refused, not passed on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from onair.http.answer import Answer, ErrorDetail, ErrorInfo
from onair.records import RefreshPolicy, RunBrief, RunState


class Health(Answer):
    status: Literal["ok"]


class Feed(Answer):
    token: str = Field(description="the feed's credential: anyone with it can read the feed")
    urls: dict[str, str] = Field(description="file name -> its path under the API's URL")
    live: dict[str, str] | None = Field(
        default=None, description="published live channels: channel id -> its HLS playlist's path"
    )


class PublishedView(Answer):
    run_id: str
    version: int | None = None
    published_at: datetime


class ScheduleView(Answer):
    id: str
    format: Literal["xmltv", "onair"]
    version: int = Field(description="the current version (also the ETag, quoted)")
    created_at: datetime
    updated_at: datetime
    source_bytes: int = Field(description="size of the current version's document after gunzip")
    channels: int
    programmes: int | None = Field(default=None, description="XMLTV listings")
    items: int | None = Field(default=None, description="OnAir schedules: library items")
    timezone: str | None = Field(default=None, description="OnAir schedules: the zone of their times")
    warnings: list[ErrorDetail] = Field(description="findings that did not stop the import (lenient mode)")
    feed: Feed
    refresh: RefreshPolicy | None = None
    published: PublishedView | None = None
    last_run: RunBrief | None = None


class ScheduleList(Answer):
    items: list[ScheduleView]
    next_cursor: str | None = Field(
        default=None, description="pass as ?cursor= for the next page; absent on the last"
    )


class VersionView(Answer):
    version: int
    created_at: datetime
    format: Literal["xmltv", "onair"]
    source_bytes: int
    channels: int
    programmes: int | None = None
    items: int | None = None
    warnings: int = Field(description="how many findings the import listed")


class VersionList(Answer):
    items: list[VersionView]


class SourceExcerpt(Answer):
    first_line: int = Field(description="the number of the first line in `lines`")
    lines: list[str]


class RunAccepted(Answer):
    id: str
    status: RunState = Field(
        description="queued; a repeated Idempotency-Key answers its run's current status"
    )


class RunView(Answer):
    id: str
    schedule_id: str
    schedule_version: int | None = None
    status: RunState
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    request: dict[str, Any] = Field(
        description="the run request as queued: from, days, seed, formats, publish"
    )
    outputs: dict[str, str] = Field(description="output name -> its API path")
    report: dict[str, Any] | None = Field(default=None, description="counts, rule breaks, fill errors")
    error: ErrorInfo | None = None
    attempts: int = 0
    published: bool = Field(default=False, description="its outputs became the schedule's feed")


class RunList(Answer):
    items: list[RunView]
    next_cursor: str | None = None


class UploadGrant(Answer):
    id: str
    url: str = Field(description="presigned S3 URL: PUT the document there")
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="send exactly these headers with the PUT (they are signed)")
    expires_at: datetime


class UploadedObject(Answer):
    etag: str | None = Field(default=None, description="hex MD5 of the bytes (S3's ETag for the PUT)")
    bytes: int | None = None


class LaterPut(UploadedObject):
    at: str | None = Field(default=None, description="when S3 reported the PUT")


class UploadStatus(Answer):
    id: str
    status: Literal["pending", "imported", "rejected"]
    strict: bool = False
    schedule_id: str | None = None
    error: ErrorInfo | None = None
    object: UploadedObject | None = Field(
        default=None, description="the object that was imported or rejected"
    )
    later_puts: list[LaterPut] = Field(
        default_factory=list,
        description="objects PUT to the URL after the upload was imported or rejected: not imported (the "
        "last 10). The URL stays valid until it expires; request a new upload for another document.",
    )


class QueueDepth(Answer):
    visible: int
    in_flight: int
    delayed: int


class DeadLetters(Answer):
    jobs: int
    imports: int


class QueueStats(Answer):
    jobs: QueueDepth
    imports: QueueDepth
    dead_letters: DeadLetters
    run_concurrency_limit: int


class PlayoutChannel(Answer):
    id: str
    name: str = Field(description="the schedule's name for it (its id when the run has no channels.m3u)")


class PlayoutSlot(Answer):
    channel: str
    start: datetime = Field(description="with the schedule's offset at that instant")
    stop: datetime
    title: str
    kind: Literal["programme", "event", "block", "filler"]
    item_id: str | None = None
    artist: str | None = None
    category: str | None = None
    pool: str | None = None
    block: str | None = Field(default=None, description="the block it fills, HH:MM-HH:MM")


class PlayoutRuleBreak(Answer):
    rule: str = Field(description="artist_separation, title_separation, max_plays_per_hour or _per_day")
    channel: str
    item_id: str
    at: datetime
    by: float = Field(description="seconds short of a separation; plays over a cap")


class PlayoutWindow(Answer):
    run_id: str = Field(description="the published run")
    timezone: str | None = Field(default=None, description="OnAir schedules: the zone of their times")
    channels: list[PlayoutChannel] = Field(description="in the schedule's order")
    slots: list[PlayoutSlot] = Field(description="those on air in the window: per channel, in time order")
    rule_breaks: list[PlayoutRuleBreak] = Field(description="the rule breaks in the window")


class OidcClient(Answer):
    issuer: str = Field(description="the token issuer (JwtIssuer); its discovery names the endpoints")
    client_id: str = Field(description="the console's public client (the first of JwtAudience)")
    scope: str = "openid"


class ConsoleConfig(Answer):
    """GET /console/config.json: what the console needs before its first API call."""

    max_import_bytes: int = Field(description="larger documents go through POST /uploads")
    max_upload_bytes: int
    auth: Literal["iam", "jwt", "none"] = Field(description="the API's AuthMode")
    formats: list[str] = Field(description="the outputs a run can write")
    oidc: OidcClient | None = Field(default=None, description="AuthMode jwt: how to sign in")
