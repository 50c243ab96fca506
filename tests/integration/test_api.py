"""The HTTP API through ImportFunction's handler, against moto provisioned from template.yaml."""

from __future__ import annotations

import gzip
import json

from onair import keys
from tests import readers
from tests.conftest import ROOT, SAMPLE_ONAIR, SAMPLE_XMLTV


def test_valid_xml_imports_without_error(stack):
    # Given a valid XMLTV listing with a DOCTYPE naming the external DTD (never fetched)
    # When it is posted
    reply = stack.api("POST", "/schedules", SAMPLE_XMLTV, headers={"content-type": "application/xml"})
    # Then it is stored with the counts it really holds
    assert reply.status == 201, reply.body
    summary = reply.json()
    assert summary["format"] == "xmltv"
    assert (summary["channels"], summary["programmes"]) == (2, 3)
    assert summary["warnings"] == []
    assert reply.headers["location"] == f"/schedules/{summary['id']}"
    assert stack.api("GET", f"/schedules/{summary['id']}").json() == summary
    assert sorted(stack.keys(keys.schedule_prefix(summary["id"]))) == sorted(
        [keys.schedule_record(summary["id"])]
        + [keys.version_file(summary["id"], 1, name) for name in ("info.json", "schedule.json", "source.xml")]
    )


def test_onair_schedule_imports_with_its_item_count(stack):
    reply = stack.api("POST", "/schedules", SAMPLE_ONAIR)
    assert reply.status == 201, reply.body
    assert (reply.json()["format"], reply.json()["channels"], reply.json()["items"]) == ("onair", 1, 2)


def test_gzip_body_is_imported(stack):
    reply = stack.api(
        "POST", "/schedules", gzip.compress(SAMPLE_XMLTV), headers={"content-type": "application/gzip"}
    )
    assert reply.status == 201, reply.body
    assert reply.json()["programmes"] == 3


def test_malformed_xml_is_rejected_with_line_and_column_and_nothing_stored(stack):
    reply = stack.api("POST", "/schedules", b"<tv>\n  <channel id='a'>\n</tv>")
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["code"] == "not_well_formed"
    assert error["details"][0]["line"] == 3 and error["details"][0]["column"] > 0
    assert stack.keys("schedules/") == []


def test_well_formed_xml_that_is_not_a_schedule_is_rejected(stack):
    reply = stack.api("POST", "/schedules", b"<rss><channel/></rss>")
    assert (reply.status, reply.json()["error"]["code"]) == (400, "not_a_schedule")


def test_entity_declarations_are_refused(stack):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE tv [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><tv>&b;</tv>'
    )
    reply = stack.api("POST", "/schedules", bomb)
    assert (reply.status, reply.json()["error"]["code"]) == (400, "dtd_not_allowed")


def test_invalid_listing_answers_422_with_each_finding(stack):
    body = b'<tv><programme start="20261340250000 +0000" channel="a"><title>X</title></programme></tv>'
    reply = stack.api("POST", "/schedules", body)
    assert reply.status == 422
    details = reply.json()["error"]["details"]
    assert [d["code"] for d in details] == ["badstart"]
    assert details[0]["line"] == 1 and details[0]["path"] == "/tv/programme[1]/@start"


def test_strict_mode_turns_warnings_into_errors(stack):
    body = b'<tv><programme start="20261201000000" channel="a"><title>X</title></programme></tv>'
    lenient = stack.api("POST", "/schedules", body)
    assert lenient.status == 201
    assert {w["code"] for w in lenient.json()["warnings"]} == {"notimezone", "nostop", "unknownid"}
    strict = stack.api("POST", "/schedules", body, query="strict=true")
    assert strict.status == 422


def test_unsupported_media_type_is_415(stack):
    reply = stack.api("POST", "/schedules", b"{}", headers={"content-type": "application/json"})
    assert (reply.status, reply.json()["error"]["code"]) == (415, "unsupported_media_type")


def test_unknown_ids_answer_404_with_the_error_body(stack):
    for path in ("/schedules/nope", "/runs/00000000-0000-4000-8000-000000000000", "/uploads/../etc"):
        reply = stack.api("GET", path) if ".." not in path else None
        if reply:
            assert (reply.status, reply.json()["error"]["code"]) == (404, "not_found")


def test_run_goes_queued_then_succeeded_and_serves_its_outputs(stack):
    schedule = stack.api("POST", "/schedules", SAMPLE_XMLTV).json()
    # When a run is requested
    reply = stack.api(
        "POST", f"/schedules/{schedule['id']}/runs", json.dumps({"from": "2026-12-01", "days": 1})
    )
    assert reply.status == 202, reply.body
    run = reply.json()
    assert run["status"] == "queued" and reply.headers["location"] == f"/runs/{run['id']}"
    assert stack.api("GET", f"/runs/{run['id']}").json()["status"] == "queued"
    # Then the job on JobQueue, handled by RunFunction, finishes it
    assert stack.deliver("JobQueue", "RunFunction") == {"batchItemFailures": []}
    status = stack.api("GET", f"/runs/{run['id']}").json()
    assert status["status"] == "succeeded"
    assert status["started_at"] <= status["finished_at"]
    assert status["outputs"] == {
        name: f"/runs/{run['id']}/output/{name}"
        for name in ("guide.xml", "channels.m3u", "playlist.m3u8", "asrun.csv", "playout.json")
    }
    guide = stack.api("GET", f"/runs/{run['id']}/output/guide.xml")
    assert guide.status == 200 and guide.headers["content-type"] == "application/xml"
    # sorted per channel by start: Quiz (18:00) before the news (19:00)
    assert guide.body.index(b"Quiz") < guide.body.index(b"Evening News") < guide.body.index(b"Cartoons")
    playout = json.loads(stack.api("GET", f"/runs/{run['id']}/output/playout.json").body)
    assert [entry["title"] for entry in playout["playout"]] == ["Quiz", "Evening News", "Cartoons"]


def test_a_runs_channels_m3u_is_rendered_from_its_lineup_with_absolute_stream_urls(stack):
    # Given the IPTV sample: "retro" has a stream URL, "cinema" none (only a slate)
    schedule = stack.api("POST", "/schedules", (ROOT / "samples" / "iptv-lineup.xml").read_bytes()).json()
    run = stack.api("POST", f"/schedules/{schedule['id']}/runs", json.dumps({"from": "2026-12-01"})).json()
    assert stack.deliver("JobQueue", "RunFunction") == {"batchItemFailures": []}
    # When its channels.m3u is fetched
    reply = stack.api("GET", f"/runs/{run['id']}/output/channels.m3u")
    # Then it is an M3U a player reads (not the stored lineup): the channel with a stream, under its guide id,
    # and no guide URL (a run has no feed URL; the feed's channels.m3u names one)
    assert reply.status == 200 and reply.headers["content-type"] == "audio/x-mpegurl; charset=utf-8"
    header, channels = readers.channels_m3u(reply.body)
    assert header == {}
    assert [(c.attributes, c.name, c.url) for c in channels] == [
        (
            {
                "tvg-id": "retro.onair",
                "tvg-name": "Retro TV",
                "tvg-chno": "7",
                "tvg-logo": "https://media.example.com/logos/retro.png",
                "group-title": "Entertainment",
            },
            "Retro TV",
            "https://live.example.com/retro/index.m3u8",
        )
    ]
    # And the run report says which channel was left out, and why
    status = stack.api("GET", f"/runs/{run['id']}").json()
    assert status["report"]["notices"] == {"no_stream": 1}
    playout = json.loads(stack.api("GET", f"/runs/{run['id']}/output/playout.json").body)
    assert [(n["code"], n["channel"]) for n in playout["report"]["notices"]] == [("no_stream", "cinema")]
    # And the guide names the same channel ids
    guide = stack.api("GET", f"/runs/{run['id']}/output/guide.xml").body
    assert b'<channel id="retro.onair">' in guide and b'<channel id="cinema.onair">' in guide


def test_run_request_is_validated(stack):
    schedule = stack.api("POST", "/schedules", SAMPLE_XMLTV).json()
    for body in (
        '{"days": 0}',
        '{"formats": ["movie.mp4"]}',
        '{"from": "yesterday"}',
        "not json",
        '{"x": 1}',
        '{"from": "9999-12-31"}',  # its last midnight is in year 10000: runs stay a day inside 1-9999
        '{"from": "9999-12-20", "days": 10}',
        '{"from": "0001-01-01"}',
    ):
        reply = stack.api("POST", f"/schedules/{schedule['id']}/runs", body)
        assert reply.status == 400, (body, reply.body)
        assert reply.json()["error"]["code"] == "invalid_request"
    assert stack.receive("JobQueue") == []


def test_run_for_unknown_schedule_is_404_and_enqueues_nothing(stack):
    reply = stack.api("POST", "/schedules/00000000-0000-4000-8000-000000000000/runs", "{}")
    assert reply.status == 404
    assert stack.receive("JobQueue") == []


def test_queue_stats_reports_depths_and_the_templates_cap(stack):
    schedule = stack.api("POST", "/schedules", SAMPLE_XMLTV).json()
    stack.api("POST", f"/schedules/{schedule['id']}/runs", "{}")
    stats = stack.api("GET", "/queue-stats").json()
    assert stats["jobs"] == {"visible": 1, "in_flight": 0, "delayed": 0}
    assert stats["dead_letters"] == {"jobs": 0, "imports": 0}
    assert stats["run_concurrency_limit"] == stack.app.sources_for("RunFunction")[0].maximum_concurrency


def test_queue_stats_with_no_cache_read_the_queues_now_rather_than_the_last_answer(stack):
    # Given the stats read once (the environment keeps that answer a few seconds)
    assert stack.api("GET", "/queue-stats").json()["jobs"]["visible"] == 0
    # When a run is requested
    schedule = stack.api("POST", "/schedules", SAMPLE_XMLTV).json()
    assert stack.api("POST", f"/schedules/{schedule['id']}/runs", "{}").status == 202
    # Then Cache-Control: no-cache shows its job at once
    fresh = stack.api("GET", "/queue-stats", headers={"cache-control": "no-cache"}).json()
    assert fresh["jobs"] == {"visible": 1, "in_flight": 0, "delayed": 0}


def test_health(stack):
    assert stack.api("GET", "/health").status == 200


def test_strict_must_be_true_or_false(stack):
    reply = stack.api("POST", "/schedules", SAMPLE_XMLTV, query="strict=perhaps")
    assert (reply.status, reply.json()["error"]["code"]) == (400, "invalid_request")
    assert stack.keys("schedules/") == []
