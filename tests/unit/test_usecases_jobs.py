"""onair.usecases.jobs on in-memory ports: a delivery of a run's job takes the run with a lease, writes the
outputs, finishes it once, and publishes a succeeded published run; failures are permanent or transient."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from onair import keys
from onair.errors import RunInProgress, Unavailable
from onair.records import RunStatus
from onair.usecases import feeds, jobs, runs, schedules
from onair.usecases.runs import RunRequest
from onair.usecases.schedules import Document
from onair.writers import WRITERS
from tests.conftest import SAMPLE_ONAIR, SAMPLE_XMLTV
from tests.fakes import World

LEASE = timedelta(minutes=15)


def requested(w: World, body: bytes = SAMPLE_XMLTV, **fields) -> tuple[RunStatus, dict]:
    """A schedule and a run of it requested: its status and the job message on JobQueue."""
    sid = schedules.create_schedule(w.services, Document(body)).id
    status = runs.create_run(w.services, sid, RunRequest.model_validate({"from": "2026-12-01"} | fields))
    [message] = w.queues.take(w.settings.job_queue_url)
    return status, message


def deliver(w: World, message: dict, *, lease: timedelta = LEASE, receive_count: int = 1) -> RunStatus | None:
    w.clock.advance(seconds=1)
    return jobs.execute_run(w.services, message, lease=lease, receive_count=receive_count)


def test_a_delivered_job_writes_every_output_and_finishes_the_run_once(w):
    requested_status, message = requested(w, publish=False)
    assert requested_status.status == "queued"
    status = deliver(w, message)
    assert status is not None and status.status == "succeeded"
    assert (status.attempts, status.lease_until, status.published) == (1, None, False)
    assert status.started_at is not None and status.finished_at == w.clock()
    assert status.outputs == list(WRITERS)
    assert sorted(w.store.keys(f"runs/{status.id}/out/")) == sorted(
        keys.run_output(status.id, name) for name in WRITERS
    )
    assert status.report is not None and status.report["slots"] == 3
    assert runs.load_status(w.services, status.id) == status
    assert schedules.load_record(w.services, status.schedule_id).last_run == status.brief()
    [(name, call)] = w.metrics.calls[1:]
    assert name == "run_finished" and call["succeeded"] and call["rule_breaks"] == 0
    # A run that does not publish leaves the feed alone
    assert w.store.keys(keys.feed_prefix(status.schedule_id)) == []
    assert w.store.versions(keys.published(status.schedule_id)) == []


def test_a_late_duplicate_delivery_changes_nothing(w):
    _, message = requested(w)
    finished = deliver(w, message)
    before = w.store.snapshot()
    assert deliver(w, message) == finished
    assert w.store.snapshot() == before
    assert w.metrics.names().count("run_finished") == 1


def test_a_duplicate_delivery_while_the_lease_holds_waits_then_takes_over_once_it_ran_out(w):
    # Given a delivery that took the run and died mid-job (its lease: 15 minutes)
    status, message = requested(w)

    def crash() -> None:
        raise SystemExit("the execution environment died")

    w.store.once("put", keys.run_output(status.id, "guide.xml"), crash)
    with pytest.raises(SystemExit):
        deliver(w, message)
    taken = runs.load_status(w.services, status.id)
    assert taken.status == "running" and taken.lease_until == w.clock() + LEASE
    # When another delivery comes while the lease holds, it waits (a transient failure: SQS redelivers)
    w.clock.advance(minutes=10)
    with pytest.raises(RunInProgress):
        deliver(w, message)
    assert runs.load_status(w.services, status.id) == taken
    # Then, once the lease ran out, a delivery takes the run over and finishes it
    w.clock.advance(minutes=5)
    finished = deliver(w, message)
    assert finished is not None and (finished.status, finished.attempts) == ("succeeded", 2)


def test_a_delivery_that_outlived_its_lease_leaves_the_result_of_the_one_that_took_over(w):
    # Given a delivery with a 1-minute lease, during whose writing another delivery takes over and finishes
    status, message = requested(w, publish=False)
    results = []

    def overtaken() -> None:
        w.clock.advance(minutes=2)
        results.append(deliver(w, message))

    w.store.once("put", keys.run_output(status.id, "asrun.csv"), overtaken)
    late = deliver(w, message, lease=timedelta(minutes=1))
    # Then the late one answers the other's result and records no second finish
    [other] = results
    assert other is not None and other.attempts == 2
    assert late == other == runs.load_status(w.services, status.id)
    assert w.metrics.names().count("run_finished") == 1


def test_a_run_too_large_for_the_budget_fails_at_once_and_does_not_publish(w):
    # Given a run requested, and a RunFunction whose memory leaves no room for any slot
    status, message = requested(w)
    small = replace(w.services, settings=w.settings.model_copy(update={"run_memory_mb": 128}))
    # When the job is delivered
    finished = jobs.execute_run(small, message, lease=LEASE)
    # Then the run failed with the budget's code, once, and the feed is untouched
    assert finished is not None and (finished.status, finished.attempts) == ("failed", 1)
    assert finished.error is not None and finished.error["code"] == "run_too_large"
    assert w.store.versions(keys.published(status.schedule_id)) == []
    assert w.metrics.calls[-1] == ("run_finished", {"succeeded": False, "seconds": 0.0, "rule_breaks": None})


def test_a_job_the_engine_cannot_play_fails_with_its_reason_and_is_not_retried(w, monkeypatch):
    status, message = requested(w)

    def crash(*args, **kwargs):
        raise ValueError("the engine fell over")

    monkeypatch.setattr(jobs, "generate", crash)
    failed = deliver(w, message)
    assert failed is not None and (failed.status, failed.attempts) == ("failed", 1)
    assert failed.error == {"code": "cannot_generate", "message": "ValueError: the engine fell over"}
    assert deliver(w, message, receive_count=2) == failed  # a later delivery leaves it
    assert w.store.versions(keys.published(status.schedule_id)) == []


def test_a_transient_failure_propagates_and_only_the_last_delivery_marks_the_run_failed(w):
    # Given storage that fails every read of the schedule's model (a transient error: worth retrying)
    status, message = requested(w)
    model = keys.version_file(status.schedule_id, 1, "schedule.json")

    def outage(operation: str, key: str) -> None:
        if (operation, key) == ("get", model):
            raise Unavailable("S3 is down")

    w.store.hooks.append(outage)
    # When SQS delivers the job maxReceiveCount times (each delivery's lease over by the next one)
    last = w.settings.max_receive_count
    for attempt in range(1, last + 1):
        with pytest.raises(Unavailable):
            deliver(w, message, lease=timedelta(0), receive_count=attempt)
        expected = "failed" if attempt == last else "running"
        assert runs.load_status(w.services, status.id).status == expected
    # Then the last one marked the run failed with the reason
    failed = runs.load_status(w.services, status.id)
    assert failed.error == {"code": "job_failed", "message": "Unavailable: S3 is down"}
    # And once redriven from the DLQ with the cause gone, it runs again
    w.store.hooks.remove(outage)
    redriven = deliver(w, message)
    assert redriven is not None and (redriven.status, redriven.attempts) == ("succeeded", last + 1)


def test_a_job_of_a_schedule_deleted_meanwhile_fails_as_not_found(w):
    status, message = requested(w)
    schedules.delete_schedule(w.services, status.schedule_id)
    failed = deliver(w, message)
    assert failed is not None and failed.status == "failed" and failed.error["code"] == "not_found"


def test_a_job_whose_run_does_not_exist_is_dropped(w):
    _, message = requested(w)
    message = dict(message, run_id=keys.new_id())
    assert deliver(w, message) is None
    assert w.store.versions(keys.run_status(message["run_id"])) == []


def test_a_succeeded_published_run_becomes_the_feed(w):
    status, message = requested(w)
    finished = deliver(w, message)
    assert finished is not None and finished.published
    pointer = feeds.published_pointer(w.services, status.schedule_id)
    assert (pointer.run_id, pointer.version, pointer.run_created_at) == (status.id, 1, status.created_at)
    assert sorted(pointer.files) == sorted(feeds.feed_names(list(WRITERS)))
    record = schedules.load_record(w.services, status.schedule_id)
    assert record.published == pointer
    assert runs.load_status(w.services, status.id) == finished


def test_a_failed_published_run_does_not_touch_the_feed(w, monkeypatch):
    # Given a published feed, then a later run that fails
    status, message = requested(w)
    deliver(w, message)
    sid = status.schedule_id
    feed = {key: etag for key, etag in w.store.snapshot().items() if key.startswith(keys.feed_prefix(sid))}
    pointer = w.store.versions(keys.published(sid))
    later = runs.create_run(w.services, sid, RunRequest.model_validate({"from": "2026-12-02"}))
    [job] = w.queues.take(w.settings.job_queue_url)

    def crash(*args, **kwargs):
        raise ValueError("no")

    monkeypatch.setattr(jobs, "generate", crash)
    failed = deliver(w, job)
    # Then the feed's pointer and files are as they were
    assert failed is not None and failed.id == later.id and not failed.published
    assert {
        key: etag for key, etag in w.store.snapshot().items() if key.startswith(keys.feed_prefix(sid))
    } == feed
    assert w.store.versions(keys.published(sid)) == pointer
    assert schedules.load_record(w.services, sid).published == feeds.published_pointer(w.services, sid)


def test_a_run_requested_earlier_never_replaces_a_later_published_one(w):
    # Given two runs of a schedule, the later requested one published first
    earlier, first_job = requested(w, body=SAMPLE_ONAIR)
    w.clock.advance(minutes=1)
    later = runs.create_run(
        w.services, earlier.schedule_id, RunRequest.model_validate({"from": "2026-12-02"})
    )
    [later_job] = w.queues.take(w.settings.job_queue_url)
    assert deliver(w, later_job).published
    # When the earlier one finishes after it
    finished = deliver(w, first_job)
    # Then it succeeded, but the feed is still the later run's
    assert finished is not None and finished.status == "succeeded"
    assert feeds.published_pointer(w.services, earlier.schedule_id).run_id == later.id
    assert schedules.load_record(w.services, earlier.schedule_id).published.run_id == later.id


def test_a_delivery_that_stopped_before_publishing_publishes_on_redelivery(w):
    status, message = requested(w)

    def crash() -> None:
        raise SystemExit("died after finishing, before publishing")

    w.store.once("put", keys.feed_file(status.schedule_id, status.id, "guide.xml"), crash)
    with pytest.raises(SystemExit):
        deliver(w, message)
    unpublished = runs.load_status(w.services, status.id)
    assert unpublished.status == "succeeded" and not unpublished.published
    republished = deliver(w, message)
    assert republished is not None and republished.published
    assert feeds.published_pointer(w.services, status.schedule_id).run_id == status.id
    assert w.metrics.names().count("run_finished") == 1
