"""channels.m3u (a lineup, rendered per request) and playlist.m3u8 (the layouts: onair/writers/__init__.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from onair.models import STREAM_SCHEMES, WEB_SCHEMES, OnAirSchedule, url_problem
from onair.playout.types import Playout
from onair.writers.common import (
    AnySchedule,
    batches,
    by_channel,
    display_name,
    iso_times,
    one_line,
    whole_seconds,
)
from onair.writers.lineup import LINEUP_FORMAT, LINEUP_VERSION, lineup_channels

# What a guide URL may hold as it is in the #EXTM3U line: Kodi cuts url-tvg at the first comma (a list of
# guides), and a quote would end the attribute. Anything else is percent-encoded.
_URL_SAFE = ":/?#[]@!$&'()*+;=%-._~"


def channels_lineup(schedule: AnySchedule, playout: Playout) -> Iterator[bytes]:
    """What a run stores as channels.m3u: the lineup, as JSON. The M3U itself names the feed's guide URL,
    whose token can be rotated and whose host only the route answering knows, so it is rendered from this
    per request (render_channels_m3u)."""
    channels: list[dict[str, Any]] = []
    if isinstance(schedule, OnAirSchedule):
        for channel in schedule.channels:
            channels.append(
                {
                    "id": channel.id,
                    "guide_id": channel.guide_id,
                    "name": channel.name or channel.id,
                    "number": channel.number,
                    "logo": channel.logo,
                    "group": channel.group,
                    "stream": channel.stream,
                    "slate": channel.slate,
                }
            )
    else:  # an XMLTV listing names no streams: its channels are in the lineup, not in the M3U
        for xmltv_channel in schedule.channels:
            channels.append(
                {
                    "id": xmltv_channel.id,
                    "guide_id": xmltv_channel.id,
                    "name": display_name(xmltv_channel.xml) or xmltv_channel.id,
                    "number": None,
                    "logo": None,
                    "group": None,
                    "stream": None,
                    "slate": None,
                }
            )
    document = {"format": LINEUP_FORMAT, "version": LINEUP_VERSION, "channels": channels}
    yield (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def render_channels_m3u(
    lineup: bytes, guide_url: str | None, live_url: Callable[[str], str | None] | None
) -> bytes:
    """channels.m3u for players, from a run's stored lineup.

    `guide_url`: the absolute URL of the feed's guide.xml.gz, named in the first line (url-tvg, x-tvg-url);
    None leaves the line bare. `live_url`: given a channel's id (the schedule's, not the guide id), the
    absolute URL of its live stream (None: it has none), asked for the channels without a stream URL of
    their own; without one those channels are left out (the run report lists them: notice no_stream).
    Every URL written is absolute: a stream URL the callable gives that is not raises ValueError.
    Deterministic: the same arguments give the same bytes.

    An output stored before lineups existed is already an M3U: it is answered as it is."""
    if lineup.startswith(b"#EXTM3U"):
        return lineup
    header = "#EXTM3U"
    if guide_url is not None:
        url = quote(guide_url, safe=_URL_SAFE)
        problem = url_problem(url, WEB_SCHEMES)
        if problem is not None:
            raise ValueError(f"the guide URL {problem}")
        header += f' url-tvg="{url}" x-tvg-url="{url}"'
    lines = [header]
    for channel in lineup_channels(lineup):
        stream = channel.get("stream")
        if stream is None and live_url is not None:
            stream = live_url(channel["id"])
            problem = None if stream is None else url_problem(stream, STREAM_SCHEMES)
            if problem is not None:
                raise ValueError(f"the live URL of channel '{channel['id']}' {problem}")
        if stream is None:
            continue
        named = [
            ("tvg-id", channel["guide_id"]),
            ("tvg-name", channel["name"]),
            ("tvg-chno", channel.get("number")),
            ("tvg-logo", channel.get("logo")),
            ("group-title", channel.get("group")),
        ]
        values = [(name, _attribute(value)) for name, value in named if value]
        attributes = " ".join(f'{name}="{value}"' for name, value in values if value)
        # The name too: Kodi finds it after the comma that follows the last quote of the line
        lines.append(f"#EXTINF:-1 {attributes},{_attribute(channel['name'])}")
        lines.append(stream)
    return ("\n".join(lines) + "\n").encode()


def _attribute(text: str) -> str:
    """M3U has no escape: a line break becomes a space and a double quote a single one."""
    return one_line(text).replace('"', "'").strip()


def _uri(text: str) -> str:
    return text.replace("\r", "%0D").replace("\n", "%0A")


def playlist_m3u8(schedule: AnySchedule, playout: Playout) -> Iterator[bytes]:
    for lines in batches(_playlist_lines(schedule, playout)):
        yield ("\n".join(lines) + "\n").encode()


def _playlist_lines(schedule: AnySchedule, playout: Playout) -> Iterator[str]:
    yield "#EXTM3U"
    starts, _ = iso_times(schedule, playout)  # of the slots in by_channel's order
    index = 0
    for channel_id, slots in by_channel(schedule, playout):
        yield f"#EXTGRP:{one_line(channel_id)}"
        for slot in slots:
            title = one_line(slot.title)
            if slot.uri:
                label = f"{one_line(slot.artist)} - {title}" if slot.artist else title
                yield f"#EXTINF:{whole_seconds(slot.seconds)},{label}"
                yield _uri(slot.uri)
            else:
                yield f"# {starts[index]} {title} (no media uri)"
            index += 1
