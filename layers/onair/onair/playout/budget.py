"""How many slots a run may make (its budget, from RunFunction's memory) and how many a run of an OnAir
schedule makes at least (its floor, to refuse a run at the request when it is certain to exceed).

The budget is a model of the run's peak memory, measured (docs/FORMATS.md#run-size): the runtime and its
libraries, the loaded schedule, and every slot of the playout while the heaviest output is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from onair.errors import Finding, RunTooLarge
from onair.models import SECONDS_PER_DAY, WEEKDAYS, OnAirSchedule

MIB = 1024 * 1024
# Python, boto3, botocore, lxml, pydantic and Powertools once the run handler is imported: 82 MB measured.
RUNTIME_BYTES = 128 * MIB
# A loaded schedule per byte of its schedule.json: 4.5 measured (a 52.7 MB XMLTV listing became 236 MB).
LOADED_PER_STORED_BYTE = 5
# A slot at the run's peak, its output being written: 4.1 KB measured for OnAir slots (guide.xml's lxml
# tree; playout.json's dicts come second at 3.5 KB), 5.7 KB for XMLTV programmes (their stored element is
# parsed back into the guide). One figure for both, with room for long titles and URIs.
SLOT_BYTES = 6 * 1024
MS = 0.001  # durations are whole milliseconds in the engine: a rounding's worth of slack


@dataclass(frozen=True)
class SlotBudget:
    """The most slots a run may make, and the memory it was derived from (for the error's message)."""

    slots: int
    memory_mb: int

    @classmethod
    def of(cls, memory_mb: int, stored_bytes: int = 0) -> SlotBudget:
        """In a function of `memory_mb` MB, for a schedule.json of `stored_bytes` (0: the largest budget
        any schedule gets, which a request's early check compares with)."""
        free = memory_mb * MIB - RUNTIME_BYTES - LOADED_PER_STORED_BYTE * stored_bytes
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

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str
    channels: int
    fill_seconds: list[float]  # mon .. sun; may be negative (events may cover more than their day's blocks)
    longest_item_seconds: float

    @classmethod
    def of(cls, schedule: OnAirSchedule) -> SlotFloor:
        from onair.playout.onair import whole_library  # the engine imports this module

        if not schedule.blocks and schedule.items:
            schedule = whole_library(schedule)
        durations = {item.id: item.duration for item in schedule.items}
        pools = {pool.id: [durations[i.id] for i in schedule.pool_items(pool.id)] for pool in schedule.pools}
        played = {b.pool for b in schedule.blocks} | {b.filler for b in schedule.blocks if b.filler}
        longest = max((d for pool in played for d in pools[pool]), default=0.0)
        gap = max((min(pools[b.pool]) for b in schedule.blocks), default=0.0) + MS
        fill = [0.0] * 7
        for weekday, day in enumerate(WEEKDAYS):
            for channel in schedule.channels:
                blocks = [b for b in schedule.blocks if b.channel == channel.id and day in b.days]
                events = [e for e in schedule.events if e.channel == channel.id and day in e.days]
                if not blocks:
                    continue  # events alone make slots, counted by no floor
                fill[weekday] += (
                    sum(b.end_seconds - b.start_seconds for b in blocks)
                    - sum(durations[e.item] for e in events)
                    - (len(blocks) + len(events)) * gap
                )
        return cls(
            timezone=schedule.timezone,
            channels=len(schedule.channels),
            fill_seconds=fill,
            longest_item_seconds=longest,
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
