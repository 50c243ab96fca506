"""The whole service over HTTP against `python -m local`: API, presigned uploads, S3 events, SQS pollers."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from loadtest.run import max_overlap
from local.template import ROOT
from tests.e2e.conftest import LocalStack, put_presigned, wait_for

pytestmark = pytest.mark.e2e

SAMPLE = (ROOT / "events" / "schedule.xml").read_bytes()
XML = {"content-type": "application/xml"}


def import_schedule(stack: LocalStack, document: bytes) -> dict[str, Any]:
    reply = stack.request("POST", "/schedules", document, XML)
    assert reply.status == 201, reply.body
    return reply.json()


def create_run(stack: LocalStack, schedule_id: str, request: dict[str, Any]) -> str:
    reply = stack.request(
        "POST", f"/schedules/{schedule_id}/runs", json.dumps(request), {"content-type": "application/json"}
    )
    assert reply.status == 202, reply.body
    assert reply.json()["status"] == "queued"
    assert reply.headers["location"] == f"/runs/{reply.json()['id']}"
    return reply.json()["id"]


def finished_run(stack: LocalStack, run_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        run = stack.request("GET", f"/runs/{run_id}").json()
        return run if run["status"] in ("succeeded", "failed") else None

    return wait_for(done, timeout, f"run {run_id}")


def settled_upload(stack: LocalStack, upload_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        upload = stack.request("GET", f"/uploads/{upload_id}").json()
        return upload if upload["status"] != "pending" else None

    return wait_for(done, 30, f"upload {upload_id}")


def upload(stack: LocalStack, document: bytes) -> str:
    reply = stack.request("POST", "/uploads")
    assert reply.status == 201, reply.body
    grant = reply.json()
    assert grant["method"] == "PUT"
    assert put_presigned(grant["url"], document, grant["headers"]) == 200
    return grant["id"]


def test_imported_schedule_runs_into_a_guide(local_stack):
    # Given an imported XMLTV schedule
    summary = import_schedule(local_stack, SAMPLE)
    assert (summary["format"], summary["channels"], summary["programmes"]) == ("xmltv", 2, 4)
    # When a run is requested and the RunFunction pollers pick it up
    run_id = create_run(local_stack, summary["id"], {"from": "2026-12-01", "days": 1, "seed": 7})
    run = finished_run(local_stack, run_id)
    # Then it succeeds and its guide is XMLTV with the schedule's programmes
    assert run["status"] == "succeeded", run
    assert {"guide.xml", "playout.json"} <= set(run["outputs"])
    guide = local_stack.request("GET", f"/runs/{run_id}/output/guide.xml")
    assert guide.status == 200
    root = ET.fromstring(guide.body)
    titles = {title.text for title in root.iter("title")}
    assert root.tag == "tv" and root.findall("programme")
    assert titles <= {"Morning News", "Garden Hour", "Cartoon Club", "Classic Film: The Long Signal"}
    assert titles


def test_presigned_upload_is_imported_through_the_queue(local_stack):
    # Given a presigned upload of a valid schedule
    upload_id = upload(local_stack, SAMPLE)
    # When S3 notifies ImportQueue and its poller imports the object
    settled = settled_upload(local_stack, upload_id)
    # Then the upload points at a stored schedule
    assert settled["status"] == "imported", settled
    schedule = local_stack.request("GET", f"/schedules/{settled['schedule_id']}")
    assert schedule.status == 200
    assert (schedule.json()["channels"], schedule.json()["programmes"]) == (2, 4)


def test_malformed_upload_is_rejected_to_the_dlq_with_its_reason(local_stack):
    schedules_before = local_stack.keys("schedules/")
    # Given an upload that is not well-formed XML
    upload_id = upload(local_stack, b"<tv>\n  <channel id='a'>\n</tv>\n")
    # When its S3 event is processed
    settled = settled_upload(local_stack, upload_id)
    # Then it is rejected with the reason, reported in S3 and forwarded to the ImportDLQ
    assert settled["status"] == "rejected", settled
    assert settled["error"]["code"] == "not_well_formed"
    assert f"rejected/{upload_id}.json" in local_stack.keys("rejected/")
    assert local_stack.keys("schedules/") == schedules_before
    dlq_url = local_stack.app.queue_url("ImportDLQ", local_stack.endpoint)
    sqs = local_stack.client("sqs")

    def forwarded() -> dict[str, Any] | None:
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        return next((m for m in messages if f"incoming/{upload_id}.xml" in m["Body"]), None)

    message = wait_for(forwarded, 15, "the rejection in ImportDLQ", interval=0)
    attributes = message["MessageAttributes"]
    assert attributes["error_code"] == {"StringValue": "not_well_formed", "DataType": "String"}
    assert attributes["error_message"]["DataType"] == "String" and attributes["error_message"]["StringValue"]


def large_xmltv(channels: int, days: int, per_day: int) -> bytes:
    """A listing big enough that one run job takes a noticeable time."""
    start = datetime(2026, 12, 1)
    minutes = 24 * 60 // per_day
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<tv>"]
    lines += [
        f'<channel id="c{c}.example"><display-name>Channel {c}</display-name></channel>'
        for c in range(channels)
    ]
    for c in range(channels):
        for slot in range(days * per_day):
            begin = start + timedelta(minutes=slot * minutes)
            end = begin + timedelta(minutes=minutes)
            lines.append(
                f'<programme start="{begin:%Y%m%d%H%M%S} +0000" stop="{end:%Y%m%d%H%M%S} +0000" channel="c{c}.example">'
                f"<title>Show {slot % 37}</title><desc>Episode {slot}</desc><category>Genre {slot % 7}</category>"
                "</programme>"
            )
    lines.append("</tv>")
    return "\n".join(lines).encode()


def test_run_concurrency_never_exceeds_the_template_cap(local_stack):
    app = local_stack.app
    (source,) = app.sources_for("RunFunction")
    cap = app.pollers(source)  # the template's MaximumConcurrency (and reserved concurrency)
    # Given a large schedule and 20 slow runs of it
    summary = import_schedule(local_stack, large_xmltv(channels=8, days=7, per_day=60))
    assert summary["programmes"] == 8 * 7 * 60
    run_ids = [
        create_run(local_stack, summary["id"], {"from": str(date(2026, 12, 1)), "days": 21, "seed": n})
        for n in range(20)
    ]
    # When the pollers work through them, the API keeps answering quickly (other processes)
    slowest_health = 0.0
    runs = []
    for run_id in run_ids:
        started = time.monotonic()
        assert local_stack.request("GET", "/health").status == 200
        slowest_health = max(slowest_health, time.monotonic() - started)
        runs.append(finished_run(local_stack, run_id, timeout=180))
    # Then every run succeeded and exactly `cap` of them ran at once, at most
    assert all(run["status"] == "succeeded" for run in runs), [r for r in runs if r["status"] != "succeeded"]
    intervals = [
        (datetime.fromisoformat(r["started_at"]), datetime.fromisoformat(r["finished_at"])) for r in runs
    ]
    durations = sorted((end - begin).total_seconds() for begin, end in intervals)
    assert max_overlap(intervals) == cap, f"durations: {durations}"
    assert slowest_health < 2.0


def test_valid_xml_imports_without_error(local_stack):
    # Given a valid Latin-1 XMLTV listing with the usual DOCTYPE (an external DTD that is never fetched)
    document = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<!DOCTYPE tv SYSTEM "xmltv.dtd">\n'
        '<tv source-info-name="Télé" generator-info-name="e2e">\n'
        '  <channel id="fr.example"><display-name lang="fr">Chaîne Française</display-name></channel>\n'
        '  <channel id="de.example"><display-name lang="de">Österreich Eins</display-name></channel>\n'
        '  <programme start="20261201200000 +0100" stop="20261201210000 +0100" channel="fr.example">\n'
        '    <title lang="fr">Le Journal de 20 h</title><desc lang="fr">Actualités, météo.</desc>\n'
        "  </programme>\n"
        '  <programme start="20261201210000 +0100" stop="20261201223000 +0100" channel="fr.example">\n'
        '    <title lang="fr">Cinéma : Les Ondes</title>\n'
        "  </programme>\n"
        '  <programme start="20261201191500 +0100" stop="20261201200000 +0100" channel="de.example">\n'
        '    <title lang="de">Grüße aus Wien</title>\n'
        "  </programme>\n"
        "</tv>\n"
    ).encode("iso-8859-1")
    # When it is posted to the API
    summary = import_schedule(local_stack, document)
    # Then it imports with its real counts and can be read back
    assert (summary["format"], summary["channels"], summary["programmes"]) == ("xmltv", 2, 3)
    assert summary["warnings"] == []
    stored = local_stack.request("GET", f"/schedules/{summary['id']}")
    assert stored.status == 200 and stored.json()["programmes"] == 3


def test_unknown_route_answers_like_api_gateway(local_stack):
    reply = local_stack.request("GET", "/no/such/route")
    assert (reply.status, reply.json()) == (404, {"message": "Not Found"})


def test_an_onair_schedule_runs_into_every_output(local_stack):
    # Given the radio sample (pools of every order, rules, blocks, fixed events) imported over HTTP
    summary = import_schedule(local_stack, (ROOT / "samples" / "radio-rotation.xml").read_bytes())
    assert summary["format"] == "onair"
    # When a two-day run is requested with every output
    run_id = create_run(local_stack, summary["id"], {"from": "2026-12-04", "days": 2, "seed": 11})
    run = finished_run(local_stack, run_id)
    # Then it succeeds, and each output is served with content
    assert run["status"] == "succeeded", run
    assert set(run["outputs"]) == {"guide.xml", "channels.m3u", "playlist.m3u8", "asrun.csv", "playout.json"}
    bodies = {name: local_stack.request("GET", url) for name, url in run["outputs"].items()}
    assert {name: reply.status for name, reply in bodies.items()} == dict.fromkeys(run["outputs"], 200)
    assert ET.fromstring(bodies["guide.xml"].body).findall("programme")
    assert bodies["channels.m3u"].body.startswith(b"#EXTM3U")
    assert b"#EXTINF:" in bodies["playlist.m3u8"].body
    assert bodies["asrun.csv"].body.splitlines()[0].startswith(b"channel,start,end")
    playout = json.loads(bodies["playout.json"].body)
    assert {entry["channel"] for entry in playout["playout"]} == {"radio1", "radio2"}
    assert run["report"]["slots"] == len(playout["playout"])
