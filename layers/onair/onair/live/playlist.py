"""The live playlists (RFC 8216): a pure function of (timeline, now). What a player polls.

`live_playlist` answers one rendition's media playlist for an instant: the segment on air and the ones
before it in a sliding window, EXT-X-MEDIA-SEQUENCE and EXT-X-DISCONTINUITY-SEQUENCE from the timeline's
numbering, EXT-X-DISCONTINUITY at each piece boundary, EXT-X-PROGRAM-DATE-TIME on the first segment and on
each one after a discontinuity, one EXT-X-DATERANGE per programme in the window (breaks with their
SCTE35-OUT / SCTE35-IN), no EXT-X-ENDLIST. `multivariant_playlist` lists the renditions when the channel
has a shared ladder.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from onair.live.timeline import FILLER, Segment, SlotRecord, Timeline

DEFAULT_WINDOW = 6
PROGRAMME_CLASS = "urn:onair:programme"
BREAK_CLASS = "urn:onair:break"


def live_playlist(
    timeline: Timeline,
    now_ms: int,
    window_segments: int = DEFAULT_WINDOW,
    *,
    rendition: int = 0,
    uri_map: Callable[[str], str] | None = None,
) -> str:
    """The media playlist of `rendition` at `now_ms`. The window holds at least `window_segments`
    segments and at least three target durations (RFC 8216 6.2.2), fewer only at the channel's very
    beginning. Before the first segment: a playlist with no segment yet. `uri_map` rewrites segment and
    map URIs (presigned S3 URLs, a CDN host); absent, they are the media playlists' own absolute URIs."""
    segments = _window(timeline, now_ms, max(1, window_segments))
    first = segments[0] if segments else None
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{timeline.version}",
        f"#EXT-X-TARGETDURATION:{timeline.target}",
        f"#EXT-X-MEDIA-SEQUENCE:{first.seq if first else timeline.seq_base}",
        f"#EXT-X-DISCONTINUITY-SEQUENCE:{first.dseq if first else timeline.disc_base}",
    ]
    if not segments:
        return "\n".join(lines) + "\n"
    mapped = uri_map or (lambda uri: uri)
    last = segments[-1]
    pending = timeline.slots_between(segments[0].start, last.start + last.duration)
    current_map: tuple[str, list[int] | None] | None = None
    for n, segment in enumerate(segments):
        # The first segment's own discontinuity tag is left out: EXT-X-DISCONTINUITY-SEQUENCE counts it.
        boundary = n == 0 or segment.discontinuity
        if n and segment.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        track = timeline.track(segment.media, rendition)
        init = track.map_at(segment.index)
        if init is not None and (boundary or init != current_map):
            attributes = f'URI="{mapped(init[0])}"'
            if init[1]:
                attributes += f',BYTERANGE="{init[1][0]}@{init[1][1]}"'
            lines.append(f"#EXT-X-MAP:{attributes}")
        current_map = init
        if boundary:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_date(segment.start)}")
        ends = segment.start + segment.duration
        while pending and pending[0].start < ends:
            lines.append(_daterange(pending.pop(0)))
        byterange = track.byterange(segment.index)
        if byterange:
            lines.append(f"#EXT-X-BYTERANGE:{byterange[0]}@{byterange[1]}")
        lines.append(f"#EXTINF:{segment.duration / 1000:.3f},")
        lines.append(mapped(track.uri(segment.index)))
    return "\n".join(lines) + "\n"


def multivariant_playlist(timeline: Timeline, rendition_uri: Callable[[int], str]) -> str | None:
    """The multivariant playlist when the channel's media share a ladder of several renditions (then
    `rendition_uri(r)` is where rendition r's live_playlist is served); None when it has one rendition."""
    if timeline.renditions < 2:
        return None
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for r, entry in enumerate(timeline.ladder):
        attributes = [f"BANDWIDTH={entry['bandwidth']}"]
        if entry.get("average_bandwidth"):
            attributes.append(f"AVERAGE-BANDWIDTH={entry['average_bandwidth']}")
        if entry.get("codecs"):
            attributes.append(f'CODECS="{entry["codecs"]}"')
        if entry.get("resolution"):
            attributes.append(f"RESOLUTION={entry['resolution']}")
        if entry.get("frame_rate"):
            attributes.append(f"FRAME-RATE={entry['frame_rate']:.3f}")
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attributes))
        lines.append(rendition_uri(r))
    return "\n".join(lines) + "\n"


def max_age(timeline: Timeline) -> int:
    """Cache-Control max-age for a live playlist: half a target duration, so a CDN answers most polls
    and a player never sees a playlist older than its reload interval."""
    return max(1, timeline.target // 2)


def _window(timeline: Timeline, now_ms: int, count: int) -> list[Segment]:
    on_air = timeline.on_air(now_ms)
    if on_air is None:
        return []
    low = max(timeline.seq_base, on_air - count + 1)
    segments = [timeline.segment(seq) for seq in range(low, on_air + 1)]
    span = sum(s.duration for s in segments)
    while low > timeline.seq_base and span < 3 * timeline.target * 1000:
        low -= 1
        segments.insert(0, timeline.segment(low))
        span += segments[0].duration
    return segments


def _daterange(slot: SlotRecord) -> str:
    attributes = [
        f'ID="{slot.id}"',
        f'CLASS="{BREAK_CLASS if slot.kind == FILLER else PROGRAMME_CLASS}"',
        f'START-DATE="{_date(slot.start)}"',
        f"DURATION={(slot.stop - slot.start) / 1000:.3f}",
        f'X-TITLE="{_quoted(slot.title)}"',
    ]
    if slot.item:
        attributes.append(f'X-ITEM="{_quoted(slot.item)}"')
    if slot.scte35:
        attributes.append(f"SCTE35-OUT={slot.scte35[0]}")
        attributes.append(f"SCTE35-IN={slot.scte35[1]}")
    return "#EXT-X-DATERANGE:" + ",".join(attributes)


def _quoted(text: str) -> str:
    """A quoted-string holds no double quote, CR or LF (RFC 8216 4.2)."""
    return "".join("'" if c == '"' else " " if c in "\r\n" or ord(c) < 32 else c for c in text)


def _date(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"
