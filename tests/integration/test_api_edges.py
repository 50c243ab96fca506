"""The API's answers to odd requests, one named case each (test_request_properties.py searches for more)."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from tests.conftest import SAMPLE_ONAIR

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def schedule_id(stack) -> str:
    reply = stack.api("POST", "/schedules", SAMPLE_ONAIR)
    assert reply.status == 201, reply.body
    return reply.json()["id"]


@pytest.mark.parametrize(
    "body",
    [b'{"x":"\xe9"}', b'{"from": "2026-12-01\xff"}', b"\xff\xfe{\x00}\x00", b"\x80"],
    ids=["latin-1 text", "a stray byte in a field", "UTF-16", "a lone continuation byte"],
)
def test_a_run_request_that_is_not_utf8_is_a_400_invalid_request(stack, schedule_id, body):
    # Given a run request whose bytes are not UTF-8 (JSON is UTF-8, RFC 8259)
    # When it is sent, then it is refused as invalid JSON, and nothing is queued
    reply = stack.api("POST", f"/schedules/{schedule_id}/runs", body)
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert (error["code"], error["details"][0]["code"]) == ("invalid_request", "json_invalid")
    assert stack.receive("JobQueue") == []


@pytest.mark.parametrize(
    "body",
    [
        '{"days": true}',
        '{"days": "5"}',
        '{"days": 2.0}',
        '{"seed": "7"}',
        '{"seed": false}',
        '{"from": 20261201}',
        '{"from": "2026-12-01T00:00:00Z"}',
        '{"formats": "guide.xml"}',
        '{"seed": ' + "9" * 5000 + "}",
        '{"days": 1e400}',
    ],
)
def test_run_request_fields_of_the_wrong_json_type_or_size_are_400(stack, schedule_id, body):
    # Given a field whose JSON type is not the documented one (a bool or a string for a number...)
    reply = stack.api("POST", f"/schedules/{schedule_id}/runs", body)
    # Then it is refused, not read as a 1 or a 5
    assert reply.status == 400, (body, reply.body)
    assert reply.json()["error"]["code"] == "invalid_request"
    assert stack.receive("JobQueue") == []


def test_request_validation_details_carry_every_field_of_the_error_body(stack, schedule_id):
    reply = stack.api("POST", f"/schedules/{schedule_id}/runs", '{"days": 0}')
    (detail,) = reply.json()["error"]["details"]
    assert detail == {
        "code": "greater_than_equal",
        "message": detail["message"],
        "line": None,
        "column": None,
        "path": "days",
    }


def test_a_body_the_api_sent_as_text_is_read_as_its_utf8_bytes(stack, schedule_id):
    # Given an event whose body API Gateway passed as text rather than base64 (text media types)
    from local.apigw import http_event, match_route

    path = f"/schedules/{schedule_id}/runs"
    match = match_route(stack.app.routes, "POST", path)
    event = http_event("POST", path, route=match.route, path_parameters=match.path_parameters)
    event |= {"body": '{"from": "2026-12-01", "days": 1}', "isBase64Encoded": False}
    # Then it is read all the same
    assert stack.invoke(match.route.function, event)["statusCode"] == 202


@pytest.mark.parametrize(
    ("path", "names"),
    [
        (f"/schedules/{UNKNOWN}", "no schedule has the id"),
        (f"/runs/{UNKNOWN}", "no run has the id"),
        (f"/runs/{UNKNOWN}/output/guide.xml", "no run has the id"),
        (f"/uploads/{UNKNOWN}", "no upload has the id"),
    ],
)
def test_a_well_formed_id_that_names_nothing_is_a_404_in_the_apis_terms(stack, path, names):
    # Given an id of the right shape that was never created
    reply = stack.api("GET", path)
    # Then the 404 says what is missing, and not which S3 key was looked up
    assert reply.status == 404
    message = reply.json()["error"]["message"]
    assert message == f"{names} '{UNKNOWN}'"
    assert ".json" not in reply.body.decode()


def test_an_output_listed_but_no_longer_stored_is_a_404_that_names_the_output(stack, schedule_id):
    run = stack.api("POST", f"/schedules/{schedule_id}/runs", json.dumps({"from": "2026-12-01"})).json()
    stack.deliver("JobQueue", "RunFunction")
    stack.s3.delete_object(Bucket=stack.resources.bucket, Key=f"runs/{run['id']}/out/asrun.csv")
    reply = stack.api("GET", f"/runs/{run['id']}/output/asrun.csv")
    assert reply.status == 404
    assert reply.json()["error"]["message"] == f"run {run['id']}'s output 'asrun.csv' is no longer stored"


@pytest.mark.parametrize("coding", ["deflate", "br", "gzip, deflate", "compress"])
def test_a_document_in_a_content_encoding_other_than_gzip_is_a_415(stack, coding):
    # Given a document compressed in a coding the API does not read
    body = zlib.compress(SAMPLE_ONAIR)
    reply = stack.api("POST", "/schedules", body, headers={"content-encoding": coding})
    # Then it is refused as such, rather than parsed as XML and found not well-formed
    assert (reply.status, reply.json()["error"]["code"]) == (415, "unsupported_media_type")
    assert stack.keys("schedules/") == []


def test_gzip_is_read_with_or_without_its_content_encoding(stack):
    for headers in ({"content-encoding": "gzip"}, {}, {"content-encoding": "identity"}):
        assert stack.api("POST", "/schedules", gzip.compress(SAMPLE_ONAIR), headers=headers).status == 201
