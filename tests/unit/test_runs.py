"""Run requests and the run status's transitions, pure: what a delivery does with the status it reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from onair.records import RunStatus
from onair.usecases.jobs import next_step
from onair.usecases.runs import RunRequest

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def status(state: str, **fields: object) -> RunStatus:
    return RunStatus.model_validate(
        {"id": "r", "schedule_id": "s", "status": state, "created_at": NOW, "request": {}} | fields
    )


@pytest.mark.parametrize(
    ("run", "step"),
    [
        (status("queued"), "run"),
        (status("running", lease_until=NOW + timedelta(seconds=1)), "wait"),  # its delivery may be alive
        (status("running", lease_until=NOW), "run"),  # the lease ran out: that delivery has ended
        (status("running"), "run"),  # written before leases existed
        (status("succeeded"), "leave"),  # a late duplicate changes nothing
        (status("failed", error={"code": "cannot_generate", "message": "x"}), "leave"),
        (status("failed", error={"code": "run_too_large", "message": "x"}), "leave"),
        (status("failed", error={"code": "job_failed", "message": "x"}), "run"),  # back from the DLQ
    ],
    ids=["queued", "leased", "lease-over", "no-lease", "succeeded", "failed", "too-large", "redriven"],
)
def test_a_delivery_runs_only_a_run_that_needs_it(run, step):
    assert next_step(run, NOW) == step


@pytest.mark.parametrize(
    "body",
    [
        {"from": "9999-12-31"},
        {"from": "9999-12-29"},
        {"from": "9999-12-01", "days": 29},
        {"from": "0001-01-01"},
    ],
)
def test_a_run_must_lie_a_day_inside_years_1_to_9999(body):
    with pytest.raises(ValidationError) as raised:
        RunRequest.model_validate(body)
    assert "between 0001-01-02 and 9999-12-28" in str(raised.value)


@pytest.mark.parametrize(
    "body", [{"from": "9999-12-28"}, {"from": "9999-12-01", "days": 28}, {"from": "0001-01-02", "days": 366}]
)
def test_runs_at_the_edges_of_the_calendar_are_accepted(body):
    request = RunRequest.model_validate(body)
    assert request.from_ is not None and request.from_ >= date(1, 1, 2)


def test_any_idempotency_key_text_becomes_a_safe_key_even_with_lone_surrogates():
    from onair import keys

    key = keys.run_idempotency("s", "caf\udce9")  # bytes a header decoder could not read as UTF-8
    assert key.startswith("idempotency/s/") and key.endswith(".json") and key.isascii()
    assert key != keys.run_idempotency("s", "café")
