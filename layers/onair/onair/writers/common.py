"""What every writer shares: the channels in schedule order, each channel's slots by instant, numbers
and text as the outputs write them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from onair.models import OnAirSchedule, XmltvListing
from onair.playout.types import Playout, Slot

AnySchedule = XmltvListing | OnAirSchedule

# Stored elements were serialized by lxml from a hardened parse; parse them back just as carefully.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def display_name(xml: str) -> str:
    names = etree.fromstring(xml, PARSER).findall("display-name")
    return str(names[0].xpath("string()")).strip() if names else ""


def by_channel(schedule: AnySchedule, playout: Playout) -> Iterator[tuple[str, list[Slot]]]:
    """Each channel id with its slots in time order: schedule channels first (those without slots too),
    then any channel only a slot names, in order of first use."""
    groups: dict[str, list[Slot]] = {channel.id: [] for channel in schedule.channels}
    for slot in playout.slots:
        groups.setdefault(slot.channel, []).append(slot)
    for channel_id, slots in groups.items():
        yield channel_id, sorted(slots, key=instants)  # stable for ties


def instants(slot: Slot) -> tuple[float, float]:
    # Instants, not the datetimes: two sharing a ZoneInfo compare by wall clock, which interleaves the
    # repeated hour of a DST change (01:12+01:00 would sort after 01:06+00:00).
    return slot.start.timestamp(), slot.stop.timestamp()


def ordered(schedule: AnySchedule, playout: Playout) -> list[Slot]:
    return [slot for _, slots in by_channel(schedule, playout) for slot in slots]


def whole_seconds(seconds: float) -> int:
    return int(Decimal(repr(seconds)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def decimal_seconds(seconds: float) -> str:
    """At most 3 decimals, no trailing zeros: 210.0 -> "210", 3.5 -> "3.5", 0.1254 -> "0.125"."""
    text = f"{round(seconds, 3):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def one_line(text: str) -> str:
    return " ".join(text.splitlines()) if text else text
