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
    ordered = sorted(
        listing.programmes,
        key=lambda p: (order.get(p.channel, len(order)), p.channel, p.start.astimezone(UTC)),
    )
    begin, end = _bounds(run_range)
    slots: list[Slot] = []
    for channel, group in groupby(ordered, key=lambda p: p.channel):
        for slot in _normalize(channel, list(group), report):
            if (begin is None or slot.stop > begin) and (end is None or slot.start < end):
                slots.append(slot)
    if begin is not None:
        report.changes[:] = [c for c in report.changes if (c.stop or c.start) > begin and c.start < end]  # type: ignore[operator]
    return Playout(slots, report)


def _normalize(channel: str, programmes: list[XmltvProgramme], report: Report) -> list[Slot]:
    programmes = _without_endless_last(channel, programmes, report)
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
        following = _next_start(programmes, index)
        stop = programme.stop
        if stop is None:
            # Never the last of its channel (_without_endless_last), so `following` is its end.
            stop = following or programme.start
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
        if following is not None and following < stop and not _same_clump(programme, programmes, index):
            report.changes.append(
                Change(
                    "clipped",
                    channel,
                    programme.start,
                    following,
                    programme.title,
                    f"overlapped the next programme; stop was {stop.isoformat()}",
                )
            )
            stop = following
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
                stop.astimezone(programme.start.tzinfo),
                programme.title,
                source_xml=programme.xml,
            )
        )
        previous = programme
    return slots


def _without_endless_last(
    channel: str, programmes: list[XmltvProgramme], report: Report
) -> list[XmltvProgramme]:
    """Drop the programmes with no stop and nothing after them (nothing says when they end) before any
    other is clipped against them."""
    while programmes:
        last = programmes[-1].start
        endless = [p for p in programmes if p.stop is None and p.start == last]
        if not endless:
            break
        for programme in endless:
            detail = "no stop and nothing after it"
            report.changes.append(
                Change("no_stop_dropped", channel, programme.start, None, programme.title, detail)
            )
        programmes = [p for p in programmes if not (p.stop is None and p.start == last)]
    return programmes


def _bounds(run_range: RunRange) -> tuple[datetime | None, datetime | None]:
    if run_range.first_day is None:
        return None, None
    begin = datetime.combine(run_range.first_day, time(), UTC)
    return begin, begin + timedelta(days=run_range.days)


def _same(a: XmltvProgramme, b: XmltvProgramme) -> bool:
    return a.start == b.start and a.stop == b.stop and a.title == b.title and _clump(a) == _clump(b)


def _next_start(programmes: list[XmltvProgramme], index: int) -> datetime | None:
    """The first later start on the channel (programmes starting at the same instant are not "next")."""
    start = programmes[index].start
    return next((p.start for p in programmes[index + 1 :] if p.start > start), None)


def _same_clump(programme: XmltvProgramme, programmes: list[XmltvProgramme], index: int) -> bool:
    """Clump parts (clumpidx="0/2", "1/2") share one slot: the next start inside it is no overlap."""
    clump = _clump(programme)
    if clump is None:
        return False
    following = next((p for p in programmes[index + 1 :] if p.start > programme.start), None)
    return following is not None and _clump(following) is not None and following.stop == programme.stop


def _clump(programme: XmltvProgramme) -> str | None:
    match = _CLUMP.match(programme.xml)
    return match.group(1) if match else None
