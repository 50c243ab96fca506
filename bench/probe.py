"""Measurements that need a fresh process of their own; bench.import_bench runs them and reads stdout.

    python -m bench.probe rss FILE        one import of FILE: RSS at each stage, as one JSON object
    python -m bench.probe corpus DIR...   every file under DIR: time to reject and RSS growth, JSON lines

RSS comes from /proc/self/status (VmRSS now, VmHWM the peak so far), not from ru_maxrss: Linux carries a
parent's high-water mark into its child across fork and exec, VmHWM belongs to this process's own memory. For the corpus, the peak is reset
before each file by writing 5 to /proc/self/clear_refs (Linux >= 4.0), so each file's growth is its own.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench  # noqa: F401  (puts layers/onair on sys.path)
from onair.config import Settings
from onair.errors import OnAirError
from onair.readers.schedule import parse_schedule

# The import limits the functions default to (a model's fields, not class attributes).
MAX_UPLOAD_BYTES: int = Settings.model_fields["max_upload_bytes"].default
MAX_IMPORT_BYTES: int = Settings.model_fields["max_import_bytes"].default

CORPUS_REPEAT = 3


def status_kib() -> dict[str, int]:
    """VmRSS and VmHWM of this process in KiB (empty off Linux)."""
    values: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


def reset_peak() -> bool:
    """Make VmHWM start again from the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def serialize(parsed: Any) -> int:
    """What the import stores as schedule.json, into a temporary file as S3BlobStore.put_chunks does; its
    size."""
    with tempfile.TemporaryFile() as spool:
        for chunk in parsed.stored_json("bench", datetime(2026, 6, 1, tzinfo=UTC)):
            spool.write(chunk)
        return spool.tell()


def rss(path: Path) -> dict[str, Any]:
    """One import of the file as ImportFunction makes it: read from a file (the upload, downloaded to /tmp),
    a chunk at a time."""
    baseline = status_kib()  # interpreter + lxml + pydantic + onair imported, nothing read yet
    with path.open("rb") as document:
        parsed = parse_schedule(document, max_bytes=MAX_UPLOAD_BYTES, strict=False)
        after_parse = status_kib()
        json_bytes = serialize(parsed)
        after_serialize = status_kib()
        file_bytes = parsed.source_bytes
    return {
        "file_bytes": file_bytes,
        "json_bytes": json_bytes,
        "baseline_rss_kib": baseline.get("VmRSS"),
        "parse_peak_kib": after_parse.get("VmHWM"),
        "parse_rss_kib": after_parse.get("VmRSS"),
        "serialize_peak_kib": after_serialize.get("VmHWM"),
    }


def reject(path: Path) -> dict[str, Any]:
    """Best-of-N time for parse_schedule to refuse one file, with its code and RSS growth."""
    data = path.read_bytes()
    can_reset = reset_peak()
    before = status_kib().get("VmRSS")
    best = float("inf")
    outcome: dict[str, Any] = {}
    for _ in range(CORPUS_REPEAT):
        started = time.perf_counter()
        try:
            parsed = parse_schedule(data, max_bytes=MAX_IMPORT_BYTES, strict=False)
        except OnAirError as error:
            elapsed = time.perf_counter() - started
            outcome = {"outcome": "rejected", "status": error.status, "code": error.code}
        except Exception as error:  # anything but a domain error is a bug: a 5xx in production
            elapsed = time.perf_counter() - started
            outcome = {"outcome": "BUG", "status": 500, "code": f"{type(error).__name__}: {error}"[:200]}
        else:
            elapsed = time.perf_counter() - started
            outcome = {"outcome": "accepted", "status": 200, "code": parsed.schedule.format}
        best = min(best, elapsed)
    peak = status_kib().get("VmHWM")
    growth = peak - before if can_reset and peak is not None and before is not None else None
    return {"file": str(path), "bytes": len(data), "seconds": best, "rss_growth_kib": growth, **outcome}


def main(argv: list[str]) -> int:
    mode, *paths = argv
    if mode == "rss":
        print(json.dumps(rss(Path(paths[0]))), flush=True)
        return 0
    if mode == "corpus":
        for path in paths:
            print(json.dumps({"begin": path}), flush=True)  # the parent names the file if this one hangs
            print(json.dumps(reject(Path(path))), flush=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
