"""Run benchmark: an XMLTV listing's run (generate, then every writer) against `xmllint --noout` on it.

    .venv/bin/python -m bench.run_bench [--size-mb 50] [--repeat 3] [--output FILE] [--profile]
    .venv/bin/python -m bench.run_bench --rss STORED_JSON      (the fresh process the RSS figure comes from)

The listing is bench.xmltv_gen's (50 MiB: 85,888 programmes), imported and stored as schedule.json, then
loaded as the run job loads it (onair.models.load_stored, a line at a time: onair.usecases.jobs._generate),
a playout generated for the whole listing and every output of onair.writers.WRITERS written in turn, as one
run job does; the run's figure is the best of --repeat whole runs, each step's the best of its --repeat
times. xmllint is timed in the same run (the machine is shared, so the ratio is the figure to compare).
Peak RSS is VmHWM of a fresh process that reads schedule.json from a file a line at a time, generates, and
writes every output once to a temporary file as S3BlobStore.put_chunks does (as one run job does), against
the listing's size; the upload from that file is bench.upload_bench's to measure.
Goals (issue 13): the run (generate + every writer) at most 3x xmllint, peak RSS at most 2x the listing.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import REPO_ROOT
from bench.import_bench import XMLLINT, Report, machine, wall
from bench.probe import MAX_UPLOAD_BYTES, status_kib
from bench.xmltv_gen import write_listing
from onair import collector
from onair.config import Settings
from onair.models import load_stored
from onair.playout.budget import SlotBudget
from onair.playout.engine import generate
from onair.playout.shelf import ProgrammeShelf
from onair.playout.types import Playout, RunRange
from onair.readers.schedule import parse_schedule
from onair.writers import WRITERS
from onair.writers.common import AnySchedule

SPEED_GOAL = 3.0  # x xmllint --noout on the listing
MEMORY_GOAL = 2.0  # x the listing's size
SEED = 1
MIB = 1024 * 1024
# Settings' default (a model's field, not a class attribute): the run function's memory
RUN_MEMORY_MB = Settings.model_fields["run_memory_mb"].default


def stored_json(data: bytes) -> bytes:
    """schedule.json as the import stores it."""
    parsed = parse_schedule(data, max_bytes=MAX_UPLOAD_BYTES, strict=False)
    return b"".join(parsed.stored_json("bench", datetime(2026, 6, 1, tzinfo=UTC)))


def load_and_generate(
    size: int, lines: Iterable[bytes], shelf: ProgrammeShelf
) -> tuple[AnySchedule, Playout]:
    """As the run job: the budget, the model from schedule.json's lines (the programmes on `shelf`), the
    whole listing's playout."""
    budget = SlotBudget.of(RUN_MEMORY_MB, size)
    schedule = load_stored(lines, take=shelf.add).schedule
    return schedule, generate(schedule, RunRange(None, 1), SEED, budget, shelf)


def written(chunks: Iterable[bytes]) -> int:
    """An output's size, its pieces dropped as they come."""
    return sum(map(len, chunks))


@collector.paused()  # as the run job (onair.usecases.jobs._generate)
def rss_probe(path: Path) -> dict[str, Any]:
    """In a fresh process: one run job's load, generate and writes; VmHWM at each stage."""
    baseline = status_kib().get("VmRSS")
    with path.open("rb") as stored, ProgrammeShelf() as shelf:
        lines = (line.removesuffix(b"\n") for line in stored)
        schedule, playout = load_and_generate(path.stat().st_size, lines, shelf)
        generated = status_kib().get("VmHWM")
        for _, write in WRITERS.values():
            with tempfile.TemporaryFile() as spool:  # as put_chunks
                for chunk in write(schedule, playout):
                    spool.write(chunk)
    return {"baseline_kib": baseline, "generate_peak_kib": generated, "peak_kib": status_kib()["VmHWM"]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--size-mb", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--profile", action="store_true", help="cProfile generate + every writer once")
    parser.add_argument("--rss", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss:
        print(json.dumps(rss_probe(args.rss)), flush=True)
        return 0

    report = Report()
    report.add("### Run of a large XMLTV listing (bench/run_bench.py)", "", *machine(), "")
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "listing.xml"
        facts = write_listing(listing, int(args.size_mb * MIB))
        data = listing.read_bytes()
        stored = stored_json(data)
        stored_path = Path(folder) / "schedule.json"
        stored_path.write_bytes(stored)
        report.add(
            f"- Listing: {facts['bytes'] / MIB:.1f} MiB, {facts['channels']} channels, "
            f"{facts['programmes']:,} programmes; schedule.json {len(stored) / MIB:.1f} MiB; "
            f"best of {args.repeat}",
            "",
        )
        xmllint = min(wall([XMLLINT, "--noout", str(listing)]) for _ in range(args.repeat))
        # As one run job: load and generate, then every writer in turn (the first one pays for what they
        # share: the slots' order and times); a fresh playout per repeat
        names = ["load + generate", *WRITERS]
        best = dict.fromkeys(names, float("inf"))
        sizes: dict[str, int] = {}
        total = float("inf")
        for _ in range(args.repeat):
            gc.collect()
            with collector.paused(), ProgrammeShelf() as shelf:  # as the run job (usecases.jobs._generate)
                started = time.perf_counter()
                schedule, playout = load_and_generate(len(stored), stored.split(b"\n"), shelf)
                seconds = {"load + generate": time.perf_counter() - started}
                sizes["load + generate"] = len(playout.slots)
                for name, (_, write) in WRITERS.items():
                    began = time.perf_counter()
                    sizes[name] = written(write(schedule, playout))
                    seconds[name] = time.perf_counter() - began
                total = min(total, sum(seconds.values()))
                best = {name: min(best[name], seconds[name]) for name in names}
                del schedule, playout
        report.add("| step | best s | x xmllint | size |", "|---|---:|---:|---:|")
        report.add(f"| `xmllint --noout` | {xmllint:.2f} | 1.00x | {len(data) / MIB:.1f} MiB |")
        for name in names:
            unit = f"{sizes[name]:,} slots" if name == "load + generate" else f"{sizes[name] / MIB:.1f} MiB"
            report.add(f"| {name} | {best[name]:.2f} | {best[name] / xmllint:.2f}x | {unit} |")
        ratio = total / xmllint
        report.add(f"| **run (best whole run)** | **{total:.2f}** | **{ratio:.2f}x** | |", "")

        gc.collect()
        probe = subprocess.run(
            [sys.executable, "-m", "bench.run_bench", "--rss", str(stored_path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
        )
        rss = json.loads(probe.stdout.strip().splitlines()[-1])
        size_kib = len(data) / 1024
        peak = rss["peak_kib"]
        report.add(
            f"- Peak RSS of one run in a fresh process: {peak / 1024:.0f} MiB = {peak / size_kib:.2f}x the "
            f"listing (interpreter and imports {rss['baseline_kib'] / 1024:.0f} MiB; after generate "
            f"{rss['generate_peak_kib'] / 1024:.0f} MiB)",
            "",
            "| goal | measured | verdict |",
            "|---|---:|---|",
            f"| run <= {SPEED_GOAL:g}x `xmllint --noout` | {ratio:.2f}x | "
            f"{'**met**' if ratio <= SPEED_GOAL else '**missed**'} |",
            f"| peak RSS <= {MEMORY_GOAL:g}x the listing | {peak / size_kib:.2f}x | "
            f"{'**met**' if peak / size_kib <= MEMORY_GOAL else '**missed**'} |",
            "",
        )
        if args.profile:
            report.add(*_profile(stored), "")
    if args.output:
        args.output.write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    return 0


def _profile(stored: bytes) -> list[str]:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    with collector.paused(), ProgrammeShelf() as shelf:  # as the run job
        schedule, playout = load_and_generate(len(stored), stored.split(b"\n"), shelf)
        for _, write in WRITERS.values():
            written(write(schedule, playout))
    profiler.disable()
    elapsed = time.perf_counter() - started
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    return [
        f"Profile (one run, {elapsed:.1f} s under cProfile; top by own time):",
        "",
        "```",
        text.getvalue().strip(),
        "```",
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
