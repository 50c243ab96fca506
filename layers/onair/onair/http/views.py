"""Stored records as the API's answers."""

from __future__ import annotations

from onair.http.answer import ErrorDetail
from onair.http.models import Feed, PublishedView, RunView, ScheduleView, VersionView
from onair.records import RunStatus, ScheduleRecord, VersionInfo
from onair.usecases.feeds import feed_urls, live_urls


def schedule(record: ScheduleRecord) -> ScheduleView:
    current = record.current
    published = record.published
    return ScheduleView(
        id=record.id,
        format=current.format,
        version=record.version,
        created_at=record.created_at,
        updated_at=record.updated_at,
        source_bytes=current.source_bytes,
        channels=current.channels,
        programmes=current.programmes,
        items=current.items,
        timezone=current.timezone,
        warnings=[ErrorDetail.model_validate(warning) for warning in current.warnings],
        feed=Feed(token=record.feed_token, urls=feed_urls(record), live=live_urls(record) or None),
        refresh=record.refresh,
        published=None
        if published is None
        else PublishedView(
            run_id=published.run_id, version=published.version, published_at=published.published_at
        ),
        last_run=record.last_run,
    )


def version(info: VersionInfo) -> VersionView:
    return VersionView(
        version=info.version,
        created_at=info.created_at,
        format=info.format,
        source_bytes=info.source_bytes,
        channels=info.channels,
        programmes=info.programmes,
        items=info.items,
        warnings=len(info.warnings),
    )


def run(status: RunStatus) -> RunView:
    """GET /runs/{id}: the status with each output's API URL."""
    document = status.model_dump(
        mode="json", exclude_none=True, exclude={"outputs", "files", "sent_at", "lease_until"}
    )
    document["outputs"] = {name: f"/runs/{status.id}/output/{name}" for name in status.outputs}
    return RunView.model_validate(document)
