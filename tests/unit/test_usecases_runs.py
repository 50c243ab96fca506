"""onair.usecases.runs on in-memory ports: run requests (Idempotency-Key, sent_at, the early size check),
the run lists and the outputs."""

from __future__ import annotations

import pytest

from onair import keys
from onair.errors import BadRequest, Conflict, NotFound, RunTooLarge, Unavailable
from onair.records import RunStatus
from onair.usecases import runs, schedules
from onair.usecases.runs import RunRequest
from onair.usecases.schedules import Document
from onair.writers import WRITERS
from tests.conftest import SAMPLE_ONAIR, SAMPLE_XMLTV
from tests.fakes import World, world

DEC1 = {"from": "2026-12-01", "days": 1}


def schedule(w: World, body: bytes = SAMPLE_XMLTV) -> str:
    return schedules.create_schedule(w.services, Document(body)).id


def request(**fields) -> RunRequest:
    return RunRequest.model_validate(DEC1 | fields)


def test_a_run_request_saves_the_status_then_sends_the_job_then_records_that_it_did(w):
    sid = schedule(w)
    w.clock.advance(minutes=1)
    status = runs.create_run(w.services, sid, request(seed=7))
    # Then the job went to JobQueue with everything the run needs, fixed now
    [message] = w.queues.sent
    assert message.queue_url == w.settings.job_queue_url
    assert message.body == {
        "run_id": status.id,
        "schedule_id": sid,
        "version": 1,
        "from": "2026-12-01",
        "days": 1,
        "seed": 7,
        "formats": list(WRITERS),
        "publish": True,
    }
    # And the stored status is queued, with when it was sent
    stored = runs.load_status(w.services, status.id)
    assert stored == status
    assert (stored.status, stored.schedule_version, stored.created_at) == ("queued", 1, w.clock())
    assert stored.sent_at == w.clock()
    # And the run is listed, and is the schedule's last run
    assert [r.id for r in runs.list_runs(w.services)[0]] == [status.id]
    assert [r.id for r in runs.list_runs(w.services, schedule_id=sid)[0]] == [status.id]
    assert schedules.load_record(w.services, sid).last_run == status.brief()


def test_a_run_request_whose_schedule_record_changes_on_every_try_is_queued_all_the_same(w):
    # Given another writer changing the schedule's record before each of this request's writes to it
    # (runs of one schedule requested at once)
    sid = schedule(w)
    record_key = keys.schedule_record(sid)
    changing = []

    def another_writer(operation: str, key: str) -> None:
        if (operation, key) == ("put", record_key) and not changing:
            changing.append(key)
            w.store.put_bytes(key, w.store.get_bytes(key) + b" ", "application/json")  # a new ETag
            changing.clear()

    w.store.hooks.append(another_writer)
    # When the run is requested, Then it is queued and stored as if the record had been noted
    status = runs.create_run(w.services, sid, request())
    [message] = w.queues.sent
    assert message.body["run_id"] == status.id and runs.load_status(w.services, status.id) == status
    # And the record keeps the last run it had (none)
    w.store.hooks.remove(another_writer)
    assert schedules.load_record(w.services, sid).last_run is None


def test_a_run_of_an_unknown_schedule_is_not_found_and_sends_nothing(w):
    with pytest.raises(NotFound):
        runs.create_run(w.services, keys.new_id(), request())
    assert w.queues.sent == [] and w.store.keys() == []


def test_the_same_idempotency_key_and_request_give_the_same_run_and_one_job(w):
    sid = schedule(w)
    first = runs.create_run(w.services, sid, request(), "key-1")
    again = runs.create_run(w.services, sid, request(), "key-1")
    assert again == first
    assert len(w.queues.sent) == 1
    assert len(runs.list_runs(w.services, schedule_id=sid)[0]) == 1
    # Another key is another run; the same key on another schedule too
    assert runs.create_run(w.services, sid, request(), "key-2").id != first.id
    assert runs.create_run(w.services, schedule(w), request(), "key-1").id != first.id


def test_the_same_idempotency_key_with_another_request_is_a_conflict(w):
    sid = schedule(w)
    runs.create_run(w.services, sid, request(), "key-1")
    with pytest.raises(Conflict) as raised:
        runs.create_run(w.services, sid, request(seed=1), "key-1")
    assert raised.value.code == "idempotency_key_reused" and len(w.queues.sent) == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_an_idempotency_key_is_1_to_255_characters(w, key):
    sid = schedule(w)
    with pytest.raises(BadRequest) as raised:
        runs.create_run(w.services, sid, request(), key)
    assert raised.value.details[0].path == "header Idempotency-Key"
    assert w.queues.sent == []


def test_a_request_that_stopped_after_claiming_its_key_is_finished_by_its_repeat(w):
    # Given a first request that claimed its key, then failed to save the status (an outage)
    sid = schedule(w)

    def outage(operation: str, key: str) -> None:
        if operation == "put" and key.startswith("runs/"):
            w.store.hooks.remove(outage)
            raise Unavailable("S3 is down")

    w.store.hooks.append(outage)
    with pytest.raises(Unavailable):
        runs.create_run(w.services, sid, request(), "key-1")
    assert w.queues.sent == []
    # When the client repeats it
    status = runs.create_run(w.services, sid, request(), "key-1")
    # Then the run is the claimed one, queued and sent once
    [message] = w.queues.sent
    assert message.body["run_id"] == status.id and status.sent_at is not None


def test_a_request_that_stopped_before_sending_sends_on_its_repeat_and_only_then(w):
    # Given a first request whose status was saved but whose job could not be sent
    sid = schedule(w)

    def outage(operation: str, queue_url: str) -> None:
        w.queues.hooks.remove(outage)
        raise Unavailable("SQS is down")

    w.queues.hooks.append(outage)
    with pytest.raises(Unavailable):
        runs.create_run(w.services, sid, request(), "key-1")
    [unsent] = runs.list_runs(w.services)[0]
    assert (unsent.status, unsent.sent_at) == ("queued", None)
    # When the client repeats it twice
    sent = runs.create_run(w.services, sid, request(), "key-1")
    again = runs.create_run(w.services, sid, request(), "key-1")
    # Then the job was sent once, by the first repeat
    assert len(w.queues.sent) == 1 and sent.id == unsent.id and sent.sent_at is not None
    assert again == sent


def test_a_run_certain_to_pass_the_slot_budget_is_refused_at_the_request():
    # Given RunFunction's memory leaving room for 512 slots, and an OnAir schedule filling ~360 a day
    w = world(run_memory_mb=129)
    sid = schedule(w, SAMPLE_ONAIR)
    with pytest.raises(RunTooLarge) as raised:
        runs.create_run(w.services, sid, request(days=2))
    assert raised.value.status == 422 and w.queues.sent == []
    with pytest.raises(RunTooLarge):  # without a first day: today, in the schedule's zone
        runs.create_run(w.services, sid, RunRequest(days=2))
    runs.create_run(w.services, sid, request(days=1))  # ~360 slots fit
    # An XMLTV listing has no floor: its runs are checked by the engine
    runs.create_run(w.services, schedule(w), request())


def test_runs_list_newest_first_per_schedule_and_in_all_with_a_cursor(w):
    a, b = schedule(w), schedule(w)
    made = []
    for sid in (a, b, a, b, a):
        w.clock.advance(seconds=1)
        made.append(runs.create_run(w.services, sid, request()))
    page, cursor = runs.list_runs(w.services, limit=3)
    rest, end = runs.list_runs(w.services, limit=3, cursor=cursor)
    assert [r.id for r in page + rest] == [r.id for r in reversed(made)] and end is None
    assert [r.id for r in runs.list_runs(w.services, schedule_id=a)[0]] == [
        made[4].id,
        made[2].id,
        made[0].id,
    ]
    with pytest.raises(BadRequest):  # a cursor of another list
        runs.list_runs(w.services, schedule_id=a, cursor=cursor)
    with pytest.raises(BadRequest):
        runs.list_runs(w.services, limit=101)
    with pytest.raises(NotFound):
        runs.list_runs(w.services, schedule_id="not-an-id")


def stored_run(w: World, outputs: dict[str, bytes]) -> RunStatus:
    status = RunStatus(
        id=keys.new_id(),
        schedule_id=keys.new_id(),
        status="succeeded",
        created_at=w.clock(),
        request={},
        outputs=list(outputs),
    )
    runs.save_status(w.services, status, only_new=True)
    for name, data in outputs.items():
        w.store.put_bytes(keys.run_output(status.id, name), data, WRITERS[name][0])
    return status


def test_small_outputs_are_answered_inline_and_large_ones_by_a_presigned_url(w):
    large = b"channel,start,stop\n" + b"x" * runs.INLINE_OUTPUT_BYTES
    status = stored_run(w, {"guide.xml": b"<tv/>", "asrun.csv": large})
    inline = runs.get_output(w.services, status.id, "guide.xml")
    assert (inline.content_type, inline.body, inline.redirect) == ("application/xml", b"<tv/>", None)
    redirect = runs.get_output(w.services, status.id, "asrun.csv")
    assert redirect.body is None
    assert redirect.redirect == w.store.presigned_get(
        keys.run_output(status.id, "asrun.csv"), runs.PRESIGNED_GET_SECONDS
    )


def test_an_output_the_run_did_not_make_or_no_longer_has_is_not_found(w):
    status = stored_run(w, {"guide.xml": b"<tv/>"})
    with pytest.raises(NotFound, match=r"has no output 'asrun\.csv'"):
        runs.get_output(w.services, status.id, "asrun.csv")
    w.store.delete(keys.run_output(status.id, "guide.xml"))
    with pytest.raises(NotFound, match="no longer stored"):
        runs.get_output(w.services, status.id, "guide.xml")
    with pytest.raises(NotFound):
        runs.get_output(w.services, keys.new_id(), "guide.xml")


def test_an_older_run_never_replaces_a_newer_one_as_the_schedules_last_run(w):
    sid = schedule(w)
    older = runs.create_run(w.services, sid, request())
    w.clock.advance(minutes=1)
    newer = runs.create_run(w.services, sid, request())
    runs.note_run(w.services, older.model_copy(update={"status": "succeeded"}))
    assert schedules.load_record(w.services, sid).last_run == newer.brief()
    finished = newer.model_copy(update={"status": "failed", "finished_at": w.clock()})
    runs.note_run(w.services, finished)
    assert schedules.load_record(w.services, sid).last_run == finished.brief()
