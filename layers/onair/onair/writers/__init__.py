"""Writers for a run's outputs. Each is `(schedule, playout) -> bytes`, byte-identical for identical inputs
(no clocks, no set or dict iteration order): retries of a run rewrite the same objects.

Every output lists the channels in schedule order (channels the schedule does not declare, if a slot names
one, follow in order of first use) and each channel's slots in time order: by instant, so the repeated hour
of a DST change comes out once and then again, each time with the offset in force at that instant.

guide.xml (XMLTV, validates against xmltv.dtd)
    `<tv generator-info-name="OnAir">`, every channel of the schedule, then the programmes. Times are cut
    to whole seconds (XMLTV has no fractions) and carry the slot's offset; an offset XMLTV cannot write
    (local mean time, with seconds: London's -00:01:15 before 1847) is written as UTC, the same instant.
    A slot taken from an XMLTV `<programme>` keeps that element's children and its other DTD attributes;
    start, stop and channel come from the slot. The importer accepts programmes leniently, so the stored element is
    brought into the DTD's shape on the way out: children in content-model order (a `<desc>` before the
    `<title>` moves after it), undeclared elements and attributes, comments and surplus occurrences
    (a second `<date>`) dropped (`xml:lang` becomes the DTD's `lang`), an element that misses a required
    part (a `<rating>` without `<value>`) dropped. Other slots become `<programme>` with title, sub-title (artist or series), category and
    `<length units="seconds">` (the slot's airtime, rounded half up).

channels.m3u (IPTV channel list)
    `#EXTM3U`, then per channel `#EXTINF:-1 tvg-id="<id>" tvg-name="<name>",<name>` and the URI line
    `playlist.m3u8#<id>`: a relative reference into this run's playlist (OnAir has no stream URLs). tvg-id
    is the guide's channel id, so players match channels to guide.xml. The name is the OnAir channel's
    name, or an XMLTV channel's first `<display-name>`, else the id. Newlines become spaces; a `"` inside
    an attribute value becomes `'` (M3U has no escape for it).

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
    from onair.playout.types import Playout
    from onair.writers.common import AnySchedule


class _Lazy:
    """A writer imported when first called: a route that only names outputs (a run request's formats)
    never loads lxml or the writers."""

    def __init__(self, module: str, function: str) -> None:
        self.module, self.function = module, function

    def __call__(self, schedule: AnySchedule, playout: Playout) -> bytes:
        write = getattr(importlib.import_module(f"onair.writers.{self.module}"), self.function)
        return write(schedule, playout)  # type: ignore[no-any-return]


# Output name -> (content type, writer). The run request's "formats" picks from these names.
WRITERS: dict[str, tuple[str, _Lazy]] = {
    "guide.xml": ("application/xml", _Lazy("guide", "guide_xml")),
    "channels.m3u": ("audio/x-mpegurl; charset=utf-8", _Lazy("m3u", "channels_m3u")),
    "playlist.m3u8": ("audio/x-mpegurl; charset=utf-8", _Lazy("m3u", "playlist_m3u8")),
    "asrun.csv": ("text/csv; charset=utf-8; header=present", _Lazy("asrun", "asrun_csv")),
    "playout.json": ("application/json", _Lazy("playout_json", "playout_json")),
}
