"""onair.usecases.feeds on in-memory ports: publishing a succeeded run (copies, then the pointer, last) and
answering a feed's files by token and name."""

from __future__ import annotations

import gzip
import hashlib
from datetime import timedelta

import pytest

from onair import keys
from onair.errors import NotFound
from onair.records import RunStatus
from onair.usecases import feeds, jobs, runs, schedules
from onair.usecases.runs import RunRequest
from onair.usecases.schedules import Document
from onair.writers import WRITERS
from tests.conftest import SAMPLE_XMLTV
from tests.fakes import World

LEASE = timedelta(minutes=15)


def new_schedule(w: World) -> str:
    return schedules.create_schedule(w.services, Document(SAMPLE_XMLTV)).id


def requested(w: World, sid: str, day: str = "2026-12-01", *, publish: bool = True) -> dict:
    """A run requested (a minute later): its job message, taken from JobQueue."""
    w.clock.advance(minutes=1)
    runs.create_run(w.services, sid, RunRequest.model_validate({"from": day, "publish": publish}))
    [message] = w.queues.take(w.settings.job_queue_url)
    return message


def execute(w: World, message: dict) -> RunStatus:
    """The job delivered (a minute later) and run to its end."""
    w.clock.advance(minutes=1)
    finished = jobs.execute_run(w.services, message, lease=LEASE)
    assert finished is not None and finished.id == message["run_id"]
    return finished


def run_to_the_end(w: World, sid: str, day: str = "2026-12-01", *, publish: bool = True) -> RunStatus:
    finished = execute(w, requested(w, sid, day, publish=publish))
    assert finished.status == "succeeded"
    return finished


def earlier_finishing_last(w: World, sid: str) -> tuple[dict, dict, RunStatus]:
    """Two runs, the one requested later finishing (and publishing) first: both jobs, and the earlier's end."""
    earlier = requested(w, sid, "2026-12-01")
    later = requested(w, sid, "2026-12-02")
    execute(w, later)
    return earlier, later, execute(w, earlier)


def test_a_published_feed_serves_each_output_and_the_gzipped_guide_by_token(w):
    sid = new_schedule(w)
    status = run_to_the_end(w, sid)
    token = schedules.load_record(w.services, sid).feed_token
    guide = w.store.get_bytes(keys.run_output(status.id, "guide.xml"))
    for name in feeds.feed_names(list(WRITERS)):
        answer = feeds.feed_file(w.services, token, name)
        data = w.store.get_bytes(answer.key)
        assert (answer.schedule_id, answer.run_id, answer.name) == (sid, status.id, name)
        assert answer.size == len(data)
        assert answer.etag == f'"{hashlib.sha256(data).hexdigest()[:32]}"'
        assert answer.last_modified == feeds.published_pointer(w.services, sid).published_at
        if name == feeds.GUIDE_GZ:
            assert answer.content_type == "application/gzip" and gzip.decompress(data) == guide
        else:
            assert answer.content_type == WRITERS[name][0]
            assert data == w.store.get_bytes(keys.run_output(status.id, name))
    assert feeds.feed_urls(schedules.load_record(w.services, sid)) == {
        name: f"/feeds/{token}/{name}" for name in feeds.feed_names(list(WRITERS))
    }


def test_the_same_guide_gzips_to_the_same_bytes(w):
    sid = new_schedule(w)
    first, second = run_to_the_end(w, sid), run_to_the_end(w, sid)
    copies = [w.store.get_bytes(keys.feed_file(sid, run.id, feeds.GUIDE_GZ)) for run in (first, second)]
    assert copies[0] == copies[1]


def test_a_feed_answers_not_found_for_a_bad_token_an_unknown_name_and_before_it_publishes(w):
    sid = new_schedule(w)
    token = schedules.load_record(w.services, sid).feed_token
    with pytest.raises(NotFound) as raised:
        feeds.feed_file(w.services, token, "guide.xml")
    assert raised.value.code == "not_published"
    run_to_the_end(w, sid, publish=False)
    with pytest.raises(NotFound) as raised:
        feeds.feed_file(w.services, token, "guide.xml")
    assert raised.value.code == "not_published"
    run_to_the_end(w, sid)
    with pytest.raises(NotFound, match=r"has no 'secret\.txt'"):
        feeds.feed_file(w.services, token, "secret.txt")
    with pytest.raises(NotFound, match="no feed has this token"):
        feeds.feed_file(w.services, keys.new_feed_token(), "guide.xml")


def test_publishing_again_a_published_run_changes_nothing(w):
    sid = new_schedule(w)
    status = run_to_the_end(w, sid)
    before = w.store.versions(keys.published(sid))
    assert feeds.publish(w.services, status) == runs.load_status(w.services, status.id)
    assert w.store.versions(keys.published(sid)) == before


def test_only_the_published_runs_files_and_the_previous_ones_are_kept(w):
    sid = new_schedule(w)
    made = [run_to_the_end(w, sid) for _ in range(4)]
    kept = {key.split("/")[3] for key in w.store.keys(keys.feed_prefix(sid))}
    assert kept == {made[3].id, made[2].id}
    assert feeds.published_pointer(w.services, sid).run_id == made[3].id


def deleted_while_publishing(w: World) -> tuple[str, dict]:
    """A run whose schedule is deleted after the run succeeded, while its feed copies are written."""
    sid = new_schedule(w)
    message = requested(w, sid, "2026-12-01")
    w.store.once(
        "put",
        keys.feed_file(sid, message["run_id"], feeds.GUIDE_GZ),
        lambda: schedules.delete_schedule(w.services, sid),
    )
    execute(w, message)
    return sid, message


def test_a_run_whose_schedule_is_deleted_while_it_publishes_writes_no_pointer(w):
    sid, _ = deleted_while_publishing(w)
    assert w.store.versions(keys.published(sid)) == []
    with pytest.raises(NotFound):
        schedules.load_record(w.services, sid)


def test_a_late_earlier_run_never_costs_the_previous_feed_its_files(w):
    # Given run B published, then run A (requested before B) finishing after it, then C published
    sid = new_schedule(w)
    _, b, _ = earlier_finishing_last(w, sid)
    c = requested(w, sid, "2026-12-03")
    execute(w, c)
    # Then the feed keeps C's files and B's (the previous feed, which a reader may be midway through)
    kept = {key.split("/")[3] for key in w.store.keys(keys.feed_prefix(sid))}
    assert kept == {c["run_id"], b["run_id"]}


def test_a_run_that_switched_the_feed_then_lost_it_to_a_later_one_keeps_the_later_ones_files(w):
    # Given run A switching the feed to itself, and run C (requested after A) publishing all of its own
    # before A drops the old copies (four runs at once: RunConcurrency)
    sid = new_schedule(w)
    b = run_to_the_end(w, sid, "2026-12-01")
    a, c = requested(w, sid, "2026-12-02"), requested(w, sid, "2026-12-03")
    w.store.once("list", keys.feed_prefix(sid), lambda: execute(w, c))
    execute(w, a)
    # Then the feed is C's, and its files are there to read, with A's (the feed C replaced); B's are gone
    token = schedules.load_record(w.services, sid).feed_token
    assert feeds.published_pointer(w.services, sid).run_id == c["run_id"]
    for name in feeds.feed_names(list(WRITERS)):
        w.store.get_bytes(feeds.feed_file(w.services, token, name).key)
    kept = {key.split("/")[3] for key in w.store.keys(keys.feed_prefix(sid))}
    assert kept == {a["run_id"], c["run_id"]} and b.id not in kept


def test_publishing_again_a_run_the_feed_has_moved_on_from_keeps_its_files_for_readers(w):
    # Given run A published, then run B; A's publication is repeated (its job stopped before it could
    # mark A published, and was delivered again)
    sid = new_schedule(w)
    a = run_to_the_end(w, sid, "2026-12-01")
    b = run_to_the_end(w, sid, "2026-12-02")
    repeated = feeds.publish(w.services, a.model_copy(update={"published": False}))
    # Then the feed stays B's, and A's copies, the previous feed, stay for the readers midway through them
    assert not repeated.published
    assert feeds.published_pointer(w.services, sid).run_id == b.id
    kept = {key.split("/")[3] for key in w.store.keys(keys.feed_prefix(sid))}
    assert kept == {a.id, b.id}


def test_publishing_copies_the_outputs_within_the_store_and_reads_none_of_them(w):
    sid = new_schedule(w)
    operations: list[tuple[str, str]] = []
    w.store.hooks.append(lambda operation, key: operations.append((operation, key)))
    status = run_to_the_end(w, sid)
    w.store.hooks.clear()
    outputs = keys.run_output(status.id, "")
    # The run stored its outputs and the guide's gzip, with their feed ETags and sizes in its status
    assert sorted(status.files) == sorted(feeds.feed_names(status.outputs))
    for name, file in status.files.items():
        data = w.store.get_bytes(keys.run_output(status.id, name))
        assert (file.etag, file.bytes) == (f'"{hashlib.sha256(data).hexdigest()[:32]}"', len(data))
    # and publishing copied each of them without reading one
    assert not [key for operation, key in operations if operation == "get" and key.startswith(outputs)]
    copied = [key for operation, key in operations if operation == "copy"]
    assert copied == [keys.feed_file(sid, status.id, name) for name in feeds.feed_names(status.outputs)]
    assert feeds.published_pointer(w.services, sid).files == status.files


def test_a_run_not_to_publish_stores_no_gzipped_guide(w):
    status = run_to_the_end(w, new_schedule(w), publish=False)
    assert feeds.GUIDE_GZ not in status.files
    assert w.store.keys(keys.run_output(status.id, "")) == [
        keys.run_output(status.id, n) for n in sorted(status.outputs)
    ]


def test_a_status_stored_before_runs_recorded_their_files_publishes_the_same_feed(w):
    # Given a succeeded run not published yet, whose status has no files (as stored before they existed)
    sid = new_schedule(w)
    status = run_to_the_end(w, sid, publish=False)
    older = status.model_copy(update={"files": {}})
    # When it is published, Then its feed files are the ones a run records now
    feeds.publish(w.services, older)
    recorded = run_to_the_end(w, sid).files  # the same schedule and request, published as runs are now
    assert feeds.published_pointer(w.services, sid).files == recorded
