"""Published feeds: a succeeded published run becomes its schedule's feed, and the feed routes answer
from it at stable URLs (/feeds/{token}/{name}).

Publishing copies the run's outputs under the schedule (schedules/{id}/feed/{run}/…, so the feed outlives
the run's own expiry and goes with the schedule), splices each live channel's timeline onto the published
one (…/feed/{run}/live/{channel}.json, onair.usecases.live), then switches one pointer (published.json),
last: a reader gets every file of one run or of the next, never a mix. A run requested earlier never
replaces one requested later that published first, and a failed run never publishes.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from onair import keys
from onair.errors import NotFound
from onair.ports import ConditionFailed, Services
from onair.records import FeedFile, Published, RunStatus, ScheduleRecord
from onair.usecases import schedules
from onair.usecases.runs import load_status, load_status_and_etag, save_status
from onair.writers import WRITERS

log = logging.getLogger("onair.feeds")

GUIDE_GZ = "guide.xml.gz"
POINTER_TRIES = 5


def feed_names(outputs: list[str]) -> list[str]:
    """What a feed serves: the run's outputs, and guide.xml gzipped (Jellyfin knows gzip by the name)."""
    return [*outputs, GUIDE_GZ] if "guide.xml" in outputs else list(outputs)


def store_output(
    services: Services, run_id: str, name: str, chunks: Iterable[bytes], *, to_publish: bool
) -> dict[str, FeedFile]:
    """Store one of a run's outputs as its writer yields it. Answers the feed files it makes (their ETags
    and sizes, taken as the bytes pass): the output, and, for a guide the run will publish, guide.xml.gz,
    packed as the guide is written and stored beside it."""
    output = _Fingerprint()
    chunks = output.passing(chunks)
    packed: list[bytes] = []
    if to_publish and name == "guide.xml":
        chunks = _gzipped(chunks, packed)
    services.storage.put_chunks(keys.run_output(run_id, name), chunks, WRITERS[name][0])
    files = {name: output.file()}
    if packed:
        gz = _Fingerprint()
        services.storage.put_chunks(keys.run_output(run_id, GUIDE_GZ), gz.passing(packed), "application/gzip")
        files[GUIDE_GZ] = gz.file()
    return files


def publish(services: Services, status: RunStatus) -> RunStatus:
    """Make a succeeded run's outputs its schedule's feed. Safe to repeat (a redelivered job)."""
    # Imported here: live (HLS, media) is the run's and the feed routes' (both import it at cold start);
    # ApiFunction needs only this module's URLs and pointer, and ~30 ms less of its cold start.
    from onair.usecases import live

    storage = services.storage
    schedule_id, run_id = status.schedule_id, status.id
    files = dict(status.files)
    if not files or ("guide.xml" in status.outputs and GUIDE_GZ not in files):
        # a status stored before runs recorded their files: take them from the outputs (stored again)
        for name in status.outputs:
            data = storage.get_bytes(keys.run_output(run_id, name))
            files |= store_output(services, run_id, name, [data], to_publish=True)
    for name in feed_names(status.outputs):  # within the bucket: no byte of them passes through here
        storage.copy(keys.run_output(run_id, name), keys.feed_file(schedule_id, run_id, name))
    pointer = Published(
        run_id=run_id,
        run_created_at=status.created_at,
        version=status.schedule_version,
        published_at=services.clock(),
        files=files,
    )
    switched = _switch(services, schedule_id, pointer, live.live_channels(status.report))
    if switched is None:  # a later run is the feed, or the schedule is gone
        if not _still_read(services, schedule_id, run_id):  # (a repeat may find its run the previous feed)
            storage.delete_prefix(keys.feed_run_prefix(schedule_id, run_id))
        return status
    published = schedules.update_record(
        services, schedule_id, lambda r: r.model_copy(update={"published": switched})
    )
    if published is None:
        # deleted after the pointer was written: take back what this run wrote under no schedule
        storage.delete(keys.published(schedule_id))
        storage.delete_prefix(keys.feed_run_prefix(schedule_id, run_id))
        return status
    _drop_old_files(services, schedule_id)
    return _mark_published(services, run_id)


class _Fingerprint:
    """A feed file's ETag and size, taken as its bytes pass on their way to storage. Our own ETag (a hash
    of the bytes), not S3's: the same in every region, for every copy and upload mode."""

    def __init__(self) -> None:
        self._sha256, self._size = hashlib.sha256(), 0

    def passing(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._sha256.update(chunk)
            self._size += len(chunk)
            yield chunk

    def file(self) -> FeedFile:
        return FeedFile(etag=f'"{self._sha256.hexdigest()[:32]}"', bytes=self._size)


# zlib's default: on the 50 MiB listing's guide (48 MiB) 0.75 s and 6.6 MiB, level 9 1.03 s and 6.5 MiB
GZIP_LEVEL = 6


def _gzipped(chunks: Iterable[bytes], packed: list[bytes]) -> Iterator[bytes]:
    """`chunks` as they are; their gzip added to `packed` as they pass. zlib's gzip header has no time
    and no name: the same guide gives the same bytes, and ETag."""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for chunk in chunks:
        packed.append(packer.compress(chunk))
        yield chunk
    packed.append(packer.flush())


def _switch(
    services: Services, schedule_id: str, pointer: Published, channels: list[str]
) -> Published | None:
    """Point the feed at `pointer`'s run unless a later run is published; compare-and-swap, retried. The
    pointer written (with its live channels and the run it replaced), or None when it was not.

    Live channels are spliced onto the timelines of the pointer this write replaces, so each try splices
    again; and again when storing the copies took so long that an API instance could still be answering
    from the old timelines at the splice's instant (live.splice_published's deadline)."""
    from onair.usecases import live  # see publish()

    key = keys.published(schedule_id)
    allowance = live.FIRST_WRITE_ALLOWANCE_MS
    for _ in range(POINTER_TRIES):
        try:
            schedules.load_record(services, schedule_id)
        except NotFound:
            return None  # deleted meanwhile: no feed to switch
        try:
            current_doc, etag = services.storage.get_json_and_etag(key)
            current: Published | None = Published.model_validate(current_doc)
        except NotFound:
            current, etag = None, None
        if current is not None and current.run_created_at > pointer.run_created_at:
            return None  # a run requested later is published already
        if current is not None and current.run_id == pointer.run_id:
            return current
        began = services.clock()
        spliced = live.splice_published(services, schedule_id, pointer.run_id, channels, current, allowance)
        took_ms = round((services.clock() - began).total_seconds() * 1000)
        if channels and round(services.clock().timestamp() * 1000) >= spliced.deadline_ms:
            allowance = 2 * took_ms  # too slow for the margin: splice again, with room for what it takes
            continue
        previous = current.run_id if current is not None else None
        final = pointer.model_copy(update={"live": spliced.channels, "previous_run_id": previous})
        document = final.model_dump(mode="json", exclude_none=True)
        try:
            services.storage.put_json(key, document, only_new=etag is None, if_match=etag)
            return final
        except ConditionFailed:
            continue
    return None


def _still_read(services: Services, schedule_id: str, run_id: str) -> bool:
    try:
        pointer = Published.model_validate(services.storage.get_json(keys.published(schedule_id)))
    except NotFound:
        return False
    return run_id in (pointer.run_id, pointer.previous_run_id)


def _drop_old_files(services: Services, schedule_id: str) -> None:
    """Every feed copy goes but the current pointer's run's and the one's it replaced (a reader may be
    midway through those), and those of runs requested after it (publishing now: one may become the feed).
    By the pointer read now, not the one this run wrote: a later run may have switched the feed since, and
    its copies are the feed's. By the pointer, not by S3 time: a late earlier run must not outlast the
    feed before it."""
    try:
        current = Published.model_validate(services.storage.get_json(keys.published(schedule_id)))
    except NotFound:
        return  # the schedule was deleted meanwhile, and its files with it
    keep = {current.run_id, current.previous_run_id}
    prefix = keys.feed_prefix(schedule_id)
    runs = {key[len(prefix) :].split("/", 1)[0] for key in services.storage.list_keys(prefix)}
    for old in sorted(runs - keep):
        if _requested_before(services, old, current.run_created_at):
            services.storage.delete_prefix(keys.feed_run_prefix(schedule_id, old))


def _requested_before(services: Services, run_id: str, instant: datetime) -> bool:
    try:
        return load_status(services, run_id).created_at < instant
    except NotFound:
        return True  # a run deleted with its status: nothing will read its copies


def _mark_published(services: Services, run_id: str) -> RunStatus:
    for _ in range(POINTER_TRIES):
        status, etag = load_status_and_etag(services, run_id)
        if status.published:
            return status
        published = status.model_copy(update={"published": True})
        try:
            save_status(services, published, if_match=etag)
            return published
        except ConditionFailed:
            continue
    return status


# --- reads ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedFileAnswer:
    schedule_id: str
    run_id: str
    name: str
    content_type: str
    etag: str
    size: int
    last_modified: datetime
    key: str
    live: tuple[str, ...] = ()  # the pointer's live channels (channels.m3u lists their URLs)


def published_pointer(services: Services, schedule_id: str) -> Published:
    try:
        return Published.model_validate(services.storage.get_json(keys.published(schedule_id)))
    except NotFound as error:
        raise NotFound("the feed has no published run yet", code="not_published") from error


def feed_file(services: Services, token: str, name: str) -> FeedFileAnswer:
    """Where a feed's file is and what identifies it (ETag, time), without reading it: a conditional
    request is answered from this alone."""
    schedule_id = schedules.schedule_of_token(services, token)
    pointer = published_pointer(services, schedule_id)
    stored = pointer.files.get(name)
    if stored is None:
        raise NotFound(f"the feed has no '{name[:80]}' (it has {sorted(pointer.files)})")
    content_type = "application/gzip" if name == GUIDE_GZ else WRITERS[name][0]
    return FeedFileAnswer(
        schedule_id=schedule_id,
        run_id=pointer.run_id,
        name=name,
        content_type=content_type,
        etag=stored.etag,
        size=stored.bytes,
        last_modified=pointer.published_at,
        key=keys.feed_file(schedule_id, pointer.run_id, name),
        live=tuple(pointer.live),
    )


def feed_urls(record: ScheduleRecord) -> dict[str, str]:
    """The feed's paths (relative to the API's URL), for every file a full run publishes."""
    return {name: f"/feeds/{record.feed_token}/{name}" for name in feed_names(list(WRITERS))}


def live_path(token: str, channel_id: str) -> str:
    """A live channel's playlist path (relative to the API's URL)."""
    return f"/feeds/{token}/live/{keys.channel_name(channel_id)}.m3u8"


def live_urls(record: ScheduleRecord) -> dict[str, str]:
    """The published live channels' playlist paths, by channel id."""
    channels = record.published.live if record.published is not None else []
    return {channel: live_path(record.feed_token, channel) for channel in channels}
