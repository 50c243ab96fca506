"""Published feeds as players use them: stable URLs, conditional requests, atomic switches, rotation and
deletion, the refresh tick. Through the handlers of template.yaml's routes, on moto."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

from lxml import etree

from local.template import ROOT
from onair import keys
from tests import readers
from tests.conftest import SAMPLE_XMLTV, shared_path

RADIO = (ROOT / "samples" / "radio-rotation.xml").read_bytes()
IPTV = (ROOT / "samples" / "iptv-lineup.xml").read_bytes()


def published_schedule(stack, document: bytes = RADIO, run: dict | None = None) -> dict:
    schedule = stack.api("POST", "/schedules", document)
    assert schedule.status == 201, schedule.body
    today = datetime.now(UTC).date().isoformat()
    body = json.dumps(run or {"from": today, "days": 2})
    created = stack.api("POST", f"/schedules/{schedule.json()['id']}/runs", body)
    assert created.status == 202, created.body
    stack.deliver_all("JobQueue", "RunFunction")
    return stack.api("GET", f"/schedules/{schedule.json()['id']}").json()


def feed_get(stack, url: str, **headers: str):
    return stack.api("GET", url, headers=headers)


def test_a_published_run_is_the_feed_at_stable_urls_with_etags_and_304s(stack):
    # Given a schedule whose run was published
    schedule = published_schedule(stack)
    urls = schedule["feed"]["urls"]
    assert schedule["published"]["run_id"] == schedule["last_run"]["id"]
    assert len(schedule["feed"]["token"]) >= 22  # ≥ 128 random bits, base64url
    # When a player fetches the guide, gzipped by name
    guide_gz = feed_get(stack, urls["guide.xml.gz"])
    assert guide_gz.status == 200 and guide_gz.headers["content-type"] == "application/gzip"
    guide = gzip.decompress(guide_gz.body)
    assert guide.startswith(b"<?xml")
    # and the same bytes plain, and gzipped again when it accepts gzip
    assert feed_get(stack, urls["guide.xml"]).body == guide
    encoded = feed_get(stack, urls["guide.xml"], **{"accept-encoding": "gzip, deflate"})
    assert encoded.headers.get("content-encoding") == "gzip" and gzip.decompress(encoded.body) == guide
    assert "accept-encoding" in encoded.headers["vary"].lower()
    # Then every answer can be revalidated: ETag and Last-Modified, and a repeat is a 304 without a body
    for name in ("guide.xml", "guide.xml.gz", "playout.json"):
        first = feed_get(stack, urls[name])
        assert first.status == 200 and first.headers["etag"] and first.headers["last-modified"], name
        assert "max-age" in first.headers["cache-control"]
        again = feed_get(stack, urls[name], **{"if-none-match": first.headers["etag"]})
        assert (again.status, again.body) == (304, b""), name
        since = feed_get(stack, urls[name], **{"if-modified-since": first.headers["last-modified"]})
        assert since.status == 304, name
        assert feed_get(stack, urls[name], **{"if-none-match": '"something-else"'}).status == 200
    # And HEAD answers the headers alone
    head = stack.api("HEAD", urls["guide.xml"])
    assert head.status == 200 and head.headers["etag"] == feed_get(stack, urls["guide.xml"]).headers["etag"]


def test_a_player_reads_the_lineup_and_finds_every_channel_in_the_guide_for_the_next_24_hours(stack):
    # Given the IPTV sample published from today, and a player that knows only the feed's M3U URL, on the
    # deployed API's host
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    schedule = published_schedule(stack, IPTV, {"from": yesterday, "days": 3})  # now + 24 h, in any zone
    host = {"host": "abc.execute-api.eu-west-1.amazonaws.com", "x-forwarded-proto": "https"}
    base = "https://abc.execute-api.eu-west-1.amazonaws.com"
    m3u = feed_get(stack, schedule["feed"]["urls"]["channels.m3u"], **host)
    assert m3u.status == 200 and m3u.headers["content-type"] == "audio/x-mpegurl; charset=utf-8"
    # When it reads channels.m3u as players do (quoted non-empty attributes, an absolute URL after each entry)
    header, channels = readers.channels_m3u(m3u.body)
    assert channels and all(value for c in channels for value in c.attributes.values())
    # Then the guide it names is the feed's gzipped guide, at an absolute URL of the same host
    assert header["url-tvg"] == header["x-tvg-url"] == f"{base}{schedule['feed']['urls']['guide.xml.gz']}"
    guide_gz = feed_get(stack, header["url-tvg"].removeprefix(base), **host)
    _, programmes = readers.guide(gzip.decompress(guide_gz.body))
    # And every channel it lists has programmes on air over the next 24 hours, matched by tvg-id
    now = datetime.now(UTC)
    for channel in channels:
        airing = [
            p
            for p in programmes
            if p.channel == channel.attributes["tvg-id"]
            and p.stop_utc
            and p.stop_utc > now
            and p.start_utc < now + timedelta(hours=24)
        ]
        assert sum(
            (min(p.stop_utc, now + timedelta(hours=24)) - max(p.start_utc, now) for p in airing), timedelta()
        ) == timedelta(hours=24), channel.name
    # And a repeat of the list is a 304
    again = feed_get(
        stack, schedule["feed"]["urls"]["channels.m3u"], **host, **{"if-none-match": m3u.headers["etag"]}
    )
    assert again.status == 304


def test_a_feed_needs_its_token_and_a_published_run(stack):
    # Given a schedule that was never run
    schedule = stack.api("POST", "/schedules", SAMPLE_XMLTV).json()
    urls = schedule["feed"]["urls"]
    # Then its feed answers 404 not_published, and made-up tokens are a plain 404
    answer = feed_get(stack, urls["guide.xml"])
    assert (answer.status, answer.json()["error"]["code"]) == (404, "not_published")
    for url in ("/feeds/" + "A" * 43 + "/guide.xml", "/feeds/short/guide.xml", "/feeds/../guide.xml"):
        assert feed_get(stack, url).status == 404


def test_a_failed_or_unpublished_run_never_replaces_a_good_feed(stack):
    schedule = published_schedule(stack)
    url = schedule["feed"]["urls"]["guide.xml"]
    before = feed_get(stack, url)
    # When a run with publish false succeeds, and a run that fails (a deleted output format) does not
    run = stack.api("POST", f"/schedules/{schedule['id']}/runs", json.dumps({"days": 3, "publish": False}))
    stack.deliver_all("JobQueue", "RunFunction")
    assert stack.api("GET", f"/runs/{run.json()['id']}").json()["status"] == "succeeded"
    # Then the feed is still the first run's
    after = feed_get(stack, url)
    assert (after.headers["etag"], after.body) == (before.headers["etag"], before.body)
    assert stack.api("GET", f"/schedules/{schedule['id']}").json()["published"] == schedule["published"]


def test_a_new_version_and_a_refresh_tick_change_the_feed(stack):
    # Given a published schedule with a refresh policy due at any time of day
    schedule = stack.api("POST", "/schedules", RADIO, query="refresh_days=2&refresh_at=00:00").json()
    assert schedule["refresh"] == {"days": 2, "at": "00:00"}
    stack.invoke("RefreshFunction", {})
    stack.deliver_all("JobQueue", "RunFunction")
    url = stack.api("GET", f"/schedules/{schedule['id']}").json()["feed"]["urls"]["guide.xml"]
    first = feed_get(stack, url)
    assert first.status == 200
    # When a second tick comes the same day, nothing more is queued (one run per schedule and local day)
    again = stack.invoke("RefreshFunction", {})
    assert stack.receive("JobQueue") == [] and len(again["queued"]) == 1
    # When a new version replaces the document (the policy stays) and the next day's tick runs it
    replaced = stack.api("PUT", f"/schedules/{schedule['id']}", RADIO.replace(b"Radio", b"Radyo"))
    assert replaced.status == 200 and replaced.json()["version"] == 2 and replaced.json()["refresh"]
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    from onair.bootstrap import services
    from onair.config import RefreshSettings
    from onair.usecases.refresh import tick

    assert len(tick(services(RefreshSettings), tomorrow).queued) == 1
    stack.deliver_all("JobQueue", "RunFunction")
    # Then the feed's ETag changed, at the same URL
    second = feed_get(stack, url)
    assert second.status == 200 and second.headers["etag"] != first.headers["etag"]
    assert feed_get(stack, url, **{"if-none-match": first.headers["etag"]}).status == 200


def test_put_with_a_stale_if_match_is_a_412_and_stores_nothing(stack):
    schedule = stack.api("POST", "/schedules", SAMPLE_XMLTV)
    etag = schedule.headers["etag"]
    path = f"/schedules/{schedule.json()['id']}"
    assert stack.api("PUT", path, SAMPLE_XMLTV, headers={"if-match": etag}).status == 200
    before = sorted(stack.keys(keys.schedule_prefix(schedule.json()["id"])))
    stale = stack.api("PUT", path, SAMPLE_XMLTV, headers={"if-match": etag})
    assert (stale.status, stale.json()["error"]["code"]) == (412, "precondition_failed")
    assert sorted(stack.keys(keys.schedule_prefix(schedule.json()["id"]))) == before
    versions = stack.api("GET", f"{path}/versions").json()["items"]
    assert [v["version"] for v in versions] == [2, 1]


def test_rotation_and_deletion_make_the_old_urls_404_and_leave_nothing_behind(stack):
    schedule = published_schedule(stack)
    old = schedule["feed"]["urls"]["guide.xml"]
    # When the token is rotated
    rotated = stack.api("POST", f"/schedules/{schedule['id']}/feed-token").json()
    new = rotated["feed"]["urls"]["guide.xml"]
    # Then the old URL is a 404 at once and the new one serves the same feed
    assert new != old and feed_get(stack, old).status == 404
    assert feed_get(stack, new).status == 200
    # When the schedule is deleted
    assert stack.api("DELETE", f"/schedules/{schedule['id']}").status == 204
    # Then it, its versions and its feed are 404, and no object of it remains (its runs stay)
    assert stack.api("GET", f"/schedules/{schedule['id']}").status == 404
    assert stack.api("GET", f"/schedules/{schedule['id']}/versions").status == 404
    assert feed_get(stack, new).status == 404
    listing = stack.s3.list_object_versions(Bucket=stack.resources.bucket)
    left = [v["Key"] for group in ("Versions", "DeleteMarkers") for v in listing.get(group, [])]
    assert not [key for key in left if schedule["id"] in key and not key.startswith("runs/")], left
    assert not [key for key in left if key.startswith("feed-tokens/")]
    assert stack.api("GET", f"/runs/{schedule['last_run']['id']}").status == 200
    # And deleting twice is a 404, never a 5xx
    assert stack.api("DELETE", f"/schedules/{schedule['id']}").status == 404


def test_schedules_and_runs_are_listed_newest_first_a_page_at_a_time(stack):
    ids = [stack.api("POST", "/schedules", SAMPLE_XMLTV).json()["id"] for _ in range(5)]
    first = stack.api("GET", "/schedules", query="limit=2").json()
    assert [s["id"] for s in first["items"]] == ids[::-1][:2]
    second = stack.api("GET", "/schedules", query=f"limit=2&cursor={first['next_cursor']}").json()
    third = stack.api("GET", "/schedules", query=f"limit=2&cursor={second['next_cursor']}").json()
    assert [s["id"] for s in second["items"] + third["items"]] == ids[::-1][2:]
    assert "next_cursor" not in third
    assert stack.api("GET", "/schedules", query="cursor=bm9wZQ").status == 400
    runs = [stack.api("POST", f"/schedules/{ids[0]}/runs", "{}").json()["id"] for _ in range(3)]
    listed = stack.api("GET", "/runs", query=f"schedule_id={ids[0]}").json()["items"]
    assert [run["id"] for run in listed] == runs[::-1]
    assert stack.api("GET", "/runs", query=f"schedule_id={ids[1]}").json()["items"] == []


def test_the_feed_guide_of_an_onair_schedule_validates_against_the_xmltv_dtd(stack):
    dtd = etree.DTD(str(shared_path("reference", "xmltv.dtd")))
    schedule = published_schedule(stack)
    document = etree.fromstring(feed_get(stack, schedule["feed"]["urls"]["guide.xml"]).body)
    assert document.findall("programme")
    assert dtd.validate(document), dtd.error_log.filter_from_errors()
