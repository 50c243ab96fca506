"""Properties of the playout engine and every writer, over random zones, dates, durations and block layouts.

For any OnAir schedule (DST zones, half- and quarter-hour offsets, local mean time; days biased towards
DST changes) and any range:
- each channel's slots, and every output's entries, are in instant order, never overlapping;
- inside a block every moment is on air or reported silence (an underrun), so a block's airtime is its
  length less its underruns, slots follow each other without a gap otherwise, and every run past a
  block's end or a fixed event's time is reported as an overrun;
- every written time carries the offset its zone has at that instant;
- every output reads back to the slots: guide.xml imports again (parse_schedule) as an XMLTV listing with
  the same programmes and instants, asrun.csv and playout.json parse and agree with the slots, playlist.m3u8
  and channels.m3u list the same channels and entries.
The same output checks run over imported XMLTV listings whose offsets change between programmes. The
engine's slot budget (a bounded slot count) is the engine's own tests' to check. Examples are kept small
(at most SLOTS_PER_EXAMPLE slots) so the file runs in seconds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from urllib.parse import quote
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onair.models import (
    WEEKDAYS,
    Block,
    Channel,
    FixedEvent,
    Item,
    OnAirSchedule,
    Pool,
    PoolMember,
    Rules,
    XmltvListing,
    seconds_of_day,
)
from onair.playout.engine import generate
from onair.playout.types import Playout, RunRange, Slot
from onair.readers.schedule import parse_schedule
from onair.readers.xmltv import format_time
from onair.writers import WRITERS
from onair.writers.guide import CATEGORY_WORDS
from onair.writers.m3u import render_channels_m3u
from tests import readers

# Zones that have bitten schedulers. With DST today: negative DST (Dublin), 30-minute DST (Lord Howe), a
# 2-hour shift (Troll), quarter-hour offsets (Chatham), DST on and off through Ramadan (Casablanca),
# southern-hemisphere DST (Santiago, Adelaide), half-hour offset with DST (St John's). Without: a quarter-
# hour offset (Kathmandu), +14 (Kiritimati), a skipped day (Apia, 2011-12-30), a half-hour offset that
# came and went (Caracas), DST until 2022 (Tehran), local mean time with seconds until 1972 (Monrovia).
DST_ZONES = [  # the first is where hypothesis's simplest example lives
    "Europe/London",
    "Europe/Paris",
    "Europe/Dublin",
    "America/New_York",
    "America/St_Johns",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    "Pacific/Chatham",
    "Antarctica/Troll",
    "Africa/Casablanca",
]
FIXED_ZONES = [
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "Asia/Tehran",
    "Pacific/Kiritimati",
    "Pacific/Apia",
    "America/Caracas",
    "Africa/Monrovia",
    "UTC",
]
ALL_ZONES = sorted(name for name in available_timezones() if name not in ("localtime", "posixrules"))
# The years a run request may cover (runs.RunRequest: 0001-01-02 to 9999-12-28, so every instant of a run
# lies in years 1-9999 in any zone), and the shortest item the importer accepts (1 s).
FIRST_YEAR, LAST_YEAR = 2, 9998
MIN_ITEM_MS = 1000
SLOTS_PER_EXAMPLE = 300  # durations are drawn long enough that no example places more (keeps the suite fast)
TITLES = ["News", '=HYPERLINK("https://evil.example")', "'Round Midnight", 'Ärzte, "Die"', "-1", "a\nb", "@x"]


# --- strategies -----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def offset_changes(zone: str, year: int) -> tuple[tuple[date, int], ...]:
    """Each change of `zone`'s UTC offset in `year`: (the local day, the wall-clock second of that day the
    change happens at; 7200 for 02:00 -> 03:00 or 02:00 -> 01:00)."""
    tz = ZoneInfo(zone)
    found: list[tuple[date, int]] = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(tz).utcoffset()
    while moment.year == year and moment.year <= LAST_YEAR:
        following = moment + timedelta(days=1)
        after = following.astimezone(tz).utcoffset()
        if after != offset:
            low, high = moment, following  # the offset changes in (low, high]: bisect to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if middle.astimezone(tz).utcoffset() == offset else (low, middle)
            before = (high - timedelta(seconds=1)).astimezone(tz)
            seconds = before.hour * 3600 + before.minute * 60 + before.second + 1
            if FIRST_YEAR <= before.year <= LAST_YEAR:
                found.append((before.date(), seconds))
        moment, offset = following, after
    return tuple(found)


ONE_IN_FOUR = st.integers(0, 3).map(lambda n: n == 0)


@dataclass(frozen=True)
class ZoneDay:
    zone: str
    day: date
    change: int | None  # the wall-clock second of the day the offset changes at, on a change day


@st.composite
def zone_days(draw: st.DrawFn) -> ZoneDay:
    # (an index, not sampled_from over repeated values, which hypothesis draws as if they were one)
    zones = (DST_ZONES, DST_ZONES, DST_ZONES, FIXED_ZONES, ALL_ZONES)[draw(st.integers(0, 4))]
    zone = draw(st.sampled_from(zones))
    # Zones change offsets most in the years of the tz database's rules; far years follow the last rule.
    for _ in range(3):  # a year without a change is worth less: try again, twice
        year = draw(st.integers(FIRST_YEAR, LAST_YEAR) if draw(ONE_IN_FOUR) else st.integers(1980, 2040))
        changes = offset_changes(zone, year)
        if changes:
            break
    if changes and not draw(ONE_IN_FOUR):  # three times in four: a day the offset changes
        day, change = draw(st.sampled_from(changes))
        return ZoneDay(zone, day, change)
    return ZoneDay(zone, draw(st.dates(date(year, 1, 1), date(year, 12, 31))), None)


def clock(seconds: int) -> str:
    if seconds == 86_400:
        return "24:00"
    text = f"{seconds // 3600:02}:{seconds % 3600 // 60:02}"
    return text + (f":{seconds % 60:02}" if seconds % 60 else "")


# Cut points for block layouts: every half hour, plus times with seconds near the usual DST change hours.
CUTS = sorted({n * 1800 for n in range(49)} | {3600 + 15, 5400 + 59, 7200 + 30, 9000 + 1, 10800 - 1})


@st.composite
def layouts(draw: st.DrawFn, change: int | None) -> list[tuple[int, int]]:
    """Non-overlapping [start, end) blocks of one local day, in seconds (as the importer requires); on a
    change day, most often one that spans the change, or starts or ends in it."""
    if draw(ONE_IN_FOUR):
        return [(0, 86_400)]
    points = set(draw(st.lists(st.sampled_from(CUTS), min_size=2, max_size=6, unique=True)))
    if change is not None and not draw(ONE_IN_FOUR):
        around = st.integers(-5400, 5400).map(lambda delta: min(86_400, max(0, change + delta)))
        points |= set(draw(st.lists(around, min_size=1, max_size=2)))
    # Often from midnight or to midnight: DST changes happen in the night.
    points |= {0} if draw(st.booleans()) else set()
    points |= {86_400} if draw(st.booleans()) else set()
    spans = list(pairwise(sorted(points)))
    kept = [span for span in spans if not draw(ONE_IN_FOUR)]  # now and then a gap between blocks
    return kept or spans[:1]


def durations(lo_ms: int, *, long: bool = False) -> st.SearchStrategy[float]:
    """Item durations in seconds, whole milliseconds, at least lo_ms: mostly short (many slots in a DST
    change's hour), now and then up to 3 hours (items that cross it); `long` ones from 10 minutes."""
    hi_ms = max(lo_ms * 4, 3 * 3_600_000)
    if long:
        return st.integers(max(lo_ms, 600_000), hi_ms).map(lambda value: value / 1000)
    short = st.integers(lo_ms, lo_ms * 20)
    whole_short = st.integers(-(-lo_ms // 1000), lo_ms // 50 + 60).map(lambda s: s * 1000)
    ms = st.one_of(short, whole_short, short, st.integers(lo_ms, hi_ms))
    return ms.map(lambda value: value / 1000)


@st.composite
def channel_events(draw: st.DrawFn, lo_ms: int, change: int | None) -> list[tuple[int, float]]:
    """Up to two fixed events of one channel, (seconds of day, duration), apart by wall clock as the
    importer checks. Often a pair that meets by instant all the same: the first across the day's offset
    change and the next right after it (a spring-forward change takes the gap away), or an early one and
    a late long one (which runs past midnight into the next day's early one, in a two-day run)."""
    # (an index, not sampled_from over repeated values, which hypothesis draws as if they were one)
    mode = ("across the change", "over midnight", "anywhere", "anywhere", "anywhere")[draw(st.integers(0, 4))]
    if mode == "across the change" and change is not None:
        first = max(0, min(86_399, change - draw(st.integers(0, 3600))))
        length = draw(st.integers(max(1, change - first + 1), 3 * 3600))
        following = first + length + draw(st.integers(0, 1800))
        return [(first, float(length))] + (
            [(following, draw(durations(lo_ms)))] if following < 86_400 else []
        )
    if mode == "over midnight":
        early = draw(st.integers(0, 3600))
        late = draw(st.integers(max(early + 3600, 79_200), 86_399))
        return [(early, draw(durations(lo_ms))), (late, float(draw(st.integers(86_400 - late, 4 * 3600))))]
    events: list[tuple[int, float]] = []
    reach = 0  # the wall-clock end of the one before
    for _ in range(draw(st.integers(0, 2))):
        if reach >= 86_400:
            break
        at = draw(st.integers(reach, 86_399))
        duration = draw(durations(lo_ms, long=draw(st.booleans())))
        events.append((at, duration))
        reach = at + math.ceil(duration)
    return events


# Channel ids of each kind guide_id handles: plain (gains .onair), name.domain (kept), anything else (hashed)
CHANNEL_IDS = ["c", "radio.example.", "Ünï code ", "a_b.onair."]
TEXTS = [None, 'Headlines, "live"', "Ärzte\nDie", "=1+1", "x & y < z"]


@st.composite
def channel_details(draw: st.DrawFn) -> dict[str, str | None]:
    """The optional player attributes of a channel (each present or not)."""
    maybe = functools.partial(lambda values: draw(st.sampled_from([None, *values])))
    return {
        "number": maybe(["7", "101", "7.1"]),
        "logo": maybe(["https://img.example/logo.png?a=1&b=2"]),
        "group": maybe(["Music", 'Kids, "fun"']),
        "stream": maybe(["https://live.example/s.m3u8", "udp://@239.0.0.1:1234", "rtsp://cam.example/1"]),
        "slate": maybe(["https://img.example/slate/index.m3u8"]),
    }


@st.composite
def item_details(draw: st.DrawFn) -> dict[str, object]:
    """The optional guide attributes of an item (each present or not)."""
    maybe = functools.partial(lambda values: draw(st.sampled_from([None, *values])))
    return {
        "description": maybe([text for text in TEXTS if text]),
        "season": maybe([1, 12, 99_999]),
        "episode": maybe([1, 2, 345]),
        "image": maybe(["https://img.example/i.jpg"]),
        "rating": maybe(["TV-PG", "12"]),
        "kind": maybe(["movie", "episode", "series", "news", "sports", "kids", "music", "documentary"]),
    }


@st.composite
def schedules(draw: st.DrawFn) -> tuple[OnAirSchedule, RunRange]:
    where = draw(zone_days())
    zone, first_day = where.zone, where.day
    days = draw(st.integers(1, 2))
    channels = [draw(st.sampled_from(CHANNEL_IDS)) + str(n) for n in range(draw(st.integers(1, 2)))]
    layout = {channel: draw(layouts(where.change)) for channel in channels}
    block_seconds = sum(end - start for spans in layout.values() for start, end in spans) * days
    lo_ms = max(MIN_ITEM_MS, -(-block_seconds * 1000 // SLOTS_PER_EXAMPLE))
    count = draw(st.integers(1, 6))
    items = [
        Item(
            id=f"i{n}",
            title=draw(st.sampled_from(TITLES)),
            artist=draw(st.sampled_from([None, "A", "B", "=cmd"])),
            duration=draw(durations(lo_ms)),
            uri=draw(st.sampled_from([None, f"s3://media/{n}.mp3", f"https://m.example/{n} x.mp3"])),
            **draw(item_details()),
        )
        for n in range(count)
    ]
    fillers = [Item(id=f"f{n}", title=f"Ident {n}", duration=draw(durations(lo_ms))) for n in range(2)]
    pools = [
        Pool(
            id="main",
            order=draw(st.sampled_from(["sequential", "shuffle", "random", "weighted"])),
            members=[PoolMember(item=item.id) for item in items],
        ),
        Pool(id="idents", order="random", members=[PoolMember(item=item.id) for item in fillers]),
    ]
    some_days = st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True)
    days_of = {channel: list(WEEKDAYS) if draw(st.booleans()) else draw(some_days) for channel in channels}
    blocks = [
        Block(
            channel=channel,
            days=days_of[channel],
            start=clock(start),
            end=clock(end),
            pool="main",
            filler=draw(st.sampled_from([None, "idents"])),
        )
        for channel in channels
        for start, end in layout[channel]
    ]
    events: list[FixedEvent] = []
    event_items: list[Item] = []
    for channel in channels:
        for at, duration in draw(channel_events(lo_ms, where.change)):
            item = Item(id=f"e{len(event_items)}", title="Event", duration=duration)
            event_items.append(item)
            events.append(FixedEvent(channel=channel, days=list(WEEKDAYS), time=clock(at), item=item.id))
    rules = draw(st.sampled_from([[], [Rules(artist_separation=30, max_plays_per_hour=2)]]))
    schedule = OnAirSchedule(
        timezone=zone,
        channels=[
            Channel(id=channel, name=f"Channel {channel}", **draw(channel_details())) for channel in channels
        ],
        items=items + fillers + event_items,
        pools=pools,
        rules=rules,
        blocks=blocks,
        events=events,
    )
    return schedule, RunRange(first_day, days)


# --- what the run should be, recomputed from the schedule ------------------------------------------------


def instant(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def local_instant(zone: ZoneInfo, day: date, seconds: int) -> datetime:
    """As documented: a skipped local time moves forward by the gap, a repeated one is its first occurrence
    (fold=0 does both); 24:00 is the next day's midnight."""
    local = datetime.combine(day + timedelta(days=seconds // 86_400), time(), zone)
    return instant(
        local.replace(hour=seconds % 86_400 // 3600, minute=seconds % 3600 // 60, second=seconds % 60)
    )


@dataclass(frozen=True)
class Span:
    start: datetime
    stop: datetime
    label: str = ""


def run_days(run_range: RunRange) -> list[date]:
    assert run_range.first_day is not None
    return [run_range.first_day + timedelta(days=n) for n in range(run_range.days)]


def block_spans(schedule: OnAirSchedule, run_range: RunRange, channel: str) -> list[Span]:
    zone = ZoneInfo(schedule.timezone)
    spans = []
    for day in run_days(run_range):
        for block in schedule.blocks:
            if block.channel == channel and WEEKDAYS[day.weekday()] in block.days:
                start = local_instant(zone, day, block.start_seconds)
                stop = local_instant(zone, day, block.end_seconds)
                if stop > start:  # a block inside a skipped hour is empty
                    spans.append(Span(start, stop, f"{block.start}-{block.end}"))
    return spans


def event_times(schedule: OnAirSchedule, run_range: RunRange, channel: str) -> list[tuple[datetime, str]]:
    zone = ZoneInfo(schedule.timezone)
    return sorted(
        (local_instant(zone, day, seconds_of_day(event.time)), event.item)
        for day in run_days(run_range)
        for event in schedule.events
        if event.channel == channel and WEEKDAYS[day.weekday()] in event.days
    )


def overlap(a: Span, b: Span) -> timedelta:
    return max(timedelta(0), min(a.stop, b.stop) - max(a.start, b.start))


def covered(span: Span, pieces: Iterable[Span]) -> timedelta:
    """How much of `span` the (pairwise disjoint) pieces cover."""
    return sum((overlap(span, piece) for piece in pieces), timedelta(0))


def expected_order(schedule: OnAirSchedule | XmltvListing, playout: Playout) -> list[Slot]:
    """Channels in schedule order, each channel's slots by instant."""
    order = {channel.id: index for index, channel in enumerate(schedule.channels)}
    return sorted(playout.slots, key=lambda s: (order[s.channel], instant(s.start), instant(s.stop)))


# --- the properties --------------------------------------------------------------------------------------


def check_engine(schedule: OnAirSchedule, run_range: RunRange, playout: Playout) -> None:
    ordered = expected_order(schedule, playout)
    assert playout.slots == ordered, "Playout.slots: per channel by instant, channels in schedule order"
    zone = ZoneInfo(schedule.timezone)
    for slot in ordered:  # each time in the offset its zone has at that instant
        assert slot.start.utcoffset() == readers.offset_in(zone, slot.start), slot
        assert slot.stop.utcoffset() == readers.offset_in(zone, slot.stop), slot
    errors = playout.report.fill_errors
    for channel in (c.id for c in schedule.channels):
        slots = [
            Span(instant(s.start), instant(s.stop), s.block or "") for s in ordered if s.channel == channel
        ]
        # On air: one slot at a time, each lasting
        for before, after in pairwise(slots):
            assert before.stop <= after.start, f"{channel}: {before} overlaps {after}"
        assert all(s.stop > s.start for s in slots)
        silences = [
            Span(instant(e.boundary) - timedelta(seconds=e.seconds), instant(e.boundary), e.block)
            for e in errors
            if e.channel == channel and e.kind == "underrun"
        ]
        assert all(covered(silence, slots) == timedelta(0) for silence in silences), "silence on air"
        blocks = block_spans(schedule, run_range, channel)
        # Inside a block, every moment is on air or a reported underrun: airtime = length - underruns
        for block in blocks:
            airtime, silence = covered(block, slots), covered(block, silences)
            assert airtime + silence == block.stop - block.start, (channel, block, airtime, silence)
        # Block items stay inside their block: only events run past a boundary
        for slot, original in zip(slots, (s for s in ordered if s.channel == channel), strict=True):
            if original.kind in ("block", "filler"):
                assert any(
                    b.label == slot.label and b.start <= slot.start and slot.stop <= b.stop for b in blocks
                )
        overruns = [
            (instant(e.boundary), e.seconds) for e in errors if e.channel == channel and e.kind == "overrun"
        ]
        # Whatever runs past a block's end is reported, with how far it ran
        for block in blocks:
            crossing = [s for s in slots if s.start < block.stop < s.stop]
            for slot in crossing:
                ran = max((s for b, s in overruns if b == block.stop), default=None)
                assert ran is not None and ran >= (slot.stop - block.stop).total_seconds(), (block, slot)
        # Each fixed event starts on time, or late by exactly the overrun reported at its time
        events = [s for s in ordered if s.channel == channel and s.kind == "event"]
        scheduled = event_times(schedule, run_range, channel)
        assert [s.item_id for s in events] == [item for _, item in scheduled]
        for slot, (due, _) in zip(events, scheduled, strict=True):
            late = (instant(slot.start) - due).total_seconds()
            assert late >= 0
            if late:
                assert (due, late) in overruns, (slot, due, late)


def same_offset(written: datetime, slot_time: datetime, *, xmltv: bool = False) -> None:
    """A written time carries the slot's offset (XMLTV: UTC when the offset has seconds, which +hhmm
    cannot say)."""
    expected = slot_time.utcoffset()
    assert expected is not None
    if xmltv and expected.seconds % 60:
        expected = timedelta(0)
    assert written.utcoffset() == expected, (written, slot_time)


def whole_seconds(moment: datetime) -> datetime:
    return instant(moment).replace(microsecond=0)


def inert(text: str | None) -> str:
    """The asrun.csv cell for a value (OWASP CSV-injection quoting, docs/FORMATS.md)."""
    text = text or ""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r", "'")) else text


def one_line(text: str) -> str:
    return " ".join(text.splitlines())


def half_up(seconds: float) -> int:
    return int(Decimal(repr(seconds)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def guide_ids(schedule: OnAirSchedule | XmltvListing) -> dict[str, str]:
    """Each channel's id in guide.xml and channels.m3u: an OnAir id not of the form name.domain gets one."""
    if isinstance(schedule, XmltvListing):
        return {channel.id: channel.id for channel in schedule.channels}
    return {channel.id: channel.guide_id for channel in schedule.channels}


def stop_less(slot: Slot) -> bool:
    """A listing's stop-less last programme, kept with no airtime: guide.xml writes it without a stop."""
    return slot.stop == slot.start and " stop=" not in (slot.source_xml or " stop=").split(">", 1)[0]


def check_outputs(schedule: OnAirSchedule | XmltvListing, playout: Playout) -> None:
    slots = expected_order(schedule, playout)
    written = {name: b"".join(writer(schedule, playout)) for name, (_, writer) in WRITERS.items()}
    channel_ids = [channel.id for channel in schedule.channels]
    ids = guide_ids(schedule)
    on_air = [ids[c] for c in channel_ids if any(s.channel == c for s in slots)]

    # guide.xml: the channels with programmes (under their guide ids), then the slots as programmes,
    # times cut to whole seconds
    channels, programmes = readers.guide(written["guide.xml"])
    assert channels == on_air
    assert [(p.channel, p.start_utc, p.stop_utc) for p in programmes] == [
        (ids[s.channel], whole_seconds(s.start), None if stop_less(s) else whole_seconds(s.stop))
        for s in slots
    ]
    for programme, slot in zip(programmes, slots, strict=True):
        same_offset(programme.start, slot.start, xmltv=True)
        if programme.stop is not None:
            same_offset(programme.stop, slot.stop, xmltv=True)
        if slot.item is not None:  # an OnAir item's details, as players read them
            check_details(programme.fields, slot)
    # ... and it imports again: the same programmes at the same instants, nothing overlapping
    parsed = parse_schedule(written["guide.xml"], max_bytes=64 * 1024 * 1024)
    listing = parsed.schedule
    assert isinstance(listing, XmltvListing)
    assert [c.id for c in listing.channels] == on_air
    assert [(p.channel, instant(p.start), p.stop and instant(p.stop)) for p in listing.programmes] == [
        (ids[s.channel], whole_seconds(s.start), None if stop_less(s) else whole_seconds(s.stop))
        for s in slots
    ]
    assert not [w for w in parsed.warnings if w.code in ("overlap", "duplicate")], parsed.warnings[:3]

    # asrun.csv: one record per slot, every field as the slot has it
    rows = readers.asrun(written["asrun.csv"])
    assert len(rows) == len(slots)
    for row, slot in zip(rows, slots, strict=True):
        fields = row.fields
        assert fields["channel"] == inert(slot.channel)
        assert (fields["start"], fields["end"]) == (slot.start.isoformat(), slot.stop.isoformat())
        assert (row.start_utc, row.stop_utc) == (instant(slot.start), instant(slot.stop))
        assert row.stop is not None
        same_offset(row.start, slot.start)
        same_offset(row.stop, slot.stop)
        assert float(fields["duration"]) == round(slot.seconds, 3)
        assert float(fields["duration"]) == round(
            (instant(slot.stop) - instant(slot.start)).total_seconds(), 3
        )
        for name, value in [("item_id", slot.item_id), ("title", slot.title), ("artist", slot.artist),
                            ("pool", slot.pool), ("block", slot.block)]:  # fmt: skip
            assert fields[name] == inert(value), name

    # playout.json: the slots and the report
    entries, report = readers.playout_json(written["playout.json"])
    assert report == playout.report.to_dict()
    assert len(entries) == len(slots)
    for entry, slot in zip(entries, slots, strict=True):
        assert (entry.start_utc, entry.stop_utc) == (instant(slot.start), instant(slot.stop))
        assert entry.stop is not None
        same_offset(entry.start, slot.start)
        same_offset(entry.stop, slot.stop)
        expected = {
            "channel": slot.channel,
            "start": slot.start.isoformat(),
            "stop": slot.stop.isoformat(),
            "duration": round((instant(slot.stop) - instant(slot.start)).total_seconds(), 3),
            "kind": slot.kind,
            "title": slot.title,
            "item_id": slot.item_id,
            "artist": slot.artist,
            "category": slot.category,
            "uri": slot.uri,
            "pool": slot.pool,
            "block": slot.block,
        }
        assert entry.fields == expected

    # playlist.m3u8: a group per channel, an entry per slot (media, or a comment with the start)
    assert readers.playlist_groups(written["playlist.m3u8"]) == channel_ids
    listed = readers.playlist(written["playlist.m3u8"])
    assert len(listed) == len(slots)
    for line, slot in zip(listed, slots, strict=True):
        assert line.channel == slot.channel
        if slot.uri:
            artist = f"{one_line(slot.artist)} - " if slot.artist else ""
            assert (line.seconds, line.label, line.uri) == (
                half_up(slot.seconds),
                artist + one_line(slot.title),
                slot.uri,
            )
        else:
            assert line.start is not None and line.label == one_line(slot.title)
            assert instant(line.start) == instant(slot.start)
            same_offset(line.start, slot.start)

    # channels.m3u: every channel that has a stream (its own, else the live one when there is one), under
    # its guide id, every attribute quoted and not empty, an absolute URL after each #EXTINF
    guide_url = "https://feeds.example/feeds/t0k3n/guide.xml.gz"
    header, listed_channels = readers.channels_m3u(
        render_channels_m3u(written["channels.m3u"], guide_url, live_url)
    )
    assert header == {"url-tvg": guide_url, "x-tvg-url": guide_url}
    assert [c.attributes["tvg-id"] for c in listed_channels] == [ids[c] for c in channel_ids]
    streams = {c.id: getattr(c, "stream", None) for c in schedule.channels}
    assert [c.url for c in listed_channels] == [streams[c] or live_url(c) for c in channel_ids]
    assert set(on_air) <= {c.attributes["tvg-id"] for c in listed_channels}  # each guide channel is listed
    _, without_live = readers.channels_m3u(render_channels_m3u(written["channels.m3u"], None, None))
    assert [c.attributes["tvg-id"] for c in without_live] == [ids[c] for c in channel_ids if streams[c]]
    assert sorted(n.channel for n in playout.report.notices if n.code == "no_stream") == sorted(
        c for c in channel_ids if not streams[c]
    )


def live_url(channel_id: str) -> str:
    return f"https://live.example/{quote(channel_id, safe='')}.m3u8"


def check_details(fields: dict[str, object], slot: Slot) -> None:
    item = slot.item
    assert item is not None
    assert fields["desc"] == item.description
    categories = fields["categories"]
    assert isinstance(categories, list)
    if item.kind is not None:
        assert categories[0] == CATEGORY_WORDS[item.kind]
    assert fields["icons"] == ([item.image] if item.image else [])
    assert fields["ratings"] == ([item.rating] if item.rating else [])
    episodes = fields["episodes"]
    if item.season is None and item.episode is None:
        assert episodes == {}
    else:  # xmltv_ns counts from zero, onscreen from one
        season, episode, _ = str(episodes["xmltv_ns"]).split(".")  # type: ignore[index]
        assert (season, episode) == (
            "" if item.season is None else str(item.season - 1),
            "" if item.episode is None else str(item.episode - 1),
        )
        onscreen = ("" if item.season is None else f"S{item.season:02}") + (
            "" if item.episode is None else f"E{item.episode:02}"
        )
        assert episodes["onscreen"] == onscreen  # type: ignore[index]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=schedules(), seed=st.integers(0, 2**32))
def test_playout_and_every_output_keep_instant_order_airtime_and_offsets(case, seed):
    # Given any schedule, zone and range (biased towards DST change days)
    schedule, run_range = case
    # When it is played out and every output written
    playout = generate(schedule, run_range, seed)
    # Then the engine's invariants hold, and every output reads back to the same slots
    check_engine(schedule, run_range, playout)
    check_outputs(schedule, playout)


def test_the_date_strategy_finds_each_offset_change_of_a_zone():
    # The bias towards DST days needs the days: London changes at 01:00 and 02:00 on the last Sundays of
    # March and October 2026; Lord Howe by 30 minutes at 02:00 (April) and 02:00 (October)
    assert offset_changes("Europe/London", 2026) == ((date(2026, 3, 29), 3600), (date(2026, 10, 25), 7200))
    assert offset_changes("Australia/Lord_Howe", 2026) == (
        (date(2026, 4, 5), 7200),
        (date(2026, 10, 4), 7200),
    )
    assert offset_changes("Asia/Kathmandu", 2026) == ()
    # Apia skipped 30 December 2011: the change is at the end of the 29th
    assert (date(2011, 12, 29), 86_400) in offset_changes("Pacific/Apia", 2011)


# --- XMLTV listings: the writers over an imported listing's playout --------------------------------------

LISTING_OFFSETS = ["+0000", "+0100", "+0200", "-0500", "-0330", "+0545", "+1030", "+1400", "-1200"]


@st.composite
def listings(draw: st.DrawFn) -> bytes:
    """An XMLTV document whose channels change offset between programmes (as a listing does over a DST
    change), with gaps, overlaps and missing stops the playout has to mend."""
    year = draw(st.integers(FIRST_YEAR + 1, LAST_YEAR))
    base = datetime(year, draw(st.integers(1, 12)), draw(st.integers(1, 28)), tzinfo=UTC)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<tv>']
    channels = [f"ch{n}.example" for n in range(draw(st.integers(1, 2)))]
    parts += [f'<channel id="{c}"><display-name>{c}</display-name></channel>' for c in channels]
    for channel in channels:
        at = base + timedelta(seconds=draw(st.integers(0, 86_400)))
        count = draw(st.integers(0, 12))
        for n in range(count):
            length = timedelta(seconds=draw(st.integers(1, 3 * 3600)))
            start = at.astimezone(timezone_of(draw(st.sampled_from(LISTING_OFFSETS))))
            stop = (at + length).astimezone(timezone_of(draw(st.sampled_from(LISTING_OFFSETS))))
            with_stop = n == count - 1 or draw(st.integers(0, 4)) > 0
            stop_attribute = f' stop="{format_time(stop)}"' if with_stop else ""
            title = escape(draw(st.sampled_from(TITLES)))
            parts.append(
                f'<programme start="{format_time(start)}"{stop_attribute} channel="{channel}">'
                f"<title>{title}</title></programme>"
            )
            at += length + timedelta(seconds=draw(st.integers(-600, 600)))  # overlaps and gaps
    return ("\n".join([*parts, "</tv>"]) + "\n").encode()


def timezone_of(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[3:5])))


@settings(max_examples=40, deadline=None)
@given(document=listings())
def test_every_output_of_an_xmltv_listing_keeps_instant_order_and_imports_again(document):
    # Given an imported listing whose offsets change from programme to programme
    listing = parse_schedule(document, max_bytes=10**6).schedule
    assert isinstance(listing, XmltvListing)
    # When it is played out (the whole listing) and every output written
    playout = generate(listing, RunRange(None, 1), 0)
    # Then each channel's slots are in instant order, one at a time, and every output reads back to them
    slots = expected_order(listing, playout)
    assert playout.slots == slots
    airing = [slot for slot in slots if slot.stop > slot.start]  # a zero-length slot overlaps nothing
    for before, after in pairwise(airing):
        if before.channel == after.channel:
            assert instant(before.stop) <= instant(after.start)
    check_outputs(listing, playout)
