"""What every writer shares: the channels in schedule order, each channel's slots by instant, numbers
and text as the outputs write them."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from lxml import etree

from onair.models import OnAirSchedule, XmltvListing
from onair.playout.types import Playout, Slot

AnySchedule = XmltvListing | OnAirSchedule
T = TypeVar("T")
# Writers yield their output in pieces of this many entries (a few MB), which the run stores as they come
# (BlobStore.put_chunks): a large run never holds an output whole, nor the text it is encoded from.
BATCH = 2000


def batches(items: Iterable[T]) -> Iterator[list[T]]:
    """`items` in lists of BATCH (the last one shorter; none for no items)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, BATCH)):
        yield batch


# Stored elements were serialized by lxml from a hardened parse; parse them back just as carefully.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def display_name(xml: str) -> str:
    names = etree.fromstring(xml, PARSER).findall("display-name")
    return str(names[0].xpath("string()")).strip() if names else ""


def by_channel(schedule: AnySchedule, playout: Playout) -> list[tuple[str, list[Slot]]]:
    """Each channel id with its slots in time order: schedule channels first (those without slots too),
    then any channel only a slot names, in order of first use."""
    return _memo(schedule, playout).groups


def instants(slot: Slot) -> tuple[float, float]:
    # Instants, not the datetimes: two sharing a ZoneInfo compare by wall clock, which interleaves the
    # repeated hour of a DST change (01:12+01:00 would sort after 01:06+00:00).
    return slot.start.timestamp(), slot.stop.timestamp()


def ordered(schedule: AnySchedule, playout: Playout) -> list[Slot]:
    return _memo(schedule, playout).slots


def iso_times(schedule: AnySchedule, playout: Playout) -> tuple[list[str], list[str]]:
    """The start and the stop (ISO 8601) of each slot of `ordered`, in its order."""
    memo = _memo(schedule, playout)
    if memo.starts is None:
        slots = memo.slots
        starts = memo.starts = [slot.start.isoformat() for slot in slots]
        # Most stops are the next slot's start: the same wall clock, tzinfo object and fold (the same
        # offset, even in a zone's repeated hour) is the same text
        stops = memo.stops = [
            after_text
            if slot.stop == after.start
            and slot.stop.tzinfo is after.start.tzinfo
            and slot.stop.fold == after.start.fold
            else slot.stop.isoformat()
            for slot, after, after_text in zip(slots, slots[1:], starts[1:], strict=False)
        ]
        stops.extend(slot.stop.isoformat() for slot in slots[len(stops) :])
    assert memo.stops is not None
    return memo.starts, memo.stops


def durations(schedule: AnySchedule, playout: Playout) -> list[float]:
    """Each slot's seconds (Slot.seconds), in the order of `ordered`."""
    memo = _memo(schedule, playout)
    if memo.seconds is None:
        memo.seconds = [slot.seconds for slot in memo.slots]
    return memo.seconds


class _Memo:
    """What every writer of a run starts from, worked out once: the run job calls each writer with the same
    schedule and playout. Only the last pair's is kept, and only while that playout lives."""

    def __init__(self, schedule: AnySchedule, playout: Playout) -> None:
        self.schedule, self.playout = weakref.ref(schedule), weakref.ref(playout)
        self.slots_list, self.count = playout.slots, len(playout.slots)
        self.channels = [channel.id for channel in schedule.channels]
        groups: dict[str, list[Slot]] = {channel_id: [] for channel_id in self.channels}
        for slot in playout.slots:
            groups.setdefault(slot.channel, []).append(slot)
        self.groups = [(channel_id, sorted(slots, key=instants)) for channel_id, slots in groups.items()]
        self.slots = [slot for _, slots in self.groups for slot in slots]
        self.starts: list[str] | None = None
        self.stops: list[str] | None = None
        self.seconds: list[float] | None = None

    def serves(self, schedule: AnySchedule, playout: Playout) -> bool:
        return (
            self.schedule() is schedule
            and self.playout() is playout
            and playout.slots is self.slots_list
            and len(playout.slots) == self.count
            and [channel.id for channel in schedule.channels] == self.channels
        )


_last: list[_Memo] = []


def _memo(schedule: AnySchedule, playout: Playout) -> _Memo:
    if _last and _last[0].serves(schedule, playout):
        return _last[0]
    memo = _Memo(schedule, playout)
    _last[:] = [memo]
    weakref.finalize(playout, _forget, memo)  # its slots are not kept alive past the run
    return memo


def _forget(memo: _Memo) -> None:
    if _last and _last[0] is memo:
        _last.clear()


def whole_seconds(seconds: float) -> int:
    return int(Decimal(repr(seconds)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def decimal_seconds(seconds: float) -> str:
    """At most 3 decimals, no trailing zeros: 210.0 -> "210", 3.5 -> "3.5", 0.1254 -> "0.125"."""
    text = f"{round(seconds, 3):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def one_line(text: str) -> str:
    return " ".join(text.splitlines()) if text else text
