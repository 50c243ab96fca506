"""onair.usecases.schedules on in-memory ports: import, new versions, reads, the list, deletion, the feed
token and the refresh policy's copy."""

from __future__ import annotations

import pytest

from onair import keys
from onair.errors import BadRequest, DocumentRejected, NotFound, PreconditionFailed
from onair.records import RefreshPolicy
from onair.usecases import schedules
from onair.usecases.schedules import Document
from tests.conftest import SAMPLE_ONAIR, SAMPLE_XMLTV
from tests.fakes import World, world

NOT_WELL_FORMED = b"<tv>\n  <channel id='a'>\n</tv>\n"
DAILY = RefreshPolicy(days=2, at="06:00")


def create(w: World, body: bytes = SAMPLE_XMLTV, **kwargs):
    return schedules.create_schedule(w.services, Document(body), **kwargs)


def test_a_new_schedule_is_version_1_with_a_feed_token_and_its_record_written_last(w):
    # When a valid listing is imported
    writes: list[str] = []
    w.store.hooks.append(lambda operation, key: writes.append(key) if operation == "put" else None)
    record = create(w)
    # Then its version files, feed token and index entry exist, and the record came last
    sid = record.id
    assert (record.version, record.current.format, record.current.programmes) == (1, "xmltv", 3)
    assert set(w.store.keys(keys.versions_prefix(sid))) == {
        keys.version_file(sid, 1, name) for name in ("source.xml", "schedule.json", "info.json")
    }
    assert w.store.get_bytes(keys.version_file(sid, 1, "source.xml")) == SAMPLE_XMLTV
    assert schedules.schedule_of_token(w.services, record.feed_token) == sid
    assert w.store.keys("index/schedules/") == [keys.schedule_index(sid, w.clock())]
    assert writes[-1] == keys.schedule_record(sid)
    assert schedules.load_record(w.services, sid) == record
    assert record.created_at == record.updated_at == w.clock()
    assert w.metrics.names() == ["import_accepted"]


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (Document(NOT_WELL_FORMED), "not_well_formed"),
        (Document(SAMPLE_XMLTV, media_type="application/json"), "unsupported_media_type"),
        (Document(SAMPLE_XMLTV, content_encoding="br"), "unsupported_media_type"),
        (Document(b"<html/>"), "not_a_schedule"),
    ],
    ids=["malformed", "json", "brotli", "not-a-schedule"],
)
def test_a_rejected_document_stores_nothing_and_is_counted_with_its_code(w, document, code):
    with pytest.raises(DocumentRejected) as raised:
        schedules.create_schedule(w.services, document)
    assert raised.value.code == code
    assert w.store.keys() == []
    assert w.metrics.calls == [("import_rejected", {"code": code})]


def test_a_document_larger_than_the_templates_limit_is_refused():
    w = world(max_import_bytes=100)
    with pytest.raises(DocumentRejected) as raised:
        create(w)
    assert raised.value.code == "too_large" and w.store.keys() == []


def test_a_new_version_keeps_the_id_token_and_policy_and_lists_newest_first(w):
    # Given a schedule with a refresh policy, and a later PUT of another document without one
    first = create(w, refresh=DAILY)
    w.clock.advance(hours=1)
    second = schedules.replace_schedule(w.services, first.id, Document(SAMPLE_ONAIR), if_match=1)
    # Then it is version 2 of the same schedule, in the new format, the policy and token unchanged
    assert (second.id, second.version, second.current.format) == (first.id, 2, "onair")
    assert (second.feed_token, second.refresh, second.created_at) == (
        first.feed_token,
        DAILY,
        first.created_at,
    )
    assert second.updated_at == w.clock()
    assert [v.version for v in schedules.list_versions(w.services, first.id)] == [2, 1]
    size, lines = schedules.read_model(w.services, first.id, None)
    stored = w.store.get_bytes(keys.version_file(first.id, 2, "schedule.json"))
    assert (size, b"\n".join(lines)) == (len(stored), stored)
    # And the refresh tick's copy now has the OnAir schedule's zone
    assert w.store.get_json(keys.refresh_policy(first.id))["timezone"] == "Europe/Paris"


def test_a_new_version_may_replace_or_clear_the_policy(w):
    record = create(w, refresh=DAILY)
    weekly = RefreshPolicy(days=7, at="23:30")
    assert (
        schedules.replace_schedule(w.services, record.id, Document(SAMPLE_XMLTV), refresh=weekly).refresh
        == weekly
    )
    assert w.store.get_json(keys.refresh_policy(record.id))["days"] == 7
    cleared = schedules.replace_schedule(w.services, record.id, Document(SAMPLE_XMLTV), refresh=None)
    assert cleared.refresh is None
    assert w.store.versions(keys.refresh_policy(record.id)) == []


def test_a_put_naming_an_older_version_is_412_and_stores_nothing(w):
    # Given a schedule at version 2
    record = create(w)
    schedules.replace_schedule(w.services, record.id, Document(SAMPLE_XMLTV))
    before = w.store.snapshot()
    # When a client that last saw version 1 sends a new document
    with pytest.raises(PreconditionFailed) as raised:
        schedules.replace_schedule(w.services, record.id, Document(SAMPLE_ONAIR), if_match=1)
    # Then it is a 412 and nothing changed, not even a version file
    assert raised.value.status == 412
    assert w.store.snapshot() == before
    assert w.metrics.names() == ["import_accepted", "import_accepted"]


def test_a_put_racing_another_writer_is_412_and_the_other_change_stands(w):
    # Given a schedule whose record another writer changes between this PUT's read and its write
    record = create(w)
    other = record.model_copy(update={"refresh": DAILY})
    w.store.once(
        "put",
        keys.version_file(record.id, 2, "source.xml"),
        lambda: w.store.put_json(
            keys.schedule_record(record.id), other.model_dump(mode="json", exclude_none=True)
        ),
    )
    # When the PUT tries to write its record
    with pytest.raises(PreconditionFailed):
        schedules.replace_schedule(w.services, record.id, Document(SAMPLE_ONAIR))
    # Then the other writer's record stands and the unreachable version 2 is not listed
    assert schedules.load_record(w.services, record.id) == other
    assert [v.version for v in schedules.list_versions(w.services, record.id)] == [1]


def test_a_put_of_a_rejected_document_changes_nothing(w):
    record = create(w)
    before = w.store.snapshot()
    with pytest.raises(DocumentRejected):
        schedules.replace_schedule(w.services, record.id, Document(NOT_WELL_FORMED))
    assert w.store.snapshot() == before


@pytest.mark.parametrize("schedule_id", ["0b6b8f8e-2f57-4c1a-9d59-6a0e1c7c9d11", "../etc", "x" * 500])
def test_unknown_or_malformed_ids_are_not_found_and_never_become_keys(w, schedule_id):
    reads = []
    w.store.hooks.append(lambda operation, key: reads.append(key))
    for call in (
        lambda: schedules.load_record(w.services, schedule_id),
        lambda: schedules.replace_schedule(w.services, schedule_id, Document(SAMPLE_XMLTV)),
        lambda: schedules.delete_schedule(w.services, schedule_id),
        lambda: schedules.list_versions(w.services, schedule_id),
        lambda: schedules.rotate_feed_token(w.services, schedule_id),
    ):
        with pytest.raises(NotFound) as raised:
            call()
        assert schedule_id[:80] in raised.value.message
    assert all(key.startswith(("schedules/", "feed-tokens/")) for key in reads)
    assert w.store.keys() == []
    if len(schedule_id) != 36:
        assert not any(schedule_id in key for key in reads)


def test_deleting_a_schedule_leaves_no_object_and_no_version_of_it(w):
    # Given a schedule with two versions, a policy, a rotated token and a run claim
    record = create(w, refresh=DAILY)
    schedules.replace_schedule(w.services, record.id, Document(SAMPLE_XMLTV))
    old_token = record.feed_token
    schedules.rotate_feed_token(w.services, record.id)
    w.store.put_json(keys.run_idempotency(record.id, "k"), {"run_id": "r"})
    w.store.put_json(keys.run_index("r", w.clock(), record.id), {"run_id": "r"})
    w.store.put_json(keys.run_status("r"), {"id": "r"})
    token = schedules.load_record(w.services, record.id).feed_token
    # When it is deleted
    schedules.delete_schedule(w.services, record.id)
    # Then nothing of it is left, in any version; the run's own status stays (runs/ expires on its own)
    assert w.store.keys() == [keys.run_status("r")]
    for key in (keys.feed_token(old_token), keys.feed_token(token), keys.schedule_record(record.id)):
        assert w.store.versions(key) == []
    with pytest.raises(NotFound):
        schedules.load_record(w.services, record.id)
    with pytest.raises(NotFound):
        schedules.schedule_of_token(w.services, token)


def test_a_deletion_stopped_midway_can_be_repeated(w):
    record = create(w)

    def outage() -> None:
        raise RuntimeError("the function timed out")

    w.store.once("delete", keys.version_file(record.id, 1, "info.json"), outage)
    with pytest.raises(RuntimeError):
        schedules.delete_schedule(w.services, record.id)
    assert schedules.load_record(w.services, record.id) == record  # the record goes last
    schedules.delete_schedule(w.services, record.id)
    assert w.store.keys() == []


def test_rotating_the_feed_token_deletes_the_old_tokens_key_at_once(w):
    record = create(w)
    rotated = schedules.rotate_feed_token(w.services, record.id)
    assert rotated.feed_token != record.feed_token
    assert schedules.schedule_of_token(w.services, rotated.feed_token) == record.id
    assert w.store.versions(keys.feed_token(record.feed_token)) == []
    with pytest.raises(NotFound):
        schedules.schedule_of_token(w.services, record.feed_token)
    assert schedules.load_record(w.services, record.id).feed_token == rotated.feed_token


def test_rotating_the_token_of_a_schedule_deleted_meanwhile_leaves_no_token(w):
    record = create(w)
    w.store.once(
        "get", keys.schedule_record(record.id), lambda: schedules.delete_schedule(w.services, record.id)
    )
    with pytest.raises(NotFound):
        schedules.rotate_feed_token(w.services, record.id)
    assert w.store.keys("feed-tokens/") == []


@pytest.mark.parametrize("token", ["", "short", "a" * 42 + "=", "../" + "a" * 40])
def test_a_token_that_is_not_one_this_api_makes_is_not_found(w, token):
    with pytest.raises(NotFound):
        schedules.schedule_of_token(w.services, token)


def test_the_list_pages_newest_first_with_an_opaque_cursor(w):
    # Given five schedules created a minute apart
    ids = []
    for _ in range(5):
        ids.append(create(w).id)
        w.clock.advance(minutes=1)
    newest_first = ids[::-1]
    # When the list is read two at a time
    seen, cursor, pages = [], None, 0
    while True:
        records, cursor = schedules.list_schedules(w.services, limit=2, cursor=cursor)
        seen += [r.id for r in records]
        pages += 1
        if cursor is None:
            break
    # Then every schedule comes once, newest first, and the last page says so
    assert seen == newest_first and pages == 3


def test_the_list_skips_a_schedule_whose_import_never_finished(w):
    record = create(w)
    w.store.put_json(keys.schedule_index("0b6b8f8e-2f57-4c1a-9d59-6a0e1c7c9d11", w.clock()), {})
    records, cursor = schedules.list_schedules(w.services)
    assert [r.id for r in records] == [record.id] and cursor is None


@pytest.mark.parametrize(
    "cursor", ["%%%", "bm90IGEga2V5", schedules.encode_cursor(keys.run_index_prefix() + "x")], ids=str
)
def test_a_cursor_this_api_did_not_give_is_a_bad_request(w, cursor):
    with pytest.raises(BadRequest) as raised:
        schedules.list_schedules(w.services, cursor=cursor)
    assert raised.value.code == "invalid_request"


@pytest.mark.parametrize("limit", [0, 101])
def test_the_list_limit_is_1_to_100(w, limit):
    with pytest.raises(BadRequest):
        schedules.list_schedules(w.services, limit=limit)


def test_source_excerpts_show_the_lines_around_a_finding_of_any_version(w):
    record = create(w)
    schedules.replace_schedule(w.services, record.id, Document(SAMPLE_ONAIR))
    excerpt = schedules.source_excerpt(w.services, record.id, line=3, context=1, version=1)
    assert excerpt.first_line == 2
    assert excerpt.lines == SAMPLE_XMLTV.decode().splitlines()[1:4]
    assert schedules.source_excerpt(w.services, record.id, line=1, context=0).lines == [
        SAMPLE_ONAIR.decode().splitlines()[0]
    ]
    with pytest.raises(NotFound):
        schedules.source_excerpt(w.services, record.id, line=1, version=3)
    with pytest.raises(BadRequest):
        schedules.source_excerpt(w.services, record.id, line=0)


def test_deliveries_of_one_upload_store_one_schedule_and_one_token(w):
    # Given an upload's document stored once (its record written)
    parsed = schedules.parse_document(w.services, Document(SAMPLE_XMLTV))
    sid = keys.new_id()
    first = schedules.store_new(w.services, sid, parsed, created_at=w.clock())
    # When a second delivery of the notification stores it again
    again = schedules.store_new(w.services, sid, parsed, created_at=w.clock())
    # Then the first record stands and the second delivery's token is gone
    assert again == first
    assert w.store.keys("feed-tokens/") == [keys.feed_token(first.feed_token)]
    assert w.metrics.names() == ["import_accepted"]
