"""asrun.csv (the layout: onair/writers/__init__.py)."""

from __future__ import annotations

import csv
import io

from onair.playout.types import Playout
from onair.writers.common import AnySchedule, decimal_seconds, ordered

CSV_HEADER = ("channel", "start", "end", "duration", "item_id", "title", "artist", "pool", "block")


def asrun_csv(schedule: AnySchedule, playout: Playout) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for slot in ordered(schedule, playout):
        row = [
            slot.channel,
            slot.start.isoformat(),
            slot.stop.isoformat(),
            decimal_seconds(slot.seconds),
            slot.item_id or "",
            slot.title,
            slot.artist or "",
            slot.pool or "",
            slot.block or "",
        ]
        writer.writerow([_inert(cell) for cell in row])
    return buffer.getvalue().encode()


# A spreadsheet runs a cell starting with one of these as a formula (OWASP, CSV injection); the quote is
# there so a quote we add can always be told from one the value had.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def _inert(cell: str) -> str:
    """The cell with a single quote in front when it starts like a formula (or with a quote)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell
