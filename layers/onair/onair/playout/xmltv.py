"""Playout of an imported XMLTV listing: the normalized guide for the run's range, every fix reported.

Per channel, programmes in start order: exact duplicates are dropped; a missing stop is the next start;
when two programmes overlap the later start wins and the earlier one's stop is clipped to it (parts of
one clump, `clumpidx`, share their slot and are left alone); of two with the same start the later listed
replaces the other; zero-length programmes overlap nothing and are kept; the stop-less ones at a channel's
last start are kept with no airtime (nothing says when they end); gaps are reported. The range is in UTC
days (an XMLTV listing has no time zone of its own); a programme is in it when it overlaps it (a
zero-length one: when its instant is in it). Each of these is a Change in the report, named for what
happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
            if _in_range(slot.start, slot.stop, begin, end):
                slots.append(slot)
    if begin is not None:
        report.changes[:] = [c for c in report.changes if _in_range(c.start, c.stop or c.start, begin, end)]
    return Playout(slots, report)


def _in_range(start: datetime, stop: datetime, begin: datetime | None, end: datetime | None) -> bool:
    """[start, stop) overlaps [begin, end); a zero-length one is in it when its instant is."""
    return (end is None or start < end) and (begin is None or stop > begin or start >= begin)


def _normalize(channel: str, programmes: list[XmltvProgramme], report: Report) -> list[Slot]:
    programmes, endless = _without_endless_last(channel, programmes, report)
    last_start = endless[0].start if endless else None
    following = _next_later(programmes, lambda p: True)  # a missing stop ends at the next start
    airing = _next_later(programmes, _airs)  # only a programme with airtime can overlap another
    same_start = _next_same_start_airing(programmes)
    slots: list[Slot] = []
    on_air_until: datetime | None = None  # the latest stop so far: zero-length ones leave no gap
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
        previous = programme
        if not _airs(programme):
            # Zero-length: XMLTV's own test data has them (a programme announced for an instant); they
            # overlap nothing, so nothing replaces or clips them, and they are kept as they are.
            report.changes.append(
                Change(
                    "zero_length_kept",
                    channel,
                    programme.start,
                    programme.stop,
                    programme.title,
                    "stop equals start: kept, with no airtime",
                )
            )
            slots.append(_slot(channel, programme, programme.start))
            continue
        twin = programmes[same_start[index]] if same_start[index] < len(programmes) else None
        if twin is not None and not _same(programme, twin) and not (_clump(programme) and _clump(twin)):
            report.changes.append(
                Change(
                    "replaced",
                    channel,
                    programme.start,
                    programme.stop,
                    programme.title,
                    f"replaced by '{twin.title}', listed later with the same start",
                )
            )
            continue
        after = programmes[following[index]] if following[index] < len(programmes) else None
        stop = programme.stop
        if stop is None:
            # Every programme without a stop at the last start was set aside, so this one has a later
            # start: a kept one, or else the set-aside ones' (nothing kept is clipped against those).
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
        overlapping = programmes[airing[index]] if airing[index] < len(programmes) else None
        if overlapping is None and endless and endless[0].start > programme.start:
            overlapping = endless[0]  # on air from its start, for as long as nothing says
        if overlapping is not None and overlapping.start < stop and not _same_clump(programme, overlapping):
            report.changes.append(
                Change(
                    "clipped",
                    channel,
                    programme.start,
                    overlapping.start,
                    programme.title,
                    f"overlapped the next programme; stop was {stop.isoformat()}",
                )
            )
            stop = overlapping.start
        if on_air_until is not None and on_air_until < programme.start:
            report.changes.append(_gap(channel, on_air_until, programme.start))
        on_air_until = stop if on_air_until is None else max(on_air_until, stop)
        slots.append(_slot(channel, programme, stop))
    for programme in endless:
        if on_air_until is not None and on_air_until < programme.start:
            report.changes.append(_gap(channel, on_air_until, programme.start))
            on_air_until = programme.start
        report.changes.append(
            Change(
                "no_stop_kept",
                channel,
                programme.start,
                None,
                programme.title,
                "no stop and nothing after it: kept with no airtime (guide.xml leaves its stop out)",
            )
        )
        slots.append(_slot(channel, programme, programme.start))
    return slots


def _gap(channel: str, begin: datetime, end: datetime) -> Change:
    return Change(
        "gap", channel, begin, end, "", f"{(end - begin).total_seconds():.0f} s with nothing on air"
    )


def _slot(channel: str, programme: XmltvProgramme, stop: datetime) -> Slot:
    return Slot(
        channel,
        programme.start,
        _in_offset_of(stop, programme.start),
        programme.title,
        source_xml=programme.xml,
    )


def _airs(programme: XmltvProgramme) -> bool:
    """Has (or may have) airtime: a stop after its start, or no stop (the next start ends it)."""
    return programme.stop is None or programme.stop > programme.start


def _without_endless_last(
    channel: str, programmes: list[XmltvProgramme], report: Report
) -> tuple[list[XmltvProgramme], list[XmltvProgramme]]:
    """Set aside the programmes with no stop at the channel's last start (nothing says when they end)
    before any other is clipped against them; return the rest and those kept of them.

    Beside a programme with airtime at that start they are dropped (it fills the slot); otherwise the last
    listed is kept with no airtime, with the clump parts it shares the start with, and the others are
    replaced by it, as for any two programmes with the same start. A kept one is on air from its start
    for as long as nothing says: it clips what runs past its start. The programmes before them end at the
    next start, which is still known (theirs)."""
    if not programmes:
        return programmes, []
    last = programmes[-1].start
    endless = [p for p in programmes if p.stop is None and p.start == last]
    if not endless:
        return programmes, []
    rest = [p for p in programmes if not (p.stop is None and p.start == last)]
    if any(p.start == last and _airs(p) for p in rest):
        for programme in endless:
            detail = "no stop, and a programme with airtime starts then"
            report.changes.append(
                Change("no_stop_dropped", channel, programme.start, None, programme.title, detail)
            )
        return rest, []
    kept = []
    for index, programme in enumerate(endless):
        later = endless[index + 1 :]
        winner = next((p for p in later if not (_clump(programme) and _clump(p))), None)
        if winner is None:
            kept.append(programme)
            continue
        detail = f"replaced by '{winner.title}', listed later with the same start"
        report.changes.append(Change("replaced", channel, programme.start, None, programme.title, detail))
    return rest, kept


def _next_later(programmes: list[XmltvProgramme], counts: Callable[[XmltvProgramme], bool]) -> list[int]:
    """Per programme (in start order), the index of the first one starting later that `counts` (len() when
    none): programmes starting at the same instant are not "next". One pass from the end, a start at a time."""
    following = [len(programmes)] * len(programmes)
    candidate = len(programmes)  # the first counting one after the starts seen so far
    index = len(programmes) - 1
    while index >= 0:
        first = index  # the group of programmes sharing this start: [first, index]
        while first > 0 and programmes[first - 1].start == programmes[index].start:
            first -= 1
        for member in range(first, index + 1):
            following[member] = candidate
        candidate = next((m for m in range(first, index + 1) if counts(programmes[m])), candidate)
        index = first - 1
    return following


def _next_same_start_airing(programmes: list[XmltvProgramme]) -> list[int]:
    """Per programme (in start order), the index of the next one listed after it with the same start and
    airtime (len() when none): what replaces it. Zero-length ones between them replace nothing."""
    nearest = [len(programmes)] * len(programmes)
    for index in range(len(programmes) - 2, -1, -1):
        later = index + 1
        if programmes[later].start == programmes[index].start:
            nearest[index] = later if _airs(programmes[later]) else nearest[later]
    return nearest


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
