"""Read a run's outputs back, independently of the writers: what a player, a spreadsheet or an EPG sees.

Each reader returns plain rows with the times as written (text) and as instants (UTC datetimes), so tests
can check both the order (by instant) and the offset each time carries.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from onair.readers.xmltv import parse_time


@dataclass(frozen=True)
class Timed:
    """One output entry: its channel, start and stop as written, and the rest of what the line says."""

    channel: str
    start: datetime  # as written: aware, with the written offset (a fixed timezone)
    stop: datetime | None
    fields: dict[str, Any]

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def stop_utc(self) -> datetime | None:
        return None if self.stop is None else self.stop.astimezone(UTC)


def guide(data: bytes) -> tuple[list[str], list[Timed]]:
    """guide.xml: the channel ids and the programmes, in document order. A programme's fields: title,
    length, desc, categories, icons, episode numbers ({system: text}) and rating values."""
    tv = etree.fromstring(data)
    channels = [channel.get("id") for channel in tv.findall("channel")]
    programmes = []
    for programme in tv.findall("programme"):
        start, _ = parse_time(programme.get("start"))
        stop = parse_time(programme.get("stop"))[0] if programme.get("stop") is not None else None
        fields = {
            "title": programme.findtext("title"),
            "length": programme.findtext("length"),
            "desc": programme.findtext("desc"),
            "categories": [category.text for category in programme.findall("category")],
            "icons": [icon.get("src") for icon in programme.findall("icon")],
            "episodes": {e.get("system"): e.text for e in programme.findall("episode-num")},
            "ratings": [value.text for value in programme.findall("rating/value")],
        }
        programmes.append(Timed(programme.get("channel"), start, stop, fields))
    return channels, programmes


def asrun(data: bytes) -> list[Timed]:
    """asrun.csv: one entry per record, every column in `fields` as written."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    return [
        Timed(row["channel"], datetime.fromisoformat(row["start"]), datetime.fromisoformat(row["end"]), row)
        for row in rows
    ]


def playout_json(data: bytes) -> tuple[list[Timed], dict[str, Any]]:
    """playout.json: the entries and the report."""
    document = json.loads(data)
    entries = [
        Timed(e["channel"], datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["stop"]), e)
        for e in document["playout"]
    ]
    return entries, document["report"]


@dataclass(frozen=True)
class PlaylistEntry:
    channel: str
    seconds: int | None  # #EXTINF duration; None for a comment line
    label: str  # "artist - title" or title; the title for a comment line
    uri: str | None
    start: datetime | None  # comment lines only: the slot's start as written


def playlist(data: bytes) -> list[PlaylistEntry]:
    """playlist.m3u8: every entry in order, with the group (channel) it belongs to."""
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == "#EXTM3U" and lines[-1] == ""
    entries: list[PlaylistEntry] = []
    channel: str | None = None
    index = 1
    while index < len(lines) - 1:
        line = lines[index]
        if line.startswith("#EXTGRP:"):
            channel = line[len("#EXTGRP:") :]
        elif line.startswith("#EXTINF:"):
            seconds, label = line[len("#EXTINF:") :].split(",", 1)
            index += 1
            assert channel is not None
            entries.append(PlaylistEntry(channel, int(seconds), label, lines[index], None))
        else:
            assert line.startswith("# ") and line.endswith(" (no media uri)"), line
            start, title = line[2 : -len(" (no media uri)")].split(" ", 1)
            assert channel is not None
            entries.append(PlaylistEntry(channel, None, title, None, datetime.fromisoformat(start)))
        index += 1
    return entries


def playlist_groups(data: bytes) -> list[str]:
    return [
        line[len("#EXTGRP:") :] for line in data.decode("utf-8").splitlines() if line.startswith("#EXTGRP:")
    ]


@dataclass(frozen=True)
class M3uChannel:
    attributes: dict[str, str]  # of the #EXTINF line, in order
    name: str  # after the comma
    url: str


STREAM_SCHEMES = ("http://", "https://", "rtsp://", "rtp://", "udp://")
_ATTRIBUTE = re.compile(r'([a-z0-9-]+)="([^"]*)"')


def m3u_attributes(text: str) -> dict[str, str]:
    """`key="value"` pairs separated by single spaces, and nothing else: every value double-quoted and not
    empty, as players read them (Jellyfin's M3uParser takes only `key="non-empty"`)."""
    found: dict[str, str] = {}
    rest = text
    while rest:
        match = _ATTRIBUTE.match(rest)
        assert match is not None, f"not a quoted attribute: {rest!r}"
        assert match[2] and match[2] == match[2].strip(), f"empty or padded attribute {match[1]}"
        assert match[1] not in found, f"{match[1]} twice"
        found[match[1]] = match[2]
        rest = rest[match.end() :]
        assert rest == "" or rest.startswith(" "), rest
        rest = rest[1:]
    return found


def channels_m3u(data: bytes) -> tuple[dict[str, str], list[M3uChannel]]:
    """channels.m3u as a player reads it: the #EXTM3U line's attributes, then per channel an #EXTINF:-1
    line of quoted attributes and a name, followed by the channel's absolute stream URL."""
    lines = data.decode("utf-8").split("\n")
    assert lines[0].startswith("#EXTM3U") and lines[-1] == ""
    header = m3u_attributes(lines[0][len("#EXTM3U") :].removeprefix(" "))
    entries = lines[1:-1]
    assert len(entries) % 2 == 0, entries
    channels = []
    for info, url in zip(entries[0::2], entries[1::2], strict=True):
        assert info.startswith("#EXTINF:-1 "), info
        attributes, name = info[len("#EXTINF:-1 ") :].rsplit('",', 1)
        assert url.startswith(STREAM_SCHEMES) and "#" not in url and " " not in url, url
        channels.append(M3uChannel(m3u_attributes(attributes + '"'), name, url))
    return header, channels


def offset_in(zone: ZoneInfo, moment: datetime) -> timedelta:
    """The UTC offset `zone` has at the instant `moment`."""
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset
