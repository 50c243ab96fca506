"""Playout of an imported XMLTV listing: the normalized guide for the run's range, every fix reported.

Per channel, programmes in start order: exact duplicates are dropped; a missing stop is the next start;
when two programmes overlap the later start wins and the earlier one's stop is clipped to it; of
programmes with the same start the one listed last wins. Parts of one clump (clumpidx, sharing their
slot: XmltvProgramme.shares_slot_with, the rule the importer's overlap check applies too) are left
alone. Gaps are reported. The range is in UTC days (an XMLTV listing has no time zone of its own); a
programme is in it when it overlaps it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import groupby

from onair.models import Clump, XmltvListing, XmltvProgramme
from onair.playout.types import Change, Playout, Report, RunRange, Slot


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
    duplicate = _duplicates(programmes)
    replaced_by = _replaced_by(programmes, duplicate)
    slots: list[Slot] = []
    for index, programme in enumerate(programmes):
        if duplicate[index]:
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
        winner = replaced_by[index]
        if winner is not None:
            report.changes.append(
                Change(
                    "clipped",
                    channel,
                    programme.start,
                    programme.start,
                    programme.title,
                    f"replaced by '{programmes[winner].title}', listed later with the same start",
                )
            )
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
        if after is not None and after.start < stop:
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
    return slots


def _duplicates(programmes: list[XmltvProgramme]) -> list[bool]:
    """Per programme (in start order), whether it repeats the last one kept before it."""
    duplicate = [False] * len(programmes)
    kept: XmltvProgramme | None = None
    for index, programme in enumerate(programmes):
        if kept is not None and _same(kept, programme):
            duplicate[index] = True
        else:
            kept = programme
    return duplicate


def _replaced_by(programmes: list[XmltvProgramme], duplicate: list[bool]) -> list[int | None]:
    """Per programme (in start order), the one that replaces it; None: it plays. Of programmes starting
    together, each is replaced by the first listed after it whose slot it does not share
    (XmltvProgramme.shares_slot_with): the last listed plays, and so do the other parts of its clump.

    One pass from the end, O(1) a programme: the first one after a part of a clump that does not share
    its slot is the first with another stop or clump count (`other_kind`) or the first claiming the same
    part (`claims`)."""
    replaced: list[int | None] = [None] * len(programmes)
    after: int | None = None  # the next one with the same start (duplicates aside)
    other_kind: int | None = None  # the first after `after` whose (stop, count) differs from its own
    claims: dict[Clump, int] = {}  # clump part -> the first one after this one claiming it
    for index in range(len(programmes) - 1, -1, -1):
        if duplicate[index]:
            continue
        programme = programmes[index]
        if after is not None and programmes[after].start != programme.start:
            after, other_kind, claims = None, None, {}
        first_other = None
        if after is not None:
            first_other = after if _kind(programmes[after]) != _kind(programme) else other_kind
            if programme.clump is None:
                replaced[index] = after
            else:
                conflicts = [i for i in (first_other, claims.get(programme.clump)) if i is not None]
                replaced[index] = min(conflicts, default=None)
        after, other_kind = index, first_other
        if programme.clump is not None:
            claims[programme.clump] = index
    return replaced


def _kind(programme: XmltvProgramme) -> tuple[datetime | None, int]:
    """What the parts of one clump have in common: their stop and the clump's count."""
    return programme.stop, programme.clump[1] if programme.clump else 1


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
    return a.start == b.start and a.stop == b.stop and a.title == b.title and a.clump == b.clump
