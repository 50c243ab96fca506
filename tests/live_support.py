"""Helpers shared by the live-channel tests: synthetic VOD playlists, an in-memory fetcher, real HLS assets
made with ffmpeg, and a loopback HTTP server."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from onair.live.media import MediaIndex, resolve
from onair.ports import Fetched, FetchError


def vod_text(
    durations: Sequence[float], name: str = "s", *, target: int | None = None, end: bool = True
) -> str:
    """A media playlist of segments `{name}{n}.ts` with these EXTINF durations."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{target or round(max(durations))}"]
    for n, seconds in enumerate(durations):
        lines += [f"#EXTINF:{seconds:.3f},", f"{name}{n}.ts"]
    if end:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


@dataclass
class DictFetcher:
    """A Fetcher over a dict of bodies (the Protocol's contract, without a network): ETags are the
    bodies' hashes, redirects are entries pointing elsewhere, a missing URL is unreachable."""

    bodies: dict[str, bytes | str] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)  # URLs whose body was sent (not 304)

    def fetch(self, url: str, etag: str | None = None) -> Fetched:
        while url in self.redirects:
            url = self.redirects[url]
        if url not in self.bodies:
            raise FetchError("unreachable", f"{url}: HTTP 404")
        body = self.bodies[url]
        data = body.encode() if isinstance(body, str) else body
        tag = f'"{hash(data) & 0xFFFFFFFF:x}"'
        if etag == tag:
            return Fetched(url, None, tag)
        self.downloads.append(url)
        return Fetched(url, data, tag)


def vod(uri: str, durations: Sequence[float], name: str = "s") -> MediaIndex:
    """A MediaIndex resolved (through the real parser) from a synthetic VOD playlist at `uri`."""
    resolution = resolve(uri, DictFetcher({uri: vod_text(durations, name)}))
    assert resolution.index is not None, resolution.findings
    return resolution.index


# --- real assets --------------------------------------------------------------------------------------------

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")


def need_ffmpeg() -> None:
    if FFMPEG is None or FFPROBE is None:
        pytest.skip("ffmpeg/ffprobe are absent (Debian package ffmpeg): real HLS assets cannot be made")


def probed_tags(url: str) -> tuple[list[str], list[str]]:
    """What ffprobe read of a live playlist: its EXT-X-PROGRAM-DATE-TIME and EXT-X-DATERANGE values.
    ffmpeg's HLS reader passes over those tags and logs each one it passes at trace level: that log is
    what it read."""
    probe = subprocess.run(
        [str(FFPROBE), "-hide_banner", "-v", "trace", "-i", url], capture_output=True, text=True, timeout=60
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    dates = re.findall(r"Skip \('#EXT-X-PROGRAM-DATE-TIME:([^']+)'\)", probe.stderr)
    ranges = re.findall(r"Skip \('#EXT-X-DATERANGE:([^']+)'\)", probe.stderr)
    assert dates, probe.stderr[-2000:]
    return dates, ranges


def make_asset(folder: Path, name: str, pattern: str, seconds: float, tone_hz: int) -> Path:
    """An HLS VOD asset: `seconds` of a lavfi test pattern and a sine tone, H.264 baseline 320x180 25 fps
    and AAC 48 kHz stereo (one encoding for every asset), cut in 2 s segments (a keyframe every 50
    frames). The tone stops 50 ms before the picture: ffmpeg re-bases timestamps after a discontinuity
    on the video, and audio running past the picture's end would overlap the next item's."""
    assert FFMPEG is not None
    command = [
        FFMPEG, "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"{pattern}=size=320x180:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000:duration={seconds - 0.05}",
        "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
        "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
        "-c:a", "aac", "-b:a", "64k", "-ac", "2",
        "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
        "-hls_segment_filename", str(folder / f"{name}_%03d.ts"), str(folder / f"{name}.m3u8"),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return folder / f"{name}.m3u8"


# --- a loopback server ------------------------------------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def loopback(
    folder: Path | None = None, routes: dict[str, Route] | None = None, log: list[str] | None = None
) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving `folder`'s files (with ETags) and `routes` (path -> handler),
    appending each request's path to `log`; yields its base URL ("http://127.0.0.1:port")."""
    table = routes or {}
    root = folder.resolve() if folder else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if log is not None:
                log.append(path)
            if path in table:
                table[path](self)
                return
            file = (root / path.lstrip("/")).resolve() if root else None
            if file is None or root not in file.parents or not file.is_file():
                self.send_error(404)
                return
            body = file.read_bytes()
            etag = f'"{file.stat().st_mtime_ns:x}-{len(body):x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def answer(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


# --- OnAir schedules of live channels --------------------------------------------------------------------

EVERY_DAY = "mon tue wed thu fri sat sun"


@dataclass(frozen=True)
class LiveItem:
    id: str
    seconds: float
    uri: str | None
    category: str = "show"
    title: str | None = None


def live_schedule(
    items: Sequence[LiveItem],
    *,
    timezone: str = "Europe/Paris",
    channel: str = "tv1",
    blocks: Sequence[tuple[str, str]] = (("00:00", "12:00:04"), ("12:00:04", "24:00")),
    extra: str = "",
) -> bytes:
    """An OnAir schedule: `channel` plays its `show` items in order every day in `blocks`, each block's
    end filled from the `ad` items (a break), and a second channel `radio` plays one non-HLS song."""
    library = "\n".join(
        f'    <item id="{i.id}" title="{i.title or i.id}" duration="PT{i.seconds:g}S" category="{i.category}"'
        + (f' uri="{i.uri}"' if i.uri else "")
        + "/>"
        for i in items
    )
    block_lines = "\n".join(
        f'    <block channel="{channel}" days="{EVERY_DAY}" start="{start}" end="{end}" pool="shows"'
        + (' filler="ads"/>' if any(i.category == "ad" for i in items) else "/>")
        for start, end in blocks
    )
    ads = (
        '<pool id="ads" order="sequential"><category ref="ad"/></pool>'
        if any(i.category == "ad" for i in items)
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<schedule xmlns="urn:onair:schedule:1" timezone="{timezone}">
  <channels><channel id="{channel}" name="Channel {channel}"/><channel id="radio" name="Radio"/></channels>
  <library>
{library}
    <item id="song" title="Song" duration="PT3M" category="music" uri="s3://onair-media/song.flac"/>
  </library>
  <pools>
    <pool id="shows" order="sequential"><category ref="show"/></pool>
    {ads}
    <pool id="music" order="sequential"><category ref="music"/></pool>
  </pools>
  <blocks>
{block_lines}
    <block channel="radio" days="{EVERY_DAY}" start="00:00" end="24:00" pool="music"/>
  </blocks>
{extra}
</schedule>
""".encode()
