"""XMLTV edges through the handlers: listings without stop times, instants at the year bounds, a foreign
namespace, and guides that must import again."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def run_of(stack, document: bytes, body: str = "{}") -> dict:
    """Import `document`, run it, deliver the job: the run's final status."""
    reply = stack.api("POST", "/schedules", document)
    assert reply.status == 201, reply.body
    run = stack.api("POST", f"/schedules/{reply.json()['id']}/runs", body).json()
    assert stack.deliver("JobQueue", "RunFunction") == {"batchItemFailures": []}
    return stack.api("GET", f"/runs/{run['id']}").json()


def test_a_listing_without_stop_times_keeps_each_channels_last_programme_with_no_airtime(stack):
    # Given the sample listing with every stop removed (sed -E 's/ stop="[^"]+"//')
    document = re.sub(rb' stop="[^"]+"', b"", (ROOT / "events" / "schedule.xml").read_bytes())

    # When it is imported and run over the whole listing
    status = run_of(stack, document)

    # Then each of the two channels plays its first programme until the second starts, and keeps the
    # second (nothing says when it ends) with no airtime
    assert status["status"] == "succeeded", status
    assert status["report"]["slots"] == 4
    assert status["report"]["changes"] == {"no_stop_kept": 2, "stop_filled": 2}


def test_a_start_at_the_last_second_of_9999_without_a_stop_imports_and_runs(stack):
    # Given a programme starting at 9999-12-31 23:59:59 UTC without a stop (was an OverflowError: 500)
    document = (
        b'<tv><channel id="one.example"><display-name>One</display-name></channel>'
        b'<programme start="99991231230000 +0000" stop="99991231235959 +0000" channel="one.example">'
        b"<title>A</title></programme>"
        b'<programme start="99991231235959 +0000" channel="one.example"><title>B</title></programme></tv>'
    )
    # Then it imports, and a run plays A and keeps B with no airtime
    status = run_of(stack, document)
    assert status["status"] == "succeeded", status
    assert status["report"]["slots"] == 2
    assert status["report"]["changes"] == {"no_stop_kept": 1}


def test_a_time_before_year_1_in_utc_is_refused_with_its_line_and_path(stack):
    # Given a programme in year 0001 at +0100: its UTC instant is in year 0
    document = (
        b'<tv>\n<channel id="one.example"><display-name>One</display-name></channel>\n'
        b'<programme start="00010101000000 +0100" stop="00010101010000 +0100" channel="one.example">'
        b"<title>A</title></programme>\n</tv>"
    )
    reply = stack.api("POST", "/schedules", document)

    # Then the import answers 422 with a badstart finding, and stores nothing
    assert reply.status == 422, reply.body
    error = reply.json()["error"]
    assert error["code"] == "invalid_schedule"
    [finding] = error["details"]
    assert (finding["code"], finding["line"], finding["path"]) == ("badstart", 3, "/tv/programme[1]/@start")
    assert stack.keys("schedules/") == []


def test_a_tv_root_in_a_namespace_is_not_a_schedule(stack):
    reply = stack.api(
        "POST",
        "/schedules",
        b'<tv xmlns="urn:evil"><channel id="one.example"><display-name>One</display-name></channel></tv>',
    )
    assert reply.status == 400, reply.body
    assert reply.json()["error"]["code"] == "not_a_schedule"
    assert stack.keys("schedules/") == []


def test_the_guide_of_a_listing_before_year_1000_imports_again(stack):
    # Given a listing in year 999, imported and run
    document = (
        b'<tv><channel id="one.example"><display-name>One</display-name></channel>'
        b'<programme start="09990101000000 +0000" stop="09990101010000 +0000" channel="one.example">'
        b"<title>A</title></programme></tv>"
    )
    status = run_of(stack, document)
    assert status["status"] == "succeeded", status

    # When its guide.xml is imported in turn, strictly
    guide = stack.api("GET", status["outputs"]["guide.xml"])
    reply = stack.api("POST", "/schedules", guide.body, query="strict=true")

    # Then it is a valid listing of the same programme
    assert reply.status == 201, reply.body
    assert reply.json()["programmes"] == 1
