"""Playout of an imported XMLTV listing: the normalized guide for the run's range, every fix reported.

Per channel, programmes in start order: exact duplicates are dropped; a missing stop is the next start;
when two programmes overlap the later start wins and the earlier one's stop is clipped to it; of
programmes with the same start the one listed last replaces the others. Parts of one clump (clumpidx,
sharing their slot: XmltvProgramme.shares_slot_with, the rule the importer's overlap check applies too)
are left alone. Zero-length programmes overlap nothing and are kept; the stop-less ones at a channel's
last start are kept with no airtime (nothing says when they end) unless one with airtime starts then.
Gaps are reported. The range is in UTC days (an XMLTV listing has no time zone of its own); a programme
is in it when it overlaps it (a zero-length one: when its instant is in it). Each of these is a Change in
the report, named for what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from itertools import groupby

from onair.models import Clump, XmltvListing, XmltvProgramme
from onair.playout.shelf import ProgrammeShelf, ShelvedProgramme
from onair.playout.types import Change, Playout, Report, RunRange, Slot

# A programme as the engine reads it: the listing's model, or the run's lean copy of it (playout.shelf)
Programme = XmltvProgramme | ShelvedProgramme


def xmltv_playout(listing: XmltvListing, run_range: RunRange, shelf: ProgrammeShelf | None = None) -> Playout:
    """The listing's programmes, or with a `shelf` (whose slots' source_xml are its places) the shelf's."""
    assert shelf is None or not listing.programmes, "the programmes are the shelf's"
    programmes: Sequence[Programme] = listing.programmes if shelf is None else shelf.hand_over()
    report = Report()
    # Channels in listing order, then any only programmes name (the importer declares those: older files),
    # by id; aware datetimes compare as instants, without astimezone(UTC) (which overflows near years 1 and
    # 9999).
    order = {channel.id: index for index, channel in enumerate(listing.channels)}
    for channel_id in sorted({p.channel for p in programmes} - order.keys()):
        order[channel_id] = len(order)
    ordered = sorted(programmes, key=lambda p: (order[p.channel], p.start))
    begin, end = _bounds(run_range)
    slots: list[Slot] = []
    for channel, group in groupby(ordered, key=lambda p: p.channel):
        for slot in _normalize(channel, list(group), report):
            if _in_range(slot.start, slot.stop, begin, end):
                slots.append(slot)
    if begin is not None:
        report.changes[:] = [c for c in report.changes if _in_range(c.start, c.stop or c.start, begin, end)]
    return Playout(slots, report, shelf)


def _in_range(start: datetime, stop: datetime, begin: datetime | None, end: datetime | None) -> bool:
    """[start, stop) overlaps [begin, end); a zero-length one is in it when its instant is."""
    return (end is None or start < end) and (begin is None or stop > begin or start >= begin)


def _normalize(channel: str, programmes: list[Programme], report: Report) -> list[Slot]:
    programmes, endless = _without_endless_last(channel, programmes, report)
    last_start = endless[0].start if endless else None
    airs = [_airs(programme) for programme in programmes]
    following = _next_later(programmes, None)  # a missing stop ends at the next start
    airing = _next_later(programmes, airs)  # only a programme with airtime can overlap another
    duplicate = _duplicates(programmes)
    replaced_by = _replaced_by(programmes, duplicate)
    slots: list[Slot] = []
    on_air_until: datetime | None = None  # the latest stop so far: zero-length ones leave no gap
    for index, programme in enumerate(programmes):
        if duplicate[index]:
            report.changes.append(_duplicate_dropped(channel, programme))
            continue
        if not airs[index]:
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
        winner = replaced_by[index]
        if winner is not None:
            report.changes.append(_replaced(channel, programme, programmes[winner]))
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
        if overlapping is not None and overlapping.start < stop:
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


def _duplicate_dropped(channel: str, programme: Programme) -> Change:
    return Change(
        "duplicate_dropped",
        channel,
        programme.start,
        programme.stop,
        programme.title,
        "same start, stop and title",
    )


def _replaced(channel: str, programme: Programme, winner: Programme) -> Change:
    detail = f"replaced by '{winner.title}', listed later with the same start"
    return Change("replaced", channel, programme.start, programme.stop, programme.title, detail)


def _gap(channel: str, begin: datetime, end: datetime) -> Change:
    return Change(
        "gap", channel, begin, end, "", f"{(end - begin).total_seconds():.0f} s with nothing on air"
    )


def _slot(channel: str, programme: Programme, stop: datetime) -> Slot:
    start = programme.start
    return Slot(  # by position: a keyword call costs 2.5x as much (onair.playout.onair)
        channel,
        start,
        _in_offset_of(stop, start),
        programme.title,
        "programme",
        None,  # item_id
        None,  # artist
        None,  # category
        None,  # uri
        None,  # pool
        None,  # block
        programme.xml,  # source_xml
        None,  # item
        programme.guide_form,  # source_guide_form
    )


def _airs(programme: Programme) -> bool:
    """Has (or may have) airtime: a stop after its start, or no stop (the next start ends it)."""
    return programme.stop is None or programme.stop > programme.start


def _duplicates(programmes: list[Programme]) -> list[bool]:
    """Per programme (in start order), whether it repeats the last one kept before it."""
    duplicate = [False] * len(programmes)
    kept: Programme | None = None
    for index, programme in enumerate(programmes):
        if kept is not None and _same(kept, programme):
            duplicate[index] = True
        else:
            kept = programme
    return duplicate


def _replaced_by(programmes: list[Programme], duplicate: list[bool]) -> list[int | None]:
    """Per programme (in start order), the one that replaces it; None: it plays. Of programmes starting
    together, each is replaced by the first listed after it whose slot it does not share
    (XmltvProgramme.shares_slot_with): the last listed plays, and so do the other parts of its clump.
    Zero-length ones overlap nothing: they neither replace nor are replaced (and are skipped here).

    One pass from the end, O(1) a programme: the first one after a part of a clump that does not share
    its slot is the first with another stop or clump count (`other_kind`) or the first claiming the same
    part (`claims`)."""
    replaced: list[int | None] = [None] * len(programmes)
    after: int | None = None  # the next one with the same start (duplicates and zero-length ones aside)
    other_kind: int | None = None  # the first after `after` whose (stop, count) differs from its own
    claims: dict[Clump, int] = {}  # clump part -> the first one after this one claiming it
    for index in range(len(programmes) - 1, -1, -1):
        programme = programmes[index]
        if duplicate[index] or not _airs(programme):
            continue
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


def _kind(programme: Programme) -> tuple[datetime | None, int]:
    """What the parts of one clump have in common: their stop and the clump's count."""
    return programme.stop, programme.clump[1] if programme.clump else 1


def _without_endless_last(
    channel: str, programmes: list[Programme], report: Report
) -> tuple[list[Programme], list[Programme]]:
    """Set aside the programmes with no stop at the channel's last start (nothing says when they end)
    before any other is clipped against them; return the rest and those kept of them.

    Beside a programme with airtime at that start they are dropped (it fills the slot); otherwise they are
    kept with no airtime as any programmes with one start are (duplicates dropped, each replaced by the
    first listed after it whose slot it does not share: the last listed and the other parts of its clump
    stay). A kept one is on air from its start for as long as nothing says: it clips what runs past its
    start. The programmes before them end at the next start, which is still known (theirs)."""
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
    duplicate = _duplicates(endless)
    replaced_by = _replaced_by(endless, duplicate)
    kept = []
    for index, programme in enumerate(endless):
        winner = replaced_by[index]
        if duplicate[index]:
            report.changes.append(_duplicate_dropped(channel, programme))
        elif winner is not None:
            report.changes.append(_replaced(channel, programme, endless[winner]))
        else:
            kept.append(programme)
    return rest, kept


def _next_later(programmes: list[Programme], counts: list[bool] | None) -> list[int]:
    """Per programme (in start order), the index of the first one starting later that counts (per
    programme; None: every one does), len() when none: programmes starting at the same instant are not
    "next". One pass from the end."""
    total = len(programmes)
    following = [total] * total
    candidate = total  # the first counting one starting after programmes[index]
    nearest = total  # the first counting one after index
    later_start = None  # the start of programmes[index + 1]
    for index in range(total - 1, -1, -1):
        start = programmes[index].start
        if later_start is not None and later_start > start:
            candidate = nearest
        following[index] = candidate
        if counts is None or counts[index]:
            nearest = index
        later_start = start
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


def _same(a: Programme, b: Programme) -> bool:
    return a.start == b.start and a.stop == b.stop and a.title == b.title and a.clump == b.clump
