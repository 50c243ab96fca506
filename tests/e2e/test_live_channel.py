"""A live channel from the local stack, played by ffmpeg: real HLS VOD assets (tests/live_support.py) in the
local bucket under library/, an OnAir schedule of them imported, run and published over HTTP, then the
channel's live URL played across item boundaries (segments are presigned GETs of the local S3)."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from onair import keys
from onair.live.timeline import Timeline
from tests.e2e.conftest import LocalStack, wait_for
from tests.e2e.test_local_stack import create_run, finished_run, import_schedule
from tests.live_support import FFMPEG, LiveItem, live_schedule, make_asset, need_ffmpeg, probed_tags

pytestmark = pytest.mark.e2e

ASSETS = {"show-a": ("testsrc", 6, 440), "show-b": ("smptebars", 6, 660), "ad": ("testsrc2", 4, 880)}


@pytest.fixture(scope="module")
def channel(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The assets uploaded under library/e2e/, a schedule of them published from today (Paris), 2 days."""
    need_ffmpeg()
    folder = tmp_path_factory.mktemp("assets")
    s3, bucket = local_stack.client("s3"), local_stack.app.bucket_name
    items = []
    for name, (pattern, seconds, tone) in ASSETS.items():
        make_asset(folder, name, pattern, seconds, tone)
        for file in sorted(folder.glob(f"{name}*")):
            s3.put_object(Bucket=bucket, Key=f"{keys.LIBRARY_PREFIX}e2e/{file.name}", Body=file.read_bytes())
        uri = f"s3://{bucket}/{keys.LIBRARY_PREFIX}e2e/{name}.m3u8"
        items.append(LiveItem(name, seconds, uri, category="ad" if name == "ad" else "show"))
    summary = import_schedule(local_stack, live_schedule(items))
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    run = finished_run(
        local_stack, create_run(local_stack, summary["id"], {"from": today.isoformat(), "days": 2}), 120
    )
    assert run["status"] == "succeeded", run
    assert run["report"]["live"]["channels"]["tv1"]["live"], run["report"]
    # (succeeded is written before the outputs become the feed: wait for the publishing too)
    run = wait_for(
        lambda: (r := local_stack.request("GET", f"/runs/{run['id']}").json())["published"] and r,
        60,
        "publish",
    )
    schedule = local_stack.request("GET", f"/schedules/{summary['id']}").json()
    return {"schedule": schedule, "run": run, "url": local_stack.api + schedule["feed"]["live"]["tv1"]}


def test_the_run_resolved_the_real_assets_without_a_finding(channel):
    live = channel["run"]["report"]["live"]
    assert live["items"] == [] and live["media"] == {"resolved": 3, "unusable": 0}
    assert live["channels"]["tv1"]["live"] and live["channels"]["tv1"]["findings"] == []


def test_ffmpeg_plays_the_live_channel_for_20_seconds_across_item_boundaries(channel, tmp_path: Path):
    # When ffmpeg plays the channel's live URL for 20 s (items last 6 s: at least three boundaries)
    progress = tmp_path / "progress.txt"
    played = subprocess.run(
        [FFMPEG, "-nostdin", "-hide_banner", "-v", "error", "-i", channel["url"], "-t", "20", "-f", "null", "-",
         "-progress", str(progress)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # Then it exits 0 with no error output, having decoded the 20 s
    assert played.returncode == 0, played.stderr
    assert played.stderr == ""
    times = [int(t) for t in re.findall(r"^out_time_us=(\d+)$", progress.read_text(), re.M)]
    assert times and times[-1] >= 19_500_000, progress.read_text()[-500:]


def test_ffprobe_reads_programme_date_times_of_segment_starts(local_stack, channel):
    # When ffprobe opens the channel
    dates, ranges = probed_tags(channel["url"])
    assert ranges
    # Then the dates it read are starts of the published timeline's segments, in order, around now
    schedule, run = channel["schedule"], channel["run"]
    raw = (
        local_stack.client("s3")
        .get_object(Bucket=local_stack.app.bucket_name, Key=keys.feed_live(schedule["id"], run["id"], "tv1"))[
            "Body"
        ]
        .read()
    )
    timeline = Timeline.from_json(raw)
    instants = [round(datetime.fromisoformat(d.replace("Z", "+00:00")).timestamp() * 1000) for d in dates]
    assert instants == sorted(instants)
    now = datetime.now(UTC)
    on_air = timeline.on_air(round(now.timestamp() * 1000))
    starts = {timeline.segment(n).start for n in range(max(timeline.seq_base, on_air - 100), on_air + 10)}
    assert set(instants) <= starts
    assert all(abs(i / 1000 - now.timestamp()) < timedelta(minutes=2).total_seconds() for i in instants)
    assert all('CLASS="urn:onair:' in r and "X-TITLE=" in r for r in ranges)


def test_channels_m3u_names_the_live_url(local_stack, channel):
    reply = local_stack.request("GET", channel["schedule"]["feed"]["urls"]["channels.m3u"])
    assert reply.status == 200
    assert channel["url"] in reply.body.decode()
