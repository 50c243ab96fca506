"""Importer benchmark: speed against xmllint, peak RSS against file size, time to reject hostile files.

    .venv/bin/python -m bench.import_bench [--size-mb 50] [--repeat 3] [--output FILE] [--profile]

Prints a Markdown report for docs/PERFORMANCE.md. Wall times are the best of --repeat runs: the machine
may be shared, and the minimum is the run least disturbed by neighbours. Goals: the import takes at most
1.5x `xmllint --noout` on the same file, and its peak RSS is at most 3x the file's size.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

from lxml import etree

from bench import REPO_ROOT
from bench.probe import MAX_UPLOAD_BYTES, serialize
from bench.xmltv_gen import SEED, write_listing
from onair.readers.schedule import parse_schedule

XMLLINT = "/usr/bin/xmllint"
GNU_TIME = "/usr/bin/time"
SPEED_GOAL = 1.5  # x xmllint --noout
MEMORY_GOAL = 3.0  # x file size
CORPUS_DIRS = ("corpus/attacks", "corpus/malformed")
CORPUS_TIMEOUT = 300.0
MIB = 1024 * 1024


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    bugs: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)
        for line in lines:
            print(line, flush=True)


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT).stdout
    except OSError:
        return ""


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        version = subprocess.run([XMLLINT, "--version"], capture_output=True, text=True, check=False)
        xmllint = (version.stderr or version.stdout).strip().splitlines()[0]
    except (OSError, IndexError):
        xmllint = "xmllint not found"
    commit = _run(["git", "rev-parse", "--short", "HEAD"]).strip() or "unknown"
    dirty = _run(["git", "status", "--porcelain", "--", "layers/onair"]).strip()
    libxml2 = ".".join(map(str, etree.LIBXML_VERSION))
    return [
        f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}"
        + (" with uncommitted changes in layers/onair" if dirty else ""),
        f"- Machine: {platform.machine()}, {cpu}, {os.cpu_count()} CPUs (`nproc` {_run(['nproc']).strip()}),"
        f" load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])} at start",
        f"- Python {platform.python_version()}, lxml {'.'.join(map(str, etree.LXML_VERSION))}"
        f" with libxml2 {libxml2}; {xmllint.strip()}",
    ]


def best_of(repeat: int, action: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def wall(command: list[str]) -> float:
    """Wall seconds of one run of a child process (output discarded)."""
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def peak_rss_kib(command: list[str]) -> int | None:
    """Peak RSS of a child process, through GNU time's %M.

    Not wait4's ru_maxrss of our own child: Linux carries the parent's high-water mark over fork and exec,
    so a child of this (large) process would report at least our RSS. /usr/bin/time forks from a small one.
    """
    if not Path(GNU_TIME).exists():
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as output:
        subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", output.name, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        text = Path(output.name).read_text().strip()
    return int(text.splitlines()[-1]) if text else None


def mib(kib: float | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def times(kib: float | None, size_kib: float) -> str:
    return "n/a" if kib is None else f"{kib / size_kib:.2f}x"


def verdict(value: float, goal: float) -> str:
    return "**met**" if value <= goal else "**missed**"


def bench_speed(report: Report, path: Path, data: bytes, repeat: int) -> float:
    limit = MAX_UPLOAD_BYTES
    parse_times: list[float] = []
    total_times: list[float] = []
    json_bytes = warnings = 0
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        with path.open("rb") as document:  # as ImportFunction reads the upload, from /tmp
            parsed = parse_schedule(document, max_bytes=limit, strict=False)
            parsed_at = time.perf_counter()
            json_bytes = serialize(parsed)
            done = time.perf_counter()
        warnings = len(parsed.warnings)
        parse_times.append(parsed_at - started)
        total_times.append(done - started)
        del parsed
    xmllint_noout = min(wall([XMLLINT, "--noout", str(path)]) for _ in range(repeat))
    xmllint_stream = min(wall([XMLLINT, "--stream", "--noout", str(path)]) for _ in range(repeat))
    parse, total = min(parse_times), min(total_times)
    report.add(
        "",
        f"### Speed (best of {repeat} wall-clock runs)",
        "",
        "| what | seconds | MB/s | x `xmllint --noout` |",
        "|---|---:|---:|---:|",
    )
    size_mb = len(data) / 1e6
    for name, seconds in (
        ("`xmllint --noout` (tree, C)", xmllint_noout),
        ("`xmllint --stream --noout` (reader, C)", xmllint_stream),
        ("`parse_schedule(strict=False)`", parse),
        (
            "`parse_schedule` + schedule.json written (`ParsedSchedule.stored_json`, into a temporary file)",
            total,
        ),
    ):
        report.add(f"| {name} | {seconds:.2f} | {size_mb / seconds:.1f} | {seconds / xmllint_noout:.2f}x |")
    report.add(
        "",
        f"Goal ≤ {SPEED_GOAL}x `xmllint --noout`: parse only {parse / xmllint_noout:.2f}x"
        f" {verdict(parse / xmllint_noout, SPEED_GOAL)}; with serialization {total / xmllint_noout:.2f}x"
        f" {verdict(total / xmllint_noout, SPEED_GOAL)}. schedule.json is {json_bytes / MIB:.1f} MiB;"
        f" the import reported {warnings} warning(s).",
        "The xmllint figures include process start-up; the OnAir figures read the file (as ImportFunction"
        " reads the upload it downloaded to /tmp) in a warm interpreter.",
    )
    return xmllint_noout


def bench_memory(report: Report, path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-m", "bench.probe", "rss", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    if probe.returncode != 0:
        report.bugs.append(f"the RSS probe failed: {probe.stderr.strip()[-2000:]}")
        report.add("", "### Memory", "", f"The RSS probe failed:\n\n```\n{probe.stderr.strip()[-2000:]}\n```")
        return
    figures = json.loads(probe.stdout.strip().splitlines()[-1])
    xmllint_peak = peak_rss_kib([XMLLINT, "--noout", str(path)])
    stream_peak = peak_rss_kib([XMLLINT, "--stream", "--noout", str(path)])
    size_kib = figures["file_bytes"] / 1024
    baseline = figures["baseline_rss_kib"]
    peak = figures["serialize_peak_kib"]
    report.add(
        "",
        "### Memory (one import in a fresh process; RSS from /proc/self/status)",
        "",
        "| stage | RSS | x file size |",
        "|---|---:|---:|",
        f"| baseline: interpreter, lxml, pydantic and onair imported | {mib(baseline)} | |",
        f"| peak during `parse_schedule` (of the file, read a chunk at a time) | {mib(figures['parse_peak_kib'])} |"
        f" {figures['parse_peak_kib'] / size_kib:.2f}x |",
        f"| peak during parse + schedule.json written | {mib(peak)} | {peak / size_kib:.2f}x |",
        f"| peak attributable to the import (peak - baseline) | {mib(peak - baseline)} |"
        f" {(peak - baseline) / size_kib:.2f}x |",
        f"| `xmllint --noout` peak, for reference | {mib(xmllint_peak)} | {times(xmllint_peak, size_kib)} |",
        f"| `xmllint --stream --noout` peak, for reference | {mib(stream_peak)} |"
        f" {times(stream_peak, size_kib)} |",
        "",
        f"Goal peak RSS ≤ {MEMORY_GOAL}x file size: whole process {peak / size_kib:.2f}x"
        f" {verdict(peak / size_kib, MEMORY_GOAL)}; attributable to the import"
        f" {(peak - baseline) / size_kib:.2f}x {verdict((peak - baseline) / size_kib, MEMORY_GOAL)}."
        " The import reads the file a chunk at a time, as ImportFunction reads the upload from /tmp.",
    )


def bench_corpus(report: Report, shared: Path) -> None:
    report.add("", "### Hostile and malformed documents (`parse_schedule`, max_bytes 5 MiB, lenient)", "")
    roots = [shared / name for name in CORPUS_DIRS]
    if not all(root.is_dir() for root in roots):
        report.add(f"Skipped: {shared} has no {' / '.join(CORPUS_DIRS)} (the ../shared corpus is absent).")
        return
    files = [str(path) for root in roots for path in sorted(root.rglob("*")) if path.is_file()]
    try:
        probe = subprocess.run(
            [sys.executable, "-m", "bench.probe", "corpus", *files],
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO_ROOT,
            timeout=CORPUS_TIMEOUT,
        )
        output, failure = probe.stdout, (probe.stderr.strip() if probe.returncode else "")
    except subprocess.TimeoutExpired as timeout:
        raw = timeout.stdout or b""
        output = raw.decode() if isinstance(raw, bytes) else raw
        failure = f"timed out after {CORPUS_TIMEOUT:.0f}s"
    results: list[dict[str, Any]] = []
    pending = None
    for line in output.splitlines():
        record = json.loads(line)
        if "begin" in record:
            pending = record["begin"]
        else:
            results.append(record)
            pending = None
    if pending is not None or failure:
        report.bugs.append(f"corpus probe stopped at {pending}: {failure[-1000:]}")
    report.add(
        f"Best of 3 per file, in one fresh process; RSS growth is VmHWM after the file - VmRSS before it"
        f" (peak reset per file). {len(results)} of {len(files)} files:",
        "",
        "<details><summary>per-file table</summary>",
        "",
        "| file | bytes | outcome | status | code | ms | RSS growth |",
        "|---|---:|---|---:|---|---:|---:|",
    )
    for record in results:
        name = Path(record["file"]).relative_to(shared / "corpus")
        outcome = record["outcome"]
        if outcome == "BUG" or (outcome == "rejected" and record["status"] >= 500):
            report.bugs.append(f"{name}: {record['code']}")
            outcome = f"**{outcome}**"
        elif outcome == "accepted":
            report.bugs.append(f"{name}: accepted as a schedule")
            outcome = "**accepted**"
        growth = "n/a" if record["rss_growth_kib"] is None else f"{record['rss_growth_kib']} KiB"
        report.add(
            f"| {name} | {record['bytes']} | {outcome} | {record['status']} | {record['code']}"
            f" | {record['seconds'] * 1000:.2f} | {growth} |"
        )
    report.add("", "</details>")
    if results:
        slowest = max(results, key=lambda record: record["seconds"])
        hungriest = max(results, key=lambda record: record["rss_growth_kib"] or 0)
        rejected = sum(record["outcome"] == "rejected" for record in results)
        report.add(
            "",
            f"{rejected}/{len(files)} rejected with an OnAirError. Slowest rejection:"
            f" {slowest['seconds'] * 1000:.2f} ms ({Path(slowest['file']).name}); largest RSS growth:"
            f" {mib(hungriest['rss_growth_kib'])} ({Path(hungriest['file']).name}).",
        )


def _walk(data: bytes, *, tags: tuple[str, ...] | None, read: bool) -> None:
    """Stream the listing the cheapest way lxml allows: end events only, whole <tv> children cleared."""
    for _, element in etree.iterparse(BytesIO(data), events=("end",), tag=tags, resolve_entities=False):
        parent = element.getparent()
        if tags is None and (parent is None or parent.getparent() is not None):
            continue
        if read:
            etree.tostring(element, encoding="unicode", with_tail=False)
            element.findtext("title")
            element.get("start"), element.get("stop"), element.get("channel")
        element.clear(keep_tail=False)
        while element.getprevious() is not None:
            del element.getparent()[0]


def bench_floors(report: Report, data: bytes, repeat: int, xmllint_noout: float) -> None:
    """What lxml itself costs on this file: the least any lxml-based importer can take."""
    tags = ("channel", "programme")
    floors = (
        ("`etree.fromstring` (whole tree)", lambda: etree.fromstring(data, etree.XMLParser())),
        (
            "`iterparse` start+end events, tree kept, no work",
            lambda: deque(etree.iterparse(BytesIO(data), events=("start", "end")), 0),
        ),
        ("`iterparse` end events, `<tv>` children cleared", lambda: _walk(data, tags=None, read=False)),
        ("`iterparse(tag=channel/programme)`, cleared", lambda: _walk(data, tags=tags, read=False)),
        ("same + `tostring` + title/start/stop/channel read", lambda: _walk(data, tags=tags, read=True)),
    )
    report.add(
        "",
        f"### lxml floors on the same bytes (best of {repeat})",
        "",
        "| what | seconds | x `xmllint --noout` |",
        "|---|---:|---:|",
    )
    for name, action in floors:
        seconds, _ = best_of(repeat, action)
        report.add(f"| {name} | {seconds:.2f} | {seconds / xmllint_noout:.2f}x |")


def bench_profile(report: Report, data: bytes, top: int = 15) -> None:
    limit = MAX_UPLOAD_BYTES
    profiler = cProfile.Profile()
    profiler.enable()
    serialize(parse_schedule(data, max_bytes=limit, strict=False))
    profiler.disable()
    text = StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    gc.collect()
    tracemalloc.start(1)
    parsed = parse_schedule(data, max_bytes=limit, strict=False)
    snapshot = tracemalloc.take_snapshot()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del parsed
    allocations = "\n".join(str(stat) for stat in snapshot.statistics("lineno")[:10])
    report.add(
        "",
        f"### Profile (cProfile of one parse + serialize, top {top} by own time)",
        "",
        "```",
        *text.getvalue().strip().splitlines()[-(top + 3) :],
        "```",
        "",
        f"tracemalloc: Python-heap peak during one parse {traced_peak / MIB:.1f} MiB (libxml2's C heap is"
        " not traced); largest live allocations once the parse returns:",
        "",
        "```",
        allocations,
        "```",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--size-mb", type=float, default=50.0, help="size of the generated listing, MiB")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best is reported")
    parser.add_argument("--output", type=Path, help="also write the Markdown report to this file")
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared", help="the corpus folder")
    parser.add_argument("--profile", action="store_true", help="add lxml floors, cProfile and tracemalloc")
    parser.add_argument("--skip-corpus", action="store_true", help="skip the hostile-document table")
    args = parser.parse_args(argv)

    report = Report()
    report.add("## Measured", "", *machine())
    with tempfile.TemporaryDirectory(prefix="onair-bench-") as workdir:
        path = Path(workdir) / "listing.xml"
        counts = write_listing(path, int(args.size_mb * MIB))
        data = path.read_bytes()
        report.add(
            f"- Input: generated XMLTV listing of {counts['bytes'] / MIB:.1f} MiB ({counts['bytes']:,} bytes),"
            f" {counts['channels']} channels, {counts['programmes']:,} programmes"
            f" (bench/xmltv_gen.py, seed {SEED})"
        )
        xmllint_noout = bench_speed(report, path, data, args.repeat)
        bench_memory(report, path)
        if args.profile:
            bench_floors(report, data, args.repeat, xmllint_noout)
            bench_profile(report, data)
        del data
    if not args.skip_corpus:
        bench_corpus(report, args.shared)
    if report.bugs:
        report.add("", "### BUGS", "", *(f"- {bug}" for bug in report.bugs))
        print("\n!!! BUGS FOUND: " + "; ".join(report.bugs), file=sys.stderr)
    if args.output:
        args.output.write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    return 1 if report.bugs else 0


if __name__ == "__main__":
    sys.exit(main())
