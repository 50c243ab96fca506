"""The playout engine (onair.playout), pure: pool orders, rotation rules and their relaxation, exact fill,
fixed events, DST days, determinism, XMLTV listing normalization and termination. No AWS, no I/O.

Schedules are built in code; rule compliance is checked against an independent re-computation from the
slots, so a report that forgets a break (or invents one) fails as surely as a break itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

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
    XmltvChannel,
    XmltvListing,
    XmltvProgramme,
)
from onair.playout import xmltv as playout_xmltv
from onair.playout.engine import generate
from onair.playout.rotation import RELAXATION_ORDER, Clock, History, choose, hour_key
from onair.playout.types import Change, FillError, Playout, RunRange, Slot
from onair.readers.schedule import parse_schedule
from onair.writers import WRITERS
from onair.writers.guide import guide_xml
from tests.steps import growth

PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2026, 3, 2)  # a Monday without a DST change in Europe/Paris
EVERY_DAY = list(WEEKDAYS)
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # 02:00 -> 03:00 and 03:00 -> 02:00 in Paris


# --- building schedules ------------------------------------------------------------------------------


def item(
    item_id: str,
    duration: float = 60,
    *,
    title: str | None = None,
    artist: str | None = None,
    category: str | None = None,
    weight: float = 1.0,
) -> Item:
    return Item(
        id=item_id,
        title=title or item_id,
        artist=artist,
        duration=duration,
        category=category,
        weight=weight,
    )


def pool(pool_id: str, order: str, *item_ids: str) -> Pool:
    return Pool(id=pool_id, order=order, members=[PoolMember(item=i) for i in item_ids])  # type: ignore[arg-type]


def block(
    pool_id: str,
    start: str = "00:00",
    end: str = "24:00",
    *,
    days: Sequence[str] = EVERY_DAY,
    filler: str | None = None,
    channel: str = "c",
) -> Block:
    return Block(channel=channel, days=list(days), start=start, end=end, pool=pool_id, filler=filler)  # type: ignore[arg-type]


def event(item_id: str, at: str, *, days: Sequence[str] = EVERY_DAY, channel: str = "c") -> FixedEvent:
    return FixedEvent(channel=channel, days=list(days), time=at, item=item_id)  # type: ignore[arg-type]


def schedule(
    items: Iterable[Item],
    pools: Iterable[Pool],
    blocks: Iterable[Block],
    *,
    rules: Rules | None = None,
    events: Iterable[FixedEvent] = (),
    timezone: str = "UTC",
) -> OnAirSchedule:
    return OnAirSchedule(
        timezone=timezone,
        channels=[Channel(id="c", name="Channel")],
        items=list(items),
        pools=list(pools),
        rules=[rules] if rules else [],
        blocks=list(blocks),
        events=list(events),
    )


def run(
    sched: OnAirSchedule | XmltvListing, first_day: date | None = MONDAY, days: int = 1, seed: int = 7
) -> Playout:
    return generate(sched, RunRange(first_day, days), seed)


def ids(slots: Iterable[Slot]) -> list[str]:
    return [slot.item_id or "" for slot in slots]


def daily_orders(slots: Iterable[Slot], zone: ZoneInfo) -> dict[date, list[str]]:
    """The item ids of each local day, in time order."""
    orders: dict[date, list[str]] = {}
    for slot in in_time_order(slots):
        orders.setdefault(slot.start.astimezone(zone).date(), []).append(slot.item_id or "")
    return orders


def instant(moment: datetime) -> datetime:
    """The UTC instant. Two datetimes with the same ZoneInfo compare and subtract by wall clock, ignoring
    the offset (and `fold`), so across a DST change only UTC values compare as instants."""
    return moment.astimezone(UTC)


def length(slot: Slot) -> float:
    return (instant(slot.stop) - instant(slot.start)).total_seconds()


def in_time_order(slots: Iterable[Slot]) -> list[Slot]:
    return sorted(slots, key=lambda s: instant(s.start))


def assert_contiguous(slots: Sequence[Slot]) -> None:
    """Each slot starts where the previous one stopped (as instants): no gap, no overlap."""
    for before, after in pairwise(slots):
        assert instant(before.stop) == instant(after.start), (
            f"{before.item_id} stops {before.stop}, {after.item_id} starts {after.start}"
        )
    assert all(length(slot) > 0 for slot in slots)


def local(day: date, hour: int, minute: int = 0, second: int = 0, zone: ZoneInfo = PARIS) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)


def utc(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return local(day, hour, minute, second, zone=ZoneInfo("UTC"))


def rule_violations(
    slots: Sequence[Slot], rules: Rules, zone: ZoneInfo
) -> set[tuple[str, str, datetime, float]]:
    """Every (rule, item, start, by) a block slot misses, recomputed from the slots alone (start to start;
    events count in the history but are not judged; fillers are exempt and do not count)."""
    last_credit: dict[str, datetime] = {}
    last_title: dict[str, datetime] = {}
    per_hour: Counter[tuple[str, date, int, int]] = Counter()
    per_day: Counter[tuple[str, date]] = Counter()
    found: set[tuple[str, str, datetime, float]] = set()
    for slot in in_time_order(slots):
        if slot.kind == "filler":
            continue
        assert slot.item_id is not None
        wall = slot.start.astimezone(zone)
        hour_key = (slot.item_id, wall.date(), wall.hour, wall.fold)
        day_key = (slot.item_id, wall.date())
        if slot.kind == "block":
            for rule, minutes, last in (
                ("artist_separation", rules.artist_separation, last_credit.get(slot.artist or "")),
                ("title_separation", rules.title_separation, last_title.get(slot.title)),
            ):
                if minutes is not None and last is not None:
                    short = minutes * 60 - (instant(slot.start) - instant(last)).total_seconds()
                    if short > 0:
                        found.add((rule, slot.item_id, instant(slot.start), round(short, 3)))
            for rule, cap, plays in (
                ("max_plays_per_hour", rules.max_plays_per_hour, per_hour[hour_key]),
                ("max_plays_per_day", rules.max_plays_per_day, per_day[day_key]),
            ):
                if cap is not None and plays >= cap:
                    found.add((rule, slot.item_id, instant(slot.start), float(plays + 1 - cap)))
        if slot.artist:
            last_credit[slot.artist] = slot.start
        last_title[slot.title] = slot.start
        per_hour[hour_key] += 1
        per_day[day_key] += 1
    return found


def reported_breaks(playout: Playout) -> set[tuple[str, str, datetime, float]]:
    return {(b.rule, b.item_id, instant(b.at), round(b.by, 3)) for b in playout.report.rule_breaks}


# --- 1. shuffle variation --------------------------------------------------------------------------


def test_shuffle_creates_variation() -> None:
    # Given a shuffle pool of 24 one-hour items filling 00:00-24:00 every day (one pass per day)
    items = [item(f"i{n:02}", 3600) for n in range(24)]
    sched = schedule(items, [pool("p", "shuffle", *(i.id for i in items))], [block("p")])

    # When a week is generated
    playout = run(sched, days=7)

    # Then every day plays each item once, and the seven daily orders all differ pairwise
    orders = list(daily_orders(playout.slots, ZoneInfo("UTC")).values())
    assert len(orders) == 7
    assert all(sorted(order) == sorted(i.id for i in items) for order in orders)
    for n, first in enumerate(orders):
        for second in orders[n + 1 :]:
            assert first != second
    # And no item sits in the same slot index every day
    for index in range(24):
        assert len({order[index] for order in orders}) > 1, f"slot {index} holds the same item all week"


# --- 2. shuffle passes -----------------------------------------------------------------------------


def test_shuffle_plays_every_item_once_per_pass_and_never_repeats_across_a_pass_boundary() -> None:
    # Given a three-item shuffle pool of 60 s items, in two blocks a day whose boundary (07:01) falls
    # inside a pass (421 slots), so the rotation's passes span blocks and days
    sched = schedule(
        [item("a"), item("b"), item("c")],
        [pool("p", "shuffle", "a", "b", "c")],
        [block("p", "00:00", "07:01"), block("p", "07:01", "24:00")],
    )

    # When two days are generated (960 passes)
    playout = run(sched, days=2)

    # Then the slots, cut into passes of three, hold every item once per pass
    played = ids(playout.slots)
    assert len(played) == 2 * 1440
    passes = [played[n : n + 3] for n in range(0, len(played), 3)]
    assert all(sorted(one) == ["a", "b", "c"] for one in passes)
    # And a pass never starts with the item that ended the previous pass (1 in 3 per pass without a guard)
    for previous, current in pairwise(passes):
        assert current[0] != previous[-1]
    # And so no item ever plays twice in a row, while the passes still vary
    assert all(x != y for x, y in pairwise(played))
    assert len({tuple(one) for one in passes}) > 1
    assert playout.report.rule_breaks == [] and playout.report.fill_errors == []


# --- 3. sequential, random, weighted ---------------------------------------------------------------


def test_sequential_pool_continues_across_days_where_the_previous_day_stopped() -> None:
    # Given a sequential pool of five one-hour items and a three-hour block every day
    names = ["a", "b", "c", "d", "e"]
    sched = schedule(
        [item(n, 3600) for n in names], [pool("p", "sequential", *names)], [block("p", "06:00", "09:00")]
    )

    # When three days are generated
    playout = run(sched, days=3)

    # Then day 2 starts where day 1 stopped, and day 3 where day 2 stopped, wrapping round the pool
    assert list(daily_orders(playout.slots, ZoneInfo("UTC")).values()) == [
        ["a", "b", "c"],
        ["d", "e", "a"],
        ["b", "c", "d"],
    ]


def test_random_pool_allows_repeats() -> None:
    # Given a random pool of three 60 s items and no rules
    sched = schedule([item("a"), item("b"), item("c")], [pool("p", "random", "a", "b", "c")], [block("p")])

    # When a day (1440 draws) is generated
    played = ids(run(sched).slots)

    # Then every item plays, the same item sometimes plays twice in a row, and the draws are not passes
    assert len(played) == 1440
    assert set(played) == {"a", "b", "c"}
    assert sum(1 for x, y in pairwise(played) if x == y) > 100  # about a third of 1439 pairs
    assert any(sorted(played[n : n + 3]) != ["a", "b", "c"] for n in range(0, 1440, 3))


def test_weighted_pool_draws_in_proportion_to_weight() -> None:
    # Given a weighted pool: "light" has weight 1, "heavy" weight 3
    sched = schedule(
        [item("light", weight=1), item("heavy", weight=3)],
        [pool("p", "weighted", "light", "heavy")],
        [block("p")],
    )

    # When two days (2880 draws) are generated with a fixed seed
    counts = Counter(ids(run(sched, days=2).slots))

    # Then "heavy" plays about three times as often as "light" (sd of the ratio is about 0.1)
    assert counts["light"] + counts["heavy"] == 2880
    assert 2.7 <= counts["heavy"] / counts["light"] <= 3.3


def test_random_pool_draws_items_evenly_unlike_weighted() -> None:
    # Given the same two items with weights 1 and 3, in a random pool: weight only matters when weighted
    sched = schedule(
        [item("light", weight=1), item("heavy", weight=3)],
        [pool("p", "random", "light", "heavy")],
        [block("p")],
    )

    # When two days are generated
    counts = Counter(ids(run(sched, days=2).slots))

    # Then both play about as often
    assert 0.9 <= counts["heavy"] / counts["light"] <= 1.1


# --- 4. rotation rules -----------------------------------------------------------------------------


def big_library() -> list[Item]:
    """80 items of 10 min: 40 artists (two items each) and 20 titles (four covers each)."""
    return [item(f"s{n:02}", 600, title=f"Song {n % 20}", artist=f"Artist {n % 40}") for n in range(80)]


BIG_RULES = Rules(artist_separation=30, title_separation=60, max_plays_per_hour=1, max_plays_per_day=2)


@pytest.mark.parametrize("order", ["shuffle", "random", "weighted"])
def test_rotation_rules_are_all_met_with_a_big_enough_library(order: str) -> None:
    # Given 80 ten-minute items (144 plays a day against 160 allowed), in Asia/Kolkata, whose local clock
    # hours start at :30 UTC, so a per-hour count on UTC hours would be caught
    zone = ZoneInfo("Asia/Kolkata")
    library = big_library()
    sched = schedule(
        library,
        [pool("p", order, *(i.id for i in library))],
        [block("p")],
        rules=BIG_RULES,
        timezone=zone.key,
    )

    # When two days are generated
    playout = run(sched, days=2)

    # Then the days are filled exactly, every rule is met, and no break is reported
    assert len(playout.slots) == 2 * 144
    assert_contiguous(playout.slots)
    assert rule_violations(playout.slots, BIG_RULES, zone) == set()
    assert playout.report.rule_breaks == []
    assert playout.report.fill_errors == []


def test_the_rule_checker_has_teeth_without_rules() -> None:
    # Given the big library in a random pool without rules
    library = big_library()
    sched = schedule(library, [pool("p", "random", *(i.id for i in library))], [block("p")])

    # When two days are generated
    playout = run(sched, days=2)

    # Then the independent checker finds breaks of each rule, so the test above can fail
    rules = {violation[0] for violation in rule_violations(playout.slots, BIG_RULES, ZoneInfo("UTC"))}
    assert rules == set(RELAXATION_ORDER)


def test_an_impossible_artist_separation_still_fills_the_block_and_reports_every_break() -> None:
    # Given two 5-minute items by the same artist and an artist separation of 60 minutes
    rules = Rules(artist_separation=60)
    sched = schedule(
        [item("a", 300, artist="Solo"), item("b", 300, artist="Solo")],
        [pool("p", "shuffle", "a", "b")],
        [block("p", "10:00", "11:00")],
        rules=rules,
    )

    # When the day is generated
    playout = run(sched)

    # Then the run completes and the block is filled exactly, 12 items from 10:00 to 11:00
    slots = playout.slots
    assert len(slots) == 12
    assert slots[0].start == utc(MONDAY, 10) and slots[-1].stop == utc(MONDAY, 11)
    assert_contiguous(slots)
    assert playout.report.fill_errors == []
    # And every placement after the first is a break, 55 minutes (3300 s) short, with rule, item and time
    breaks = playout.report.rule_breaks
    assert len(breaks) == 11
    assert [(b.rule, b.channel, b.item_id, b.at, b.by) for b in breaks] == [
        ("artist_separation", "c", slot.item_id, slot.start, 3300.0) for slot in slots[1:]
    ]
    assert reported_breaks(playout) == rule_violations(slots, rules, ZoneInfo("UTC"))


def test_play_caps_that_cannot_be_met_report_the_plays_over() -> None:
    # Given two 10-minute items, at most one play per hour and two per day, over a 00:00-03:00 block
    rules = Rules(max_plays_per_hour=1, max_plays_per_day=2)
    sched = schedule(
        [item("a", 600), item("b", 600)],
        [pool("p", "sequential", "a", "b")],
        [block("p", "00:00", "03:00")],
        rules=rules,
    )

    # When the day is generated
    playout = run(sched)

    # Then the block is filled (18 slots) and each break says how many plays over the cap it is
    assert len(playout.slots) == 18
    assert playout.slots[-1].stop == utc(MONDAY, 3)
    assert playout.report.fill_errors == []
    breaks = reported_breaks(playout)
    assert breaks == rule_violations(playout.slots, rules, ZoneInfo("UTC"))
    assert {rule for rule, *_ in breaks} == {"max_plays_per_hour", "max_plays_per_day"}
    # the 3rd play of an hour is 2 over the hourly cap; the 9th play of the day is 7 over the daily cap
    assert ("max_plays_per_hour", "a", utc(MONDAY, 0, 40), 2.0) in breaks
    assert ("max_plays_per_day", "b", utc(MONDAY, 2, 50), 7.0) in breaks


def test_max_plays_per_hour_counts_local_clock_hours() -> None:
    # Given one 20-minute item, at most one play per hour, from 10:40 to 11:40 in Asia/Kolkata (+05:30),
    # where local hours start at :30 UTC: 10:40 and 11:00 share the UTC hour 05 but not the local hour
    zone = ZoneInfo("Asia/Kolkata")
    rules = Rules(max_plays_per_hour=1)
    sched = schedule(
        [item("a", 1200)],
        [pool("p", "sequential", "a")],
        [block("p", "10:40", "11:40")],
        rules=rules,
        timezone=zone.key,
    )

    # When the day is generated
    playout = run(sched)

    # Then only the second play in the local hour 11 (at 11:20) is a break, one play over
    assert len(playout.slots) == 3
    assert [(b.rule, b.item_id, instant(b.at), b.by) for b in playout.report.rule_breaks] == [
        ("max_plays_per_hour", "a", instant(datetime(2026, 3, 2, 11, 20, tzinfo=zone)), 1.0)
    ]


def test_the_repeated_dst_hour_counts_as_two_clock_hours() -> None:
    # Given one 30-minute item, at most two plays per hour, from 02:00 to 04:00 on 2026-10-25 in Paris:
    # three real hours, two of them the local hour 02:00
    sched = schedule(
        [item("a", 1800)],
        [pool("p", "sequential", "a")],
        [block("p", "02:00", "04:00")],
        rules=Rules(max_plays_per_hour=2),
        timezone="Europe/Paris",
    )

    # When the day is generated
    playout = run(sched, first_day=AUTUMN)

    # Then six plays fill the three hours, two per clock hour, with no break
    assert len(playout.slots) == 6
    assert playout.report.rule_breaks == []


def test_artist_separation_is_given_up_before_title_separation() -> None:
    # Given h1 (artist Alpha) and h2 (title "Beta") played at 10:00 and 10:01, then two candidates:
    # "t" repeats h2's title (breaks title separation only), "a" repeats h1's artist (artist only);
    # "t" comes first in the sequential pool, so only the relaxation order can pick "a"
    rules = Rules(artist_separation=10, title_separation=10)
    sched = schedule(
        [
            item("h1", title="H1", artist="Alpha"),
            item("h2", title="Beta", artist="Gamma"),
            item("t", title="Beta", artist="Delta"),
            item("a", title="A", artist="Alpha"),
        ],
        [pool("p", "sequential", "h1", "h2", "t", "a")],
        [block("p", "10:00", "10:03")],
        rules=rules,
    )

    # When the day is generated
    playout = run(sched)

    # Then the third slot is "a", reported as an artist separation break 8 minutes short
    assert ids(playout.slots) == ["h1", "h2", "a"]
    assert [(b.rule, b.item_id, b.at, b.by) for b in playout.report.rule_breaks] == [
        ("artist_separation", "a", utc(MONDAY, 10, 2), 480.0)
    ]


def clock(minute: int, day: int = 1) -> Clock:
    return Clock(minute * 60_000, hour_key(day, minute // 60, 0), day)


def at(history: History, placed: Item, minute: int) -> None:
    history.record(placed, clock(minute))


@pytest.mark.parametrize("pair", list(pairwise(RELAXATION_ORDER)), ids=lambda p: f"{p[0]}-before-{p[1]}")
def test_rules_are_relaxed_in_relaxation_order(pair: tuple[str, str]) -> None:
    # Given two candidates at 02:30, the first in preference breaking only the later rule of the pair,
    # the second breaking only the earlier one
    earlier, later = pair
    rules = {
        ("artist_separation", "title_separation"): Rules(artist_separation=10, title_separation=10),
        ("title_separation", "max_plays_per_hour"): Rules(title_separation=10, max_plays_per_hour=1),
        ("max_plays_per_hour", "max_plays_per_day"): Rules(max_plays_per_hour=1, max_plays_per_day=2),
    }[pair]
    history = History(rules)
    if pair == ("artist_separation", "title_separation"):
        breaks_earlier = item("x", title="X", artist="Alpha")  # Alpha played at 02:25
        breaks_later = item("y", title="Y", artist="Beta")  # title "Y" played at 02:25
        at(history, item("alpha", title="Other", artist="Alpha"), 145)
        at(history, item("cover", title="Y", artist="Gamma"), 145)
    elif pair == ("title_separation", "max_plays_per_hour"):
        breaks_earlier = item("x", title="X")  # its title played by another item at 02:25
        breaks_later = item("y", title="Y")  # played at 02:00: the title is 30 min old, the hour is used
        at(history, item("cover", title="X"), 145)
        at(history, breaks_later, 120)
    else:
        breaks_earlier = item("x")  # played at 02:00: once in this hour, twice today
        breaks_later = item("y")  # played at 00:00 and 01:00: twice today, not in this hour
        at(history, breaks_earlier, 120)
        at(history, breaks_later, 0)
        at(history, breaks_later, 60)
    now = clock(150)
    assert (
        history.shortfall(earlier, breaks_earlier, now) > 0
        and history.shortfall(later, breaks_earlier, now) == 0
    )
    assert (
        history.shortfall(later, breaks_later, now) > 0 and history.shortfall(earlier, breaks_later, now) == 0
    )

    # When the next item is chosen
    choice = choose(iter([breaks_later, breaks_earlier]), history, now)

    # Then the rule relaxed first is given up: the candidate breaking only that one is placed
    assert choice is not None
    assert choice.item is breaks_earlier
    assert [rule for rule, _ in choice.breaks] == [earlier]


def test_relaxation_order_is_artist_title_hour_day() -> None:
    assert RELAXATION_ORDER == (
        "artist_separation",
        "title_separation",
        "max_plays_per_hour",
        "max_plays_per_day",
    )


def test_when_a_rule_must_be_broken_the_smallest_shortfall_is_chosen() -> None:
    # Given two candidates that both break artist separation (10 min): one by 9 min, one by 5 min
    history = History(Rules(artist_separation=10))
    at(history, item("old", artist="Far"), 100)
    at(history, item("new", artist="Near"), 104)
    near, far = item("n", artist="Near"), item("f", artist="Far")

    # When the next item is chosen at minute 105
    choice = choose(iter([near, far]), history, clock(105))

    # Then the one missing the rule by the least is placed, and the miss is given in seconds
    assert choice is not None and choice.item is far
    assert choice.breaks == (("artist_separation", 300.0),)


# --- 5. exact fill, fixed events ---------------------------------------------------------------------


def fill_schedule(*, filler: bool, events: Iterable[FixedEvent] = (), end: str = "00:10:30") -> OnAirSchedule:
    """60 s music items in a sequential pool; with `filler`, a pool of 7 s and 1 s idents."""
    return schedule(
        [item("m1"), item("m2"), item("m3"), item("id7", 7), item("id1", 1), item("news", 300, title="News")],
        [pool("music", "sequential", "m1", "m2", "m3"), pool("idents", "random", "id7", "id1")],
        [block("music", "00:00", end, filler="idents" if filler else None)],
        events=events,
    )


def test_a_block_ends_exactly_on_its_boundary_when_fillers_make_it_exact() -> None:
    # Given a 630 s block, 60 s music items and 7 s / 1 s idents as filler
    # When the day is generated
    playout = run(fill_schedule(filler=True))

    # Then ten music items play, then idents best-fit (longest first) the last 30 s, ending at 00:10:30
    slots = playout.slots
    assert [s.kind for s in slots[:10]] == ["block"] * 10
    assert ids(slots[10:]) == ["id7"] * 4 + ["id1"] * 2
    assert {s.kind for s in slots[10:]} == {"filler"} and {s.pool for s in slots[10:]} == {"idents"}
    assert slots[0].start == utc(MONDAY, 0) and slots[-1].stop == utc(MONDAY, 0, 10, 30)
    assert_contiguous(slots)
    assert {s.block for s in slots} == {"00:00-00:10:30"}
    assert playout.report.fill_errors == []


def test_a_block_that_cannot_be_filled_exactly_reports_an_underrun() -> None:
    # Given the same block without a filler
    # When the day is generated
    playout = run(fill_schedule(filler=False))

    # Then ten items play and the 30 s left are an underrun at the block's end
    assert len(playout.slots) == 10
    assert playout.slots[-1].stop == utc(MONDAY, 0, 10)
    assert playout.report.fill_errors == [
        FillError("underrun", "c", "00:00-00:10:30", utc(MONDAY, 0, 10, 30), 30.0)
    ]


def test_the_pool_best_fits_the_end_of_a_block_before_the_filler() -> None:
    # Given a sequential pool alternating a 60 s and a 20 s item, and a 200 s block
    sched = schedule(
        [item("long", 60), item("short", 20), item("id1", 1)],
        [pool("p", "sequential", "long", "short"), pool("f", "random", "id1")],
        [block("p", "00:00", "00:03:20", filler="f")],
    )

    # When the day is generated
    playout = run(sched)

    # Then after long, short, long, short (160 s) the next "long" would cross the end: "short" fits twice
    assert ids(playout.slots) == ["long", "short", "long", "short", "short", "short"]
    assert playout.slots[-1].stop == utc(MONDAY, 0, 3, 20)
    assert playout.report.fill_errors == []


def test_a_fixed_event_starts_exactly_on_time_in_the_middle_of_a_block() -> None:
    # Given a 00:00-01:00 block of 7-minute items with 1 s idents, and a 5-minute news at 00:30
    sched = schedule(
        [item("m1", 420), item("m2", 420), item("id1", 1), item("news", 300)],
        [pool("music", "sequential", "m1", "m2"), pool("idents", "random", "id1")],
        [block("music", "00:00", "01:00", filler="idents")],
        events=[event("news", "00:30")],
    )

    # When the day is generated
    playout = run(sched)

    # Then the news starts at exactly 00:30, and the block's time before it is filled best-fit to end there
    slots = playout.slots
    news = [s for s in slots if s.kind == "event"]
    assert len(news) == 1 and news[0].item_id == "news"
    assert news[0].start == utc(MONDAY, 0, 30) and news[0].stop == utc(MONDAY, 0, 35)
    before = [s for s in slots if s.stop <= news[0].start]
    assert [s.kind for s in before] == ["block"] * 4 + ["filler"] * 120  # 4 x 7 min + 120 x 1 s
    # And the block resumes after it and ends exactly at 01:00, with nothing reported
    assert_contiguous(slots)
    assert slots[0].start == utc(MONDAY, 0) and slots[-1].stop == utc(MONDAY, 1)
    assert news[0].block == "00:00-01:00"
    assert playout.report.fill_errors == []


def test_a_fixed_event_without_filler_leaves_an_underrun_before_it_but_still_starts_on_time() -> None:
    # Given the fill schedule without filler and a news at 00:05:30 (5.5 music items in)
    playout = run(fill_schedule(filler=False, events=[event("news", "00:05:30")], end="01:00"))

    # Then the news starts at 00:05:30 all the same, and the 30 s before it are reported
    news = next(s for s in playout.slots if s.kind == "event")
    assert news.start == utc(MONDAY, 0, 5, 30)
    assert (
        FillError("underrun", "c", "00:00-01:00", utc(MONDAY, 0, 5, 30), 30.0) in playout.report.fill_errors
    )
    assert all(not (s.start < news.stop and news.start < s.stop) for s in playout.slots if s is not news)


def test_an_event_longer_than_the_rest_of_its_block_is_an_overrun() -> None:
    # Given blocks 00:00-01:00 and 01:00-02:00, and a 20-minute event at 00:50
    sched = schedule(
        [item("m"), item("show", 1200)],
        [pool("p", "sequential", "m")],
        [block("p", "00:00", "01:00"), block("p", "01:00", "02:00")],
        events=[event("show", "00:50")],
    )

    # When the day is generated
    playout = run(sched)

    # Then the event runs to 01:10, reported as a 600 s overrun of its block at 01:00
    assert playout.report.fill_errors == [FillError("overrun", "c", "00:00-01:00", utc(MONDAY, 1), 600.0)]
    show = next(s for s in playout.slots if s.kind == "event")
    assert (show.start, show.stop) == (utc(MONDAY, 0, 50), utc(MONDAY, 1, 10))
    # And the next block starts after it: no overlap, no gap, ending at 02:00
    assert_contiguous(playout.slots)
    assert playout.slots[-1].stop == utc(MONDAY, 2)


# --- 6. time zones and DST ---------------------------------------------------------------------------


def dst_day_schedule() -> OnAirSchedule:
    """A 00:00-24:00 block of 10-minute items every day in Europe/Paris."""
    return schedule(
        [item("a", 600), item("b", 600)],
        [pool("p", "sequential", "a", "b")],
        [block("p")],
        timezone="Europe/Paris",
    )


@pytest.mark.parametrize(
    ("day", "hours", "before", "after"),
    [(SPRING, 23, 1, 2), (AUTUMN, 25, 2, 1)],
    ids=["spring-23h", "autumn-25h"],
)
def test_a_dst_day_is_covered_exactly_from_local_midnight_to_local_midnight(
    day: date, hours: int, before: int, after: int
) -> None:
    # Given a 00:00-24:00 block of 10-minute items in Europe/Paris
    # When the day of a DST change is generated
    playout = run(dst_day_schedule(), first_day=day)

    # Then the slots, taken as instants, run without gap or overlap from local midnight to the next
    slots = in_time_order(playout.slots)
    assert_contiguous(slots)
    assert instant(slots[0].start) == instant(local(day, 0))
    assert instant(slots[-1].stop) == instant(local(day + timedelta(days=1), 0))
    # And they last 23 or 25 hours in all
    assert sum(length(s) for s in slots) == hours * 3600
    assert len(slots) == hours * 6
    # And each slot carries the offset in force at its start: before the change at 01:00 UTC, and after
    change = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)
    for slot in slots:
        expected = before if instant(slot.start) < change else after
        assert slot.start.utcoffset() == timedelta(hours=expected), slot.start
    assert slots[-1].stop.utcoffset() == timedelta(hours=after)
    # (spring: local 00:00-02:00 in +01:00 then 21 h in +02:00; autumn: 00:00-03:00 in +02:00, then 22 h)
    hours_before = 2 if hours == 23 else 3
    assert Counter(s.start.utcoffset() for s in slots) == {
        timedelta(hours=before): hours_before * 6,
        timedelta(hours=after): (hours - hours_before) * 6,
    }
    assert playout.report.fill_errors == []


def test_slots_come_in_time_order_through_the_repeated_dst_hour() -> None:
    # Given the 25-hour day
    # When it is generated
    playout = run(dst_day_schedule(), first_day=AUTUMN)

    # Then the playout's own list is in time order (Playout.slots: "per channel in time order")
    assert playout.slots == in_time_order(playout.slots)
    assert_contiguous(playout.slots)


@pytest.mark.parametrize("day", [SPRING, AUTUMN], ids=["spring", "autumn"])
def test_slot_seconds_is_the_real_length_across_a_dst_change(day: date) -> None:
    # Given a day of 10-minute slots across a DST change
    # When it is generated
    playout = run(dst_day_schedule(), first_day=day)

    # Then every slot says it lasts 600 s, the one across the change included
    assert {slot.seconds for slot in playout.slots} == {600.0}


def test_a_fixed_event_in_the_skipped_hour_is_moved_forward_by_the_gap() -> None:
    # Given a 02:30 event on 2026-03-29 in Europe/Paris, a time that does not exist (02:00 -> 03:00)
    sched = schedule(
        [item("a", 600), item("id1", 1), item("news", 300)],
        [pool("p", "sequential", "a"), pool("f", "random", "id1")],
        [block("p", filler="f")],
        events=[event("news", "02:30")],
        timezone="Europe/Paris",
    )

    # When the day is generated
    playout = run(sched, first_day=SPRING)

    # Then it starts at 03:30 CEST (01:30 UTC), and the day is still covered exactly
    news = next(s for s in playout.slots if s.kind == "event")
    assert instant(news.start) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (news.start.hour, news.start.minute, news.start.utcoffset()) == (3, 30, timedelta(hours=2))
    assert_contiguous(in_time_order(playout.slots))
    assert playout.report.fill_errors == []


def test_a_fixed_event_in_the_repeated_hour_takes_its_first_occurrence() -> None:
    # Given a 02:30 event on 2026-10-25 in Europe/Paris, a time that happens twice (03:00 -> 02:00)
    sched = schedule(
        [item("a", 600), item("id1", 1), item("news", 300)],
        [pool("p", "sequential", "a"), pool("f", "random", "id1")],
        [block("p", filler="f")],
        events=[event("news", "02:30")],
        timezone="Europe/Paris",
    )

    # When the day is generated
    playout = run(sched, first_day=AUTUMN)

    # Then it starts at the first 02:30, still in summer time (00:30 UTC)
    news = next(s for s in playout.slots if s.kind == "event")
    assert instant(news.start) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert news.start.utcoffset() == timedelta(hours=2)
    assert_contiguous(in_time_order(playout.slots))
    assert playout.report.fill_errors == []


def test_a_block_inside_the_skipped_dst_hour_is_empty_and_reports_nothing() -> None:
    # Given hourly-ish blocks 00:00-02:30, 02:30-03:00 and 03:00-24:00 in Europe/Paris
    sched = schedule(
        [item("a", 600)],
        [pool("p", "sequential", "a")],
        [block("p", "00:00", "02:30"), block("p", "02:30", "03:00"), block("p", "03:00", "24:00")],
        timezone="Europe/Paris",
    )

    # When the spring-forward day is generated
    playout = run(sched, first_day=date(2026, 3, 29))

    # Then the 23-hour day is covered exactly and no fill error is reported
    slots = in_time_order(playout.slots)
    assert_contiguous(slots)
    assert instant(slots[-1].stop) == instant(local(date(2026, 3, 30), 0))
    assert playout.report.fill_errors == []


# --- 7. determinism ----------------------------------------------------------------------------------


def busy_schedule() -> OnAirSchedule:
    """Every pool order, rules that bind, fillers and an event, over two blocks a day."""
    library = [
        item(f"s{n:02}", 170 + 13 * n, title=f"Song {n % 9}", artist=f"Artist {n % 5}") for n in range(24)
    ]
    extras = [item("id3", 3), item("id1", 1), item("news", 180, title="News")]
    names = [i.id for i in library]
    return schedule(
        library + extras,
        [
            pool("shuffle", "shuffle", *names[:12]),
            pool("random", "random", *names[12:]),
            pool("weighted", "weighted", *names[6:18]),
            pool("sequential", "sequential", *names[::2]),
            pool("idents", "random", "id3", "id1"),
        ],
        [
            block("shuffle", "00:00", "06:00", filler="idents"),
            block("random", "06:00", "12:00", filler="idents"),
            block("weighted", "12:00", "18:00", filler="idents"),
            block("sequential", "18:00", "24:00", filler="idents"),
        ],
        rules=Rules(artist_separation=15, title_separation=30, max_plays_per_hour=2, max_plays_per_day=8),
        events=[event("news", "08:00"), event("news", "13:00")],
        timezone="Europe/Paris",
    )


def orders_of(playout: Playout) -> list[str]:
    return ids(s for s in playout.slots if s.kind == "block")


def test_the_same_schedule_range_and_seed_give_identical_playouts() -> None:
    # Given the busy schedule
    # When it is generated twice with the same range and seed
    first, second = run(busy_schedule(), days=3, seed=42), run(busy_schedule(), days=3, seed=42)

    # Then the slots and the full report are identical
    assert first.slots == second.slots
    assert first.report.to_dict() == second.report.to_dict()
    assert len(first.slots) > 100


def test_a_different_seed_gives_a_different_order() -> None:
    assert orders_of(run(busy_schedule(), days=2, seed=1)) != orders_of(run(busy_schedule(), days=2, seed=2))


def test_a_different_first_day_gives_a_different_order() -> None:
    # Given the busy schedule, whose blocks are the same every day
    # When one day is generated from a Monday and one from the Tuesday
    monday = run(busy_schedule(), first_day=MONDAY, seed=5)
    tuesday = run(busy_schedule(), first_day=MONDAY + timedelta(days=1), seed=5)

    # Then the orders differ (the sequential block aside, which starts from the top in both runs)
    assert orders_of(monday) != orders_of(tuesday)
    shuffled = [ids(s for s in p.slots if s.pool == "shuffle") for p in (monday, tuesday)]
    assert shuffled[0] != shuffled[1]


# --- 8. XMLTV listings -------------------------------------------------------------------------------


def listing(*programmes: tuple[str, str | None, str] | tuple[str, str | None, str, str]) -> XmltvListing:
    """(start, stop or None, title[, extra attributes]) per programme, on channel one.example, via the
    importer (lenient)."""
    elements = []
    for start, stop, title, *extra in programmes:
        stop_attribute = f' stop="{stop}"' if stop else ""
        elements.append(
            f'<programme start="{start}"{stop_attribute} channel="one.example" {" ".join(extra)}>'
            f"<title>{title}</title></programme>"
        )
    document = "\n".join(
        ['<tv><channel id="one.example"><display-name>One</display-name></channel>', *elements, "</tv>"]
    )
    parsed = parse_schedule(document.encode(), max_bytes=10**6).schedule
    assert isinstance(parsed, XmltvListing)
    return parsed


DEC1 = date(2026, 12, 1)


def xmltv_time(day: date, hour: int, minute: int = 0, offset: str = "+0000") -> str:
    return f"{day:%Y%m%d}{hour:02}{minute:02}00 {offset}"


def spans(playout: Playout) -> list[tuple[str, datetime, datetime]]:
    return [(s.title, s.start, s.stop) for s in playout.slots]


def kinds(playout: Playout) -> list[tuple[str, str]]:
    return [(c.kind, c.title) for c in playout.report.changes]


def t(hour: int, minute: int = 0) -> str:
    return xmltv_time(DEC1, hour, minute)


def test_xmltv_overlap_keeps_the_later_start_and_clips_the_earlier_stop() -> None:
    # Given A 10:00-11:00 and B 10:30-11:30
    playout = run(listing((t(10), t(11), "A"), (t(10, 30), t(11, 30), "B")), first_day=None)

    # Then A is clipped to 10:30, B is untouched, and the clip is reported
    assert spans(playout) == [
        ("A", utc(DEC1, 10), utc(DEC1, 10, 30)),
        ("B", utc(DEC1, 10, 30), utc(DEC1, 11, 30)),
    ]
    assert playout.report.changes == [
        Change(
            "clipped", "one.example", utc(DEC1, 10), utc(DEC1, 10, 30), "A", playout.report.changes[0].detail
        )
    ]
    assert "11:00" in playout.report.changes[0].detail


def test_xmltv_missing_stop_is_the_next_start() -> None:
    playout = run(listing((t(10), None, "A"), (t(11), t(12), "B")), first_day=None)
    assert spans(playout) == [("A", utc(DEC1, 10), utc(DEC1, 11)), ("B", utc(DEC1, 11), utc(DEC1, 12))]
    assert [(c.kind, c.title, c.stop) for c in playout.report.changes] == [
        ("stop_filled", "A", utc(DEC1, 11))
    ]


def test_xmltv_last_programme_without_stop_is_kept_with_no_airtime() -> None:
    # Given A 10:00-11:00 and B at 11:00 without a stop, the last on the channel (nothing says when it ends)
    playout = run(listing((t(10), t(11), "A"), (t(11), None, "B")), first_day=None)
    # Then B is kept at its start with no airtime, and reported as kept
    assert spans(playout) == [("A", utc(DEC1, 10), utc(DEC1, 11)), ("B", utc(DEC1, 11), utc(DEC1, 11))]
    assert kinds(playout) == [("no_stop_kept", "B")]
    assert playout.report.changes[0].stop is None


def test_xmltv_gap_is_reported() -> None:
    playout = run(listing((t(10), t(11), "A"), (t(12), t(13), "B")), first_day=None)
    assert [s.title for s in playout.slots] == ["A", "B"]
    assert [(c.kind, c.start, c.stop) for c in playout.report.changes] == [
        ("gap", utc(DEC1, 11), utc(DEC1, 12))
    ]


def test_xmltv_two_programmes_with_the_same_start_keep_the_later_listed() -> None:
    # Given "First" and "Second" both at 10:00, Second listed later, then C at 11:00
    playout = run(
        listing((t(10), t(11), "First"), (t(10), t(11), "Second"), (t(11), t(12), "C")),
        first_day=None,
    )

    # Then only Second plays at 10:00, and First is reported as replaced
    assert spans(playout) == [("Second", utc(DEC1, 10), utc(DEC1, 11)), ("C", utc(DEC1, 11), utc(DEC1, 12))]
    assert kinds(playout) == [("replaced", "First")]
    assert "Second" in playout.report.changes[0].detail


@pytest.mark.parametrize("zero_first", [True, False], ids=["zero-length first", "zero-length last"])
def test_xmltv_a_zero_length_programme_beside_one_with_the_same_start_keeps_both(zero_first: bool) -> None:
    # Given a zero-length Trailer at 10:00 and Film 10:00-11:00, in either order, then C
    pair = [(t(10), t(10), "Trailer"), (t(10), t(11), "Film")]
    playout = run(listing(*(pair if zero_first else pair[::-1]), (t(11), t(12), "C")), first_day=None)

    # Then both are kept (a zero-length programme overlaps nothing, so it replaces nothing and nothing
    # replaces it), and the report says the zero-length one was kept
    assert sorted(spans(playout)) == sorted(
        [
            ("Trailer", utc(DEC1, 10), utc(DEC1, 10)),
            ("Film", utc(DEC1, 10), utc(DEC1, 11)),
            ("C", utc(DEC1, 11), utc(DEC1, 12)),
        ]
    )
    assert kinds(playout) == [("zero_length_kept", "Trailer")]


def test_xmltv_a_zero_length_programme_clips_nothing_and_fills_no_gap() -> None:
    # Given A 10:00-11:00 with a zero-length X at 10:30, a zero-length Y at 11:30, and B 12:00-13:00
    sched = listing(
        (t(10), t(11), "A"), (t(10, 30), t(10, 30), "X"), (t(11, 30), t(11, 30), "Y"), (t(12), t(13), "B")
    )

    # Then A keeps its stop, both are kept, and the gap is the hour with nothing on air
    playout = run(sched, first_day=None)
    assert ("A", utc(DEC1, 10), utc(DEC1, 11)) in spans(playout)
    assert len(playout.slots) == 4
    assert [(c.kind, c.title, c.start, c.stop) for c in playout.report.changes] == [
        ("zero_length_kept", "X", utc(DEC1, 10, 30), utc(DEC1, 10, 30)),
        ("zero_length_kept", "Y", utc(DEC1, 11, 30), utc(DEC1, 11, 30)),
        ("gap", "", utc(DEC1, 11), utc(DEC1, 12)),
    ]


def test_xmltv_a_listing_with_zero_length_programmes_keeps_every_programme_in_the_guide() -> None:
    # Given 40 hourly programmes, every fourth preceded by a zero-length one with the same start (as in a
    # real listing of 1,964 programmes, 49 of them zero-length)
    entries = []
    for hour in range(40):
        start = xmltv_time(DEC1 + timedelta(days=hour // 24), hour % 24)
        stop = xmltv_time(DEC1 + timedelta(days=(hour + 1) // 24), (hour + 1) % 24)
        if hour % 4 == 0:
            entries.append((start, start, f"Promo {hour}"))
        entries.append((start, stop, f"Show {hour}"))
    sched = listing(*entries)

    # When it is played out and its guide written
    playout = run(sched, first_day=None)
    guide = etree.fromstring(b"".join(guide_xml(sched, playout)))

    # Then the guide has every programme, and the report counts the zero-length ones as kept, none as clipped
    assert len(guide.findall("programme")) == len(sched.programmes) == 50
    assert playout.report.summary()["changes"] == {"zero_length_kept": 10}


def test_xmltv_clump_parts_share_their_slot_and_are_not_clipped() -> None:
    playout = run(
        listing(
            (t(10), t(11), "Part one", 'clumpidx="0/2"'),
            (t(10), t(11), "Part two", 'clumpidx="1/2"'),
            (t(11), t(12), "C"),
        ),
        first_day=None,
    )
    assert spans(playout) == [
        ("Part one", utc(DEC1, 10), utc(DEC1, 11)),
        ("Part two", utc(DEC1, 10), utc(DEC1, 11)),
        ("C", utc(DEC1, 11), utc(DEC1, 12)),
    ]
    assert playout.report.changes == []


def test_xmltv_a_clumped_programme_starting_inside_another_clips_it_like_any_later_start() -> None:
    # Given A 10:00-12:00 (part 0/2) and B 11:00-12:00 (part 1/2): not one slot, so not one clump's parts
    playout = run(
        listing((t(10), t(12), "A", 'clumpidx="0/2"'), (t(11), t(12), "B", 'clumpidx="1/2"')), first_day=None
    )
    # Then the later start wins, as the importer's overlap check says (it warns of this pair)
    assert spans(playout) == [("A", utc(DEC1, 10), utc(DEC1, 11)), ("B", utc(DEC1, 11), utc(DEC1, 12))]
    assert kinds(playout) == [("clipped", "A")]


def test_xmltv_a_programme_listed_after_a_clump_at_its_start_replaces_every_part() -> None:
    playout = run(
        listing(
            (t(10), t(11), "Part one", 'clumpidx="0/2"'),
            (t(10), t(11), "Part two", 'clumpidx="1/2"'),
            (t(10), t(11), "Film"),
        ),
        first_day=None,
    )
    assert spans(playout) == [("Film", utc(DEC1, 10), utc(DEC1, 11))]
    assert kinds(playout) == [("replaced", "Part one"), ("replaced", "Part two")]
    assert all("replaced by 'Film'" in change.detail for change in playout.report.changes)


@pytest.mark.parametrize(
    ("second", "plays"),
    [
        ((t(10), t(12), "B", 'clumpidx="1/2"'), ["B"]),  # another stop: another slot
        ((t(10), t(11), "B", 'clumpidx="1/3"'), ["B"]),  # another count: another clump
        ((t(10), t(11), "B", 'clumpidx="0/2"'), ["B"]),  # the same part claimed again
        ((t(10), t(11), "B", 'clumpidx="1/2"'), ["A", "B"]),  # the other part of the clump
    ],
    ids=["stop", "count", "same-part", "parts"],
)
def test_xmltv_programmes_with_one_start_play_together_only_as_parts_of_one_clump(second, plays) -> None:
    playout = run(listing((t(10), t(11), "A", 'clumpidx="0/2"'), second), first_day=None)
    assert [slot.title for slot in playout.slots] == plays


def test_xmltv_a_part_claimed_twice_leaves_the_first_other_part_playing() -> None:
    # Given parts 0/2 (A), 1/2 (B) and 1/2 again (C) in one slot: C replaces B, and A is C's other part
    playout = run(
        listing(
            (t(10), t(11), "A", 'clumpidx="0/2"'),
            (t(10), t(11), "B", 'clumpidx="1/2"'),
            (t(10), t(11), "C", 'clumpidx="1/2"'),
        ),
        first_day=None,
    )
    assert [slot.title for slot in playout.slots] == ["A", "C"]
    assert kinds(playout) == [("replaced", "B")]


def test_xmltv_range_keeps_programmes_overlapping_its_utc_days() -> None:
    # Given programmes around 2026-12-01 (UTC), one of them written in +0100
    before = date(2026, 11, 30)
    after = date(2026, 12, 2)
    sched = listing(
        (xmltv_time(before, 22), xmltv_time(before, 23), "Before"),
        (xmltv_time(DEC1, 0, 10, "+0100"), xmltv_time(DEC1, 0, 50, "+0100"), "Local Dec 1, UTC Nov 30"),
        (xmltv_time(before, 23, 30), xmltv_time(DEC1, 0, 30), "Into the day"),
        (t(12), t(13), "Midday"),
        (t(23, 30), xmltv_time(after, 0, 30), "Out of the day"),
        (xmltv_time(after, 1), xmltv_time(after, 2), "After"),
    )

    # When the run covers one day from 2026-12-01
    playout = run(sched, first_day=DEC1, days=1)

    # Then the programmes overlapping [Dec 1 00:00Z, Dec 2 00:00Z) are kept whole, the others not
    assert [s.title for s in playout.slots] == ["Into the day", "Midday", "Out of the day"]
    assert playout.slots[0].start == utc(before, 23, 30) and playout.slots[-1].stop == utc(after, 0, 30)
    # And only the changes inside the range are reported (the gaps before Midday and after it)
    assert all(c.start < utc(after, 0) and (c.stop or c.start) > utc(DEC1, 0) for c in playout.report.changes)
    assert [(c.kind, c.start) for c in playout.report.changes] == [
        ("gap", utc(DEC1, 0, 30)),
        ("gap", utc(DEC1, 13)),
    ]


def test_xmltv_a_stop_less_last_programme_is_on_air_from_its_start() -> None:
    # Given A 10:00-12:00 and B at 11:00 without a stop, the last on the channel
    playout = run(listing((t(10), t(12), "A"), (t(11), None, "B")), first_day=None)

    # Then B is kept (with no airtime: nothing says when it ends) and A ends when B starts, as the importer
    # reads it (a last programme without a stop runs at least a moment): nothing overlaps in the guide
    assert spans(playout) == [("A", utc(DEC1, 10), utc(DEC1, 11)), ("B", utc(DEC1, 11), utc(DEC1, 11))]
    assert kinds(playout) == [("clipped", "A"), ("no_stop_kept", "B")]


def test_xmltv_a_listing_without_any_stop_keeps_every_programme() -> None:
    # Given three programmes without stop times (many grabbers write none)
    playout = run(listing((t(10), None, "A"), (t(11), None, "B"), (t(12), None, "C")), first_day=None)

    # Then each ends at the next start, and the last, which nothing ends, is kept with no airtime
    assert spans(playout) == [
        ("A", utc(DEC1, 10), utc(DEC1, 11)),
        ("B", utc(DEC1, 11), utc(DEC1, 12)),
        ("C", utc(DEC1, 12), utc(DEC1, 12)),
    ]
    assert kinds(playout) == [("stop_filled", "A"), ("stop_filled", "B"), ("no_stop_kept", "C")]


def test_xmltv_a_stop_less_programme_before_the_stop_less_last_ends_at_the_last_start() -> None:
    # Given A with a stop, B without, C and D (no stop) both last at 12:00
    sched = listing((t(9), t(10), "A"), (t(10), None, "B"), (t(12), None, "C"), (t(12), None, "D"))

    # Then B ends at 12:00, where the last ones start: a missing stop is the next start; of C and D the
    # later listed is kept, as for any two programmes with the same start
    playout = run(sched, first_day=None)
    assert spans(playout) == [
        ("A", utc(DEC1, 9), utc(DEC1, 10)),
        ("B", utc(DEC1, 10), utc(DEC1, 12)),
        ("D", utc(DEC1, 12), utc(DEC1, 12)),
    ]
    assert kinds(playout) == [("replaced", "C"), ("stop_filled", "B"), ("no_stop_kept", "D")]


def test_xmltv_a_last_programme_with_a_stop_stays_beside_a_dropped_one_at_the_same_start() -> None:
    # Given A at 10:00, then X (with a stop) and Y (without) both at 11:00, last on the channel
    sched = listing((t(10), None, "A"), (t(11), t(12), "X"), (t(11), None, "Y"))

    # Then Y is dropped (X fills the slot), X is not replaced by it, and A ends at 11:00
    playout = run(sched, first_day=None)
    assert spans(playout) == [("A", utc(DEC1, 10), utc(DEC1, 11)), ("X", utc(DEC1, 11), utc(DEC1, 12))]
    assert kinds(playout) == [("no_stop_dropped", "Y"), ("stop_filled", "A")]


@pytest.mark.parametrize(
    ("second", "kept"),
    [
        ((t(11), None, "B", 'clumpidx="1/2"'), ["A", "B"]),  # the other part of the clump
        ((t(11), None, "B", 'clumpidx="0/2"'), ["B"]),  # the same part claimed again
        ((t(11), None, "B", 'clumpidx="1/3"'), ["B"]),  # another count: another clump
        ((t(11), None, "B"), ["B"]),  # no clump
    ],
    ids=["parts", "same-part", "count", "unclumped"],
)
def test_xmltv_stop_less_last_programmes_are_kept_together_only_as_parts_of_one_clump(second, kept) -> None:
    # Given Before 10:00-11:00, then A (part 0/2) and a second one, both at 11:00 without a stop, last
    playout = run(
        listing((t(10), t(11), "Before"), (t(11), None, "A", 'clumpidx="0/2"'), second), first_day=None
    )

    # Then they follow the clump rule of any programmes with one start (XmltvProgramme.shares_slot_with):
    # A stays beside B only as the other part of B's clump, and is otherwise replaced by it
    assert [slot.title for slot in playout.slots] == ["Before", *kept]
    expected = [("no_stop_kept", title) for title in kept]
    assert kinds(playout) == (expected if "A" in kept else [("replaced", "A"), *expected])


def test_xmltv_a_stop_less_last_programme_stored_twice_is_kept_once_and_the_copy_dropped() -> None:
    # Given a stored listing (the importer drops copies; a stored file is read as it is) with A, then B
    # twice at 11:00 without a stop, the last on the channel
    imported = listing((t(10), t(11), "A"), (t(11), None, "B"))
    sched = imported.model_copy(update={"programmes": [*imported.programmes, imported.programmes[-1]]})

    # Then one B is kept with no airtime and the copy is reported as a duplicate, as anywhere else
    playout = run(sched, first_day=None)
    assert spans(playout) == [("A", utc(DEC1, 10), utc(DEC1, 11)), ("B", utc(DEC1, 11), utc(DEC1, 11))]
    assert kinds(playout) == [("duplicate_dropped", "B"), ("no_stop_kept", "B")]


def test_xmltv_range_and_stops_at_the_year_bounds_do_not_overflow() -> None:
    # Given a programme in the last hour of 9999 (UTC) written at +1400, and one at the first of year 1
    sched = listing(
        ("00010101000000 +0000", "00010101010000 +0000", "First"),
        ("99991231235959 +1400", "99991231235959 +0000", "Last"),
    )
    last = datetime(9999, 12, 31, 9, 59, 59, tzinfo=UTC)

    # When runs cover the last day (its end, 10000-01-01, is past datetime) and the whole listing
    on_last_day = run(sched, first_day=date(9999, 12, 31), days=1)
    whole = run(sched, first_day=None)

    # Then the last day holds Last, whose stop keeps its own offset (in +1400 it would be year 10000)
    assert spans(on_last_day) == [("Last", last, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))]
    assert [s.title for s in whole.slots] == ["First", "Last"]


def test_xmltv_a_listing_stored_before_the_year_check_still_plays_and_writes() -> None:
    # Given a stored listing (imported before instants were bounded) with a programme at 0001-01-01 00:00
    # +0100, whose UTC instant is in year 0, and one ending in 10000 UTC
    east, west = timezone(timedelta(hours=1)), timezone(timedelta(hours=-14))
    sched = XmltvListing.model_construct(
        format="xmltv",
        channels=[XmltvChannel(id="one.example", xml="<channel id='one.example'/>")],
        programmes=[
            XmltvProgramme.model_construct(
                channel="one.example",
                start=start,
                stop=stop,
                title=title,
                xml=f'<programme start="x" channel="one.example"><title>{title}</title></programme>',
            )
            for start, stop, title in (
                (datetime(1, 1, 1, tzinfo=east), datetime(1, 1, 1, 2, tzinfo=east), "Year zero"),
                (datetime(9999, 12, 31, 12, tzinfo=west), None, "Past 9999"),
                (datetime(9999, 12, 31, 20, tzinfo=west), None, "Last"),
            )
        ],
    )

    # When it is played over the whole listing and over its last day, and every output is written
    for first_day in (None, date(9999, 12, 31), date(1, 1, 1)):
        playout = run(sched, first_day=first_day)
        for _, write in WRITERS.values():
            assert write(sched, playout)

    # Then the run succeeds: nothing overflows (it used to fail on every delivery)
    assert [s.title for s in run(sched, first_day=None).slots] == ["Year zero", "Past 9999", "Last"]


def minutes_listing(count: int, *, stop: bool = True, clump: bool = False) -> XmltvListing:
    """`count` one-minute programmes on one channel (with `clump`: all parts of one clump, sharing one
    slot), built as the run reads a stored listing (model_construct, no importer)."""
    first = datetime(2026, 12, 1, tzinfo=UTC)
    programmes = []
    for n in range(count):
        start = first if clump else first + timedelta(minutes=n)
        part = f' clumpidx="{n}/{count}"' if clump else ""
        programmes.append(
            XmltvProgramme.model_construct(
                channel="one.example",
                start=start,
                stop=start + timedelta(minutes=1) if stop else None,
                title=f"P{n}",
                xml=f'<programme start="x" channel="one.example"{part}><title>P{n}</title></programme>',
                clump=(n, count) if clump else None,
            )
        )
    return XmltvListing.model_construct(
        format="xmltv", channels=[XmltvChannel(id="one.example", xml="<channel/>")], programmes=programmes
    )


@pytest.mark.parametrize(
    "shape", [{"stop": False}, {"stop": True}, {"clump": True}, {"clump": True, "stop": False}], ids=str
)
def test_xmltv_playout_steps_grow_linearly_with_the_listing(shape: dict[str, bool]) -> None:
    # Given listings of 500 and 2,000 programmes: stop-less, timed, or the parts of one clump (timed, or
    # stop-less at the channel's last start: kept with no airtime)
    def playout_of(count: int) -> Callable[[], object]:
        sched = minutes_listing(count, **shape)
        return lambda: run(sched, first_day=None)

    # Then the engine's Python steps grow 4x with the listing (a scan of the rest per programme: 16x)
    assert growth((playout_xmltv,), playout_of, 500) < 5


# --- 9. termination and bounds -----------------------------------------------------------------------


def test_a_block_whose_items_are_all_longer_than_it_is_one_underrun() -> None:
    # Given a 10-minute block whose pool and filler items are all 20 minutes long
    sched = schedule(
        [item("long", 1200), item("longer", 1500), item("ident", 1201)],
        [pool("p", "random", "long", "longer"), pool("f", "random", "ident")],
        [block("p", "06:00", "06:10", filler="f")],
    )

    # When two days are generated
    playout = run(sched, days=2)

    # Then it completes with no slots and the whole block is an underrun each day
    assert playout.slots == []
    assert playout.report.fill_errors == [
        FillError("underrun", "c", "06:00-06:10", utc(MONDAY + timedelta(days=n), 6, 10), 600.0)
        for n in range(2)
    ]


def test_blocks_on_some_weekdays_play_nothing_on_the_others() -> None:
    # Given blocks on Monday and Wednesday only
    sched = schedule([item("a", 3600)], [pool("p", "sequential", "a")], [block("p", days=["mon", "wed"])])

    # When a week from Monday is generated
    playout = run(sched, days=7)

    # Then only Monday and Wednesday have slots, each a full day
    per_day = Counter(slot.start.date() for slot in playout.slots)
    assert per_day == {MONDAY: 24, MONDAY + timedelta(days=2): 24}
    assert playout.report.fill_errors == []


def test_several_channels_keep_their_own_blocks_rules_and_rotation() -> None:
    # Given two channels sharing a sequential pool; only channel "b" has an artist separation
    sched = OnAirSchedule(
        timezone="UTC",
        channels=[Channel(id="a", name="A"), Channel(id="b", name="B")],
        items=[item("x", 600, artist="Same"), item("y", 600, artist="Same")],
        pools=[pool("p", "sequential", "x", "y")],
        rules=[Rules(channel="b", artist_separation=30)],
        blocks=[block("p", "00:00", "01:00", channel="a"), block("p", "00:00", "00:30", channel="b")],
    )

    # When the day is generated
    playout = run(sched)

    # Then the slots come channel by channel, each rotation from the top, and only "b" reports breaks
    assert [(s.channel, s.item_id) for s in playout.slots] == [("a", n) for n in "xyxyxy"] + [
        ("b", n) for n in "xyx"
    ]
    assert {b.channel for b in playout.report.rule_breaks} == {"b"}
    assert len(playout.report.rule_breaks) == 2


class Runaway(Exception):
    pass


def test_generation_terminates_with_an_item_shorter_than_a_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a one-minute block whose only item lasts 0.1 ms (models refuse items under a second since the
    # 1 s floor; the engine must still end if one reaches it unchecked); bounded by counting its slots
    import onair.playout.onair as engine

    added = 0
    original = engine._ChannelGenerator._play

    def counting_play(self: object, *args: object, **kwargs: object) -> int:
        nonlocal added
        added += 1
        if added > 60_001:  # more slots than milliseconds in the block: it would never end
            raise Runaway(f"{added} slots for a one-minute block")
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine._ChannelGenerator, "_play", counting_play)
    sched = schedule(
        [Item.model_construct(**dict(item("blip"), duration=0.0001))],
        [pool("p", "sequential", "blip")],
        [block("p", "00:00", "00:01")],
    )

    # When the day is generated
    playout = run(sched)

    # Then it ends, and nothing plays outside the block
    assert all(utc(MONDAY, 0) <= s.start and s.stop <= utc(MONDAY, 0, 1) for s in playout.slots)


@pytest.mark.parametrize("first_day", [date(1969, 12, 31), date(1, 1, 2), date(1900, 1, 1)])
def test_runs_before_1970_fill_their_blocks(first_day: date) -> None:
    # Given a one-hour block of one-minute items, on a day before the Unix epoch (negative instants)
    sched = schedule([item("a", 60)], [pool("p", "sequential", "a")], [block("p", "10:00", "11:00")])
    # When it is generated, then the block is filled, as on any other day
    playout = run(sched, first_day)
    assert len(playout.slots) == 60 and not playout.report.fill_errors
    assert playout.slots[0].start == datetime(first_day.year, first_day.month, first_day.day, 10, tzinfo=UTC)
