"""Runs far from 1970, in local mean time, and fixed events that meet only across midnight or a DST change:
what the property tests (test_playout_properties.py) found, pinned down as examples, engine and writers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from onair.models import (
    WEEKDAYS,
    Block,
    Channel,
    FixedEvent,
    Item,
    OnAirSchedule,
    Pool,
    PoolMember,
    XmltvListing,
)
from onair.playout.engine import generate
from onair.playout.types import FillError, Playout, RunRange, Slot
from onair.readers.schedule import parse_schedule
from onair.writers import WRITERS


def one_channel(
    zone: str,
    durations: list[float],
    blocks: list[tuple[str, str]],
    events: list[tuple[str, float]] = (),  # type: ignore[assignment]
) -> OnAirSchedule:
    """Items "i0", "i1"… of these durations in one sequential pool; events "e0"… (time, duration)."""
    items = [Item(id=f"i{n}", title=f"I{n}", duration=d) for n, d in enumerate(durations)]
    items += [Item(id=f"e{n}", title=f"E{n}", duration=d) for n, (_, d) in enumerate(events)]
    return OnAirSchedule(
        timezone=zone,
        channels=[Channel(id="c", name="C")],
        items=items,
        pools=[
            Pool(
                id="p", order="sequential", members=[PoolMember(item=f"i{n}") for n in range(len(durations))]
            )
        ],
        blocks=[Block(channel="c", days=list(WEEKDAYS), start=s, end=e, pool="p") for s, e in blocks],
        events=[
            FixedEvent(channel="c", days=list(WEEKDAYS), time=at, item=f"e{n}")
            for n, (at, _) in enumerate(events)
        ],
    )


def run(sched: OnAirSchedule, day: date, days: int = 1) -> Playout:
    return generate(sched, RunRange(day, days), 1)


def instant(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def local_midnight(zone: str, day: date) -> datetime:
    return instant(datetime.combine(day, time(), ZoneInfo(zone)))


# --- the engine -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(1969, 12, 31), date(1900, 6, 1), date(1000, 1, 1)])
def test_a_run_before_1970_fills_its_blocks(day: date) -> None:
    # Given a 00:00-01:00 block of 10-minute items
    sched = one_channel("UTC", [600], [("00:00", "01:00")])
    # When a day before 1970 (negative instants) is generated
    playout = run(sched, day)
    # Then the hour is filled, and nothing is reported (it was a 0-slot "overrun" of decades)
    assert [instant(slot.start) for slot in playout.slots] == [
        local_midnight("UTC", day) + timedelta(minutes=10 * n) for n in range(6)
    ]
    assert playout.report.fill_errors == []


@pytest.mark.parametrize("day", [date(2500, 1, 4), date(9000, 6, 1), date(1500, 3, 2)])
def test_slot_times_far_from_1970_are_exact_to_the_millisecond(day: date) -> None:
    # Given items of 3.5 s and 660.123 s, in a zone with an odd offset
    sched = one_channel("Asia/Kathmandu", [3.5, 660.123], [("00:00", "01:00")])
    # When a day far from 1970 is generated (float timestamps there have steps of up to 60 µs)
    playout = run(sched, day)
    # Then every start is a whole millisecond after local midnight: 0, 3.5, 663.623, 667.123, …
    midnight = local_midnight("Asia/Kathmandu", day)
    offsets_ms = [(instant(slot.start) - midnight) // timedelta(milliseconds=1) for slot in playout.slots]
    assert offsets_ms[:11] == [663_623 * (n // 2) + 3500 * (n % 2) for n in range(11)]  # then best fit
    assert all(slot.start.microsecond % 1000 == 0 for slot in playout.slots)
    # And each slot's length is its item's, exactly
    assert [slot.seconds for slot in playout.slots[:4]] == [3.5, 660.123, 3.5, 660.123]


def test_fixed_events_that_meet_only_over_a_spring_forward_change_follow_each_other_and_say_so() -> None:
    # Given a 40-minute event at 01:30 and another at 03:00 (apart by wall clock, as the importer checks)
    sched = one_channel("Europe/Paris", [60], [("00:00", "24:00")], [("01:30", 2400), ("03:00", 2400)])
    # When the spring-forward day is generated (02:00 -> 03:00: 01:30 + 40 min is 03:10 CEST)
    playout = run(sched, date(2026, 3, 29))
    # Then the second starts when the first ends, never both on air at once
    first, second = (slot for slot in playout.slots if slot.kind == "event")
    paris_3am = datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert instant(first.stop) == instant(second.start) == paris_3am + timedelta(minutes=10)
    assert_no_overlap(playout.slots)
    # And the 10 minutes it is late are reported as an overrun at its time
    assert playout.report.fill_errors == [
        FillError(
            "overrun", "c", "00:00-24:00", datetime(2026, 3, 29, 3, tzinfo=ZoneInfo("Europe/Paris")), 600.0
        )
    ]


def test_a_fixed_event_past_midnight_delays_the_next_days_first_event_and_says_so() -> None:
    # Given a 30-minute event at 23:50 and a 5-minute one at 00:10, every day
    sched = one_channel("UTC", [60], [("00:00", "24:00")], [("00:10", 300), ("23:50", 1800)])
    # When two days are generated
    playout = run(sched, date(2026, 3, 2), days=2)
    # Then the second day's 00:10 event follows the first day's 23:50 one at 00:20
    events = [slot for slot in playout.slots if slot.kind == "event"]
    tuesday = datetime(2026, 3, 3, tzinfo=UTC)
    assert [(instant(e.start), e.title) for e in events] == [
        (datetime(2026, 3, 2, 0, 10, tzinfo=UTC), "E0"),
        (datetime(2026, 3, 2, 23, 50, tzinfo=UTC), "E1"),
        (tuesday + timedelta(minutes=20), "E0"),
        (tuesday + timedelta(hours=23, minutes=50), "E1"),
    ]
    assert_no_overlap(playout.slots)
    # And each crossing is reported: the block end (20 min), the late event (10 min), the last block end
    assert [(e.kind, instant(e.boundary), e.seconds) for e in playout.report.fill_errors] == [
        ("overrun", tuesday, 1200.0),
        ("overrun", tuesday + timedelta(minutes=10), 600.0),
        ("overrun", tuesday + timedelta(days=1), 1200.0),
    ]


def test_a_late_fixed_event_outside_every_block_is_an_overrun_of_no_block() -> None:
    # Given only a morning block, and events at 23:50 (30 minutes) and 00:10 (5 minutes)
    sched = one_channel("UTC", [60], [("06:00", "07:00")], [("00:10", 300), ("23:50", 1800)])
    # When two days are generated
    playout = run(sched, date(2026, 3, 2), days=2)
    # Then the second day's 00:10 event starts at 00:20, reported as 600 s late, in no block
    tuesday = datetime(2026, 3, 3, tzinfo=UTC)
    assert [(e.kind, e.block, instant(e.boundary), e.seconds) for e in playout.report.fill_errors] == [
        ("overrun", "", tuesday + timedelta(minutes=10), 600.0)
    ]
    assert_no_overlap(playout.slots)


def assert_no_overlap(slots: list[Slot]) -> None:
    ordered = sorted(slots, key=lambda slot: instant(slot.start))
    for before, after in pairwise(ordered):
        assert instant(before.stop) <= instant(after.start), (before, after)


# --- the writers ----------------------------------------------------------------------------------------


def test_guide_writes_a_local_mean_time_offset_in_utc_so_it_imports_again() -> None:
    # Given a run in Europe/London in 1500, whose offset is London's local mean time, -00:01:15
    sched = one_channel("Europe/London", [600], [("00:00", "01:00")])
    playout = run(sched, date(1500, 3, 2))
    assert playout.slots[0].start.utcoffset() == -timedelta(minutes=1, seconds=15)
    # When the guide is written
    guide = b"".join(WRITERS["guide.xml"][1](sched, playout))
    # Then XMLTV's +hhmm cannot say -00:01:15: the times are written in UTC, the same instants
    assert b'start="15000302000115 +0000" stop="15000302001115 +0000"' in guide
    listing = parse_schedule(guide, max_bytes=10**6).schedule
    assert isinstance(listing, XmltvListing)
    assert [instant(p.start) for p in listing.programmes] == [instant(s.start) for s in playout.slots]
    # And the ISO 8601 outputs keep the offset with its seconds
    assert b"1500-03-02T00:00:00-00:01:15" in b"".join(WRITERS["asrun.csv"][1](sched, playout))
