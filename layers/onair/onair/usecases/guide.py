"""The guide's read of a published playout: the slots of a bounded window (GET /schedules/{id}/playout),
so a browser never downloads a whole playout.json.

The playout is the published run's feed copy (schedules/{id}/feed/{run}/playout.json, found through the
feed's pointer), parsed once per execution environment and kept in memory by run (a run's files never
change), each channel's slots in time order with their answer already serialized: a window is a bisection
per channel and a join. The channels' names come from the run's lineup (channels.m3u: the schedule's names, in the
schedule's order), else the playout's channel ids.
"""

from __future__ import annotations

import json
import json.encoder
import logging
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from onair import keys
from onair.errors import BadRequest, Finding, NotFound, OnAirError
from onair.ports import Services
from onair.records import Published
from onair.usecases import schedules
from onair.usecases.feeds import published_pointer
from onair.writers.lineup import lineup_channels

log = logging.getLogger("onair.guide")

MAX_WINDOW = timedelta(hours=48)
DEFAULT_WINDOW = timedelta(hours=24)
PLAYOUT = "playout.json"
CHANNELS = "channels.m3u"
CACHE_BYTES = 192 * 1024 * 1024  # parsed playouts kept; the largest run a 1024 MB RunFunction makes is ~40 MB
SLOT_FIELDS = ("channel", "start", "stop", "title", "kind", "item_id", "artist", "category", "pool", "block")
BREAK_FIELDS = ("rule", "channel", "item_id", "at", "by")


class WindowTooLarge(OnAirError):
    """The window's answer would exceed what one HTTP answer may carry: ask for fewer hours or a channel."""

    status = 413
    code = "window_too_large"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def _instant(text: str, name: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise BadRequest(
            f"{name} must be an ISO 8601 instant with an offset (2026-06-01T00:00:00Z), not '{text[:80]}'",
            code="invalid_request",
            details=[Finding("invalid_instant", "an instant with an offset", path=name)],
        )
    return at


def window(start_text: str | None, end_text: str | None, now: datetime) -> Window:
    """The window a request names: from..to, from defaulting to now (or to - 24 h), to to from + 24 h;
    at most MAX_WINDOW long."""
    end = _instant(end_text, "to") if end_text is not None else None
    if start_text is not None:
        start = _instant(start_text, "from")
    else:
        start = now if end is None else end - DEFAULT_WINDOW
    end = end if end is not None else start + DEFAULT_WINDOW
    if end <= start:
        raise BadRequest("to must be after from", code="invalid_request",
                         details=[Finding("empty_window", "to is not after from", path="to")])  # fmt: skip
    if end - start > MAX_WINDOW:
        hours = int(MAX_WINDOW.total_seconds() // 3600)
        raise BadRequest(f"the window is at most {hours} hours (from..to)", code="invalid_request",
                         details=[Finding("window_too_long", f"at most {hours} hours", path="to")])  # fmt: skip
    return Window(start, end)


# --- the parsed playout, per run ---------------------------------------------------------------------


@dataclass
class _Channel:
    starts: list[float] = field(default_factory=list)
    stops: list[float] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)  # each slot's answer object, serialized
    longest: float = 0.0  # the longest slot: how far before a window's start a slot may begin and reach in


@dataclass
class _Playout:
    run_id: str
    timezone: str | None
    channels: list[dict[str, str]]
    by_channel: dict[str, _Channel]
    break_times: list[float]
    breaks: list[dict[str, Any]]
    size: int


def _timestamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _names(lineup: bytes) -> list[dict[str, str]]:
    """The channels of a run's channels.m3u: its lineup (onair.writers.m3u), or for a run stored before
    lineups, the M3U itself (`#EXTINF:-1 tvg-id="<id>" tvg-name="<name>",<name>`)."""
    if not lineup.startswith(b"#EXTM3U"):
        return [{"id": c["id"], "name": c["name"]} for c in lineup_channels(lineup)]
    channels = []
    for line in lineup.decode("utf-8", errors="replace").splitlines():
        if not line.startswith('#EXTINF:-1 tvg-id="'):
            continue
        channel_id, _, rest = line[len('#EXTINF:-1 tvg-id="') :].partition('" tvg-name="')
        _, _, name = rest.partition('",')
        channels.append({"id": channel_id, "name": name or channel_id})
    return channels


def _value(value: Any) -> str:
    return _string(value) if isinstance(value, str) else json.dumps(value)


_string: Any = json.encoder.encode_basestring  # C: a JSON string, not ASCII-escaped
_KEYS = tuple((name, f'"{name}":') for name in SLOT_FIELDS)


def _slot_answer(entry: dict[str, Any]) -> str:
    """The slot as the answer writes it: SLOT_FIELDS that have a value (json.dumps per slot was most of
    the parse: a day of 150 radios is 80,000 slots)."""
    return (
        "{" + ",".join(key + _value(entry[name]) for name, key in _KEYS if entry.get(name) is not None) + "}"
    )


def _parse(run_id: str, timezone: str | None, playout: bytes, m3u: bytes | None) -> _Playout:
    document = json.loads(playout)
    by_channel: dict[str, _Channel] = {}
    size = len(playout) // 4
    for entry in document.get("playout", []):
        text = _slot_answer(entry)
        start, stop = _timestamp(entry["start"]), _timestamp(entry["stop"])
        channel = by_channel.setdefault(entry["channel"], _Channel())
        channel.starts.append(start)
        channel.stops.append(stop)
        channel.slots.append(text)
        channel.longest = max(channel.longest, stop - start)
        size += len(text) + 120  # the string, two floats and the list slots
    for channel in by_channel.values():
        if any(a > b for a, b in zip(channel.starts, channel.starts[1:], strict=False)):
            order = sorted(range(len(channel.starts)), key=channel.starts.__getitem__)
            channel.starts = [channel.starts[i] for i in order]
            channel.stops = [channel.stops[i] for i in order]
            channel.slots = [channel.slots[i] for i in order]
    named = _names(m3u) if m3u is not None else []
    known = {c["id"] for c in named}
    channels = named + [{"id": c, "name": c} for c in by_channel if c not in known]
    breaks = sorted(
        (
            {name: found[name] for name in BREAK_FIELDS if name in found}
            for found in document.get("report", {}).get("rule_breaks", [])
        ),
        key=lambda found: _timestamp(found["at"]),
    )
    return _Playout(
        run_id=run_id,
        timezone=timezone,
        channels=channels,
        by_channel=by_channel,
        break_times=[_timestamp(found["at"]) for found in breaks],
        breaks=breaks,
        size=size,
    )


class _Cache:
    """Parsed playouts by run id, least recently used out first, within CACHE_BYTES (one always stays)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self._runs: OrderedDict[str, _Playout] = OrderedDict()

    def get(self, run_id: str) -> _Playout | None:
        found = self._runs.get(run_id)
        if found is not None:
            self._runs.move_to_end(run_id)
        return found

    def put(self, playout: _Playout) -> None:
        self._runs[playout.run_id] = playout
        self.size += playout.size
        while self.size > self.limit and len(self._runs) > 1:
            _, dropped = self._runs.popitem(last=False)
            self.size -= dropped.size

    def clear(self) -> None:
        self._runs.clear()
        self.size = 0


CACHE = _Cache(CACHE_BYTES)


def _timezone(services: Services, schedule_id: str, pointer: Published) -> str | None:
    record = schedules.load_record(services, schedule_id)
    if pointer.version is None or pointer.version == record.version:
        return record.current.timezone
    try:
        info = services.storage.get_json(keys.version_file(schedule_id, pointer.version, "info.json"))
    except NotFound:
        return None
    return info.get("timezone")  # type: ignore[no-any-return]


def _load(services: Services, schedule_id: str) -> _Playout:
    schedules.load_record(services, schedule_id)  # an unknown schedule is a 404 not_found, not "unpublished"
    pointer = published_pointer(services, schedule_id)
    cached = CACHE.get(pointer.run_id)
    if cached is not None:
        return cached
    if PLAYOUT not in pointer.files:
        raise NotFound(
            f"the published run {pointer.run_id} has no {PLAYOUT}: run the schedule with it to see the guide",
            code="no_playout",
        )
    storage = services.storage
    playout = storage.get_bytes(keys.feed_file(schedule_id, pointer.run_id, PLAYOUT))
    m3u = (
        storage.get_bytes(keys.feed_file(schedule_id, pointer.run_id, CHANNELS))
        if CHANNELS in pointer.files
        else None
    )
    parsed = _parse(pointer.run_id, _timezone(services, schedule_id, pointer), playout, m3u)
    CACHE.put(parsed)
    log.info("playout of run %s parsed: %d channels", pointer.run_id, len(parsed.by_channel))
    return parsed


# --- the window ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuideWindow:
    run_id: str
    timezone: str | None
    channels: list[dict[str, str]]
    slots: list[str]  # each slot's answer (SLOT_FIELDS with a value), serialized: channel order, then time
    rule_breaks: list[dict[str, Any]]


def playout_window(
    services: Services, schedule_id: str, span: Window, channel: str | None = None
) -> GuideWindow:
    """The slots of the published playout that overlap `span` (start < span.end and stop > span.start),
    and the rule breaks in it; only `channel`'s with one."""
    playout = _load(services, schedule_id)
    channels = playout.channels
    if channel is not None:
        channels = [c for c in channels if c["id"] == channel]
        if not channels:
            raise NotFound(f"the published playout has no channel '{channel[:80]}'")
    start, end = span.start.timestamp(), span.end.timestamp()
    slots: list[str] = []
    for info in channels:
        found = playout.by_channel.get(info["id"])
        if found is None:
            continue
        first = bisect_right(found.starts, start - found.longest)
        last = bisect_left(found.starts, end)
        slots.extend(found.slots[i] for i in range(first, last) if found.stops[i] > start)
    lo, hi = bisect_left(playout.break_times, start), bisect_left(playout.break_times, end)
    breaks = [b for b in playout.breaks[lo:hi] if channel is None or b["channel"] == channel]
    return GuideWindow(playout.run_id, playout.timezone, channels, slots, breaks)
