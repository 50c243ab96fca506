"""The local stack's stand-ins for API Gateway, the SQS event source mapping and the Lambda runtime."""

from __future__ import annotations

import base64
import json

import pytest

from local.apigw import http_event, http_response, match_route
from local.runtime import load_handler, new_context
from local.sqs import sqs_record, succeeded
from local.template import load_template


@pytest.fixture(scope="module")
def app():
    return load_template()


@pytest.mark.parametrize(
    ("method", "path", "route_key", "params"),
    [
        ("GET", "/health", "GET /health", {}),
        ("POST", "/schedules", "POST /schedules", {}),
        ("GET", "/schedules/abc", "GET /schedules/{schedule_id}", {"schedule_id": "abc"}),
        ("POST", "/schedules/abc/runs", "POST /schedules/{schedule_id}/runs", {"schedule_id": "abc"}),
        (
            "GET",
            "/runs/r1/output/guide.xml",
            "GET /runs/{run_id}/output/{name}",
            {"run_id": "r1", "name": "guide.xml"},
        ),
        ("GET", "/console", "GET /console", {}),
        # A greedy variable takes a trailing slash (a route key cannot end in "/"), and any depth
        ("GET", "/console/", "GET /console/{proxy+}", {"proxy": ""}),
        ("GET", "/console/js/pages/guide.js", "GET /console/{proxy+}", {"proxy": "js/pages/guide.js"}),
    ],
)
def test_requests_match_the_template_routes(app, method, path, route_key, params):
    found = match_route(app.routes, method, path)
    assert found is not None
    assert (found.route.route_key, found.path_parameters) == (route_key, params)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nope"), ("DELETE", "/health"), ("GET", "/schedules/a/b")]
)
def test_unknown_routes_do_not_match(app, method, path):
    assert match_route(app.routes, method, path) is None


def test_http_event_is_payload_v2(app):
    found = match_route(app.routes, "POST", "/schedules")
    event = http_event(
        "POST",
        "/schedules",
        route=found.route,
        query="strict=true&a=1&a=2",
        headers=[("Content-Type", "application/xml"), ("Cookie", "s=1; t=2"), ("User-Agent", "curl/8")],
        body=b"<tv/>",
    )
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "POST /schedules", "/schedules")
    assert event["headers"] == {"content-type": "application/xml", "user-agent": "curl/8"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["queryStringParameters"] == {"strict": "true", "a": "1,2"}
    assert "pathParameters" not in event
    context = event["requestContext"]
    assert context["http"]["method"] == "POST" and context["http"]["userAgent"] == "curl/8"
    assert (context["stage"], context["routeKey"]) == ("$default", "POST /schedules")
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"<tv/>"


def test_http_response_decodes_base64_and_maps_bare_values():
    response = http_response(
        {
            "statusCode": 201,
            "headers": {"Location": "/x"},
            "cookies": ["a=1"],
            "body": "aGk=",
            "isBase64Encoded": True,
        }
    )
    assert (response.status, response.body) == (201, b"hi")
    assert ("Location", "/x") in response.headers and ("set-cookie", "a=1") in response.headers
    bare = http_response({"ok": True})
    assert (bare.status, json.loads(bare.body)) == (200, {"ok": True})


def test_sqs_record_has_lambdas_shape():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "2"},
        "MessageAttributes": {"error_code": {"DataType": "String", "StringValue": "x"}},
    }
    record = sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:Q")
    assert record["messageId"] == "m1" and record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["error_code"] == {
        "stringValue": "x",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert (record["eventSource"], record["awsRegion"]) == ("aws:sqs", "us-east-1")


def test_partial_batch_response_rules(app):
    (source,) = app.sources_for("RunFunction")
    records = [{"messageId": "a"}, {"messageId": "b"}]
    assert succeeded(records, {"batchItemFailures": []}, source) == records
    assert succeeded(records, {"batchItemFailures": [{"itemIdentifier": "a"}]}, source) == [
        {"messageId": "b"}
    ]
    # An identifier Lambda cannot match fails the whole batch.
    assert succeeded(records, {"batchItemFailures": [{"itemIdentifier": ""}]}, source) == []


def test_handlers_load_by_path_with_a_lambda_like_context(app, monkeypatch):
    # Given the environment Lambda gives the function (its handler checks its settings when it loads)
    for name, value in app.resolve(dict(app.functions["RunFunction"].environment)).items():
        monkeypatch.setenv(name, str(value))
    handler = load_handler(app, "RunFunction")
    assert callable(handler)
    context = new_context(app, "RunFunction")
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:RunFunction"
    assert context.memory_limit_in_mb == 1024
    assert 0 < context.get_remaining_time_in_millis() <= 120_000
