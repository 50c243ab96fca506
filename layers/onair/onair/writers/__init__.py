"""Writers for a run's outputs. Each is `(schedule, playout) -> Iterator[bytes]`: the output in pieces of a
few MB (the run stores them as they come), byte-identical for identical inputs (no clocks, no set or dict
iteration order): retries of a run rewrite the same objects.

Every output lists the channels in schedule order (channels the schedule does not declare, if a slot names
one, follow in order of first use) and each channel's slots in time order: by instant, so the repeated hour
of a DST change comes out once and then again, each time with the offset in force at that instant.

guide.xml (XMLTV, validates against xmltv.dtd, and tv_validate_file accepts it)
    `<tv generator-info-name="OnAir">`, the channels that have programmes in the run (tv_validate_file
    reports a declared channel without any), then the programmes. Times are cut to whole seconds (XMLTV has
    no fractions) and carry the slot's offset; an offset XMLTV cannot write (local mean time, with seconds:
    London's -00:01:15 before 1847) is written as UTC, the same instant. Bytes tv_validate_file reads as
    mis-encoded UTF-8 (C1 controls U+0080-U+009F, U+FFFD and its mojibake) are character references.
    OnAir channels are published under their guide id (models.guide_id: `radio1` -> `radio1.onair`), with
    their name, their number as a second `<display-name>` and their logo as `<icon src>`; their slots
    become `<programme>` with title, sub-title (artist or series), desc (the item's description),
    categories (the kind's word - Movie, Series, News, Sports, Kids, Music, Documentary - then the item's
    category), `<length units="seconds">` (the slot's airtime, rounded half up), icon (the item's image),
    episode-num (xmltv_ns from zero, "0.1.", and onscreen, "S01E02") and rating.
    A slot taken from an XMLTV `<programme>` keeps that element's children and its other DTD attributes;
    start, stop and channel come from the slot (no stop for a stop-less last programme kept with no
    airtime). The importer accepts programmes leniently, so the stored element is brought into the DTD's
    shape on the way out: children in content-model order (a `<desc>` before the `<title>` moves after it),
    undeclared elements and attributes, comments and surplus occurrences (a second `<date>`) dropped
    (`xml:lang` becomes the DTD's `lang`), an element that misses a required part (a `<rating>` without
    `<value>`) dropped. A listing's channel that only its programmes name is not declared when
    tv_validate_file refuses its id (the listing has the same unknownid then).

channels.m3u (IPTV channel list; stored as its lineup, rendered when answered)
    The run stores the lineup (writers/m3u.py channels_lineup), JSON with sorted keys:
    `{"format": "onair-lineup", "version": 1, "channels": [{id, guide_id, name, number, logo, group,
    stream, slate}, ...]}`, every channel in schedule order (None where a value is absent; an XMLTV
    listing's channels have no stream). The feed route and GET /runs/{id}/output/channels.m3u answer
    render_channels_m3u(lineup, guide_url, live_url):
        #EXTM3U url-tvg="<guide.xml.gz URL>" x-tvg-url="<same>"       (just #EXTM3U without a guide URL)
        #EXTINF:-1 tvg-id="<guide id>" tvg-name="<name>" tvg-chno="<number>" tvg-logo="<logo>" group-title="<group>",<name>
        <the channel's absolute stream URL>
    per channel that has a stream URL (its own, or the live URL `live_url` gives for it); the others are
    left out, and the run report names them (notice no_stream). Every attribute is double-quoted and left
    out rather than empty; tvg-id is the channel's id in guide.xml. The name is the OnAir channel's name,
    or an XMLTV channel's first `<display-name>`, else the id. Newlines become spaces; a `"` in an
    attribute value or the name becomes `'` (M3U has no escape for it; Kodi looks for the name after the
    comma that follows the line's last quote).

playlist.m3u8 (extended M3U, UTF-8)
    `#EXTM3U`, then per channel a `#EXTGRP:<channel id>` line (the group the following entries belong to)
    and its slots:
        #EXTINF:<seconds, integer, rounded half up>,<artist> - <title>     (just <title> with no artist)
        <the item's uri>
    A slot without a uri (XMLTV programmes, items without media) is a comment line, so the file stays a
    playable list: `# <start, ISO 8601> <title> (no media uri)`.

asrun.csv (RFC 4180: header row, CRLF, minimal quoting by Python's csv module, UTF-8 without BOM)
    channel, start, end (ISO 8601 with offset), duration (seconds with at most 3 decimals, trailing zeros
    dropped: "210", "3.5"), item_id, title, artist, pool, block, break_id; missing values are empty fields.
    break_id: a filler slot's (a break's) SCTE-35 splice_event_id in decimal, the cue its live channel
    announces (onair.live.ids), so ad insertion and reconciliation key on one number; empty for others.
    CSV injection (OWASP): a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is written
    with a single quote in front (`'=HYPERLINK(...)`), so a spreadsheet shows it as text instead of running
    it; so is a cell starting with `'`, so dropping one leading quote always gives the value back. Times
    and durations start with a digit and are never changed.

playout.json
    `{"playout": [{channel, start, stop, duration, kind, title, item_id, artist, category, uri, pool,
    block}, ...], "report": Report.to_dict()}`: sorted keys, indent 1, UTF-8 (not ASCII-escaped),
    newline at the end. duration is a number of seconds rounded to 3 decimals.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from onair.playout.types import Playout
    from onair.writers.common import AnySchedule


class _Lazy:
    """A writer imported when first called: a route that only names outputs (a run request's formats)
    never loads lxml or the writers."""

    def __init__(self, module: str, function: str) -> None:
        self.module, self.function = module, function

    def __call__(self, schedule: AnySchedule, playout: Playout) -> Iterator[bytes]:
        write = getattr(importlib.import_module(f"onair.writers.{self.module}"), self.function)
        return write(schedule, playout)  # type: ignore[no-any-return]


# Output name -> (content type of the answer, writer). The run request's "formats" picks from these names.
# channels.m3u's stored bytes are its lineup (JSON), not the M3U: whoever answers it renders them with
# onair.writers.m3u.render_channels_m3u (LINEUP_OUTPUT), since the M3U names the feed's guide URL.
LINEUP_OUTPUT = "channels.m3u"
WRITERS: dict[str, tuple[str, _Lazy]] = {
    "guide.xml": ("application/xml", _Lazy("guide", "guide_xml")),
    LINEUP_OUTPUT: ("audio/x-mpegurl; charset=utf-8", _Lazy("m3u", "channels_lineup")),
    "playlist.m3u8": ("audio/x-mpegurl; charset=utf-8", _Lazy("m3u", "playlist_m3u8")),
    "asrun.csv": ("text/csv; charset=utf-8; header=present", _Lazy("asrun", "asrun_csv")),
    "playout.json": ("application/json", _Lazy("playout_json", "playout_json")),
}
