"""Named business metrics: the EMF documents the handlers print to stdout (CloudWatch reads them from logs)."""

from __future__ import annotations

import json
import sys
from typing import Any

from local.sqs import sqs_record
from onair.adapters.powertools import logger
from tests.conftest import SAMPLE_XMLTV


def json_lines(capsys) -> list[dict[str, Any]]:
    """The JSON documents (EMF metrics and log records) printed since the last call."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def emf_documents(capsys) -> list[dict[str, Any]]:
    """The embedded-metric-format documents printed since the last call."""
    return [document for document in json_lines(capsys) if "_aws" in document]


def metric_values(documents: list[dict[str, Any]], name: str, **dimensions: str) -> list[float]:
    """Every value of `name` in documents whose dimension set is exactly `dimensions` (+ service)."""
    values: list[float] = []
    for document in documents:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        dimension_names = set(directive["Dimensions"][0]) - {"service"}
        if dimension_names != set(dimensions) or any(document[k] != v for k, v in dimensions.items()):
            continue
        if name in {metric["Name"] for metric in directive["Metrics"]}:
            assert directive["Namespace"] == "OnAir"
            value = document[name]
            values.extend(value if isinstance(value, list) else [value])
    return values


def test_imports_and_runs_publish_named_metrics(stack, capsys, monkeypatch):
    # the logger's handler holds the stdout of the moment it was created: give it this test's
    monkeypatch.setattr(logger.registered_handler, "stream", sys.stdout)
    capsys.readouterr()
    # Given an accepted import and a rejected one
    accepted = stack.api("POST", "/schedules", SAMPLE_XMLTV)
    assert accepted.status == 201
    rejected = stack.api("POST", "/schedules", b"<tv><programme></tv>")
    assert rejected.status == 400
    unsupported = stack.api("POST", "/schedules", b"{}", headers={"content-type": "application/json"})
    assert unsupported.status == 415
    imports = emf_documents(capsys)
    # Then each is counted; rejections in total and by error code
    assert metric_values(imports, "ImportsAccepted") == [1]
    assert metric_values(imports, "ImportsRejected") == [1, 1]
    assert metric_values(imports, "ImportsRejected", code="not_well_formed") == [1]
    assert metric_values(imports, "ImportsRejected", code="unsupported_media_type") == [1]
    assert metric_values(imports, "RunsSucceeded") == []

    # When a run of the accepted schedule is requested and its job executed
    run = stack.api("POST", f"/schedules/{accepted.json()['id']}/runs", '{"days": 2}').json()
    [message] = stack.receive("JobQueue")
    arn = stack.resources.queue_arns["JobQueue"]
    assert stack.invoke("RunFunction", {"Records": [sqs_record(message, arn)]}) == {"batchItemFailures": []}
    printed = json_lines(capsys)
    runs = [document for document in printed if "_aws" in document]
    # Then the job's log records carry the run id as their correlation id
    [finished] = [record for record in printed if record.get("message") == "run finished"]
    assert finished["correlation_id"] == finished["run_id"] == run["id"]
    # and the run is counted with its duration and its rule breaks (none for an XMLTV listing)
    status = stack.api("GET", f"/runs/{run['id']}").json()
    assert status["status"] == "succeeded"
    assert metric_values(runs, "RunsSucceeded") == [1]
    assert metric_values(runs, "RunsFailed") == []
    [duration] = metric_values(runs, "RunDuration")
    assert 0 <= duration < 60
    assert metric_values(runs, "RuleBreaks") == [sum(status["report"]["rule_breaks"].values())]
    units = {
        metric["Name"]: metric["Unit"]
        for document in runs
        for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }
    assert units["RunDuration"] == "Seconds" and units["RuleBreaks"] == "Count"


def test_failed_run_and_rejected_upload_are_counted(stack, capsys):
    # Given a run whose schedule is gone, and an upload that is not XML
    schedule = stack.api("POST", "/schedules", SAMPLE_XMLTV).json()
    stack.api("POST", f"/schedules/{schedule['id']}/runs", "{}")
    for key in stack.keys(f"schedules/{schedule['id']}/"):
        stack.s3.delete_object(Bucket=stack.resources.bucket, Key=key)
    grant = stack.api("POST", "/uploads").json()
    stack.s3.put_object(Bucket=stack.resources.bucket, Key=f"incoming/{grant['id']}.xml", Body=b"not xml")
    capsys.readouterr()
    # When both are processed
    stack.deliver("JobQueue", "RunFunction")
    stack.deliver("ImportQueue", "ImportFunction")
    documents = emf_documents(capsys)
    # Then the failure and the rejection are counted
    assert metric_values(documents, "RunsFailed") == [1]
    assert metric_values(documents, "RunsSucceeded") == []
    assert metric_values(documents, "RuleBreaks") == []
    assert metric_values(documents, "ImportsRejected", code="not_well_formed") == [1]
    assert metric_values(documents, "ImportsAccepted") == []
