"""How many slots a run may make (its budget, from RunFunction's memory) and how many a run of an OnAir
schedule makes at least (its floor, to refuse a run at the request when it is certain to exceed).

The budget is a model of the run's peak memory, measured (docs/FORMATS.md#run-size): the runtime and its
libraries, the loaded schedule, and every slot of the playout while the heaviest output is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from onair.errors import Finding, RunTooLarge
from onair.models import SECONDS_PER_DAY, WEEKDAYS, OnAirSchedule

MIB = 1024 * 1024
Format = Literal["xmltv", "onair"]
# Python, boto3, botocore, lxml, pydantic and Powertools once the run handler is imported: 82 MB measured.
RUNTIME_BYTES = 128 * MIB
# A loaded schedule per byte of its schedule.json, at the run's peak (docs/PERFORMANCE.md, "The run shelves
# the programmes"): a listing's programmes load a line at a time onto the run's shelf (playout/shelf.py),
# their XML in /tmp (0.8 measured, the slots and a piece of each output included: a 66 MiB schedule.json
# took 52 MiB); 3 also keeps the shelf (~0.8 of the file) and the largest output within /tmp's 512 MB at
# 1024 MB. An OnAir schedule loads whole, its items many small models (11.7: a 20 MiB library of 95,000
# items took 240 MiB).
LOADED_PER_STORED_BYTE: dict[Format, int] = {"xmltv": 3, "onair": 12}
# A slot at the run's peak, its outputs written in pieces: 0.44 KB measured for OnAir slots (279,072 of them),
# 0.47 KB for XMLTV programmes (85,888). Four times that: room for long titles and URIs, and it keeps the
# largest output (guide.xml, ~0.6 KB a slot), written to /tmp on its way to S3, within Lambda's 512 MB there.
SLOT_BYTES = 2 * 1024
MS = 0.001  # durations are whole milliseconds in the engine: a rounding's worth of slack


@dataclass(frozen=True)
class SlotBudget:
    """The most slots a run may make, and the memory it was derived from (for the error's message)."""

    slots: int
    memory_mb: int

    @classmethod
    def of(cls, memory_mb: int, stored_bytes: int = 0, schedule_format: Format = "xmltv") -> SlotBudget:
        """In a function of `memory_mb` MB, for a schedule.json of `stored_bytes` (0: the largest budget
        any schedule gets, which a request's early check compares with) in `schedule_format` (a listing's,
        the leanest to load, when it is not known yet)."""
        free = memory_mb * MIB - RUNTIME_BYTES - LOADED_PER_STORED_BYTE[schedule_format] * stored_bytes
        return cls(max(0, free // SLOT_BYTES), memory_mb)

    def exceeded(self, at_least: int | None = None) -> RunTooLarge:
        amount = f"at least {at_least}" if at_least is not None else f"more than {self.slots}"
        return RunTooLarge(
            f"this run would make {amount} slots; a run may make at most {self.slots} with RunFunction's "
            f"{self.memory_mb} MB: ask for fewer days, or deploy with a larger RunMemorySize",
            details=[Finding("slots", f"{amount} slots, of at most {self.slots}")],
        )


class SlotFloor(BaseModel):
    """What every run of an OnAir schedule makes at least, from figures its import keeps in the summary.

    Per weekday, summed over channels, the block time that is certainly filled: a stretch of a block
    (between its start, its fixed events and its end) ends with a gap shorter than the shortest item of
    its pool (best-fit places any that fits), and events take at most their own length. Every filled
    slot lasts at most the longest pool or filler item, so slots >= filled time / that length. A local day
    shorter than 24 h (a DST change, a zone skipping a day) loses at most the missing time per channel.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    timezone: str
    channels: int
    fill_seconds: list[float]  # mon .. sun; may be negative (events may cover more than their day's blocks)
    longest_item_seconds: float

    @classmethod
    def of(cls, schedule: OnAirSchedule) -> SlotFloor:
        """Linear in the schedule's size: it runs at every import, on up to 100,000 elements."""
        from onair.playout.onair import whole_library  # the engine imports this module

        if not schedule.blocks and schedule.items:
            schedule = whole_library(schedule)
        shortest, longest = _pool_durations(schedule)
        played = {b.pool for b in schedule.blocks} | {b.filler for b in schedule.blocks if b.filler}
        longest_item = max((longest[pool] for pool in played), default=0.0)
        gap = max((shortest[b.pool] for b in schedule.blocks), default=0.0) + MS
        durations = {item.id: item.duration for item in schedule.items}
        fill = [0.0] * 7
        for block in schedule.blocks:
            for day in block.days:
                fill[WEEKDAYS.index(day)] += block.end_seconds - block.start_seconds - gap
        programmed = {(b.channel, day) for b in schedule.blocks for day in b.days}
        for event in schedule.events:
            for day in event.days:
                if (event.channel, day) in programmed:  # events alone make slots no floor counts
                    fill[WEEKDAYS.index(day)] -= durations[event.item] + gap
        return cls(
            timezone=schedule.timezone,
            channels=len(schedule.channels),
            fill_seconds=fill,
            longest_item_seconds=longest_item,
        )

    def slots(self, first_day: date, days: int) -> int:
        """At least this many slots in a run of `days` local days from `first_day`."""
        if self.longest_item_seconds <= 0:
            return 0
        zone = ZoneInfo(self.timezone)
        filled = 0.0
        for n in range(days):
            day = first_day + timedelta(days=n)
            filled += self.fill_seconds[day.weekday()] - self.channels * _short_by(day, zone)
        return max(0, int(filled // self.longest_item_seconds))


def _short_by(day: date, zone: ZoneInfo) -> float:
    """How much shorter than 24 h the local day is, as the engine maps local times (a skipped time takes
    the offset before the change)."""

    def instant(on: date) -> float:
        return datetime.combine(on, time(), zone).timestamp()

    return max(0.0, SECONDS_PER_DAY - (instant(day + timedelta(days=1)) - instant(day)))


def _pool_durations(schedule: OnAirSchedule) -> tuple[dict[str, float], dict[str, float]]:
    """The shortest and the longest item of every pool (OnAirSchedule.pool_items' members), in one pass."""
    by_id = {item.id: item.duration for item in schedule.items}
    by_category: dict[str, list[float]] = {}
    for item in schedule.items:
        if item.category is not None:
            by_category.setdefault(item.category, []).append(item.duration)
    ranges = {category: (min(d), max(d)) for category, d in by_category.items()}
    shortest: dict[str, float] = {}
    longest: dict[str, float] = {}
    for pool in schedule.pools:
        found = [
            (by_id[m.item], by_id[m.item]) if m.item in by_id else ranges.get(m.category or "", (0.0, 0.0))
            for m in pool.members
        ]
        shortest[pool.id] = min(low for low, _ in found)
        longest[pool.id] = max(high for _, high in found)
    return shortest, longest
