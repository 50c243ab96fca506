"""XMLTV scaling: import and 1-day playout of 25k / 50k / 100k programmes on 150 channels and on one, and
a <tv> or a <programme> with 12.5k-50k attributes (the import, and the programme's guide.xml).

    .venv/bin/python -m bench.xmltv_scaling [--repeat 1] [--output FILE]

Each size doubles the one before, and the ratio columns divide a time by the previous size's: 2.0 is
linear (n log n reads a little more), 4.0 quadratic. One channel is the worst case for work per channel
(the issue's 1.0 / 6.6 / 31 s playout). Per listing (bench/xmltv_gen.py):
`import` is parse_schedule, `load` reads schedule.json back as a run does, `playout` is `generate` for the
listing's first UTC day, `outputs` every writer over it; `no stops` is the playout of the same listing with
every stop removed (each programme then ends at the next start). Times are CPU seconds of this process
(time.process_time: on a shared machine, waiting for a CPU is not counted), the best of --repeat runs.
Measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import gc
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import bench  # noqa: F401  (puts layers/onair on sys.path)
from bench.xmltv_gen import START, listing_of
from onair.models import XmltvListing, load_stored
from onair.playout.engine import generate
from onair.playout.types import RunRange
from onair.readers.schedule import parse_schedule
from onair.writers import WRITERS

SIZES = (25_000, 50_000, 100_000)
ATTRIBUTES = (12_500, 25_000, 50_000)
MAX_BYTES = 1 << 30
FIRST_DAY = START.astimezone(UTC).date()
T = TypeVar("T")


def best(repeat: int, call: Callable[[], T]) -> tuple[float, T]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()  # no collection owed by the previous measurement's garbage
        started = time.process_time()
        result = call()
        times.append(time.process_time() - started)
    return min(times), result  # type: ignore[return-value]


def listing(document: bytes) -> XmltvListing:
    schedule = parse_schedule(document, max_bytes=MAX_BYTES).schedule
    assert isinstance(schedule, XmltvListing)
    return schedule


def ratio(times: list[float], index: int) -> str:
    return "" if index == 0 else f"{times[index] / times[index - 1]:.1f}"


def programmes_table(repeat: int, channels: int) -> list[str]:
    columns = ("import", "load", "playout", "outputs", "no stops")
    rows: list[tuple[int, int, list[float]]] = []
    for size in SIZES:
        document = listing_of(size, channels)
        seconds_import, parsed = best(repeat, lambda: parse_schedule(document, max_bytes=MAX_BYTES))  # noqa: B023
        stored = b"".join(parsed.stored_json("bench", datetime.now(UTC)))
        seconds_load, loaded = best(repeat, lambda: load_stored(stored.split(b"\n")))  # noqa: B023
        schedule = loaded.schedule
        day = RunRange(FIRST_DAY, 1)
        seconds_playout, playout = best(repeat, lambda: generate(schedule, day, seed=1))  # noqa: B023
        seconds_outputs, _ = best(
            repeat,
            lambda: [b"".join(write(schedule, playout)) for _, write in WRITERS.values()],  # noqa: B023
        )
        stopless = listing(re.sub(rb' stop="[^"]+"', b"", document))
        seconds_stopless, _ = best(repeat, lambda: generate(stopless, day, seed=1))  # noqa: B023
        times = [seconds_import, seconds_load, seconds_playout, seconds_outputs, seconds_stopless]
        rows.append((size, len(playout.slots), times))
        print(
            f"  {size} programmes: "
            + ", ".join(f"{c} {t:.2f} s" for c, t in zip(columns, times, strict=True))
        )
    lines = [
        f"### XMLTV scaling, {channels} channel{'s' if channels > 1 else ''} (CPU s, best of {repeat}; a 1-day run from {FIRST_DAY})",
        "",
        "| programmes | slots in the day | " + " | ".join(f"{c} s | x" for c in columns) + " |",
        "|---:|---:|" + "---:|---:|" * len(columns),
    ]
    for index, (size, slots, times) in enumerate(rows):
        cells = " | ".join(
            f"{times[column]:.2f} | {ratio([row[2][column] for row in rows], index)}"
            for column in range(len(columns))
        )
        lines.append(f"| {size:,} | {slots:,} | {cells} |")
    return lines


def wide(attributes: int, on: str) -> bytes:
    """A listing whose <tv> or <programme> carries `attributes` attributes the DTD does not declare."""
    names = " " + " ".join(f'a{n}="v"' for n in range(attributes))
    return (
        f'<tv{names if on == "tv" else ""}><channel id="one.example"><display-name>One</display-name></channel>'
        '<programme start="20260601060000 +0000" stop="20260601070000 +0000" channel="one.example"'
        f"{names if on == 'programme' else ''}><title>T</title></programme></tv>"
    ).encode()


def attributes_table(repeat: int) -> list[str]:
    lines = [
        f"### Wide elements (CPU s, best of {repeat}; lenient import: a notvalid warning per attribute, 200 listed)",
        "",
        "| attributes | <tv> KB | <tv> import s | x | <programme> import s | x | its guide.xml s | x |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    times: list[list[float]] = [[], [], []]
    for index, count in enumerate(ATTRIBUTES):
        tv, programme = wide(count, "tv"), wide(count, "programme")
        seconds_tv, _ = best(repeat, lambda: parse_schedule(tv, max_bytes=MAX_BYTES))  # noqa: B023
        seconds_programme, schedule = best(repeat, lambda: listing(programme))  # noqa: B023
        playout = generate(schedule, RunRange(None, 1), seed=1)
        seconds_guide, _ = best(repeat, lambda: b"".join(WRITERS["guide.xml"][1](schedule, playout)))  # noqa: B023
        for column, seconds in enumerate((seconds_tv, seconds_programme, seconds_guide)):
            times[column].append(seconds)
        cells = " | ".join(f"{column[index]:.3f} | {ratio(column, index)}" for column in times)
        lines.append(f"| {count:,} | {len(tv) // 1024:,} | {cells} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    lines = [*programmes_table(args.repeat, 150), "", *programmes_table(args.repeat, 1), ""]
    lines += [*attributes_table(args.repeat), ""]
    lines.append(
        "x: this size's time over the previous size's (each size doubles): 2 is linear, 4 quadratic."
    )
    report = "\n".join(lines) + "\n"
    print(report)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
