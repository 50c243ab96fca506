"""Playout generation for both schedule formats.

XMLTV listings are normalized (sorted per channel, missing stops filled from the next start); OnAir
schedules are filled day by day from their library. Output depends only on the inputs, so a retried job
writes identical bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from onair.models import OnAirSchedule, XmltvListing


@dataclass(frozen=True)
class Slot:
    channel: str
    start: datetime
    stop: datetime
    title: str
    item_id: str | None = None
    artist: str | None = None
    source_xml: str | None = None  # the XMLTV <programme> it came from, to keep every detail in the guide


@dataclass(frozen=True)
class RunRange:
    first_day: date | None  # None: the whole listing (XMLTV only)
    days: int


def xmltv_playout(listing: XmltvListing, run_range: RunRange) -> list[Slot]:
    ordered = sorted(listing.programmes, key=lambda p: (p.channel, p.start.astimezone(UTC)))
    slots: list[Slot] = []
    for _, group in groupby(ordered, key=lambda p: p.channel):
        programmes = list(group)
        for index, programme in enumerate(programmes):
            following = programmes[index + 1].start if index + 1 < len(programmes) else None
            stop = programme.stop or following
            if stop is None:  # the last programme with no stop: nothing says when it ends
                continue
            slot = Slot(programme.channel, programme.start, stop, programme.title, source_xml=programme.xml)
            if _in_range(slot, run_range):
                slots.append(slot)
    return slots


def _in_range(slot: Slot, run_range: RunRange) -> bool:
    if run_range.first_day is None:
        return True
    start = datetime.combine(run_range.first_day, time(), slot.start.tzinfo)
    end = start + timedelta(days=run_range.days)
    return slot.start < end and slot.stop > start


def onair_playout(schedule: OnAirSchedule, run_range: RunRange) -> list[Slot]:
    """First version: each channel plays the library in order, continuously, over the range's local days."""
    zone = ZoneInfo(schedule.timezone)
    first_day = run_range.first_day or datetime.now(UTC).date()
    slots: list[Slot] = []
    if not schedule.items:
        return slots
    # Day boundaries are computed in local time and converted to UTC, so 23- and 25-hour days are right.
    begin = datetime.combine(first_day, time(), zone).astimezone(UTC)
    end = datetime.combine(first_day + timedelta(days=run_range.days), time(), zone).astimezone(UTC)
    for channel in schedule.channels:
        cursor, index = begin, 0
        while cursor < end:
            item = schedule.items[index % len(schedule.items)]
            stop = min(cursor + timedelta(seconds=item.duration), end)
            slots.append(
                Slot(
                    channel.id,
                    cursor.astimezone(zone),
                    stop.astimezone(zone),
                    item.title,
                    item.id,
                    item.artist,
                )
            )
            cursor, index = stop, index + 1
    return slots
