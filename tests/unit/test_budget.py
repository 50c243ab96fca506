"""A run's slot budget (from RunFunction's memory) and an OnAir schedule's slot floor (the fewest slots a
run of it makes), pure. The properties run the engine on random schedules, zones and dates: no playout
ever holds more slots than its budget, and the floor the API refuses runs by is never above a real run."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from local.template import load_template
from onair.errors import RunTooLarge
from onair.models import WEEKDAYS, Block, Channel, FixedEvent, Item, OnAirSchedule, Pool, PoolMember
from onair.playout.budget import LOADED_PER_STORED_BYTE, SLOT_BYTES, SlotBudget, SlotFloor
from onair.playout.engine import generate
from onair.playout.types import RunRange

MONDAY = date(2026, 3, 2)
ZONES = sorted(zoneinfo.available_timezones())


def library_schedule(durations: list[float], timezone: str = "UTC", channels: int = 1) -> OnAirSchedule:
    """No blocks: the library plays in order, around the clock, on every channel."""
    return OnAirSchedule(
        timezone=timezone,
        channels=[Channel(id=f"c{n}", name=f"C{n}") for n in range(channels)],
        items=[Item(id=f"i{n}", title=f"T{n}", duration=d) for n, d in enumerate(durations)],
    )


# --- the budget -------------------------------------------------------------------------------------


def test_the_budget_comes_from_run_functions_memory_in_the_template():
    # Given the template: both functions are told RunFunction's MemorySize, which is a parameter
    app = load_template()
    run = app.functions["RunFunction"]
    for function in ("RunFunction", "ImportFunction"):
        env = app.resolve(dict(app.functions[function].environment))
        assert int(env["RUN_MEMORY_MB"]) == run.memory_size == int(app.parameters["RunMemorySize"])
    # Then the default gives a budget of about 450,000 slots
    assert 450_000 < SlotBudget.of(run.memory_size).slots < 470_000


def test_the_budget_grows_with_memory_and_shrinks_with_the_schedule_it_loads():
    assert SlotBudget.of(2048).slots > SlotBudget.of(1024).slots > SlotBudget.of(512).slots
    assert SlotBudget.of(1024, 10_000_000).slots < SlotBudget.of(1024).slots
    # a schedule whose loaded model alone would fill the memory leaves nothing for slots
    assert SlotBudget.of(1024, 300 * 1024 * 1024).slots == 0
    for schedule_format, per_byte in LOADED_PER_STORED_BYTE.items():
        assert SlotBudget.of(1024).slots - SlotBudget.of(1024, SLOT_BYTES, schedule_format).slots == per_byte
    # an OnAir schedule takes more memory loaded than a listing of the same size
    assert SlotBudget.of(1024, 10_000_000, "onair").slots < SlotBudget.of(1024, 10_000_000, "xmltv").slots


def test_a_playout_over_its_budget_is_stopped_while_it_is_generated(monkeypatch):
    import onair.playout.onair as engine

    # Given a day of one-minute items (1,440 slots) and a budget of 1,000
    sched = library_schedule([60])
    made = 0
    real_play = engine._ChannelGenerator._play

    def counted(self, *args, **kwargs):
        nonlocal made
        end = real_play(self, *args, **kwargs)
        made += 1  # a slot was made
        return end

    monkeypatch.setattr(engine._ChannelGenerator, "_play", counted)
    # When it is generated, then it stops at the 1,001st slot, unmade, with run_too_large
    with pytest.raises(RunTooLarge) as raised:
        generate(sched, RunRange(MONDAY, 1), 0, SlotBudget(1000, 1024))
    assert made == 1000
    assert raised.value.code == "run_too_large" and raised.value.status == 422
    assert "at most 1000" in raised.value.message and "RunMemorySize" in raised.value.message
    # And with a budget of exactly its size it runs
    assert len(generate(sched, RunRange(MONDAY, 1), 0, SlotBudget(1440, 1024)).slots) == 1440


def test_the_budget_counts_the_slots_of_every_channel():
    sched = library_schedule([60], channels=3)
    with pytest.raises(RunTooLarge):
        generate(sched, RunRange(MONDAY, 1), 0, SlotBudget(3 * 1440 - 1, 1024))
    assert len(generate(sched, RunRange(MONDAY, 1), 0, SlotBudget(3 * 1440, 1024)).slots) == 3 * 1440


# --- the floor --------------------------------------------------------------------------------------


def test_one_second_items_over_a_year_are_certain_to_exceed_the_default_budget():
    # Given the report's case: 1-second items, 366 days (31.6 M slots)
    floor = SlotFloor.of(library_schedule([1]))
    least = floor.slots(date(2026, 1, 1), 366)
    # Then the floor is within two seconds a day of it, far over any budget
    assert 366 * 86_398 <= least <= 366 * 86_400
    assert least > SlotBudget.of(10240).slots


def test_a_floor_counts_only_block_time_and_the_longest_item():
    # Given weekday blocks 06:00-10:00 filled from 3-6 minute items, an idents filler, a 30-minute event
    items = [Item(id=f"s{n}", title=f"S{n}", duration=180 + 60 * n) for n in range(4)]
    items += [Item(id="ident", title="Ident", duration=5), Item(id="news", title="News", duration=1800)]
    sched = OnAirSchedule(
        timezone="Europe/Paris",
        channels=[Channel(id="c", name="C")],
        items=items,
        pools=[
            Pool(id="music", order="shuffle", members=[PoolMember(item=f"s{n}") for n in range(4)]),
            Pool(id="idents", order="random", members=[PoolMember(item="ident")]),
        ],
        blocks=[
            Block(
                channel="c",
                days=list(WEEKDAYS[:5]),
                start="06:00",
                end="10:00",
                pool="music",
                filler="idents",
            )
        ],
        events=[FixedEvent(channel="c", days=list(WEEKDAYS[:5]), time="08:00", item="news")],
    )
    floor = SlotFloor.of(sched)
    # Then a weekday counts 4 h less the event and two gaps of under 3 minutes, in 6-minute slots
    assert floor.fill_seconds[0] == pytest.approx(4 * 3600 - 1800 - 2 * 180.001)
    assert floor.fill_seconds[5:] == [0, 0]
    assert floor.slots(MONDAY, 7) == int(5 * (4 * 3600 - 1800 - 2 * 180.001) // 360)
    playout = generate(sched, RunRange(MONDAY, 7), 0)
    assert floor.slots(MONDAY, 7) <= len(playout.slots)


def test_a_day_that_a_zone_skips_lowers_the_floor_by_the_missing_time():
    # Samoa skipped 2011-12-30; Paris springs forward on 2026-03-29
    assert SlotFloor.of(library_schedule([60], "Pacific/Apia")).slots(date(2011, 12, 30), 1) == 0
    paris = SlotFloor.of(library_schedule([60], "Europe/Paris"))
    assert paris.slots(date(2026, 3, 29), 1) == (86_400 - 60.001 - 3600) // 60


# --- properties -------------------------------------------------------------------------------------


@cache
def changes_of(zone_name: str, year: int) -> tuple[date, ...]:
    """The local days of `year` whose length is not 24 h in the zone (DST and other changes)."""
    zone = ZoneInfo(zone_name)
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        start = datetime.combine(day, time(), zone).timestamp()
        if datetime.combine(day + timedelta(days=1), time(), zone).timestamp() - start != 86_400:
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


@st.composite
def first_days(draw: st.DrawFn, zone: str) -> date:
    """Often the day before a change of the zone's clock, else any day of 1900-2100."""
    year = draw(st.integers(1900, 2100))
    changes = changes_of(zone, year)
    if changes and draw(st.booleans()):
        return draw(st.sampled_from(changes)) - timedelta(days=draw(st.integers(0, 1)))
    return date(year, 1, 1) + timedelta(days=draw(st.integers(0, 364)))


TIMES = st.integers(0, 24 * 4).map(lambda quarter: f"{quarter // 4:02d}:{quarter % 4 * 15:02d}")


@st.composite
def schedules(draw: st.DrawFn) -> OnAirSchedule:
    """Up to 2 channels; 1-6 items of 1 s to 2 h in up to 3 pools of any order; up to 3 blocks a channel
    (non-overlapping, on random days), an optional filler, up to 2 fixed events a channel; any zone."""
    zone = draw(st.sampled_from(ZONES))
    durations = draw(
        st.lists(
            st.one_of(st.integers(1, 30), st.integers(60, 600), st.integers(600, 7200)),
            min_size=1,
            max_size=6,
        )
    )
    items = [Item(id=f"i{n}", title=f"T{n % 3}", duration=d) for n, d in enumerate(durations)]
    pools = []
    for p in range(draw(st.integers(1, 3))):
        members = draw(
            st.lists(st.sampled_from(items), min_size=1, max_size=len(items), unique_by=lambda i: i.id)
        )
        order = draw(st.sampled_from(["sequential", "shuffle", "random", "weighted"]))
        pools.append(Pool(id=f"p{p}", order=order, members=[PoolMember(item=i.id) for i in members]))
    channels = [Channel(id=f"c{n}", name=f"C{n}") for n in range(draw(st.integers(1, 2)))]
    blocks, events = [], []
    for channel in channels:
        bounds = sorted(set(draw(st.lists(TIMES, min_size=2, max_size=6))))
        for start, end in list(pairwise(bounds))[::2][:3]:
            if start == "24:00":
                continue
            days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
            pool = draw(st.sampled_from(pools)).id
            filler = draw(st.one_of(st.none(), st.sampled_from(pools).map(lambda p: p.id)))
            blocks.append(
                Block(channel=channel.id, days=days, start=start, end=end, pool=pool, filler=filler)
            )
        for at in draw(st.lists(TIMES.filter(lambda t: t != "24:00"), max_size=2, unique=True)):
            item = draw(st.sampled_from(items))
            events.append(FixedEvent(channel=channel.id, days=list(WEEKDAYS), time=at, item=item.id))
    return OnAirSchedule(
        timezone=zone, channels=channels, items=items, pools=pools, blocks=blocks, events=events
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), sched=schedules())
def test_no_playout_exceeds_its_budget_and_the_floor_never_exceeds_a_real_run(data, sched):
    first = data.draw(first_days(sched.timezone))
    days = data.draw(st.integers(1, 4))
    seed = data.draw(st.integers(0, 2**32))
    free = generate(sched, RunRange(first, days), seed)
    actual = len(free.slots)
    # The floor (the API refuses a run when it exceeds the budget) is a true lower bound
    assert SlotFloor.of(sched).slots(first, days) <= actual
    # And any budget either holds the whole playout, identical to the unbounded one, or stops it
    limit = data.draw(st.integers(0, actual + 5))
    try:
        bounded = generate(sched, RunRange(first, days), seed, SlotBudget(limit, 1024))
    except RunTooLarge:
        assert actual > limit
    else:
        assert actual <= limit and len(bounded.slots) == actual
        assert [(s.start, s.item_id) for s in bounded.slots] == [(s.start, s.item_id) for s in free.slots]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    durations=st.lists(st.integers(1, 3600), min_size=1, max_size=4),
    data=st.data(),
)
def test_the_floor_of_a_whole_library_holds_on_every_kind_of_day(zone, durations, data):
    assume(min(durations) >= 30)  # keeps a day under 3,000 slots: the property, not the speed, is tested
    sched = library_schedule([float(d) for d in durations], zone)
    first = data.draw(first_days(zone))
    playout = generate(sched, RunRange(first, 2), 0)
    assert SlotFloor.of(sched).slots(first, 2) <= len(playout.slots)
