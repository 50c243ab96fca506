"""asrun.csv (the layout: onair/writers/__init__.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from onair.live.ids import slot_id, splice_event_id
from onair.playout.types import Playout, Slot
from onair.writers.common import AnySchedule, batches, decimal_seconds, durations, iso_times, ordered

# break_id (last, so readers by position keep working): a filler slot's SCTE-35 splice_event_id, the cue
# the live channel's EXT-X-DATERANGE carries for that break (onair.live.timeline).
CSV_HEADER = (
    "channel",
    "start",
    "end",
    "duration",
    "item_id",
    "title",
    "artist",
    "pool",
    "block",
    "break_id",
)
FILLER = "filler"


def asrun_csv(schedule: AnySchedule, playout: Playout) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    starts, stops = iso_times(schedule, playout)
    slots = ordered(schedule, playout)
    durations_text: dict[float, str] = {}  # a listing repeats its durations
    for rows in batches(zip(slots, starts, stops, durations(schedule, playout), strict=True)):
        for slot, start, stop, seconds in rows:
            duration = durations_text.get(seconds)
            if duration is None:
                duration = durations_text[seconds] = _inert(decimal_seconds(seconds))
            # Times and break ids start with a digit; the other cells made inert as _inert does, inline
            # (half a million calls for a large listing, otherwise)
            channel, item_id, title, artist, pool, block = [
                "'" + cell if cell.startswith(_FORMULA_STARTS) else cell
                for cell in (
                    slot.channel,
                    slot.item_id or "",
                    slot.title,
                    slot.artist or "",
                    slot.pool or "",
                    slot.block or "",
                )
            ]
            writer.writerow(
                (channel, start, stop, duration, item_id, title, artist, pool, block, break_id(slot))
            )
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no slots: the header alone
        yield buffer.getvalue().encode()


def break_id(slot: Slot) -> str:
    """The splice_event_id of a break (a filler slot), in decimal; "" for any other slot."""
    if slot.kind != FILLER:
        return ""
    start, stop = _ms(slot.start.timestamp()), _ms(slot.stop.timestamp())
    return str(splice_event_id(slot_id(slot.channel, start, stop, slot.kind, slot.item_id, slot.title)))


def _ms(seconds: float) -> int:
    return round(seconds * 1000)  # as onair.live.timeline.LiveSlot.of: the cue's identity uses the same ms


# A spreadsheet runs a cell starting with one of these as a formula (OWASP, CSV injection); the quote is
# there so a quote we add can always be told from one the value had.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def _inert(cell: str) -> str:
    """The cell with a single quote in front when it starts like a formula (or with a quote)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell
