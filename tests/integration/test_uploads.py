"""Presigned upload -> S3 notification on ImportQueue -> ImportFunction, with moto doing S3's part."""

from __future__ import annotations

import json

from onair import keys
from tests.conftest import SAMPLE_XMLTV


def upload(stack, body: bytes, query: str = "") -> str:
    created = stack.api("POST", "/uploads", query=query)
    assert created.status == 201, created.body
    answer = created.json()
    assert answer["method"] == "PUT" and f"incoming/{answer['id']}.xml" in answer["url"]
    assert stack.api("GET", f"/uploads/{answer['id']}").json()["status"] == "pending"
    # The client's PUT lands the object; moto sends the S3 event to ImportQueue as S3 would.
    stack.s3.put_object(Bucket=stack.resources.bucket, Key=f"incoming/{answer['id']}.xml", Body=body)
    return answer["id"]


def test_uploaded_listing_is_imported(stack):
    upload_id = upload(stack, SAMPLE_XMLTV)
    # S3's s3:TestEvent (sent when the notification was set up) is in the same queue and is ignored
    assert stack.deliver("ImportQueue", "ImportFunction") == {"batchItemFailures": []}
    status = stack.api("GET", f"/uploads/{upload_id}").json()
    assert status["status"] == "imported", status
    summary = stack.api("GET", f"/schedules/{status['schedule_id']}").json()
    assert summary["programmes"] == 3
    assert stack.receive("ImportDLQ") == []


def test_malformed_upload_is_rejected_with_the_reason_in_the_dlq(stack):
    upload_id = upload(stack, b"<tv><programme></tv>")
    assert stack.deliver("ImportQueue", "ImportFunction") == {"batchItemFailures": []}
    status = stack.api("GET", f"/uploads/{upload_id}").json()
    assert status["status"] == "rejected"
    assert status["error"]["code"] == "not_well_formed" and status["error"]["details"][0]["line"] == 1
    report = json.loads(
        stack.s3.get_object(Bucket=stack.resources.bucket, Key=f"rejected/{upload_id}.json")["Body"].read()
    )
    assert report["error"] == status["error"]
    [message] = stack.receive("ImportDLQ")
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes["error_code"] == "not_well_formed" and attributes["upload_id"] == upload_id
    assert "not well-formed" in attributes["error_message"]
    assert attributes["error_findings"] == "notwell 1:21"
    assert stack.keys("schedules/") == []
    # the record is done, not retried: nothing is left on ImportQueue
    assert stack.receive("ImportQueue") == []


def test_duplicate_notification_imports_once(stack):
    upload_id = upload(stack, SAMPLE_XMLTV)
    messages = stack.receive("ImportQueue")
    arn = stack.resources.queue_arns["ImportQueue"]
    from local.sqs import sqs_record

    event = {"Records": [sqs_record(m, arn) for m in messages]}
    stack.invoke("ImportFunction", event)
    first = stack.api("GET", f"/uploads/{upload_id}").json()
    stack.invoke("ImportFunction", event)
    assert stack.api("GET", f"/uploads/{upload_id}").json() == first
    assert sorted(stack.keys("schedules/")) == sorted(
        [keys.schedule_record(upload_id)]
        + [keys.version_file(upload_id, 1, name) for name in ("info.json", "schedule.json", "source.xml")]
    )


def test_transient_storage_failure_fails_only_that_record(stack):
    good = upload(stack, SAMPLE_XMLTV)
    messages = stack.receive("ImportQueue")
    arn = stack.resources.queue_arns["ImportQueue"]
    from local.sqs import sqs_record

    missing = dict(messages[-1], MessageId="missing-object")
    body = json.loads(missing["Body"])
    body["Records"][0]["s3"]["object"]["key"] = "incoming/00000000-0000-4000-8000-000000000000.xml"
    missing["Body"] = json.dumps(body)
    result = stack.invoke("ImportFunction", {"Records": [sqs_record(m, arn) for m in [*messages, missing]]})
    # the object is not there (yet): a failure to retry, while the good upload is imported
    assert result == {"batchItemFailures": [{"itemIdentifier": "missing-object"}]}
    assert stack.api("GET", f"/uploads/{good}").json()["status"] == "imported"


def test_an_upload_created_strict_is_judged_strictly(stack):
    # Given a listing whose only finding is a warning (a channel without programmes)
    lenient_id = upload(
        stack,
        SAMPLE_XMLTV.replace(b"</tv>", b'<channel id="x"><display-name>X</display-name></channel></tv>'),
    )
    stack.deliver("ImportQueue", "ImportFunction")
    strict_id = upload(
        stack,
        SAMPLE_XMLTV.replace(b"</tv>", b'<channel id="x"><display-name>X</display-name></channel></tv>'),
        query="strict=true",
    )
    stack.deliver("ImportQueue", "ImportFunction")
    # Then the lenient upload imports with the warning, the strict one is rejected with it as an error
    lenient = stack.api("GET", f"/uploads/{lenient_id}").json()
    strict = stack.api("GET", f"/uploads/{strict_id}").json()
    assert lenient["status"] == "imported"
    assert (strict["status"], strict["error"]["code"]) == ("rejected", "invalid_schedule")
    assert "channelnoprogramme" in [d["code"] for d in strict["error"]["details"]]


def test_a_put_after_the_upload_was_imported_is_not_imported_and_the_status_says_so(stack):
    # Given an upload imported from its first object
    upload_id = upload(stack, SAMPLE_XMLTV)
    stack.deliver("ImportQueue", "ImportFunction")
    first = stack.api("GET", f"/uploads/{upload_id}").json()
    assert first["status"] == "imported" and first["object"]["bytes"] == len(SAMPLE_XMLTV)
    schedule = stack.api("GET", f"/schedules/{upload_id}").json()
    # When the client PUTs another document to the same URL (S3 cannot revoke it before it expires)
    other = SAMPLE_XMLTV.replace(b"Cartoons", b"Westerns")
    stack.s3.put_object(Bucket=stack.resources.bucket, Key=f"incoming/{upload_id}.xml", Body=other)
    [message] = stack.receive("ImportQueue")
    from local.sqs import sqs_record

    event = {"Records": [sqs_record(message, stack.resources.queue_arns["ImportQueue"])]}
    assert stack.invoke("ImportFunction", event) == {"batchItemFailures": []}
    # Then the schedule is the first document's, and the upload's status lists the later object
    assert stack.api("GET", f"/schedules/{upload_id}").json() == schedule
    status = stack.api("GET", f"/uploads/{upload_id}").json()
    assert (status["status"], status["object"]) == ("imported", first["object"])
    [later] = status["later_puts"]
    assert later["bytes"] == len(other) and later["etag"] != first["object"]["etag"] and later["at"]
    # And a repeated delivery of that notification lists it once
    stack.invoke("ImportFunction", event)
    assert stack.api("GET", f"/uploads/{upload_id}").json() == status


def test_a_put_after_the_upload_was_rejected_is_listed_too(stack):
    upload_id = upload(stack, b"<tv><programme></tv>")
    stack.deliver("ImportQueue", "ImportFunction")
    stack.s3.put_object(Bucket=stack.resources.bucket, Key=f"incoming/{upload_id}.xml", Body=SAMPLE_XMLTV)
    stack.deliver("ImportQueue", "ImportFunction")
    status = stack.api("GET", f"/uploads/{upload_id}").json()
    assert status["status"] == "rejected" and len(status["later_puts"]) == 1


def test_an_upload_the_parser_fails_on_is_rejected_once_not_retried(stack, monkeypatch):
    # Given an upload on which the parser raises something other than a rejection (a bug the document
    # reveals, as an OverflowError on a year-9999 start did): the same bytes would fail the same way again
    import onair.readers.schedule

    def overflow(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(onair.readers.schedule, "parse_schedule", overflow)
    upload_id = upload(stack, SAMPLE_XMLTV)
    # When its notification is delivered, then the record is done and the upload rejected with the reason
    assert stack.deliver("ImportQueue", "ImportFunction") == {"batchItemFailures": []}
    status = stack.api("GET", f"/uploads/{upload_id}").json()
    assert (status["status"], status["error"]["code"]) == ("rejected", "import_failed")
    assert "OverflowError: date value out of range" in status["error"]["message"]
    [dead] = stack.receive("ImportDLQ")
    assert dead["MessageAttributes"]["error_code"]["StringValue"] == "import_failed"
    assert stack.keys("schedules/") == []
