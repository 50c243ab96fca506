"""Playout of an OnAir schedule: fixed events first, then blocks filled from their pools, exactly.

Per channel, over the run's local days:
- a fixed event starts at its local time, always; a block's time is what remains around its events (an
  event still on air from the day before, or across a spring-forward change, makes the next one start
  late, reported as an overrun: slots never overlap);
- each stretch of a block is filled from the block's pool in the pool's order, under the channel's rules;
- when the pool's next item would cross the stretch's end, the rest is filled best-fit (the longest item
  that still fits): from the pool, then from the filler pool. Filler items (idents, jingles) are exempt
  from the rotation rules. What cannot be filled is reported as an underrun; an event that runs past its
  block's end as an overrun.
Local times become UTC instants through zoneinfo, so a 23- or 25-hour day has no gap and no overlap. A
local time that does not exist (the skipped hour of a DST change) is taken with the offset before the
change, i.e. moved forward by the gap; a repeated local time means its first occurrence.
Times are integer milliseconds internally, so long runs do not drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from onair.models import WEEKDAYS, Block, Item, OnAirSchedule, Pool, PoolMember
from onair.playout.budget import SlotBudget
from onair.playout.rotation import Clock, History, Rotation, choose, hour_key, stable_rng
from onair.playout.types import FillError, Playout, Report, RuleBreak, RunRange, Slot, SlotKind


@dataclass(frozen=True)
class _Event:
    start_ms: int
    item: Item


@dataclass(frozen=True)
class _Block:
    start_ms: int
    end_ms: int
    block: Block
    label: str  # "06:00-10:00": every slot of the block carries it


LIBRARY_POOL = "library"
# Before any instant a run can have: runs may start in year 1, 62 billion seconds before 1970 (ms 0).
EARLIEST_MS = -(2**62)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Below 2**32 s from 1970 (years 1833-2106), ms / 1000 as a float is within 0.25 µs of the instant, so
# fromtimestamp gets it exact; further out the float's steps reach 60 µs and slot times come out off by µs.
_FLOAT_EXACT_MS = 2**32 * 1000


def onair_playout(
    schedule: OnAirSchedule, run_range: RunRange, seed: int, budget: SlotBudget | None = None
) -> Playout:
    """Raises RunTooLarge as soon as the slots of all channels pass `budget` (unbounded without one)."""
    if not schedule.blocks and schedule.items:
        schedule = whole_library(schedule)
    zone = ZoneInfo(schedule.timezone)
    first_day = run_range.first_day or datetime.now(zone).date()
    days = [first_day + timedelta(days=n) for n in range(run_range.days)]
    report = Report()
    slots: list[Slot] = []
    pool_items = {pool.id: schedule.pool_items(pool.id) for pool in schedule.pools}
    for channel in schedule.channels:
        left = None if budget is None else budget.slots - len(slots)
        generator = _ChannelGenerator(schedule, pool_items, channel.id, zone, seed, first_day, report, left)
        try:
            slots.extend(generator.run(days))
        except _OverBudget:
            assert budget is not None
            raise budget.exceeded() from None
    return Playout(slots, report)


class _OverBudget(Exception):
    """One slot past the budget: raised while generating, so memory never holds the run it would be."""


class _ChannelGenerator:
    def __init__(
        self,
        schedule: OnAirSchedule,
        pool_items: dict[str, list[Item]],
        channel: str,
        zone: ZoneInfo,
        seed: int,
        first_day: date,
        report: Report,
        slots_left: int | None = None,
    ) -> None:
        self.schedule = schedule
        self.channel = channel
        self.zone = zone
        self.report = report
        self.history = History(schedule.rules_for(channel))
        self.rotations = {
            pool.id: Rotation(
                pool, pool_items[pool.id], stable_rng(seed, channel, pool.id, first_day.isoformat())
            )
            for pool in schedule.pools
        }
        self.items = {item.id: item for item in schedule.items}
        self.ms = {item.id: _ms(item) for item in schedule.items}  # looked up for every item placed
        self.slots: list[Slot] = []
        self.starts: list[int] = []  # each slot's start in ms, for sorting by instant
        self.slots_left = -1 if slots_left is None else slots_left  # -1: no budget
        self._last_local: tuple[int, datetime] = (-1, datetime.min)
        self._on_air_until: int | None = None  # the end of the last slot placed (slots go in time order)

    def run(self, days: list[date]) -> list[Slot]:
        blocks: list[_Block] = []
        events: list[_Event] = []
        for day in days:
            weekday = WEEKDAYS[day.weekday()]
            for spec in self.schedule.blocks:
                if spec.channel == self.channel and weekday in spec.days:
                    start, end = (
                        self._instant(day, spec.start_seconds),
                        self._instant(day, spec.end_seconds),
                    )
                    if end > start:  # a block inside the skipped hour of a DST change is empty
                        blocks.append(_Block(start, end, spec, f"{spec.start}-{spec.end}"))
            for fixed in self.schedule.events:
                if fixed.channel == self.channel and weekday in fixed.days:
                    events.append(_Event(self._instant(day, fixed.time_seconds), self.items[fixed.item]))
        blocks.sort(key=lambda b: b.start_ms)
        events.sort(key=lambda e: e.start_ms)

        cursor = EARLIEST_MS  # the end of what is already on air: nothing yet
        pending = list(reversed(events))  # a stack: the next event is pending[-1]
        for block in blocks:
            start = max(block.start_ms, cursor)
            while pending and pending[-1].start_ms < block.end_ms:
                event = pending.pop()
                inside = event.start_ms >= block.start_ms
                if inside and event.start_ms > start:
                    self._fill(start, event.start_ms, block)
                start = max(start, self._place_event(event, block if inside else None))
            if start < block.end_ms:
                self._fill(start, block.end_ms, block)
            elif start > block.end_ms:
                self.report.fill_errors.append(
                    FillError(
                        "overrun",
                        self.channel,
                        block.label,
                        self._local(block.end_ms),
                        (start - block.end_ms) / 1000,
                    )
                )
            cursor = max(start, block.end_ms)
        for event in reversed(pending):  # events after the last block
            self._place_event(event, None)
        # By instant (ms): datetimes sharing a ZoneInfo compare by wall clock, wrong in a repeated DST hour.
        order = sorted(range(len(self.slots)), key=self.starts.__getitem__)
        return [self.slots[index] for index in order]

    def _instant(self, day: date, seconds: int) -> int:
        """The UTC instant (ms) of a local time of day; 24:00 is the next day's midnight."""
        local = datetime.combine(day + timedelta(days=seconds // 86_400), time(), self.zone)
        local = local.replace(hour=seconds % 86_400 // 3600, minute=seconds % 3600 // 60, second=seconds % 60)
        return round(local.timestamp() * 1000)

    def _local(self, ms: int) -> datetime:
        # One slot's stop is the next one's start: remembering the last answer halves the conversions.
        if ms != self._last_local[0]:
            if -_FLOAT_EXACT_MS < ms < _FLOAT_EXACT_MS:
                local = datetime.fromtimestamp(ms / 1000, self.zone)
            else:  # exact integer arithmetic, 3x slower
                local = (_EPOCH + timedelta(milliseconds=ms)).astimezone(self.zone)
            self._last_local = (ms, local)
        return self._last_local[1]

    def _clock(self, ms: int) -> Clock:
        local = self._local(ms)
        ordinal = local.toordinal()
        return Clock(ms, hour_key(ordinal, local.hour, local.fold), ordinal)

    def _place_event(self, event: _Event, block: _Block | None) -> int:
        start = event.start_ms
        if self._on_air_until is not None and self._on_air_until > start:
            # Still on air: an earlier event ran past midnight or, on a spring-forward day, into this one
            # (the importer checks events by wall clock). Two slots never overlap: this one follows, late.
            start = self._on_air_until
            label = block.label if block else ""
            late = (start - event.start_ms) / 1000
            self.report.fill_errors.append(
                FillError("overrun", self.channel, label, self._local(event.start_ms), late)
            )
        return self._play(event.item, (), start, self._clock(start), "event", None, block)

    def _fill(self, start: int, end: int, block: _Block) -> None:
        """Fill [start, end) from the block's pool, then best-fit to the end; report what stays empty."""
        rotation, history = self.rotations[block.block.pool], self.history
        breaks: tuple[tuple[str, float], ...]
        cursor = start
        while cursor < end:
            clock = self._clock(cursor)
            head = rotation.head()
            if head is not None and history.allows_all(head, clock):
                item, breaks = head, ()  # what choose() would answer, without making the candidates
            else:
                choice = choose(rotation.candidates(), history, clock)
                if choice is None:
                    break
                item, breaks = choice
            if self.ms[item.id] > end - cursor:
                break
            cursor = self._play(item, breaks, cursor, clock, "block", rotation, block, in_turn=True)
        # The pool's next item would cross the end: the longest items that still fit, pool first.
        while cursor < end:
            clock = self._clock(cursor)
            choice = choose(rotation.longest_within((end - cursor) / 1000), self.history, clock)
            if choice is None:
                break
            cursor = self._play(choice.item, choice.breaks, cursor, clock, "block", rotation, block)
        filler = self.rotations.get(block.block.filler or "")
        while filler is not None and cursor < end:
            fill = next(filler.longest_within((end - cursor) / 1000), None)
            if fill is None:
                break
            cursor = self._play(fill, (), cursor, None, "filler", filler, block)
        if cursor < end:
            self.report.fill_errors.append(
                FillError("underrun", self.channel, block.label, self._local(end), (end - cursor) / 1000)
            )

    def _play(
        self,
        item: Item,
        breaks: tuple[tuple[str, float], ...],
        cursor: int,
        clock: Clock | None,
        kind: SlotKind,
        rotation: Rotation | None,
        block: _Block | None,
        *,
        in_turn: bool = False,
    ) -> int:
        """`item` on air from `cursor`; returns its end. With a `clock` it counts for the rules (fillers are
        exempt, and do not count). One function for every slot placed: it runs 140,000 times for a year."""
        if self.slots_left >= 0:
            if self.slots_left == 0:
                raise _OverBudget
            self.slots_left -= 1
        end = cursor + self.ms[item.id]
        self.starts.append(cursor)
        self._on_air_until = end
        last_ms, last_local = self._last_local  # most often this slot's start: the previous one's stop
        self.slots.append(
            Slot(  # by position: a keyword call costs 2.5x as much (0.7 µs, 140,000 times a year)
                self.channel,
                last_local if cursor == last_ms else self._local(cursor),  # start
                self._local(end),  # stop
                item.title,
                kind,
                item.id,
                item.artist or item.series,  # artist: Item.credit, without a property call per slot
                item.category,
                item.uri,
                rotation.pool_id if rotation else None,  # pool
                block.label if block else None,  # block
                None,  # source_xml (XMLTV only)
                item,
            )
        )
        if rotation is not None:
            rotation.played(item, in_turn=in_turn)
        if clock is not None:
            self.history.record(item, clock)
            for rule, miss in breaks:
                self.report.rule_breaks.append(
                    RuleBreak(rule, self.channel, item.id, self._local(cursor), miss)
                )
        return end


def _ms(item: Item) -> int:
    return max(1, round(item.duration * 1000))  # at least 1 ms: every item moves the clock on


def whole_library(schedule: OnAirSchedule) -> OnAirSchedule:
    """A schedule without blocks plays its whole library in order, around the clock, on every channel."""
    pool_id = LIBRARY_POOL
    while any(pool.id == pool_id for pool in schedule.pools):
        pool_id += "_"
    library = Pool(
        id=pool_id, order="sequential", members=[PoolMember(item=item.id) for item in schedule.items]
    )
    blocks = [
        Block(channel=channel.id, days=list(WEEKDAYS), start="00:00", end="24:00", pool=pool_id)
        for channel in schedule.channels
    ]
    return schedule.model_copy(update={"pools": [*schedule.pools, library], "blocks": blocks})
