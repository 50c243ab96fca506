"""channels.m3u and playlist.m3u8 (the layouts: onair/writers/__init__.py)."""

from __future__ import annotations

from onair.playout.types import Playout
from onair.writers.common import AnySchedule, by_channel, channels, one_line, whole_seconds

PLAYLIST = "playlist.m3u8"


def channels_m3u(schedule: AnySchedule, playout: Playout) -> bytes:
    lines = ["#EXTM3U"]
    for channel_id, name in channels(schedule):
        tvg_id, tvg_name = _attribute(channel_id), _attribute(name)
        lines.append(f'#EXTINF:-1 tvg-id="{tvg_id}" tvg-name="{tvg_name}",{one_line(name)}')
        lines.append(f"{PLAYLIST}#{_uri(channel_id)}")
    return ("\n".join(lines) + "\n").encode()


def _attribute(text: str) -> str:
    return one_line(text).replace('"', "'")


def _uri(text: str) -> str:
    return text.replace("\r", "%0D").replace("\n", "%0A")


def playlist_m3u8(schedule: AnySchedule, playout: Playout) -> bytes:
    lines = ["#EXTM3U"]
    for channel_id, slots in by_channel(schedule, playout):
        lines.append(f"#EXTGRP:{one_line(channel_id)}")
        for slot in slots:
            title = one_line(slot.title)
            if slot.uri:
                label = f"{one_line(slot.artist)} - {title}" if slot.artist else title
                lines.append(f"#EXTINF:{whole_seconds(slot.seconds)},{label}")
                lines.append(_uri(slot.uri))
            else:
                lines.append(f"# {slot.start.isoformat()} {title} (no media uri)")
    return ("\n".join(lines) + "\n").encode()
