"""Every events/*.json through its handler (moto provisioned from template.yaml), so the samples cannot rot.

A new event file is picked up automatically; the template says which function receives it: an API event's
route, an SQS record's queue, a scheduler tick's function (named by the file: scheduler-<what>.json).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from local.apigw import match_route
from local.template import ROOT

EVENTS = ROOT / "events"


def function_for(stack, path: Path, event: dict[str, Any]) -> str:
    app = stack.app
    if "routeKey" in event:
        match = match_route(app.routes, *event["routeKey"].split(" ", 1))
        assert match is not None, f"{path.name}: {event['routeKey']} is not a route of the template"
        return match.route.function
    if "Records" in event:
        queue = event["Records"][0]["eventSourceARN"].rsplit(":", 1)[-1]
        (source,) = [s for s in app.sqs_sources if app.queues[s.queue].name == queue]
        return source.function
    (tick,) = app.schedules  # a scheduler's event: the template's one scheduled function
    assert path.name.startswith("scheduler-"), f"{path.name}: name a scheduler event scheduler-*.json"
    return tick.function


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def body_of(result: dict[str, Any]) -> Any:
    raw = result.get("body") or ""
    return json.loads(base64.b64decode(raw) if result.get("isBase64Encoded") else raw)


def import_sample(stack) -> str:
    event = load(EVENTS / "api-import-schedule.json")
    result = stack.invoke(function_for(stack, EVENTS / "api-import-schedule.json", event), event)
    assert result["statusCode"] == 201, result
    return body_of(result)["id"]


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_every_event_runs_through_its_handler(stack, path):
    # Given the state the event presumes (an imported schedule, a created run, an uploaded object)
    event = load(path)
    function_id = function_for(stack, path, event)
    check = prepare(stack, path.name, event)
    # When the event reaches its function
    result = stack.invoke(function_id, event)
    # Then nothing fails and the result has the documented shape
    if "routeKey" in event:
        assert result["statusCode"] < 500, result
    elif "Records" in event:
        assert result == {"batchItemFailures": []}
    check(result)


def prepare(stack, name: str, event: dict[str, Any]) -> Any:
    """Sets up what `name` needs, patching ids the handlers generate; returns the check of the result."""
    if name == "api-import-schedule.json":

        def check(result: dict[str, Any]) -> None:
            summary = body_of(result)
            assert result["statusCode"] == 201
            assert (summary["format"], summary["channels"], summary["programmes"]) == ("xmltv", 2, 4)

        return check
    if name == "api-create-run.json":
        schedule_id = import_sample(stack)
        event["pathParameters"]["schedule_id"] = schedule_id
        event["rawPath"] = event["requestContext"]["http"]["path"] = f"/schedules/{schedule_id}/runs"

        def check_run_created(result: dict[str, Any]) -> None:
            assert (result["statusCode"], body_of(result)["status"]) == (202, "queued"), result

        return check_run_created
    if name.startswith("sqs-s3"):
        notification = json.loads(event["Records"][0]["body"])
        s3_object = notification["Records"][0]["s3"]
        key = unquote_plus(s3_object["object"]["key"])
        assert s3_object["bucket"]["name"] == stack.resources.bucket
        stack.s3.put_object(
            Bucket=stack.resources.bucket, Key=key, Body=(EVENTS / "schedule.xml").read_bytes()
        )
        upload_id = key.rsplit("/", 1)[-1].removesuffix(".xml")

        def check_upload(result: dict[str, Any]) -> None:
            upload = stack.api("GET", f"/uploads/{upload_id}").json()
            assert upload["status"] == "imported", upload
            assert stack.api("GET", f"/schedules/{upload['schedule_id']}").status == 200

        return check_upload
    if name.startswith("sqs-run"):
        # The API creates the run (status queued, a job on JobQueue); the sample delivers that job.
        created = stack.api("POST", f"/schedules/{import_sample(stack)}/runs", json.dumps({"days": 1}))
        assert created.status == 202, created.body
        job = json.loads(stack.receive("JobQueue")[0]["Body"])
        message = json.loads(event["Records"][0]["body"])
        assert set(message) <= set(job) | {"formats"}, (
            f"the sample job has fields the API never sends: {message}"
        )
        message.update(run_id=job["run_id"], schedule_id=job["schedule_id"])
        event["Records"][0]["body"] = json.dumps(message)

        def check_run(result: dict[str, Any]) -> None:
            run = stack.api("GET", f"/runs/{job['run_id']}").json()
            assert run["status"] == "succeeded", run
            assert {"guide.xml", "playout.json"} <= set(run["outputs"])

        return check_run
    if name.startswith("scheduler-refresh"):
        # A schedule whose refresh policy is due at any time of day: the tick queues its run
        document = (EVENTS / "schedule.xml").read_bytes()
        created = stack.api("POST", "/schedules", document, query="refresh_days=2&refresh_at=00:00")
        assert created.status == 201, created.body

        def check_tick(result: dict[str, Any]) -> None:
            assert len(result["queued"]) == 1 and result["skipped"] == {}, result
            run = stack.api("GET", f"/runs/{result['queued'][0]}").json()
            assert run["request"]["days"] == 2 and run["request"]["publish"] is True

        return check_tick
    return lambda result: None


def test_events_use_the_local_bucket_and_queue_arns(stack):
    # The samples name the resources the local stack creates, so they work against `make run` too.
    for path in EVENTS.glob("sqs-*.json"):
        record = load(path)["Records"][0]
        queue = record["eventSourceARN"].rsplit(":", 1)[-1]
        assert record["eventSourceARN"] == stack.resources.queue_arns[queue]
    s3_event = json.loads(load(EVENTS / "sqs-s3-upload.json")["Records"][0]["body"])
    assert s3_event["Records"][0]["s3"]["bucket"]["name"] == stack.resources.bucket
