"""Live channels over the ports (docs/LIVE.md): the run resolves its HLS media and builds each channel's
timeline; publishing splices it onto the published one; the live route answers polls from memory.

Run side (`build_run_live`): every distinct HLS item URI of the playout and each channel's slate is
resolved once (onair.live.media.resolve) through a fetcher by scheme (http/https: the bounded HTTP
adapter; s3: `S3Fetcher`, objects of the data bucket under `keys.LIBRARY_PREFIX` only), cached across runs
by URI and ETag (`StoredPlaylistCache`, S3 `media/{sha256 of uri}.json`). Findings go to the run report's
`live` section; each channel with something to play gets `runs/{run}/live/{channel}.json`. A schedule
without HLS items and slates costs nothing: no fetcher, no S3 call.

Publish side (`splice_published`): each channel's new timeline spliced onto the published one at the
publish instant plus `switch_margin_ms`, stored with the feed copy, before the pointer switches.

Read side (`LiveChannels`): token, pointer and timelines held in the environment's memory (the first two
for POINTER_SECONDS), s3 segment URIs presigned and reused while they have long to live.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from onair import collector, keys
from onair.errors import Finding, NotFound, Transient
from onair.live.fetch import SchemeFetcher
from onair.live.media import (
    INDEX_VERSION,
    MediaIndex,
    Resolution,
    check_duration,
    is_hls,
    library_key,
    outside_library,
    resolve,
)
from onair.live.playlist import DEFAULT_WINDOW, live_playlist, max_age, multivariant_playlist
from onair.live.timeline import LiveSlot, Timeline, build_timeline, splice
from onair.models import OnAirSchedule
from onair.playout.types import Playout, Slot
from onair.ports import BlobStore, Fetched, Fetcher, FetchError, Services
from onair.records import Published

log = logging.getLogger("onair.live")

MAX_PLAYLIST_BYTES = 8 * 1024 * 1024  # as the HTTP fetcher's max_bytes: a playlist, not a programme
RESOLVE_WORKERS = 8  # playlists fetched at once (I/O bound: a daily refresh is mostly 304s)
RESOLVE_SECONDS = 60.0  # for all of a run's media; RunFunction has 120 s for the playout, outputs, publish
MAX_REPORTED_ITEMS = 100  # items with findings listed in the run report (status.json stays small)


# --- the run: resolving media -------------------------------------------------------------------------------


class S3Fetcher:
    """The Fetcher of s3:// playlists, through the BlobStore: objects of the data bucket under the media
    library prefix only (anything else is `blocked_key`), at most `max_bytes`, conditional on the ETag (a
    HEAD, then the body only when it changed)."""

    def __init__(self, storage: BlobStore, bucket: str, max_bytes: int = MAX_PLAYLIST_BYTES) -> None:
        self.storage, self.bucket, self.max_bytes = storage, bucket, max_bytes

    def fetch(self, url: str, etag: str | None = None) -> Fetched:
        key = library_key(url, self.bucket, keys.LIBRARY_PREFIX)
        if key is None:
            raise FetchError(
                "blocked_key",
                f"{url[:200]}: s3 media must be objects of this stack's bucket ({self.bucket}) "
                f"under {keys.LIBRARY_PREFIX}",
            )
        try:
            info = self.storage.stat(key)
            if info.size > self.max_bytes:
                raise FetchError("too_large", f"{url[:200]}: {info.size} bytes, more than {self.max_bytes}")
            if etag is not None and info.etag == etag:
                return Fetched(url, None, etag)
            data, tag = self.storage.get_bytes_and_etag(key)
        except NotFound:
            raise FetchError("unreachable", f"{url[:200]}: no such object") from None
        except Transient as error:  # the media is unreadable for now: a finding, and the next run retries
            raise FetchError("unreachable", f"{url[:200]}: {error}") from error
        if len(data) > self.max_bytes:  # replaced between the HEAD and the GET
            raise FetchError("too_large", f"{url[:200]}: more than {self.max_bytes} bytes")
        return Fetched(url, data, tag)


class StoredPlaylistCache:
    """The PlaylistCache on S3 (media/{sha256 of uri}.json). A cache: an entry that cannot be read or
    written (an outage, another version's layout) only costs a download."""

    def __init__(self, storage: BlobStore) -> None:
        self.storage = storage

    def get(self, uri: str) -> dict[str, Any] | None:
        try:
            entry = self.storage.get_json(keys.media_cache(uri))
        except (NotFound, Transient, ValueError):
            return None
        if not (isinstance(entry, dict) and entry.get("v") == INDEX_VERSION and entry.get("uri") == uri):
            return None
        if not all(name in entry for name in ("etag", "url", "value")):
            return None
        return entry

    def put(self, uri: str, entry: dict[str, Any]) -> None:
        try:
            self.storage.put_json(keys.media_cache(uri), {**entry, "v": INDEX_VERSION, "uri": uri})
        except Transient as error:
            log.warning("media cache not written", extra={"uri": uri[:200], "error": str(error)})


def media_fetcher(services: Services) -> Fetcher:
    http = services.http
    return SchemeFetcher(
        {"http": http, "https": http, "s3": S3Fetcher(services.storage, services.settings.bucket)}
    )


def resolve_all(
    uris: Iterable[str],
    fetcher: Fetcher,
    cache: StoredPlaylistCache | None,
    bucket: str,
    *,
    seconds: float = RESOLVE_SECONDS,
) -> dict[str, Resolution]:
    """Each URI resolved once, several at a time, within `seconds` in all (what is left unresolved then
    is unreachable). Never raises: every problem is a finding of its URI."""
    todo = list(dict.fromkeys(uris))
    results: dict[str, Resolution] = {}
    if not todo:
        return results
    pool = ThreadPoolExecutor(min(RESOLVE_WORKERS, len(todo)), thread_name_prefix="onair-media")
    try:
        futures = {pool.submit(resolve, uri, fetcher, cache): uri for uri in todo}
        wait(futures, timeout=seconds)
        for future, uri in futures.items():
            if future.done():
                results[uri] = future.result()
            else:
                finding = Finding(
                    "unreachable", f"not resolved within the run's {seconds:g} s for media", path=uri
                )
                results[uri] = Resolution(None, [finding])
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a fetch still running ends at its own deadline
    for uri, resolution in results.items():
        if resolution.index is not None:
            blocked = outside_library(resolution.index, bucket, keys.LIBRARY_PREFIX)
            if blocked is not None:
                results[uri] = Resolution(None, [*resolution.findings, blocked])
    return results


# --- the run: timelines ---------------------------------------------------------------------------------------


def slates(schedule: OnAirSchedule) -> dict[str, str | None]:
    """Each channel's slate URI (the OnAir `<channel slate="…">` attribute)."""
    # getattr: the reader's Channel.slate arrives from another branch; until then every channel has none.
    return {channel.id: getattr(channel, "slate", None) or None for channel in schedule.channels}


def build_run_live(
    services: Services,
    run_id: str,
    schedule: OnAirSchedule,
    playout: Playout,
    *,
    slate_of: Mapping[str, str | None] | None = None,
    seconds: float = RESOLVE_SECONDS,
) -> dict[str, Any] | None:
    """Resolve the run's HLS media, store each playable channel's timeline, answer the report's `live`
    section; None (and nothing fetched or stored) when no item is HLS and no channel has a slate."""
    chosen = slates(schedule) if slate_of is None else dict(slate_of)
    slate_uris = [uri for uri in chosen.values() if uri]
    # The distinct URIs first (a set comprehension, milliseconds for a year of slots): a run without HLS
    # items and slates stops here, at no other cost.
    hls = {uri for uri in {slot.uri for slot in playout.slots} if uri and is_hls(uri)}
    if not hls and not slate_uris:
        return None
    began = time.perf_counter()
    by_channel: dict[str, list[Slot]] = {channel.id: [] for channel in schedule.channels}
    hls_items: dict[str, str] = {}  # item id -> its HLS uri
    for slot in playout.slots:
        by_channel.setdefault(slot.channel, []).append(slot)
        if slot.uri in hls and slot.item_id is not None and slot.item_id not in hls_items:
            hls_items[slot.item_id] = slot.uri
    cache = StoredPlaylistCache(services.storage)
    resolutions = resolve_all(
        [*hls_items.values(), *slate_uris], media_fetcher(services), cache, services.settings.bucket,
        seconds=seconds,
    )  # fmt: skip
    media: dict[str, MediaIndex | None] = {uri: r.index for uri, r in resolutions.items()}
    items = _item_findings(schedule, hls_items, resolutions)
    channels: dict[str, dict[str, Any]] = {}
    for channel_id, slots in by_channel.items():
        slate = chosen.get(channel_id)
        if not slate and not any(s.uri in hls for s in slots):
            continue  # nothing to play: not a live channel, and nothing to say about it
        channels[channel_id] = _channel(services, run_id, channel_id, slots, media, slate, resolutions)
    return {
        "channels": channels,
        "items": items[:MAX_REPORTED_ITEMS],
        "items_with_findings": len(items),
        "media": {
            "resolved": sum(1 for r in resolutions.values() if r.index is not None),
            "unusable": sum(1 for r in resolutions.values() if r.index is None),
        },
        "seconds": round(time.perf_counter() - began, 3),
    }


def _item_findings(
    schedule: OnAirSchedule, hls_items: Mapping[str, str], resolutions: Mapping[str, Resolution]
) -> list[dict[str, Any]]:
    durations = {item.id: item.duration for item in schedule.items}
    reported = []
    for item_id, uri in hls_items.items():
        resolution = resolutions[uri]
        findings = list(resolution.findings)
        if resolution.index is not None and item_id in durations:
            mismatch = check_duration(resolution.index, durations[item_id], item_id)
            if mismatch is not None:
                findings.append(mismatch)
        if findings:
            reported.append({"item": item_id, "uri": uri[:500], "findings": [f.to_dict() for f in findings]})
    return reported


def _channel(
    services: Services,
    run_id: str,
    channel_id: str,
    slots: list[Slot],
    media: Mapping[str, MediaIndex | None],
    slate: str | None,
    resolutions: Mapping[str, Resolution],
) -> dict[str, Any]:
    findings: list[Finding] = []
    if slate and media.get(slate) is None:
        findings += [
            Finding(f.code, f"slate: {f.message}", f.line, f.column, f.path)
            for f in resolutions[slate].findings
        ]
    try:
        timeline, built = build_timeline(channel_id, [LiveSlot.of(s) for s in slots], media, slate)
    except Exception as error:  # our bug, not the schedule's: the EPG run still succeeds, and it is said
        log.exception("live timeline not built", extra={"channel": channel_id})
        findings.append(Finding("live_failed", f"the live timeline could not be built: {error!r}"[:500]))
        return {"live": False, "slate": slate, "findings": [f.to_dict() for f in findings]}
    findings += built
    entry: dict[str, Any] = {"live": bool(timeline.pieces), "slate": slate}
    if timeline.pieces:
        services.storage.put_bytes(keys.run_live(run_id, channel_id), timeline.to_json(), "application/json")
        entry |= {
            "segments": timeline.seq_end - timeline.seq_base,
            "renditions": timeline.renditions,
            "target_duration": timeline.target,
            "start": _iso(timeline.starts[0]),
            "end": _iso(timeline.ends[-1]),
        }
    entry["findings"] = [f.to_dict() for f in findings]
    return entry


def live_channels(report: Mapping[str, Any] | None) -> list[str]:
    """The channels a run stored a live timeline for (its report's `live` section), in schedule order."""
    section = (report or {}).get("live") or {}
    return [channel for channel, entry in (section.get("channels") or {}).items() if entry.get("live")]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


# --- publishing: splicing onto the published timelines ----------------------------------------------------

# The live route keeps the token and the published pointer for POINTER_SECONDS, and API instances' clocks
# may differ by a little (Lambda's are NTP-disciplined; a few seconds is generous). Until an instance has
# read the new pointer it answers from the old timeline, so the switch to the new one must come later than
# that: splice at the publish instant plus the time to store every channel's copy, plus both allowances.
POINTER_SECONDS = 5.0
CLOCK_SKEW_SECONDS = 5.0
FIRST_WRITE_ALLOWANCE_MS = 20_000  # storing the copies of a first pass; later passes use 2x the measured


@dataclass
class Spliced:
    channels: list[str]  # the live channels of the new pointer
    at_ms: int  # the instant the timelines were spliced at
    deadline_ms: int  # the pointer must switch before this instant, or the splice is redone


def splice_published(
    services: Services,
    schedule_id: str,
    run_id: str,
    channels: list[str],
    current: Published | None,
    write_allowance_ms: int = FIRST_WRITE_ALLOWANCE_MS,
) -> Spliced:
    """For each live channel of the run: its timeline spliced onto the published one (`current`'s; none
    for a channel it does not have), stored as the feed copy schedules/{id}/feed/{run}/live/{channel}.json.
    One channel at a time, so memory holds two timelines at most."""
    now = _ms(services)
    margin = write_allowance_ms + int((POINTER_SECONDS + CLOCK_SKEW_SECONDS) * 1000)
    at_ms = now + margin
    published = set(current.live) if current is not None else set()
    for channel in channels:
        new = Timeline.from_json(services.storage.get_bytes(keys.run_live(run_id, channel)))
        old = None
        if current is not None and channel in published:
            try:
                raw = services.storage.get_bytes(keys.feed_live(schedule_id, current.run_id, channel))
                old = Timeline.from_json(raw)
            except NotFound:
                old = None  # the published copy is gone (deleted by hand): numbering starts again
            except (ValueError, KeyError, TypeError):
                log.warning(
                    "published timeline unreadable: numbering starts again", extra={"channel": channel}
                )
                old = None
        joined = splice(old, new, at_ms)
        services.storage.put_bytes(
            keys.feed_live(schedule_id, run_id, channel), joined.to_json(), "application/json"
        )
        del new, old, joined
    return Spliced(list(channels), at_ms, at_ms - int((POINTER_SECONDS + CLOCK_SKEW_SECONDS) * 1000))


def _ms(services: Services) -> int:
    return round(services.clock().timestamp() * 1000)


# --- the live route ---------------------------------------------------------------------------------------

SEGMENT_URL_SECONDS = 3600  # presigned segment GETs: S3 checks the expiry when a download starts
SEGMENT_URL_REUSE = 1800  # a cached URL is handed out while it has at least this long to live
TIMELINE_JSON_BYTES = 48 * 1024 * 1024  # the timelines kept in memory, counted by their JSON size
MAX_URLS = 100_000


class OffAir(NotFound):
    code = "off_air"


@dataclass
class _Entry:
    value: Any
    loaded: float  # monotonic


@dataclass
class LiveAnswer:
    body: str
    max_age: int


@dataclass
class LiveChannels:
    """Per execution environment: what the live route keeps between polls."""

    pointer_seconds: float = POINTER_SECONDS
    timeline_bytes: int = TIMELINE_JSON_BYTES
    monotonic: Any = time.monotonic
    _tokens: dict[str, _Entry] = field(default_factory=dict)
    _pointers: dict[str, _Entry] = field(default_factory=dict)
    _timelines: OrderedDict[tuple[str, str, str], tuple[Timeline, int]] = field(default_factory=OrderedDict)
    _timeline_size: int = 0
    _urls: OrderedDict[str, tuple[str, float]] = field(default_factory=OrderedDict)

    def clear(self) -> None:
        self._tokens.clear()
        self._pointers.clear()
        self._timelines.clear()
        self._timeline_size = 0
        self._urls.clear()

    # -- the published state, briefly cached --

    def _fresh(self, entry: _Entry | None) -> bool:
        return entry is not None and 0 <= self.monotonic() - entry.loaded < self.pointer_seconds

    def schedule_of(self, services: Services, token: str) -> str:
        from onair.usecases import schedules

        entry = self._tokens.get(token)
        if self._fresh(entry):
            return entry.value  # type: ignore[union-attr,no-any-return]
        try:
            schedule_id = schedules.schedule_of_token(services, token)
        except Transient:
            if entry is not None:
                return entry.value  # type: ignore[no-any-return]  # stale beats a 503 to a player
            raise
        self._tokens[token] = _Entry(schedule_id, self.monotonic())
        if len(self._tokens) > 10_000:
            self._tokens.pop(next(iter(self._tokens)))
        return schedule_id

    def pointer(self, services: Services, schedule_id: str) -> Published:
        from onair.usecases.feeds import published_pointer

        entry = self._pointers.get(schedule_id)
        if self._fresh(entry):
            return entry.value  # type: ignore[union-attr,no-any-return]
        try:
            pointer = published_pointer(services, schedule_id)
        except Transient:
            if entry is not None:
                return entry.value  # type: ignore[no-any-return]
            raise
        self._pointers[schedule_id] = _Entry(pointer, self.monotonic())
        if len(self._pointers) > 10_000:
            self._pointers.pop(next(iter(self._pointers)))
        return pointer

    # -- timelines, held until memory is wanted for others --

    def timeline(self, services: Services, schedule_id: str, pointer: Published, channel: str) -> Timeline:
        if channel not in pointer.live:
            raise NotFound(f"the feed has no live channel '{channel[:80]}' (it has {pointer.live[:20]})")
        cache_key = (schedule_id, pointer.run_id, channel)
        if cache_key in self._timelines:
            self._timelines.move_to_end(cache_key)
            return self._timelines[cache_key][0]
        raw = services.storage.get_bytes(keys.feed_live(schedule_id, pointer.run_id, channel))
        try:
            timeline = Timeline.from_json(raw)
        except (ValueError, KeyError, TypeError) as error:  # another version's layout: not a player's 5xx
            log.exception("live timeline unreadable", extra={"channel": channel})
            raise NotFound("the channel's live timeline cannot be read", code="live_unavailable") from error
        # The loaded objects leave the collector's scans (they live as long as the run is published):
        # without this, every collection walks a few hundred thousand of them (docs/LIVE.md).
        collector.freeze()
        self._timelines[cache_key] = (timeline, len(raw))
        self._timeline_size += len(raw)
        while self._timeline_size > self.timeline_bytes and len(self._timelines) > 1:
            _, (_, size) = self._timelines.popitem(last=False)
            self._timeline_size -= size
        return timeline

    # -- answers --

    def playlist(
        self,
        services: Services,
        token: str,
        channel: str,
        rendition: int | None = None,
        *,
        window: int = DEFAULT_WINDOW,
        rendition_uri: Any = None,
    ) -> LiveAnswer:
        """The channel's live playlist now: the multivariant playlist (rendition None, several renditions;
        `rendition_uri(r)` names each), else a media playlist. OffAir (404) outside the timeline."""
        schedule_id = self.schedule_of(services, token)
        pointer = self.pointer(services, schedule_id)
        timeline = self.timeline(services, schedule_id, pointer, channel)
        if rendition is not None and not 0 <= rendition < timeline.renditions:
            raise NotFound(
                f"the channel has {timeline.renditions} rendition(s): 0 to {timeline.renditions - 1}"
            )
        now = _ms(services)
        if not timeline.pieces or now < timeline.starts[0] or now >= timeline.ends[-1]:
            first, last = (
                (_iso(timeline.starts[0]), _iso(timeline.ends[-1])) if timeline.pieces else ("-", "-")
            )
            raise OffAir(
                f"channel '{channel[:80]}' is not on air now: its published timeline runs from {first} to "
                f"{last} (publish a run that covers now; a refresh policy does it daily)"
            )
        if rendition is None and timeline.renditions > 1:
            body = multivariant_playlist(timeline, rendition_uri)
            assert body is not None
            return LiveAnswer(body, max_age(timeline))
        uri_map = self._presigner(services)
        body = live_playlist(timeline, now, window, rendition=rendition or 0, uri_map=uri_map)
        return LiveAnswer(body, max_age(timeline))

    def _presigner(self, services: Services) -> Any:
        bucket = services.settings.bucket

        def mapped(uri: str) -> str:
            if not uri.startswith("s3://"):
                return uri
            now = self.monotonic()
            cached = self._urls.get(uri)
            if cached is not None and now - cached[1] < SEGMENT_URL_SECONDS - SEGMENT_URL_REUSE:
                return cached[0]
            key = library_key(uri, bucket, keys.LIBRARY_PREFIX)
            if key is None:  # the run refused it already (blocked_key): never presigned
                return uri
            url = services.storage.presigned_get(key, SEGMENT_URL_SECONDS)
            self._urls[uri] = (url, now)
            self._urls.move_to_end(uri)
            if len(self._urls) > MAX_URLS:
                self._urls.popitem(last=False)
            return url

        return mapped
