"""OnAir schedules through the HTTP API: a full sample is stored, a broken one answers 422 with findings."""

from __future__ import annotations

from onair import keys
from tests.conftest import ROOT

RADIO = (ROOT / "samples" / "radio-rotation.xml").read_bytes()


def test_radio_sample_posted_to_the_api_is_stored_with_its_counts(stack):
    # Given the radio sample with pools, rules, blocks and fixed events
    # When it is posted strictly
    reply = stack.api(
        "POST", "/schedules", RADIO, headers={"content-type": "application/xml"}, query="strict=true"
    )
    # Then it is created with its channel and item counts and no warnings
    assert reply.status == 201, reply.body
    summary = reply.json()
    assert (summary["format"], summary["channels"], summary["items"], summary["warnings"]) == (
        "onair",
        2,
        16,
        [],
    )
    # And the stored model keeps the blocks the playout engine will use
    stored = stack.s3.get_object(
        Bucket=stack.resources.bucket, Key=keys.version_file(summary["id"], 1, "schedule.json")
    )
    assert b'"blocks"' in stored["Body"].read()


def test_broken_onair_schedule_answers_422_with_each_finding_and_stores_nothing(stack):
    # Given the sample with a block pointing at a pool that does not exist
    broken = RADIO.replace(
        b'start="20:00" end="24:00" pool="night"', b'start="20:00" end="24:00" pool="nocturne"'
    )
    line = broken[: broken.index(b'pool="nocturne"')].count(b"\n") + 1
    # When it is posted
    reply = stack.api("POST", "/schedules", broken, headers={"content-type": "application/xml"})
    # Then the answer is 422 with an "unresolved" finding on that block's attribute, and nothing is stored
    assert reply.status == 422, reply.body
    error = reply.json()["error"]
    assert error["code"] == "invalid_schedule"
    assert [(d["code"], d["line"], d["path"]) for d in error["details"]] == [
        ("unresolved", line, "/schedule/blocks/block[4]/@pool")
    ]
    assert stack.keys("schedules/") == []


def test_numbers_beyond_their_bounds_answer_422_with_findings_not_500(stack):
    # Given the sample with a 0.1 ms item, a 400-digit weight, a PT999999999H item and a 5,000-digit rule
    broken = (
        RADIO.replace(b'duration="PT8S"', b'duration="PT0.0001S"', 1)
        .replace(b'weight="3"', b'weight="' + b"1" * 400 + b'"', 1)
        .replace(b'duration="PT3M"', b'duration="PT999999999H"', 1)
        .replace(b'artist-separation="45"', b'artist-separation="' + b"9" * 5000 + b'"', 1)
    )
    assert broken.count(b"PT0.0001S") == broken.count(b"PT999999999H") == 1
    # When it is posted
    reply = stack.api("POST", "/schedules", broken, headers={"content-type": "application/xml"})
    # Then each number is a coded finding at its attribute, and nothing is stored
    assert reply.status == 422, reply.body
    details = reply.json()["error"]["details"]
    assert {(d["code"], d["path"].rsplit("/@", 1)[1]) for d in details} == {
        ("badduration", "duration"),
        ("badweight", "weight"),
        ("badrule", "artist-separation"),
    }
    assert [d["code"] for d in details].count("badduration") == 2
    assert stack.keys("schedules/") == []
