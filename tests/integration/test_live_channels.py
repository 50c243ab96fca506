"""Live channels end to end through the handlers, on moto: a run resolves s3:// HLS media under library/,
publishing splices the timelines, and the live route answers at chosen instants (a controllable clock)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

import pytest
from threefive import Cue

from onair import bootstrap, keys
from onair.adapters.urls import UrlFetcher
from onair.bootstrap import services
from onair.config import FeedSettings, RunSettings
from onair.live.timeline import Timeline
from onair.usecases import live as live_usecase
from tests.live_support import LiveItem, answer, live_schedule, loopback, vod_text

SHOW_SEGMENTS = [2.0] * 30  # 60 s of 2 s segments
HOUR = 3600 * 1000


# --- fixtures -----------------------------------------------------------------------------------------------


class Clock:
    """The live route's clock: set to the instant a test asks about."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def at(self, instant: datetime) -> None:
        self.now = instant

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(stack, monkeypatch):
    import onair.http.feeds as feed_routes

    clock = Clock()
    real = feed_routes._services
    monkeypatch.setattr(feed_routes, "_services", lambda: replace(real(), clock=clock))
    feed_routes._live_channels().clear()
    # Every request reads the pointer again, as a new execution environment would (the cache is tested
    # on its own below)
    monkeypatch.setattr(feed_routes._live_channels(), "pointer_seconds", 0.0)
    yield clock
    feed_routes._live_channels().clear()


def put(stack, key: str, body: bytes | str) -> None:
    data = body.encode() if isinstance(body, str) else body
    stack.s3.put_object(Bucket=stack.resources.bucket, Key=key, Body=data)


def library_uri(stack, path: str) -> str:
    return f"s3://{stack.resources.bucket}/{keys.LIBRARY_PREFIX}{path}"


def shows(stack, names: tuple[str, ...] = ("a", "b"), folder: str = "shows") -> list[LiveItem]:
    """60-second shows and a 4-second ad, their playlists stored under library/."""
    items = []
    for name in names:
        put(stack, f"library/{folder}/{name}.m3u8", vod_text(SHOW_SEGMENTS, name=f"{name}_"))
        items.append(LiveItem(f"{folder}-{name}", 60, library_uri(stack, f"{folder}/{name}.m3u8")))
    put(stack, "library/ads/sting.m3u8", vod_text([2.0, 2.0], name="sting_"))
    items.append(LiveItem("sting", 4, library_uri(stack, "ads/sting.m3u8"), category="ad"))
    return items


def run(stack, schedule_id: str, first: date, days: int = 2, **request) -> dict:
    body = json.dumps({"from": first.isoformat(), "days": days, **request})
    created = stack.api("POST", f"/schedules/{schedule_id}/runs", body)
    assert created.status == 202, created.body
    stack.deliver_all("JobQueue", "RunFunction")
    status = stack.api("GET", f"/runs/{created.json()['id']}").json()
    assert status["status"] == "succeeded", status
    return status


def published(stack, document: bytes, first: date, days: int = 2) -> tuple[dict, dict]:
    imported = stack.api("POST", "/schedules", document)
    assert imported.status == 201, imported.body
    status = run(stack, imported.json()["id"], first, days)
    return stack.api("GET", f"/schedules/{imported.json()['id']}").json(), status


def playlist(stack, url: str):
    reply = stack.api("GET", url)
    return reply, reply.body.decode() if reply.status == 200 else ""


def segments(text: str) -> list[dict]:
    """The media playlist's segments: sequence number, URI, duration, and the date when one is given."""
    sequence = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)[1])
    found, date_, duration = [], None, None
    for line in text.splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            date_ = datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00"))
        elif line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].rstrip(","))
        elif line and not line.startswith("#"):
            found.append({"seq": sequence, "uri": line, "duration": duration, "date": date_})
            sequence, date_ = sequence + 1, None
    return found


def key_of(url: str, bucket: str) -> str:
    """The S3 key a presigned URL names (virtual-host style, or path style)."""
    parts = urlsplit(url)
    path = unquote(parts.path[1:])
    return path if (parts.hostname or "").startswith(bucket + ".") else path.split("/", 1)[1]


def plain(uri: str) -> str:
    return uri.split("?", 1)[0]  # a presigned URL without its signature (signed anew each time)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the run ------------------------------------------------------------------------------------------------


def test_a_run_resolves_library_media_and_the_feed_lists_its_live_channel(stack, clock):
    # Given a schedule whose channel tv1 plays HLS shows under library/ and whose radio plays a song
    day = date(2026, 12, 1)
    schedule, status = published(stack, live_schedule(shows(stack)), day)
    # Then the run report has a live section: tv1 is live, the radio is not a live channel at all
    section = status["report"]["live"]
    assert list(section["channels"]) == ["tv1"]
    tv1 = section["channels"]["tv1"]
    assert tv1["live"] and tv1["renditions"] == 1 and tv1["target_duration"] == 2
    assert (
        tv1["findings"] == []
        and section["items"] == []
        and section["media"] == {"resolved": 3, "unusable": 0}
    )
    # And the run's timeline, and the feed's spliced copy, are stored; the pointer lists the channel
    run_id = status["id"]
    assert keys.run_live(run_id, "tv1") in stack.keys(f"runs/{run_id}/live/")
    assert stack.keys(keys.feed_live(schedule["id"], run_id, "tv1"))
    pointer = json.loads(
        stack.s3.get_object(Bucket=stack.resources.bucket, Key=keys.published(schedule["id"]))["Body"].read()
    )
    assert pointer["live"] == ["tv1"]
    # And the API names the live URL
    assert schedule["feed"]["live"] == {"tv1": f"/feeds/{schedule['feed']['token']}/live/tv1.m3u8"}
    # And the media cache holds each playlist by URI and ETag
    assert len(stack.keys(keys.MEDIA_PREFIX)) == 3


def test_a_second_run_of_unchanged_media_downloads_no_playlist(stack, clock):
    items = shows(stack)
    schedule, _ = published(stack, live_schedule(items), date(2026, 12, 1))
    # When the same schedule runs again, its playlists unchanged
    reads: list[str] = []
    storage = services(RunSettings).storage
    storage._s3.meta.events.register(
        "before-parameter-build.s3.GetObject", lambda params, **kw: reads.append(params["Key"])
    )
    status = run(stack, schedule["id"], date(2026, 12, 1))
    # Then no playlist was downloaded (a HEAD each: the same ETags), and the channel is as live as before
    assert reads and not [key for key in reads if key.startswith(keys.LIBRARY_PREFIX)]
    assert status["report"]["live"]["channels"]["tv1"]["live"]


def test_a_run_without_hls_items_or_slates_fetches_and_stores_nothing_more(stack):
    # Given the sample radio (flac and wav items): no item is HLS and no channel has a slate
    from local.template import ROOT

    calls: list[tuple[str, str]] = []
    storage = services(RunSettings).storage
    storage._s3.meta.events.register(
        "before-parameter-build.s3",
        lambda model, params, **kw: calls.append((model.name, params.get("Key", ""))),
    )
    imported = stack.api("POST", "/schedules", (ROOT / "samples" / "radio-rotation.xml").read_bytes()).json()
    status = run(stack, imported["id"], date(2026, 12, 1), 1)
    # Then the report has no live section, and no call touched the media library, cache or live keys
    assert "live" not in status["report"]
    touched = [key for _, key in calls if key.startswith(("library/", "media/")) or "/live/" in key]
    assert calls and touched == []


def test_hostile_item_playlists_are_findings_and_the_channel_still_plays(stack, clock, monkeypatch):
    # Given shows beside hostile playlists: huge, a file: segment, no durations, keys outside library/,
    # another bucket, a relative segment climbing out of library/, and a redirect loop over HTTP
    log: list[str] = []

    def loop(handler: BaseHTTPRequestHandler) -> None:
        answer(handler, 302, Location="/loop.m3u8")

    with loopback(routes={"/loop.m3u8": loop}, log=log) as base:
        monkeypatch.setattr(bootstrap, "web_fetcher", lambda: UrlFetcher(allow_private=True))
        bucket = stack.resources.bucket
        put(stack, "library/bad/huge.m3u8", b"#EXTM3U\n" + b"#" * (9 * 1024 * 1024))
        put(stack, "library/bad/file.m3u8", vod_text([2.0]).replace("s0.ts", "file:///etc/passwd"))
        put(
            stack,
            "library/bad/nodur.m3u8",
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\ns0.ts\ns1.ts\n#EXT-X-ENDLIST\n",
        )
        put(stack, "library/bad/climb.m3u8", vod_text([2.0]).replace("s0.ts", "../../runs/x/out/guide.xml"))
        put(stack, "runs/x/out/index.m3u8", vod_text([2.0]))
        hostile = {
            "huge": library_uri(stack, "bad/huge.m3u8"),
            "file": library_uri(stack, "bad/file.m3u8"),
            "nodur": library_uri(stack, "bad/nodur.m3u8"),
            "climb": library_uri(stack, "bad/climb.m3u8"),
            "outside": f"s3://{bucket}/runs/x/out/index.m3u8",
            "elsewhere": "s3://some-other-bucket/library/x.m3u8",
            "loop": f"{base}/loop.m3u8",
        }
        items = shows(stack, ("a",)) + [LiveItem(f"bad-{n}", 60, uri) for n, uri in hostile.items()]
        schedule, status = published(stack, live_schedule(items), date(2026, 12, 1), 1)
    # Then the run succeeded and says, per item, what is wrong
    found = {
        entry["item"]: [f["code"] for f in entry["findings"]] for entry in status["report"]["live"]["items"]
    }
    assert found == {
        "bad-huge": ["too_large"],
        "bad-file": ["bad_scheme"],
        "bad-nodur": ["missing_duration"],
        "bad-climb": ["blocked_key"],
        "bad-outside": ["blocked_key"],
        "bad-elsewhere": ["blocked_key"],
        "bad-loop": ["unreachable"],
    }
    assert log.count("/loop.m3u8") == 4  # the request and 3 redirects, then it gave up
    # And the channel's report says its airtime without media has no picture (no slate)
    channel = status["report"]["live"]["channels"]["tv1"]
    assert {f["code"] for f in channel["findings"]} == {"not_streamable"}
    # And the live route answers a playlist while the good show is on air, naming only library segments
    clock.at(utc(2026, 11, 30, 23, 0, 30))  # 00:00:30 in Paris: the first show ("a") is on air
    reply, text = playlist(stack, schedule["feed"]["live"]["tv1"])
    assert reply.status == 200, reply.body
    assert all(
        key_of(s["uri"], stack.resources.bucket).startswith("library/shows/a_") for s in segments(text)
    )
    # And during a hostile item's slot (a gap) the playlist stays as it was, never a 5xx
    clock.at(utc(2026, 11, 30, 23, 2, 30))
    later, text_later = playlist(stack, schedule["feed"]["live"]["tv1"])
    assert later.status == 200 and plain(segments(text_later)[-1]["uri"]).endswith("a_29.ts")


# --- the live route at chosen instants ------------------------------------------------------------------


def test_the_live_playlist_before_at_and_after_an_item_boundary(stack, clock):
    schedule, _ = published(stack, live_schedule(shows(stack)), date(2026, 12, 1))
    url = schedule["feed"]["live"]["tv1"]
    start = utc(2026, 11, 30, 23)  # local midnight: the first show starts
    # Before the channel's first segment: 404 off_air (not a 5xx, not an empty playlist)
    clock.at(start - timedelta(seconds=1))
    reply = stack.api("GET", url)
    assert (reply.status, reply.json()["error"]["code"]) == (404, "off_air")
    # Just before the boundary at 60 s: show a's last segments, in a window of at least 6
    clock.at(start + timedelta(seconds=59, milliseconds=999))
    reply, before = playlist(stack, url)
    assert reply.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert reply.headers["cache-control"] == "public, max-age=1"  # half the target duration (2 s)
    listed = segments(before)
    assert [s["seq"] for s in listed] == list(range(24, 30)) and plain(listed[-1]["uri"]).endswith("a_29.ts")
    assert "#EXT-X-DISCONTINUITY\n" not in before and "#EXT-X-ENDLIST" not in before
    # At the boundary: show b's first segment on air, after a discontinuity, with its date
    clock.at(start + timedelta(seconds=60))
    _, at = playlist(stack, url)
    listed = segments(at)
    assert listed[-1]["seq"] == 30 and plain(listed[-1]["uri"]).endswith("b_0.ts")
    assert listed[-1]["date"] == start + timedelta(seconds=60)
    assert "#EXT-X-DISCONTINUITY\n" in at and "#EXT-X-DISCONTINUITY-SEQUENCE:0" in at
    # After it: the window slid on, numbers kept: each number names the same segment as before
    clock.at(start + timedelta(seconds=65))
    _, after = playlist(stack, url)
    earlier = {s["seq"]: plain(s["uri"]) for s in segments(before) + segments(at)}
    for s in segments(after):
        assert earlier.get(s["seq"], plain(s["uri"])) == plain(s["uri"])
    assert [s["seq"] for s in segments(after)][-1] == 32
    # And one EXT-X-DATERANGE per programme in the window, with its title
    assert re.findall(r'X-TITLE="([^"]+)"', after) == ["shows-a", "shows-b"]


def test_segments_are_presigned_library_objects_that_outlive_a_slow_player(stack, clock):
    schedule, _ = published(stack, live_schedule(shows(stack)), date(2026, 12, 1))
    clock.at(utc(2026, 11, 30, 23, 0, 30))
    _, text = playlist(stack, schedule["feed"]["live"]["tv1"])
    listed = segments(text)
    assert listed
    for s in listed:
        # Then each segment is a GET of the library object the playlist named, signed for an hour
        key = key_of(s["uri"], stack.resources.bucket)
        assert re.fullmatch(r"library/shows/a_\d+\.ts", key), key
        assert int(re.search(r"X-Amz-Expires=(\d+)", s["uri"])[1]) == 3600
    # And a later poll hands out the same URLs (signed once, reused while they have half an hour left)
    _, again = playlist(stack, schedule["feed"]["live"]["tv1"])
    assert [s["uri"] for s in segments(again)] == [s["uri"] for s in listed]


def test_across_midnight_a_break_is_announced_with_its_cue_and_asrun_keys_it(stack, clock):
    schedule, status = published(stack, live_schedule(shows(stack)), date(2026, 12, 1))
    url = schedule["feed"]["live"]["tv1"]
    # The block before local midnight ends with a break: 14 stings (56 s) after the last show that fits
    midnight = utc(2026, 12, 1, 23)  # 2026-12-02 00:00 in Paris
    clock.at(midnight - timedelta(seconds=20))
    _, before = playlist(stack, url)
    breaks = re.findall(
        r'#EXT-X-DATERANGE:ID="([^"]+)",CLASS="urn:onair:break",START-DATE="([^"]+)",'
        r"DURATION=([0-9.]+),.*SCTE35-OUT=(0x[0-9a-f]+),SCTE35-IN=(0x[0-9a-f]+)",
        before,
    )
    assert breaks, before
    # Across midnight: the numbering goes on, the dates are continuous, the first show of the day follows
    listed = {s["seq"]: s for s in segments(before)}
    for seconds in range(-16, 13, 4):
        clock.at(midnight + timedelta(seconds=seconds))
        _, after = playlist(stack, url)
        for s in segments(after):
            assert plain(listed.setdefault(s["seq"], s)["uri"]) == plain(s["uri"])
    numbers = sorted(listed)
    assert numbers == list(range(numbers[0], numbers[-1] + 1))
    assert [s for s in listed.values() if s["date"] == midnight and plain(s["uri"]).endswith("_0.ts")]
    # And the break's cue carries the splice_event_id that asrun.csv's row of that break has
    out = Cue(breaks[0][3])
    out.decode()
    asrun = stack.api("GET", f"/runs/{status['id']}/output/asrun.csv").body.decode()
    rows = [r for r in csv.DictReader(io.StringIO(asrun)) if r["break_id"]]
    start = datetime.fromisoformat(breaks[0][1].replace("Z", "+00:00"))
    (row,) = [r for r in rows if datetime.fromisoformat(r["start"]) == start and r["channel"] == "tv1"]
    assert int(row["break_id"]) == out.command.splice_event_id and row["pool"] == "ads"
    assert all(r["pool"] == "ads" for r in rows)


def test_across_a_dst_change_numbers_and_dates_run_on(stack, clock):
    # Given a run over 2026-10-25, when Paris goes from +02:00 back to +01:00 at 03:00 local (01:00 UTC)
    schedule, _ = published(stack, live_schedule(shows(stack)), date(2026, 10, 24), 2)
    url = schedule["feed"]["live"]["tv1"]
    change = utc(2026, 10, 25, 1)
    answers = []
    for offset in range(-8, 41, 4):
        clock.at(change + timedelta(seconds=offset))
        reply, text = playlist(stack, url)
        assert reply.status == 200
        answers.append(segments(text))
    # Then the sequence numbers are contiguous and each names one segment, whose instants run on by
    # their durations: no hour repeated or skipped
    listed: dict[int, dict] = {}
    dates: dict[int, datetime] = {}
    for answer_ in answers:
        for s in answer_:
            assert plain(listed.setdefault(s["seq"], s)["uri"]) == plain(s["uri"])
            if s["date"] is not None:
                assert dates.setdefault(s["seq"], s["date"]) == s["date"]  # one date per number
    numbers = sorted(listed)
    assert numbers == list(range(numbers[0], numbers[-1] + 1))
    dated = [{"seq": n, "date": dates[n]} for n in sorted(dates)]
    for a, b in itertools.pairwise(dated):
        between = sum(listed[n]["duration"] for n in range(a["seq"], b["seq"]))
        assert (b["date"] - a["date"]).total_seconds() == pytest.approx(between)
    # And three hours of shows after local midnight (two of them CEST), a show starts at the change itself
    assert [s for s in dated if s["date"] == change]
    assert min(s["date"] for s in dated) < change < max(s["date"] for s in dated)


def test_a_republish_keeps_every_number_and_the_numbers_never_go_back(stack, clock):
    # Given a channel published since yesterday, whose playlists were served until now
    today = datetime.now(UTC).date()
    schedule, first = published(stack, live_schedule(shows(stack)), today - timedelta(days=1), 3)
    url = schedule["feed"]["live"]["tv1"]
    now = datetime.now(UTC)
    served = {}
    for offset in range(-300, 1, 20):
        clock.at(now + timedelta(seconds=offset))
        served[offset] = re.sub(r"\?.*", "", playlist(stack, url)[1])
    # When a new version with other shows is published for the same channel
    other = live_schedule(shows(stack, ("c", "d"), "other"))
    assert stack.api("PUT", f"/schedules/{schedule['id']}", other).status == 200
    second = run(stack, schedule["id"], today - timedelta(days=1), 3)
    assert second["published"] and second["id"] != first["id"]
    # Then every playlist served before answers the same, to the byte (numbers, URIs, dates, IDs)
    for offset, text in served.items():
        clock.at(now + timedelta(seconds=offset))
        assert re.sub(r"\?.*", "", playlist(stack, url)[1]) == text, offset
    # And from now on the numbers never go back, each names one segment, and the new shows come on air
    # after the show on air at the publish instant, numbered on from the old ones
    named: dict[int, str] = {}
    last = -1
    for offset in range(0, 600, 10):
        clock.at(now + timedelta(seconds=offset))
        listed = segments(playlist(stack, url)[1])
        assert listed[-1]["seq"] >= last
        last = listed[-1]["seq"]
        for s in listed:
            assert named.setdefault(s["seq"], plain(s["uri"])) == plain(s["uri"])
    numbers = sorted(named)
    assert numbers == list(range(numbers[0], numbers[-1] + 1))
    kinds = ["/library/other/" in named[n] for n in numbers]
    assert kinds[0] is False and kinds[-1] is True and kinds == sorted(kinds)  # old, then new, once


def test_an_instance_still_holding_the_old_pointer_agrees_with_the_new_until_the_switch(
    stack, clock, monkeypatch
):
    import onair.http.feeds as feed_routes

    today = datetime.now(UTC).date()
    schedule, _ = published(stack, live_schedule(shows(stack)), today - timedelta(days=1), 3)
    url = schedule["feed"]["live"]["tv1"]
    # Given an instance that read the pointer just before a republish, and keeps it (as for POINTER_SECONDS)
    stale, fresh = (
        live_usecase.LiveChannels(pointer_seconds=3600),
        live_usecase.LiveChannels(pointer_seconds=0),
    )
    clock.at(datetime.now(UTC))
    monkeypatch.setattr(feed_routes, "_live", stale)
    assert stack.api("GET", url).status == 200
    assert (
        stack.api(
            "PUT", f"/schedules/{schedule['id']}", live_schedule(shows(stack, ("c", "d"), "other"))
        ).status
        == 200
    )
    published_at = datetime.now(UTC)
    run(stack, schedule["id"], today - timedelta(days=1), 3)
    # Then up to the pointer's cache time and the clock skew allowed after the publish, it answers what an
    # instance that read the new pointer answers
    allowance = live_usecase.POINTER_SECONDS + live_usecase.CLOCK_SKEW_SECONDS
    for seconds in (0, 3, allowance):
        clock.at(published_at + timedelta(seconds=seconds))
        answers_ = []
        for instance in (stale, fresh):
            monkeypatch.setattr(feed_routes, "_live", instance)
            answers_.append(re.sub(r"\?.*", "", playlist(stack, url)[1]))
        assert answers_[0] == answers_[1] and answers_[0], seconds


# --- route edges -------------------------------------------------------------------------------------------


def test_unknown_tokens_channels_renditions_and_names_are_404s(stack, clock):
    schedule, _ = published(stack, live_schedule(shows(stack)), date(2026, 12, 1))
    token = schedule["feed"]["token"]
    clock.at(utc(2026, 11, 30, 23, 0, 30))
    for path in (
        "/feeds/" + "A" * 43 + "/live/tv1.m3u8",
        f"/feeds/{token}/live/radio.m3u8",  # not a live channel
        f"/feeds/{token}/live/nope.m3u8",
        f"/feeds/{token}/live/tv1",
        f"/feeds/{token}/live/.m3u8",
        f"/feeds/{token}/live/tv1/1.m3u8",  # one rendition: 0 only
        f"/feeds/{token}/live/tv1/x.m3u8",
        f"/feeds/{token}/live/tv1/99999.m3u8",
        f"/feeds/{token}/live/%ZZ.m3u8",
    ):
        reply = stack.api("GET", path)
        assert reply.status == 404, (path, reply.status, reply.body)
        assert reply.json()["error"]["code"] in ("not_found", "off_air"), path
    assert stack.api("GET", f"/feeds/{token}/live/tv1/0.m3u8").status == 200
    # Past the end of the published timeline: 404 off_air, saying until when it ran
    clock.at(utc(2026, 12, 3))
    reply = stack.api("GET", f"/feeds/{token}/live/tv1.m3u8")
    assert (reply.status, reply.json()["error"]["code"]) == (404, "off_air")
    assert "2026-12-02T23:00:00" in reply.json()["error"]["message"]


def test_a_ladder_of_renditions_is_a_multivariant_playlist_of_live_renditions(stack, clock):
    bucket_uri = library_uri(stack, "")
    items = []
    for name in ("a", "b"):
        ladder = "#EXTM3U\n"
        for rendition, (res, bw) in enumerate((("640x360", 800000), ("1280x720", 2500000))):
            ladder += f'#EXT-X-STREAM-INF:BANDWIDTH={bw},RESOLUTION={res},CODECS="avc1.64001f,mp4a.40.2"\n'
            ladder += f"{name}/{rendition}.m3u8\n"
            put(
                stack,
                f"library/ladder/{name}/{rendition}.m3u8",
                vod_text(SHOW_SEGMENTS, name=f"r{rendition}_"),
            )
        put(stack, f"library/ladder/{name}.m3u8", ladder)
        items.append(LiveItem(f"ladder-{name}", 60, f"{bucket_uri}ladder/{name}.m3u8"))
    schedule, status = published(stack, live_schedule(items), date(2026, 12, 1), 1)
    assert status["report"]["live"]["channels"]["tv1"]["renditions"] == 2
    clock.at(utc(2026, 11, 30, 23, 0, 30))
    reply, text = playlist(stack, schedule["feed"]["live"]["tv1"])
    assert reply.status == 200 and "#EXT-X-STREAM-INF:BANDWIDTH=800000" in text
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert uris == ["tv1/0.m3u8", "tv1/1.m3u8"]
    token = schedule["feed"]["token"]
    for rendition in (0, 1):
        reply, media = playlist(stack, f"/feeds/{token}/live/tv1/{rendition}.m3u8")
        assert reply.status == 200
        assert all(f"/ladder/a/r{rendition}_" in s["uri"] for s in segments(media))


def test_a_channel_id_with_any_characters_has_a_live_url(stack, clock):
    document = live_schedule(shows(stack), channel="TV 1/é?#%")
    schedule, _ = published(stack, document, date(2026, 12, 1), 1)
    ((channel, url),) = schedule["feed"]["live"].items()
    assert channel == "TV 1/é?#%" and url.endswith("/live/TV%201%2F%C3%A9%3F%23%25.m3u8")
    clock.at(utc(2026, 11, 30, 23, 0, 30))
    assert stack.api("GET", url).status == 200


def test_slates_fill_airtime_without_media_and_a_bad_slate_is_a_channel_finding(stack):
    # (the OnAir reader's <channel slate="…"> arrives from another branch: build_run_live takes slates)
    from onair.config import RunSettings
    from onair.models import StoredSchedule
    from onair.playout.engine import generate
    from onair.playout.types import RunRange

    items = [*shows(stack, ("a",)), LiveItem("plain", 60, "https://example.com/a.mp4")]
    put(stack, "library/slate.m3u8", vod_text([2.0, 2.0], name="slate_"))
    imported = stack.api("POST", "/schedules", live_schedule(items)).json()
    stored = StoredSchedule.model_validate_json(
        stack.s3.get_object(
            Bucket=stack.resources.bucket, Key=keys.version_file(imported["id"], 1, "schedule.json")
        )["Body"].read()
    )
    playout = generate(stored.schedule, RunRange(date(2026, 12, 1), 1), 0)
    service = services(RunSettings)
    good = live_usecase.build_run_live(
        service, keys.new_id(), stored.schedule, playout, slate_of={"tv1": library_uri(stack, "slate.m3u8")}
    )
    assert good["channels"]["tv1"]["findings"] == []
    assert good["channels"]["tv1"]["slate"].endswith("/library/slate.m3u8")
    # A slate that is no library object: said on the channel, which then has gaps instead
    run_id = keys.new_id()
    bad = live_usecase.build_run_live(
        service, run_id, stored.schedule, playout, slate_of={"tv1": "s3://elsewhere/slate.m3u8"}
    )
    codes = [f["code"] for f in bad["channels"]["tv1"]["findings"]]
    assert codes[0] == "blocked_key" and "slate:" in bad["channels"]["tv1"]["findings"][0]["message"]
    assert "not_streamable" in codes
    # And a radio with only a slate is a live channel too (the slate looped over its airtime)
    only_slate = live_usecase.build_run_live(
        service, run_id, stored.schedule, playout, slate_of={"radio": library_uri(stack, "slate.m3u8")}
    )
    assert only_slate["channels"]["radio"]["live"]
    timeline = Timeline.from_json(
        stack.s3.get_object(Bucket=stack.resources.bucket, Key=keys.run_live(run_id, "radio"))["Body"].read()
    )
    assert timeline.ends[-1] - timeline.starts[0] == 24 * HOUR


def test_an_s3_outage_on_the_pointer_serves_the_playlist_held_not_a_503(stack, clock, monkeypatch):
    import onair.http.feeds as feed_routes
    from onair.errors import Unavailable

    schedule, _ = published(stack, live_schedule(shows(stack)), date(2026, 12, 1))
    clock.at(utc(2026, 11, 30, 23, 0, 30))
    assert stack.api("GET", schedule["feed"]["live"]["tv1"]).status == 200
    storage = services(FeedSettings).storage

    def down(*args, **kwargs):
        raise Unavailable("S3 is down")

    monkeypatch.setattr(storage, "get_json", down)
    monkeypatch.setattr(storage, "get_bytes", down)
    assert stack.api("GET", schedule["feed"]["live"]["tv1"]).status == 200
    feed_routes._live_channels().clear()  # a new instance has nothing to fall back on: 503 with Retry-After
    reply = stack.api("GET", schedule["feed"]["live"]["tv1"])
    assert reply.status == 503 and reply.headers["retry-after"] == "1"


def test_channels_m3u_gives_a_channel_without_a_stream_its_absolute_live_url(stack, clock):
    schedule, _ = published(stack, live_schedule(shows(stack)), date(2026, 12, 1))
    token = schedule["feed"]["token"]
    # When a player on the deployed API (its domain, https) reads channels.m3u
    reply = stack.api(
        "GET",
        schedule["feed"]["urls"]["channels.m3u"],
        headers={"host": "abc.execute-api.eu-west-1.amazonaws.com", "x-forwarded-proto": "https"},
    )
    text = reply.body.decode()
    # Then tv1 (no stream attribute, a live timeline) is listed with its live URL, the radio without one,
    # and the guide URL is absolute too
    base = "https://abc.execute-api.eu-west-1.amazonaws.com"
    assert f"{base}/feeds/{token}/live/tv1.m3u8" in text
    assert f"{base}/feeds/{token}/guide.xml.gz" in text
    assert "/live/radio.m3u8" not in text
    # And its ETag is the rendered bytes', so a 304 holds for this host only
    again = stack.api(
        "GET",
        schedule["feed"]["urls"]["channels.m3u"],
        headers={
            "host": "abc.execute-api.eu-west-1.amazonaws.com",
            "x-forwarded-proto": "https",
            "if-none-match": reply.headers["etag"],
        },
    )
    assert again.status == 304
    local = stack.api("GET", schedule["feed"]["urls"]["channels.m3u"], headers={"host": "127.0.0.1:3000"})
    assert (
        local.headers["etag"] != reply.headers["etag"]
        and "http://127.0.0.1:3000/feeds/" in local.body.decode()
    )
    head = stack.api("HEAD", schedule["feed"]["urls"]["channels.m3u"], headers={"host": "127.0.0.1:3000"})
    assert head.headers["content-length"] == str(len(local.body))
    # And a host header that is not a host name is not written into the list
    forged = stack.api("GET", schedule["feed"]["urls"]["channels.m3u"], headers={"host": 'x"\n#EXTINF:evil'})
    assert b"evil" not in forged.body and b"http://localhost/feeds/" in forged.body
