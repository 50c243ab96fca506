"""Properties of XMLTV listings through import, playout and guide.xml, over generated listings: offsets up
to ±14:00, missing stops, overlaps, same starts, clump parts, duplicates, and years from 0001 to 9999.

Whatever the listing: the import either refuses it with coded time findings or keeps it; the playout gives
each channel its slots in instant order, never overlapping (parts of one clump share their slot; a
zero-length slot overlaps nothing), loses no programme without a change saying so, drops only stop-less
programmes at a channel's last start that a programme with airtime shares, and a range is a window on the
whole playout; the guide.xml it writes imports again with the same programmes (a kept stop-less last one
without its stop again).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onair.errors import InvalidSchedule
from onair.models import XmltvListing, XmltvProgramme
from onair.playout import xmltv as playout_xmltv
from onair.playout.engine import generate
from onair.playout.types import Playout, RunRange, Slot
from onair.readers.schedule import parse_schedule
from onair.readers.xmltv import format_time, parse_time
from onair.writers.guide import guide_xml

OFFSETS = ("+0000", "+0100", "-0500", "+0530", "+1400", "-1400")
CHANNELS = ("a.example", "b.example")
BASES = (datetime(1, 1, 1), datetime(999, 12, 31, 12), datetime(2026, 10, 25), datetime(9999, 12, 31, 8))


@st.composite
def listings(draw: st.DrawFn) -> bytes:
    base = draw(st.sampled_from(BASES))
    elements = [f'<channel id="{c}"><display-name>{c}</display-name></channel>' for c in CHANNELS]
    for _ in range(draw(st.integers(0, 14))):
        channel = draw(st.sampled_from(CHANNELS))
        start = base + timedelta(minutes=draw(st.integers(0, 8)) * 30)
        offset = draw(st.sampled_from(OFFSETS))
        attributes = [f'start="{start.year:04}{start:%m%d%H%M}00 {offset}"', f'channel="{channel}"']
        length = draw(st.one_of(st.none(), st.integers(0, 6)))
        if length is not None:
            stop = start + timedelta(minutes=length * 15)
            attributes.append(f'stop="{stop.year:04}{stop:%m%d%H%M}00 {offset}"')
        if draw(st.booleans()) and draw(st.booleans()):
            attributes.append(f'clumpidx="{draw(st.integers(0, 1))}/2"')
        title = draw(st.sampled_from(("News", "Film", "Quiz")))
        elements.append(
            f"<programme {' '.join(draw(st.permutations(attributes)))}><title>{title}</title></programme>"
        )
    return ("<tv>\n" + "\n".join(elements) + "\n</tv>").encode()


def imported(document: bytes) -> XmltvListing | None:
    try:
        schedule = parse_schedule(document, max_bytes=1_000_000).schedule
    except InvalidSchedule as error:
        # Then only times are refused: outside years 1-9999 in UTC, or a stop before its start
        assert {(d.code, d.path.rpartition("/")[2]) for d in error.details} <= {
            ("badstart", "@start"),
            ("badstop", "@stop"),
        }, error.details
        return None
    assert isinstance(schedule, XmltvListing)
    return schedule


def check_channel(slots: list[Slot]) -> None:
    starts = sorted({slot.start for slot in slots})
    for slot in slots:
        assert slot.start <= slot.stop
    for earlier, later in pairwise(slots):
        assert earlier.start <= later.start  # instants, whatever the offsets
    airing = [slot for slot in slots if slot.stop > slot.start]  # a zero-length slot overlaps nothing
    for earlier, later in pairwise(airing):
        if earlier.start == later.start:  # only the parts of one clump play together: one slot
            assert earlier.stop == later.stop, (earlier, later)
    for slot in airing:
        later = [s for s in airing if s.start > slot.start]
        if later:
            assert slot.stop <= later[0].start, (slot, later[0])
    assert len(starts) <= len(slots)


def check_playout(listing: XmltvListing, playout: Playout) -> None:
    by_channel: dict[str, list[Slot]] = {}
    for slot in playout.slots:
        by_channel.setdefault(slot.channel, []).append(slot)
    order = [channel.id for channel in listing.channels]
    assert [c for c in order if c in by_channel] == list(by_channel)  # channels in schedule order
    for slots in by_channel.values():
        check_channel(slots)
    # Every programme is a slot, or a change says where it went
    changes = Counter(c.kind for c in playout.report.changes)
    gone = changes["duplicate_dropped"] + changes["no_stop_dropped"] + changes["replaced"]
    assert len(playout.slots) + gone == len(listing.programmes)
    # Only stop-less programmes at their channel's last start are dropped (or kept with no airtime)
    last = {}
    for programme in listing.programmes:
        last[programme.channel] = max(last.get(programme.channel, programme.start), programme.start)
    for change in playout.report.changes:
        if change.kind in ("no_stop_dropped", "no_stop_kept"):
            assert change.start == last[change.channel]
    for channel in last:
        if len({p.start for p in listing.programmes if p.channel == channel}) > 1:
            assert channel in by_channel  # a channel with two starts keeps at least one programme


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(listings(), st.integers(-2, 2))
def test_xmltv_listings_import_play_and_write_guides_that_import_again(document: bytes, shift: int) -> None:
    listing = imported(document)
    if listing is None:
        return
    whole = generate(listing, RunRange(None, 1), seed=1)
    check_playout(listing, whole)

    # A range is a window on the whole playout (its UTC days; a slot is in it when it overlaps it)
    first = min((p.start.astimezone(UTC).date() for p in listing.programmes), default=date(2026, 1, 1))
    try:
        day = first + timedelta(days=shift)
    except OverflowError:
        day = first
    begin = datetime.combine(day, time(), UTC)
    windowed = generate(listing, RunRange(day, 1), seed=1)
    end = begin + timedelta(days=1) if day < date.max else None
    assert windowed.slots == [
        s
        for s in whole.slots
        if (s.stop > begin or s.start >= begin) and (end is None or s.start < end)  # zero-length: its instant
    ]

    # The guide imports again, programme for programme at the same instants
    guide = b"".join(guide_xml(listing, whole))
    again = parse_schedule(guide, max_bytes=1_000_000).schedule
    assert isinstance(again, XmltvListing)
    assert {(p.channel, p.start, p.stop, p.title) for p in again.programmes} == {
        (s.channel, s.start, None if stop_less(s) else s.stop, s.title) for s in whole.slots
    }
    # And its programmes, stored in the guide's form, are those the copy of a file stored before writes
    older = listing.model_copy(
        update={"programmes": [p.model_copy(update={"guide_form": False}) for p in listing.programmes]}
    )
    assert b"".join(guide_xml(older, generate(older, RunRange(None, 1), seed=1))) == guide


def stop_less(slot: Slot) -> bool:
    """A programme kept without a stop (the last on its channel): guide.xml writes it without one."""
    return slot.stop == slot.start and " stop=" not in (slot.source_xml or "").split(">", 1)[0]


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(min_value=-(24 * 3600 - 1), max_value=24 * 3600 - 1),
)
def test_format_time_reads_back_as_the_same_instant_whatever_the_offset(wall: datetime, seconds: int) -> None:
    # Given any whole-second wall clock at any whole-second offset (minutes beyond ±14:00, seconds as in
    # local mean time: what zoneinfo gives)
    value = wall.replace(microsecond=0, tzinfo=timezone(timedelta(seconds=seconds)))
    # Then its XMLTV time parses back to that instant
    parsed, zoned = parse_time(format_time(value))
    assert zoned and parsed == value


CLUMPS = (None, (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from((9, 10)), st.sampled_from((None, 11, 12)), st.sampled_from(CLUMPS)))
)
def test_of_programmes_with_one_start_each_plays_iff_it_shares_its_slot_with_all_listed_after_it(
    drawn: list[tuple[int, int | None, tuple[int, int] | None]],
) -> None:
    # Given programmes in start order (then as listed), with stops and clump parts from a few choices
    day = datetime(2026, 12, 1, tzinfo=UTC)
    programmes = [
        XmltvProgramme.model_construct(
            channel="a.example",
            start=day.replace(hour=start),
            stop=day.replace(hour=stop) if stop else None,
            title=f"P{n}",
            xml="<programme/>",
            clump=clump,
        )
        for n, (start, stop, clump) in enumerate(sorted(drawn, key=lambda d: d[0]))
    ]
    # Then the playout's one pass agrees with the rule, asked of every pair (XmltvProgramme.shares_slot_with):
    # each is replaced by the first listed after it, at its start, whose slot it does not share
    expected = [
        next(
            (
                j
                for j in range(i + 1, len(programmes))
                if programmes[j].start == p.start and not p.shares_slot_with(programmes[j])
            ),
            None,
        )
        for i, p in enumerate(programmes)
    ]
    assert playout_xmltv._replaced_by(programmes, [False] * len(programmes)) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from((9, 10)), st.sampled_from((None, 0, 1, 2)), st.sampled_from(CLUMPS)))
)
def test_zero_length_programmes_neither_replace_nor_are_replaced(
    drawn: list[tuple[int, int | None, tuple[int, int] | None]],
) -> None:
    # Given programmes in start order, some of them zero-length (a length of 0 hours)
    day = datetime(2026, 12, 1, tzinfo=UTC)
    programmes = [
        XmltvProgramme.model_construct(
            channel="a.example",
            start=day.replace(hour=start),
            stop=None if length is None else day.replace(hour=start + length),
            title=f"P{n}",
            xml="<programme/>",
            clump=clump,
        )
        for n, (start, length, clump) in enumerate(sorted(drawn, key=lambda d: d[0]))
    ]
    replaced = playout_xmltv._replaced_by(programmes, [False] * len(programmes))
    # Then no zero-length one is replaced, and the others are replaced as if the zero-length ones were absent
    airing = [i for i, p in enumerate(programmes) if p.stop != p.start]
    assert all(replaced[i] is None for i in range(len(programmes)) if i not in airing)
    alone = playout_xmltv._replaced_by([programmes[i] for i in airing], [False] * len(airing))
    assert [replaced[i] for i in airing] == [None if w is None else airing[w] for w in alone]
