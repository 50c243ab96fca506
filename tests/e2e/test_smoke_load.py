"""A bounded load in every `make test`: 50 Locust users for 20 s against the local stack, no unexpected answer,
and never more runs at once than the template's cap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from loadtest.run import max_overlap
from local.template import ROOT
from tests.e2e.conftest import LocalStack, wait_for

pytestmark = pytest.mark.e2e

USERS, SPAWN_RATE, SECONDS = 50, 25, 20


def run_statuses(stack: LocalStack) -> list[dict]:
    s3 = stack.client("s3")
    return [
        json.loads(s3.get_object(Bucket=stack.app.bucket_name, Key=key)["Body"].read())
        for key in stack.keys("runs/")
        if key.endswith("/status.json")
    ]


def test_fifty_users_for_twenty_seconds_get_only_expected_answers_and_runs_keep_the_cap(
    local_stack, tmp_path: Path
):
    (source,) = local_stack.app.sources_for("RunFunction")
    cap = local_stack.app.pollers(source)
    before = {status["id"] for status in run_statuses(local_stack)}
    locust = Path(sys.executable).with_name("locust")
    assert locust.exists(), f"{locust} is missing: make install (requirements-dev.txt) installs Locust"
    # Given 50 users with a short think time (1-3 s), when they use the API for 20 s
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        [
            str(locust),
            *("-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless", "--only-summary"),
            *("-u", str(USERS), "-r", str(SPAWN_RATE), "-t", f"{SECONDS}s", "--stop-timeout", "10"),
            *("--host", local_stack.api, "--summary", str(summary), "--csv", str(tmp_path / "smoke")),
        ],
        cwd=ROOT,
        env=dict(os.environ, LOAD_THINK_MIN="1", LOAD_THINK_MAX="3"),
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
    )
    report = json.loads(summary.read_text())
    # Then every answer was the expected one (a malformed import's 400 included), and there was load
    assert (done.returncode, report["failures"], report["errors"]) == (0, 0, {}), done.stderr[-3000:]
    assert report["requests"] >= USERS * 3, report
    # And the runs it requested all succeed, never more than the cap at once
    new = lambda: [s for s in run_statuses(local_stack) if s["id"] not in before]  # noqa: E731
    assert new(), "the smoke load requested no run"
    finished = wait_for(
        lambda: (runs := new()) and all(r["status"] in ("succeeded", "failed") for r in runs) and runs,
        120,
        "the smoke load's runs to finish",
        interval=1,
    )
    assert [r for r in finished if r["status"] != "succeeded"] == []
    intervals = [
        (datetime.fromisoformat(r["started_at"]), datetime.fromisoformat(r["finished_at"]))
        for r in run_statuses(local_stack)
        if r.get("finished_at")
    ]
    assert max_overlap(intervals) <= cap
