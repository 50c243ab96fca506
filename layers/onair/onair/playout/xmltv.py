"""Playout of an imported XMLTV listing: the normalized guide for the run's range, every fix reported.

Per channel, programmes in start order: exact duplicates are dropped; a missing stop is the next start;
when two programmes overlap the later start wins and the earlier one's stop is clipped to it (parts of
one clump, `clumpidx`, share their slot and are left alone); gaps are reported. The range is in UTC days
(an XMLTV listing has no time zone of its own); a programme is in it when it overlaps it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from itertools import groupby

from onair.models import XmltvListing, XmltvProgramme
from onair.playout.types import Change, Playout, Report, RunRange, Slot

_CLUMP = re.compile(r"""^<programme\b[^>]*\sclumpidx=["']([^"']+)["']""")


def xmltv_playout(listing: XmltvListing, run_range: RunRange) -> Playout:
    report = Report()
    order = {channel.id: index for index, channel in enumerate(listing.channels)}
    # Aware datetimes compare as instants, without astimezone(UTC) (which overflows near years 1 and 9999).
    ordered = sorted(listing.programmes, key=lambda p: (order.get(p.channel, len(order)), p.channel, p.start))
    begin, end = _bounds(run_range)
    slots: list[Slot] = []
    for channel, group in groupby(ordered, key=lambda p: p.channel):
        for slot in _normalize(channel, list(group), report):
            if (begin is None or slot.stop > begin) and (end is None or slot.start < end):
                slots.append(slot)
    if begin is not None:
        report.changes[:] = [
            c
            for c in report.changes
            if (c.stop or c.start) > begin and (end is None or c.start < end)  # type: ignore[operator]
        ]
    return Playout(slots, report)


def _normalize(channel: str, programmes: list[XmltvProgramme], report: Report) -> list[Slot]:
    programmes, last_start = _without_endless_last(channel, programmes, report)
    following = _next_later(programmes)
    slots: list[Slot] = []
    previous: XmltvProgramme | None = None
    for index, programme in enumerate(programmes):
        if previous is not None and _same(previous, programme):
            report.changes.append(
                Change(
                    "duplicate_dropped",
                    channel,
                    programme.start,
                    programme.stop,
                    programme.title,
                    "same start, stop and title",
                )
            )
            continue
        twin = programmes[index + 1] if index + 1 < len(programmes) else None
        if (
            twin is not None
            and twin.start == programme.start
            and not _same(programme, twin)
            and not (_clump(programme) and _clump(twin))
        ):
            report.changes.append(
                Change(
                    "clipped",
                    channel,
                    programme.start,
                    programme.start,
                    programme.title,
                    f"replaced by '{twin.title}', listed later with the same start",
                )
            )
            previous = programme
            continue
        after = programmes[following[index]] if following[index] < len(programmes) else None
        stop = programme.stop
        if stop is None:
            # Every programme without a stop at the last start was dropped, so this one has a later start:
            # a kept one, or else the dropped ones' (nothing kept is clipped against those).
            stop = after.start if after is not None else last_start or programme.start
            report.changes.append(
                Change(
                    "stop_filled",
                    channel,
                    programme.start,
                    stop,
                    programme.title,
                    "stop taken from the next start",
                )
            )
        if after is not None and after.start < stop and not _same_clump(programme, after):
            report.changes.append(
                Change(
                    "clipped",
                    channel,
                    programme.start,
                    after.start,
                    programme.title,
                    f"overlapped the next programme; stop was {stop.isoformat()}",
                )
            )
            stop = after.start
        if slots and slots[-1].stop < programme.start:
            report.changes.append(
                Change(
                    "gap",
                    channel,
                    slots[-1].stop,
                    programme.start,
                    "",
                    f"{(programme.start - slots[-1].stop).total_seconds():.0f} s with nothing on air",
                )
            )
        slots.append(
            Slot(
                channel,
                programme.start,
                _in_offset_of(stop, programme.start),
                programme.title,
                source_xml=programme.xml,
            )
        )
        previous = programme
    return slots


def _without_endless_last(
    channel: str, programmes: list[XmltvProgramme], report: Report
) -> tuple[list[XmltvProgramme], datetime | None]:
    """Drop the programmes with no stop at the channel's last start (nothing says when they end) before any
    other is clipped against them; return the rest and the dropped ones' start. Only those: the programmes
    before them end at the next start, which is still known (theirs)."""
    if not programmes:
        return programmes, None
    last = programmes[-1].start
    endless = [p for p in programmes if p.stop is None and p.start == last]
    if not endless:
        return programmes, None
    for programme in endless:
        detail = "no stop and nothing after it"
        report.changes.append(
            Change("no_stop_dropped", channel, programme.start, None, programme.title, detail)
        )
    return [p for p in programmes if not (p.stop is None and p.start == last)], last


def _next_later(programmes: list[XmltvProgramme]) -> list[int]:
    """Per programme (in start order), the index of the first one starting later (len() when none):
    programmes starting at the same instant are not "next". One pass from the end."""
    following = [len(programmes)] * len(programmes)
    for index in range(len(programmes) - 2, -1, -1):
        later = index + 1
        following[index] = later if programmes[later].start > programmes[index].start else following[later]
    return following


def _in_offset_of(value: datetime, reference: datetime) -> datetime:
    """`value` in the UTC offset of `reference`, or as it is when that wall clock is past year 9999 or
    before year 1 (the instant is the same either way)."""
    try:
        return value.astimezone(reference.tzinfo)
    except OverflowError:
        return value


def _bounds(run_range: RunRange) -> tuple[datetime | None, datetime | None]:
    """The range as UTC instants; an end past datetime's last day is open (None)."""
    if run_range.first_day is None:
        return None, None
    begin = datetime.combine(run_range.first_day, time(), UTC)
    try:
        return begin, begin + timedelta(days=run_range.days)
    except OverflowError:
        return begin, None


def _same(a: XmltvProgramme, b: XmltvProgramme) -> bool:
    return a.start == b.start and a.stop == b.stop and a.title == b.title and _clump(a) == _clump(b)


def _same_clump(programme: XmltvProgramme, following: XmltvProgramme) -> bool:
    """Clump parts (clumpidx="0/2", "1/2") share one slot: the next start inside it is no overlap."""
    return (
        _clump(programme) is not None and _clump(following) is not None and following.stop == programme.stop
    )


def _clump(programme: XmltvProgramme) -> str | None:
    match = _CLUMP.match(programme.xml)
    return match.group(1) if match else None
