"""Real HLS: VOD assets made by ffmpeg, resolved over HTTP, played live by ffmpeg from a loopback server
that computes the live playlist per request with the real clock."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from onair.adapters.urls import UrlFetcher
from onair.live.fetch import MemoryCache
from onair.live.media import check_duration, resolve
from onair.live.playlist import live_playlist
from onair.live.timeline import LiveSlot, Timeline, build_timeline
from tests.live_support import FFMPEG, answer, loopback, make_asset, need_ffmpeg, probed_tags

ASSETS = {  # name: (lavfi pattern, seconds, tone)
    "prog": ("testsrc", 6, 440),
    "ad": ("smptebars", 4, 880),
    "slate": ("testsrc2", 4, 220),
}
WINDOW = 6


@pytest.fixture(scope="module")
def channel(tmp_path_factory):
    """The assets, served with a live route whose timeline the tests set; yields (base URL, state)."""
    need_ffmpeg()
    folder = tmp_path_factory.mktemp("hls")
    for name, (pattern, seconds, tone) in ASSETS.items():
        make_asset(folder, name, pattern, seconds, tone)
    state: dict[str, Any] = {"requests": []}

    def live(handler: BaseHTTPRequestHandler) -> None:
        body = live_playlist(state["timeline"], int(time.time() * 1000), WINDOW).encode()
        answer(handler, 200, body, Content_Type="application/vnd.apple.mpegurl", Cache_Control="max-age=1")

    with loopback(folder, {"/live/ch.m3u8": live}, log=state["requests"]) as base:
        state["base"] = base
        yield base, state


@pytest.fixture(scope="module")
def media(channel):
    base, _ = channel
    fetcher, cache = UrlFetcher(allow_private=True), MemoryCache()
    return {name: resolve(f"{base}/{name}.m3u8", fetcher, cache) for name in ASSETS}


def test_real_assets_resolve_into_two_second_segments(media):
    for name, (_, seconds, _) in ASSETS.items():
        resolution = media[name]
        assert resolution.findings == [], name
        rendition = resolution.index.renditions[0]
        assert set(rendition.durations) == {2000} and rendition.duration_ms == seconds * 1000
        assert rendition.segments[0].endswith(f"/{name}_000.ts")
        assert check_duration(resolution.index, seconds) is None


def schedule(media, start_ms: int) -> Timeline:
    """prog, a break, prog, 8 s of an item without media (the slate twice), prog, ... for 2 minutes."""
    index = {name: r.index for name, r in media.items()}
    pattern = [
        ("prog", "programme", 6000),
        ("ad", "filler", 4000),
        ("prog", "programme", 6000),
        (None, "programme", 8000),
    ]
    slots, t = [], start_ms
    while t < start_ms + 120_000:
        for name, kind, length in pattern:
            uri = index[name].uri if name else None
            slots.append(LiveSlot(t, t + length, name or "no media", kind, name or "none", uri))
            t += length
    timeline, findings = build_timeline(
        "ch", slots, {i.uri: i for i in index.values()}, slate=index["slate"].uri
    )
    assert findings == []
    return timeline


def test_ffmpeg_plays_the_live_channel_across_item_boundaries_and_a_break(channel, media):
    # Given a channel on air since 6 s ago (an item boundary and a break in the first 20 s played)
    base, state = channel
    state["timeline"] = schedule(media, int(time.time() * 1000) - 6000)
    # When ffmpeg plays its live playlist for 20 s
    played = subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-hide_banner",
            "-v",
            "error",
            "-i",
            f"{base}/live/ch.m3u8",
            "-t",
            "20",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    # Then it exits 0 with no error line
    assert played.returncode == 0, played.stderr
    assert played.stderr == ""
    # And it played the programme, the break and the slate (at least one boundary of each kind)
    fetched = {path.split("_")[0].lstrip("/") for path in state["requests"] if path.endswith(".ts")}
    assert fetched == {"prog", "ad", "slate"}


def test_ffprobe_reads_the_programme_date_times(channel, media):
    # Given the channel on air
    base, state = channel
    start = int(time.time() * 1000) - 20_000
    timeline = schedule(media, start)
    state["timeline"] = timeline
    # When ffprobe opens it
    dates, ranges = probed_tags(f"{base}/live/ch.m3u8")
    # Then it read dates of segment starts, in order, each at an item boundary or the window's first segment
    instants = [round(datetime.fromisoformat(d.replace("Z", "+00:00")).timestamp() * 1000) for d in dates]
    assert instants == sorted(instants)
    starts = {timeline.segment(q).start for q in range(timeline.seq_base, timeline.seq_end)}
    assert set(instants) <= starts
    assert all(start <= t <= start + 60_000 for t in instants)
    # And the programmes' date ranges
    assert ranges and all('CLASS="urn:onair:' in r for r in ranges)
