"""RunFunction: idempotent jobs, partial batch failures, and the last delivery of a poison job."""

from __future__ import annotations

import json

import pytest

from local.sqs import sqs_record
from onair import keys
from onair.bootstrap import services
from onair.errors import Unavailable
from tests.conftest import SAMPLE_ONAIR, SAMPLE_XMLTV

FRESH = {"cache-control": "no-cache"}  # the depths now, not the environment's last answer (up to 5 s old)


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
    assert stack.api("DELETE", f"/schedules/{given['schedule']['id']}").status == 204
    assert stack.invoke("RunFunction", event(stack, given["message"])) == {"batchItemFailures": []}
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert status["status"] == "failed" and status["error"]["code"] == "not_found"


def max_receive_count(stack) -> int:
    return json.loads(
        stack.sqs.get_queue_attributes(
            QueueUrl=stack.resources.queue_urls["JobQueue"], AttributeNames=["RedrivePolicy"]
        )["Attributes"]["RedrivePolicy"]
    )["maxReceiveCount"]


def delivered(message: dict, receive_count: int) -> dict:
    return dict(message, Attributes=dict(message["Attributes"], ApproximateReceiveCount=str(receive_count)))


def test_last_delivery_of_a_job_storage_keeps_failing_marks_the_run_failed(stack, monkeypatch):
    given = requested_run(stack)
    import onair.usecases.schedules

    # Given storage that fails every time the job reads its schedule (a transient error: worth retrying)
    def unavailable(*args, **kwargs):
        raise Unavailable("S3 is down")

    monkeypatch.setattr(onair.usecases.schedules, "read_model", unavailable)
    max_receive = max_receive_count(stack)
    # When SQS delivers it maxReceiveCount times, then each delivery is reported failed (redelivered)
    for attempt in range(1, max_receive + 1):
        message = delivered(given["message"], attempt)
        result = stack.invoke("RunFunction", event(stack, message), timeout=0)  # its lease ends at once
        assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
        expected = "failed" if attempt == max_receive else "running"
        assert stack.api("GET", f"/runs/{given['run']['id']}").json()["status"] == expected
    # And the last one marks the run failed with the reason
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert status["error"] == {"code": "job_failed", "message": "Unavailable: S3 is down", "details": []}
    assert status["attempts"] == max_receive


def test_a_job_that_cannot_succeed_fails_at_once_with_its_reason_and_is_not_retried(stack, monkeypatch):
    given = requested_run(stack)
    import onair.usecases.jobs

    # Given a job whose generation raises (a bug, or a schedule the engine cannot play): deterministic
    def crash(*args, **kwargs):
        raise RuntimeError("the engine fell over")

    monkeypatch.setattr(onair.usecases.jobs, "generate", crash)
    # When it is delivered for the first time
    result = stack.invoke("RunFunction", event(stack, given["message"]))
    # Then the record is done (no redelivery) and the run failed with the reason, after one attempt
    assert result == {"batchItemFailures": []}
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert (status["status"], status["attempts"]) == ("failed", 1)
    assert status["error"] == {
        "code": "cannot_generate",
        "message": "RuntimeError: the engine fell over",
        "details": [],
    }
    # And a later delivery of the same message changes nothing
    assert stack.invoke("RunFunction", event(stack, delivered(given["message"], 2))) == {
        "batchItemFailures": []
    }
    assert stack.api("GET", f"/runs/{given['run']['id']}").json() == status


@pytest.mark.parametrize(
    "field",
    [{"weight": None}, {"duration": 999999999 * 3600.0}],
    ids=["weight-stored-as-null", "PT999999999H"],
)
def test_a_schedule_stored_before_the_import_bounds_fails_its_run_at_once(stack, field):
    # Given an OnAir schedule stored by an older import: a 400-digit weight became null (float inf in
    # JSON), or a fixed event item lasts PT999999999H
    given = requested_run(stack, SAMPLE_ONAIR, '{"from": "2026-12-01"}')
    key = keys.version_file(given["schedule"]["id"], 1, "schedule.json")
    stored = json.loads(stack.s3.get_object(Bucket=stack.resources.bucket, Key=key)["Body"].read())
    stored["schedule"]["items"][0].update(field)
    stack.s3.put_object(Bucket=stack.resources.bucket, Key=key, Body=json.dumps(stored).encode())
    # When its job is delivered, then the run failed at once with the model's reason: no retries
    assert stack.invoke("RunFunction", event(stack, given["message"])) == {"batchItemFailures": []}
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert (status["status"], status["attempts"], status["error"]["code"]) == ("failed", 1, "cannot_generate")
    assert status["error"]["message"].startswith("ValidationError:")


def test_a_job_for_the_last_day_of_the_calendar_fails_at_once(stack):
    # Given a job queued for 9999-12-31 (the API refuses such a request now; a message sent before or by
    # hand still reaches the engine, whose time arithmetic overflows)
    given = requested_run(stack, SAMPLE_ONAIR, '{"from": "2026-12-01"}')
    body = json.loads(given["message"]["Body"]) | {"from": "9999-12-31"}
    message = dict(given["message"], Body=json.dumps(body))
    # When it is delivered, then the run failed at once with the overflow's reason
    assert stack.invoke("RunFunction", event(stack, message)) == {"batchItemFailures": []}
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert (status["status"], status["attempts"], status["error"]["code"]) == ("failed", 1, "cannot_generate")
    assert status["error"]["message"].split(":")[0] in ("OverflowError", "ValueError")


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
    # Then both answers name one run, whose job was queued once (the repeat found it sent), and runs once
    assert (first.status, again.status) == (202, 202)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["location"] == f"/runs/{first.json()['id']}"
    assert stack.api("GET", "/queue-stats", headers=FRESH).json()["jobs"]["visible"] == 1
    assert stack.deliver("JobQueue", "RunFunction") == {"batchItemFailures": []}
    assert stack.api("GET", "/queue-stats", headers=FRESH).json()["jobs"]["visible"] == 0
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


def test_twenty_repeats_of_a_request_with_one_key_queue_one_job_which_runs_once(stack):
    schedule = stack.api("POST", "/schedules", SAMPLE_ONAIR).json()
    path, body = f"/schedules/{schedule['id']}/runs", json.dumps({"from": "2026-12-01", "days": 1})
    key = {"Idempotency-Key": "twenty"}
    # Given 20 identical requests with one Idempotency-Key, the queue delivered after the fifth
    answers = []
    for n in range(20):
        answers.append(stack.api("POST", path, body, headers=key))
        if n == 4:  # the run still queued: the repeats found its job sent, and sent nothing
            assert stack.api("GET", "/queue-stats", headers=FRESH).json()["jobs"]["visible"] == 1
            assert stack.deliver("JobQueue", "RunFunction") == {"batchItemFailures": []}
    # Then they all answer one run; one job was ever queued, and the run executed once
    assert {(a.status, a.json()["id"]) for a in answers} == {(202, answers[0].json()["id"])}
    assert stack.api("GET", "/queue-stats", headers=FRESH).json()["jobs"] == {
        "visible": 0,
        "in_flight": 0,
        "delayed": 0,
    }
    run = stack.api("GET", f"/runs/{answers[0].json()['id']}").json()
    assert (run["status"], run["attempts"]) == ("succeeded", 1)
    assert [a.json()["status"] for a in answers[:5]] == ["queued"] * 5
    assert {a.json()["status"] for a in answers[5:]} == {"succeeded"}


def test_a_repeat_sends_the_job_its_first_request_saved_but_never_sent(stack, monkeypatch):
    schedule = stack.api("POST", "/schedules", SAMPLE_ONAIR).json()
    path, key = f"/schedules/{schedule['id']}/runs", {"Idempotency-Key": "lost-send"}

    # Given a first request that stopped after saving its run, before the job reached the queue
    from onair.adapters.sqs import SqsQueues

    real_send = SqsQueues.send

    def fail_once(self, *args, **kwargs):
        monkeypatch.setattr(SqsQueues, "send", real_send)
        raise Unavailable("SQS is down")

    monkeypatch.setattr(SqsQueues, "send", fail_once)
    first = stack.api("POST", path, "{}", headers=key)
    assert (first.status, first.json()["error"]["code"]) == (503, "unavailable")
    assert stack.receive("JobQueue") == []
    # When the client repeats it, then the job is queued once and the run executes
    again = stack.api("POST", path, "{}", headers=key)
    assert again.status == 202
    assert stack.deliver("JobQueue", "RunFunction") == {"batchItemFailures": []}
    assert stack.api("GET", f"/runs/{again.json()['id']}").json()["status"] == "succeeded"
    assert stack.api("POST", path, "{}", headers=key).json() == {
        "id": again.json()["id"],
        "status": "succeeded",
    }
    assert stack.receive("JobQueue") == []


@pytest.mark.parametrize("value", ["", "k" * 256], ids=["empty", "256-characters"])
def test_an_idempotency_key_of_the_wrong_length_is_a_coded_400_and_changes_nothing(stack, value):
    schedule = stack.api("POST", "/schedules", SAMPLE_ONAIR).json()
    reply = stack.api("POST", f"/schedules/{schedule['id']}/runs", "{}", headers={"Idempotency-Key": value})
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["code"] == "invalid_request"
    assert [(d["code"], d["path"]) for d in error["details"]] == [
        ("idempotency_key", "header Idempotency-Key")
    ]
    assert stack.receive("JobQueue") == [] and stack.keys("runs/") == [] and stack.keys("idempotency/") == []


ONE_SECOND_ITEMS = b"""<?xml version="1.0" encoding="UTF-8"?>
<schedule xmlns="urn:onair:schedule:1" timezone="Europe/Paris">
  <channels><channel id="c" name="C"/></channels>
  <library><item id="blip" title="Blip" duration="PT1S"/></library>
</schedule>
"""


def test_a_run_certain_to_pass_its_slot_budget_is_refused_at_the_request(stack):
    # Given a library of 1-second items (86,400 slots a day)
    schedule = stack.api("POST", "/schedules", ONE_SECOND_ITEMS).json()
    path = f"/schedules/{schedule['id']}/runs"
    # When a year of it is requested (31.6 M slots), then it is a coded 422 and nothing is queued or stored
    reply = stack.api("POST", path, json.dumps({"from": "2026-01-01", "days": 366}))
    assert reply.status == 422, reply.body
    error = reply.json()["error"]
    assert error["code"] == "run_too_large" and "RunMemorySize" in error["message"]
    assert [d["code"] for d in error["details"]] == ["slots"]
    # (and without a first day, as of today)
    assert stack.api("POST", path, json.dumps({"days": 366})).status == 422
    assert stack.receive("JobQueue") == [] and stack.keys("runs/") == []
    # And a day of it, within the budget, is a run that succeeds
    accepted = stack.api("POST", path, json.dumps({"from": "2026-01-01", "formats": ["asrun.csv"]}))
    assert accepted.status == 202
    assert stack.deliver("JobQueue", "RunFunction") == {"batchItemFailures": []}
    run = stack.api("GET", f"/runs/{accepted.json()['id']}").json()
    assert (run["status"], run["report"]["slots"]) == ("succeeded", 86_400)
    # The summary the client reads is unchanged: the figures of the early check stay internal
    assert "slot_floor" not in stack.api("GET", f"/schedules/{schedule['id']}").json()


WEIGHTED_BLIPS = b"""<?xml version="1.0" encoding="UTF-8"?>
<schedule xmlns="urn:onair:schedule:1" timezone="UTC">
  <channels><channel id="c" name="C"/></channels>
  <library>
    <item id="blip" title="Blip" duration="PT1S" weight="1000000"/>
    <item id="day" title="A whole day" duration="PT24H" weight="0.000001"/>
  </library>
  <pools><pool id="p" order="weighted"><item ref="blip"/><item ref="day"/></pool></pools>
  <blocks><block channel="c" days="mon tue wed thu fri sat sun" start="00:00" end="24:00" pool="p"/></blocks>
</schedule>
"""


def test_a_run_that_passes_its_slot_budget_while_generating_fails_cleanly_once(stack, monkeypatch):
    # Given a RunFunction of 130 MB (a budget of 1,024 slots), and a pool that could fill a day
    # with one 24-hour item but draws 1-second ones: the request cannot know, the engine finds out
    monkeypatch.setenv("RUN_MEMORY_MB", "130")
    services.cache_clear()
    given = requested_run(stack, WEIGHTED_BLIPS, '{"from": "2026-12-01"}')
    # When its job is delivered
    result = stack.invoke("RunFunction", event(stack, given["message"]))
    # Then the run failed with run_too_large at once: the record is done (no retry) and nothing written
    assert result == {"batchItemFailures": []}
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert (status["status"], status["attempts"], status["error"]["code"]) == ("failed", 1, "run_too_large")
    assert "130 MB" in status["error"]["message"]
    assert outputs(stack, given["run"]["id"]) == {}


def test_a_schedule_too_large_to_load_in_the_run_functions_memory_fails_its_run_at_once(stack, monkeypatch):
    # Given a RunFunction whose memory is all the runtime's (128 MB): no schedule leaves room for slots
    monkeypatch.setenv("RUN_MEMORY_MB", "128")
    services.cache_clear()
    given = requested_run(stack, SAMPLE_XMLTV, '{"from": "2026-12-01"}')
    assert stack.invoke("RunFunction", event(stack, given["message"])) == {"batchItemFailures": []}
    status = stack.api("GET", f"/runs/{given['run']['id']}").json()
    assert (status["status"], status["error"]["code"]) == ("failed", "run_too_large")
