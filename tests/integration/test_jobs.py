"""RunFunction: idempotent jobs, partial batch failures, and the last delivery of a poison job."""

from __future__ import annotations

import json

import pytest

from local.sqs import sqs_record
from tests.conftest import SAMPLE_ONAIR, SAMPLE_XMLTV


def requested_run(stack, document: bytes = SAMPLE_XMLTV, body: str = "{}") -> dict:
    schedule = stack.api("POST", "/schedules", document).json()
    run = stack.api("POST", f"/schedules/{schedule['id']}/runs", body).json()
    [message] = stack.receive("JobQueue")
    return {"run": run, "message": message, "schedule": schedule}


def outputs(stack, run_id: str) -> dict[str, bytes]:
    prefix = f"runs/{run_id}/out/"
    return {
        key[len(prefix) :]: stack.s3.get_object(Bucket=stack.resources.bucket, Key=key)["Body"].read()
        for key in stack.keys(prefix)
    }


def event(stack, *messages) -> dict:
    return {"Records": [sqs_record(m, stack.resources.queue_arns["JobQueue"]) for m in messages]}


def test_same_job_delivered_twice_gives_the_same_output_and_no_error(stack):
    given = requested_run(stack)
    assert stack.invoke("RunFunction", event(stack, given["message"])) == {"batchItemFailures": []}
    first = outputs(stack, given["run"]["id"])
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert stack.invoke("RunFunction", event(stack, given["message"])) == {"batchItemFailures": []}
    assert outputs(stack, given["run"]["id"]) == first
    assert stack.api("GET", f"/runs/{given['run']['id']}").json() == status


def test_a_failing_record_is_reported_and_the_rest_of_the_batch_succeeds(stack):
    good = requested_run(stack)
    poison = dict(good["message"], MessageId="poison", Body="{not json")
    result = stack.invoke("RunFunction", event(stack, poison, good["message"]))
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert stack.api("GET", f"/runs/{good['run']['id']}").json()["status"] == "succeeded"


def test_run_of_a_deleted_schedule_fails_without_retry(stack):
    given = requested_run(stack)
    stack.s3.delete_object(
        Bucket=stack.resources.bucket, Key=f"schedules/{given['schedule']['id']}/schedule.json"
    )
    assert stack.invoke("RunFunction", event(stack, given["message"])) == {"batchItemFailures": []}
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert status["status"] == "failed" and status["error"]["code"] == "not_found"


def test_last_delivery_of_a_crashing_job_marks_the_run_failed(stack, monkeypatch):
    given = requested_run(stack)
    import onair.jobs

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(onair.jobs, "_generate", crash)
    max_receive = json.loads(
        stack.sqs.get_queue_attributes(
            QueueUrl=stack.resources.queue_urls["JobQueue"], AttributeNames=["RedrivePolicy"]
        )["Attributes"]["RedrivePolicy"]
    )["maxReceiveCount"]
    message = given["message"]
    for attempt in range(1, max_receive + 1):
        message = dict(message, Attributes=dict(message["Attributes"], ApproximateReceiveCount=str(attempt)))
        result = stack.invoke("RunFunction", event(stack, message))
        assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
        expected = "failed" if attempt == max_receive else "running"
        assert stack.api("GET", f"/runs/{given['run']['id']}").json()["status"] == expected
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert status["error"] == {"code": "job_failed", "message": "RuntimeError: disk on fire"}


@pytest.mark.parametrize("document", [SAMPLE_XMLTV, SAMPLE_ONAIR], ids=["xmltv", "onair"])
def test_run_writes_the_requested_formats_only(stack, document):
    given = requested_run(stack, document, '{"from": "2026-12-01", "formats": ["playout.json"]}')
    stack.invoke("RunFunction", event(stack, given["message"]))
    assert list(outputs(stack, given["run"]["id"])) == ["playout.json"]
    missing = stack.api("GET", f"/runs/{given['run']['id']}/output/guide.xml")
    assert missing.status == 404


def test_an_idempotency_key_gives_the_same_run_which_runs_once(stack):
    schedule = stack.api("POST", "/schedules", SAMPLE_ONAIR).json()
    path, body = f"/schedules/{schedule['id']}/runs", json.dumps({"days": 2, "seed": 3})
    key = {"Idempotency-Key": "nightly-2026-12-01"}
    # Given a run requested with an Idempotency-Key, when the same request is sent again with the key
    first = stack.api("POST", path, body, headers=key)
    again = stack.api("POST", path, body, headers=key)
    # Then both answers name one run, which runs once (a queued run's job is sent again: the first
    # request may have failed before sending it, and a job delivered twice runs once)
    assert (first.status, again.status) == (202, 202)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["location"] == f"/runs/{first.json()['id']}"
    assert stack.deliver("JobQueue", "RunFunction") == {"batchItemFailures": []}  # every copy of the job
    assert stack.api("GET", "/queue-stats").json()["jobs"]["visible"] == 0
    run = stack.api("GET", f"/runs/{first.json()['id']}").json()
    assert (run["status"], run["attempts"]) == ("succeeded", 1)
    # And without the key, or with another key, a request is a new run
    other = stack.api("POST", path, body, headers={"Idempotency-Key": "another"})
    plain = stack.api("POST", path, body)
    assert len({first.json()["id"], other.json()["id"], plain.json()["id"]}) == 3


def test_an_idempotency_key_reused_for_another_request_is_a_conflict(stack):
    schedule = stack.api("POST", "/schedules", SAMPLE_ONAIR).json()
    path, key = f"/schedules/{schedule['id']}/runs", {"Idempotency-Key": "k1"}
    assert stack.api("POST", path, json.dumps({"days": 1}), headers=key).status == 202
    reply = stack.api("POST", path, json.dumps({"days": 2}), headers=key)
    assert (reply.status, reply.json()["error"]["code"]) == (409, "idempotency_key_reused")
    assert len(stack.receive("JobQueue")) == 1
