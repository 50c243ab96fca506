"""onair.usecases.uploads on in-memory ports: the presigned grant, the import S3's notification triggers,
rejections (recorded, sent to ImportDLQ, never retried) and PUTs after the upload was decided."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from onair import keys
from onair.errors import BadRequest, NotFound, Unavailable
from onair.records import RefreshPolicy
from onair.usecases import schedules, uploads
from onair.usecases.uploads import Put
from tests.conftest import SAMPLE_XMLTV
from tests.fakes import World, world

WITH_WARNING = b"""<tv>
  <channel id="one.example"><display-name>One</display-name></channel>
  <programme start="20261201180000 +0000" channel="one.example"><title>No stop</title></programme>
</tv>
"""


def uploaded(w: World, body: bytes, **grant) -> str:
    """An upload granted, then the client's PUT (S3 stamps the object with the time)."""
    upload_id = uploads.create_upload(w.services, **grant)["id"]
    w.clock.advance(seconds=5)
    w.store.put_bytes(keys.incoming(upload_id), body, "application/xml")
    w.clock.advance(seconds=1)
    return upload_id


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_a_grant_is_a_presigned_put_lasting_the_templates_seconds_and_a_pending_status(w):
    grant = uploads.create_upload(w.services, content_type="application/gzip")
    assert grant["method"] == "PUT" and grant["headers"] == {"Content-Type": "application/gzip"}
    assert f"expires={w.settings.upload_url_seconds}" in grant["url"]
    assert keys.incoming(grant["id"]) in grant["url"]
    assert grant["expires_at"] == (w.clock() + timedelta(seconds=w.settings.upload_url_seconds)).isoformat()
    assert uploads.get_upload(w.services, grant["id"]) == {
        "id": grant["id"],
        "status": "pending",
        "strict": False,
    }


def test_a_grant_for_another_content_type_is_refused_and_stores_nothing(w):
    with pytest.raises(BadRequest) as raised:
        uploads.create_upload(w.services, content_type="text/html")
    assert raised.value.code == "invalid_request" and w.store.keys() == []


def test_an_uploaded_listing_becomes_the_schedule_of_the_uploads_id_dated_by_its_object(w):
    upload_id = uploaded(w, SAMPLE_XMLTV, refresh=RefreshPolicy(days=1, at="05:00"))
    modified = w.store.stat(keys.incoming(upload_id)).modified
    # When S3's notification is handled
    status = uploads.import_upload(w.services, keys.incoming(upload_id), Put(md5(SAMPLE_XMLTV)))
    # Then the schedule has the upload's id, the object's time and the grant's policy
    assert status == {
        "id": upload_id,
        "status": "imported",
        "strict": False,
        "refresh": {"days": 1, "at": "05:00"},
        "schedule_id": upload_id,
        "object": {"etag": md5(SAMPLE_XMLTV), "bytes": len(SAMPLE_XMLTV)},
    }
    record = schedules.load_record(w.services, upload_id)
    assert record.created_at == modified and record.refresh == RefreshPolicy(days=1, at="05:00")
    assert "refresh" not in uploads.get_upload(w.services, upload_id)  # the API does not show it
    assert w.metrics.names() == ["import_accepted"] and w.queues.sent == []


def test_a_rejected_upload_is_recorded_and_sent_to_the_dlq_with_the_reason_once(w):
    upload_id = uploaded(w, b"<tv><programme></tv>")
    status = uploads.import_upload(w.services, keys.incoming(upload_id))
    assert status is not None and status["status"] == "rejected"
    assert status["error"]["code"] == "not_well_formed"
    assert w.store.get_json(keys.rejected(upload_id))["error"] == status["error"]
    [message] = w.queues.sent
    assert message.queue_url == w.settings.import_dlq_url
    assert message.body["upload_id"] == upload_id and message.body["key"] == keys.incoming(upload_id)
    assert message.attributes["error_code"] == "not_well_formed"
    assert message.attributes["error_findings"] == "notwell 1:21"
    assert w.store.keys("schedules/") == []
    assert w.metrics.calls == [("import_rejected", {"code": "not_well_formed"})]
    # And a repeated notification changes nothing and sends nothing more
    before = w.store.snapshot()
    assert uploads.import_upload(w.services, keys.incoming(upload_id)) == status
    assert w.store.snapshot() == before and len(w.queues.sent) == 1


def test_an_upload_larger_than_the_limit_is_rejected_without_being_read():
    w = world(max_upload_bytes=100)
    upload_id = uploaded(w, SAMPLE_XMLTV)
    reads = []
    w.store.hooks.append(lambda operation, key: reads.append(key) if operation == "get" else None)
    status = uploads.import_upload(w.services, keys.incoming(upload_id))
    assert status is not None and status["error"]["code"] == "too_large"
    assert keys.incoming(upload_id) not in reads


def test_strict_uploads_reject_warnings_that_lenient_ones_keep(w):
    lenient = uploaded(w, WITH_WARNING)
    strict = uploaded(w, WITH_WARNING, strict=True)
    assert uploads.import_upload(w.services, keys.incoming(lenient))["status"] == "imported"
    rejected = uploads.import_upload(w.services, keys.incoming(strict))
    assert rejected["status"] == "rejected" and rejected["error"]["code"] == "invalid_schedule"
    assert rejected["strict"] is True


def test_a_parser_failure_rejects_the_upload_once_instead_of_retrying_it(w, monkeypatch):
    import onair.readers.schedule

    def broken(*args, **kwargs):
        raise KeyError("a parser bug this document reveals")

    monkeypatch.setattr(onair.readers.schedule, "parse_schedule", broken)
    upload_id = uploaded(w, SAMPLE_XMLTV)
    status = uploads.import_upload(w.services, keys.incoming(upload_id))
    assert status["status"] == "rejected" and status["error"]["code"] == "import_failed"
    assert "KeyError" in status["error"]["message"]


def test_a_storage_outage_propagates_so_the_notification_is_redelivered(w):
    upload_id = uploaded(w, SAMPLE_XMLTV)

    def outage() -> None:
        raise Unavailable("S3 is down")

    w.store.once("get", keys.incoming(upload_id), outage)
    with pytest.raises(Unavailable):
        uploads.import_upload(w.services, keys.incoming(upload_id))
    assert uploads.get_upload(w.services, upload_id)["status"] == "pending"
    assert uploads.import_upload(w.services, keys.incoming(upload_id))["status"] == "imported"


def test_a_put_after_the_import_is_recorded_not_imported(w):
    upload_id = uploaded(w, SAMPLE_XMLTV)
    first = uploads.import_upload(w.services, keys.incoming(upload_id), Put(md5(SAMPLE_XMLTV)))
    record = schedules.load_record(w.services, upload_id)
    # When the client PUTs another document to the same URL before it expires
    w.store.put_bytes(keys.incoming(upload_id), WITH_WARNING)
    later = Put(md5(WITH_WARNING), len(WITH_WARNING), "2026-12-01T12:00:09Z")
    status = uploads.import_upload(w.services, keys.incoming(upload_id), later)
    # Then the status lists it, and the schedule is the first document's
    assert status["later_puts"] == [{"etag": md5(WITH_WARNING), "bytes": len(WITH_WARNING), "at": later.at}]
    assert {k: v for k, v in status.items() if k != "later_puts"} == first
    assert schedules.load_record(w.services, upload_id) == record
    # And redeliveries of either notification add nothing more
    assert uploads.import_upload(w.services, keys.incoming(upload_id), later) == status
    assert uploads.import_upload(w.services, keys.incoming(upload_id), Put(md5(SAMPLE_XMLTV))) == status


def test_only_objects_under_incoming_with_an_upload_id_are_imported(w):
    for key in ("incoming/not-an-id.xml", "schedules/x/source.xml", f"incoming/{keys.new_id()}.json"):
        assert uploads.import_upload(w.services, key) is None
    assert w.store.keys() == []


def test_an_unknown_upload_is_not_found(w):
    with pytest.raises(NotFound):
        uploads.get_upload(w.services, keys.new_id())
    with pytest.raises(NotFound):
        uploads.get_upload(w.services, "../uploads")


def test_the_excerpt_of_a_rejected_gzip_upload_is_of_the_document_inside(w):
    import gzip

    upload_id = uploaded(w, gzip.compress(b"<tv>\n<programme>\n</tv>\n"))
    assert uploads.import_upload(w.services, keys.incoming(upload_id))["status"] == "rejected"
    excerpt = uploads.upload_excerpt(w.services, upload_id, line=2, context=0)
    assert (excerpt.first_line, excerpt.lines) == (2, ["<programme>"])
    w.store.delete(keys.incoming(upload_id))  # the incoming/ lifecycle expired it
    with pytest.raises(NotFound):
        uploads.upload_excerpt(w.services, upload_id, line=2)
