"""The local stack outlives its workers, as a Lambda function outlives an execution environment: a worker
killed mid-job is started again, and SQS redelivers its job after the queue's visibility timeout.

The stack runs from a copy of template.yaml with one run worker and short timeouts, so the redelivery comes
in seconds; every other name and limit is the template's.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.template import ROOT, TEMPLATE, CfnLoader
from tests.e2e.conftest import LocalStack, running_stack, wait_for
from tests.e2e.test_local_stack import create_run, finished_run, import_schedule

pytestmark = pytest.mark.e2e

# A run that keeps its worker busy for seconds, so it can be killed in the middle of it.
SLOW_SCHEDULE = (ROOT / "samples" / "radio-rotation.xml").read_bytes()
SLOW_RUN = {"from": "2026-12-01", "days": 30, "seed": 3}
VISIBILITY_SECONDS = 10


def short_template(path: Path) -> Path:
    """template.yaml with one run worker and a job queue that redelivers after VISIBILITY_SECONDS."""
    template = yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)  # a SafeLoader that reads !Ref and co.
    template["Parameters"]["RunConcurrency"]["Default"] = 1
    resources = template["Resources"]
    resources["RunFunction"]["Properties"]["Timeout"] = VISIBILITY_SECONDS
    resources["JobQueue"]["Properties"]["VisibilityTimeout"] = VISIBILITY_SECONDS
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    folder = tmp_path_factory.mktemp("short-stack")
    with running_stack(folder / "stack.log", short_template(folder / "template.yaml")) as running:
        yield running


def pid_of(stack: LocalStack, worker: str) -> int:
    """The worker's current process, from the supervisor's log (its start line, or its last restart)."""
    found = re.findall(rf"{re.escape(worker)}(?: restarted:)? pid (\d+)", stack.log.read_text())
    assert found, f"{worker} is not in the stack's log"
    return int(found[-1])


def status(stack: LocalStack, run_id: str) -> dict[str, Any]:
    return stack.request("GET", f"/runs/{run_id}").json()


def test_a_run_worker_killed_mid_job_is_replaced_and_the_job_finishes_on_redelivery(stack):
    (source,) = stack.app.sources_for("RunFunction")
    assert stack.app.pollers(source) == 1  # the one worker the job can be on
    worker = "RunFunction#0"
    schedule = import_schedule(stack, SLOW_SCHEDULE)
    # Given a run in the middle of its job
    run_id = create_run(stack, schedule["id"], SLOW_RUN)

    def started() -> dict[str, Any] | None:
        run = status(stack, run_id)
        return run if run["status"] != "queued" else None

    first = wait_for(started, 30, f"run {run_id} to start", interval=0.05)
    assert first["status"] == "running", f"the run was over before it could be interrupted: {first}"
    victim = pid_of(stack, worker)
    # When its worker dies without a word (SIGKILL, as an out-of-memory kill)
    os.kill(victim, signal.SIGKILL)
    # Then the stack stays up and starts a new worker
    wait_for(lambda: pid_of(stack, worker) != victim, 30, f"a new {worker}")
    assert stack.request("GET", "/health").status == 200
    # And after the visibility timeout the job is delivered again and the run finishes, outputs and all
    run = finished_run(stack, run_id, timeout=12 * VISIBILITY_SECONDS + 120)
    assert run["status"] == "succeeded", run
    assert run["attempts"] >= 2
    assert set(run["outputs"]) == {"guide.xml", "channels.m3u", "playlist.m3u8", "asrun.csv", "playout.json"}
    guide = stack.request("GET", run["outputs"]["guide.xml"])
    assert guide.status == 200 and guide.body.startswith(b"<?xml")
    assert f"{worker} (pid {victim}) exited with -9" in stack.log.read_text()


def test_an_api_environment_that_dies_is_replaced(stack):
    (function_id,) = {route.function for route in stack.app.routes if route.path == "/health"}
    name = f"{function_id}#http0"
    victim = pid_of(stack, name)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: pid_of(stack, name) != victim, 30, f"a new {name}")
    # Every request is answered meanwhile and after
    assert all(stack.request("GET", "/health").status == 200 for _ in range(20))
