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
    dropped: "210", "3.5"), item_id, title, artist, pool, block; missing values are empty fields.
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

import csv
import io
import json
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lxml import etree

from onair.models import OnAirSchedule, XmltvListing
from onair.playout.types import Playout, Slot

# The hand-written xmltv.dtd content models the importer checks against (the DTD itself is not shipped).
from onair.readers import xmltv_dtd as dtd
from onair.readers.xmltv import attributes, format_time

GENERATOR = "OnAir"
DOCTYPE = '<!DOCTYPE tv SYSTEM "xmltv.dtd">'
PLAYLIST = "playlist.m3u8"
CSV_HEADER = ("channel", "start", "end", "duration", "item_id", "title", "artist", "pool", "block")

AnySchedule = XmltvListing | OnAirSchedule
Writer = Callable[[AnySchedule, Playout], bytes]

# Stored elements were serialized by lxml from a hardened parse; parse them back just as carefully.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# --- shared ---------------------------------------------------------------------------------------------


def _channels(schedule: AnySchedule) -> list[tuple[str, str]]:
    """(id, name) of every channel, in schedule order."""
    if isinstance(schedule, OnAirSchedule):
        return [(channel.id, channel.name or channel.id) for channel in schedule.channels]
    return [(channel.id, _display_name(channel.xml) or channel.id) for channel in schedule.channels]


def _display_name(xml: str) -> str:
    names = etree.fromstring(xml, _PARSER).findall("display-name")
    return str(names[0].xpath("string()")).strip() if names else ""


def _by_channel(schedule: AnySchedule, playout: Playout) -> Iterator[tuple[str, list[Slot]]]:
    """Each channel id with its slots in time order: schedule channels first (those without slots too),
    then any channel only a slot names, in order of first use."""
    groups: dict[str, list[Slot]] = {channel.id: [] for channel in schedule.channels}
    for slot in playout.slots:
        groups.setdefault(slot.channel, []).append(slot)
    for channel_id, slots in groups.items():
        yield channel_id, sorted(slots, key=_instants)  # stable for ties


def _instants(slot: Slot) -> tuple[float, float]:
    # Instants, not the datetimes: two sharing a ZoneInfo compare by wall clock, which interleaves the
    # repeated hour of a DST change (01:12+01:00 would sort after 01:06+00:00).
    return slot.start.timestamp(), slot.stop.timestamp()


def _ordered(schedule: AnySchedule, playout: Playout) -> list[Slot]:
    return [slot for _, slots in _by_channel(schedule, playout) for slot in slots]


def _whole_seconds(seconds: float) -> int:
    return int(Decimal(repr(seconds)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _decimal_seconds(seconds: float) -> str:
    """At most 3 decimals, no trailing zeros: 210.0 -> "210", 3.5 -> "3.5", 0.1254 -> "0.125"."""
    text = f"{round(seconds, 3):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _one_line(text: str) -> str:
    return " ".join(text.splitlines()) if text else text


# --- guide.xml ------------------------------------------------------------------------------------------


def guide_xml(schedule: AnySchedule, playout: Playout) -> bytes:
    """An XMLTV guide that validates against xmltv.dtd: every channel, then programmes by channel and time."""
    tv = etree.Element("tv", {"generator-info-name": GENERATOR})
    if isinstance(schedule, XmltvListing):
        for xmltv_channel in schedule.channels:
            tv.append(_xmltv_channel(xmltv_channel.id, xmltv_channel.xml))
    else:
        for channel in schedule.channels:
            element = etree.SubElement(tv, "channel", id=channel.id)
            etree.SubElement(element, "display-name").text = channel.name or channel.id
    for slot in _ordered(schedule, playout):
        tv.append(_xmltv_programme(slot) if slot.source_xml else _programme(slot))
    etree.cleanup_namespaces(tv)
    etree.indent(tv, space=" ")
    return etree.tostring(tv, xml_declaration=True, encoding="UTF-8", doctype=DOCTYPE) + b"\n"


def _xmltv_channel(channel_id: str, xml: str) -> etree._Element:
    element = etree.fromstring(xml, _PARSER)
    element.set("id", channel_id)  # the id as the importer read it (stripped)
    if element.tag == "channel" and _conform(element, "channel"):
        return element
    fallback = etree.Element("channel", id=channel_id)
    etree.SubElement(fallback, "display-name").text = channel_id
    return fallback


def _xmltv_programme(slot: Slot) -> etree._Element:
    assert slot.source_xml is not None
    source = etree.fromstring(slot.source_xml, _PARSER)
    times = _programme_times(slot)
    # Only what _conform can keep is copied: lxml sets each attribute after a scan of those already set.
    declared = dtd.ATTRIBUTES["programme"]
    kept = {name: value for name, value in attributes(source) if name in declared and name not in times}
    element = etree.Element("programme", {**times, **kept})
    element.text = source.text
    element.extend(list(source))
    if source.tag == "programme" and _conform(element, "programme"):
        return element
    return _programme(slot)  # no usable title: the importer refuses those, but never write an invalid guide


def _programme_times(slot: Slot) -> dict[str, str]:
    return {"start": format_time(slot.start), "stop": format_time(slot.stop), "channel": slot.channel}


def _programme(slot: Slot) -> etree._Element:
    """A programme from the slot alone, children in DTD order: title, sub-title, category, length."""
    element = etree.Element("programme", _programme_times(slot))
    etree.SubElement(element, "title").text = slot.title
    if slot.artist:
        etree.SubElement(element, "sub-title").text = slot.artist
    if slot.category:
        etree.SubElement(element, "category").text = slot.category
    etree.SubElement(element, "length", units="seconds").text = str(_whole_seconds(slot.seconds))
    return element


def _conform(element: etree._Element, name: str) -> bool:
    """Bring a stored element (and its subtree) into its xmltv.dtd content model, in place.

    False when it cannot be: a required attribute or child is missing (the caller drops the element)."""
    declared = dtd.ATTRIBUTES.get(name, {})
    xml_lang = element.get(_XML_LANG)
    if xml_lang is not None and "lang" in declared and element.get("lang") is None:
        element.set("lang", xml_lang)  # the DTD declares lang, not xml:lang
    present = attributes(element)  # not attrib.items(), nor a del per attribute: both scan all of them
    kept = [
        (attribute, value)
        for attribute, value in present
        if (spec := declared.get(attribute)) is not None and (spec.values is None or value in spec.values)
    ]
    if len(kept) < len(present):  # at most the few attributes the DTD declares are set again
        element.attrib.clear()
        for attribute, value in kept:
            element.set(attribute, value)
    if any(spec.required and element.get(attribute) is None for attribute, spec in declared.items()):
        return False
    for child in list(element):
        if not isinstance(child.tag, str):  # comments, processing instructions
            _drop(child)
    if name in dtd.EMPTY:
        element.text = None
        for child in list(element):
            element.remove(child)
        return True
    if name in dtd.TEXT:  # (#PCDATA): child elements give up their text
        text = str(element.xpath("string()"))
        for child in list(element):
            element.remove(child)
        element.text = text or None
        return True
    if name in dtd.MIXED:  # (#PCDATA | image | url)*
        for child in list(element):
            if child.tag not in dtd.MIXED_CHILDREN or not _conform(child, child.tag):
                _drop(child)
        return True
    if name not in dtd.SEQUENCES:
        return False
    positions, model = dtd.POSITIONS[name], dtd.SEQUENCES[name]
    children: list[etree._Element] = []
    for child in list(element):
        element.remove(child)
        child.tail = None
        if child.tag in positions and _conform(child, child.tag):
            children.append(child)
    children.sort(key=lambda child: positions[child.tag])  # stable: same-name children keep their order
    counts: dict[str, int] = {}
    kept: list[etree._Element] = []
    for child in children:
        count = counts[child.tag] = counts.get(child.tag, 0) + 1
        maximum = model[positions[child.tag]][2]
        if maximum is None or count <= maximum:
            kept.append(child)
    if any(counts.get(child_name, 0) < minimum for child_name, minimum, _ in model):
        return False
    element.text = None
    element.extend(kept)
    return True


def _drop(child: etree._Element) -> None:
    """Remove a node, keeping the text that follows it."""
    parent = child.getparent()
    assert parent is not None
    if child.tail:
        previous = child.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + child.tail
        else:
            previous.tail = (previous.tail or "") + child.tail
    parent.remove(child)


# --- channels.m3u ---------------------------------------------------------------------------------------


def channels_m3u(schedule: AnySchedule, playout: Playout) -> bytes:
    lines = ["#EXTM3U"]
    for channel_id, name in _channels(schedule):
        tvg_id, tvg_name = _attribute(channel_id), _attribute(name)
        lines.append(f'#EXTINF:-1 tvg-id="{tvg_id}" tvg-name="{tvg_name}",{_one_line(name)}')
        lines.append(f"{PLAYLIST}#{_uri(channel_id)}")
    return ("\n".join(lines) + "\n").encode()


def _attribute(text: str) -> str:
    return _one_line(text).replace('"', "'")


def _uri(text: str) -> str:
    return text.replace("\r", "%0D").replace("\n", "%0A")


# --- playlist.m3u8 --------------------------------------------------------------------------------------


def playlist_m3u8(schedule: AnySchedule, playout: Playout) -> bytes:
    lines = ["#EXTM3U"]
    for channel_id, slots in _by_channel(schedule, playout):
        lines.append(f"#EXTGRP:{_one_line(channel_id)}")
        for slot in slots:
            title = _one_line(slot.title)
            if slot.uri:
                label = f"{_one_line(slot.artist)} - {title}" if slot.artist else title
                lines.append(f"#EXTINF:{_whole_seconds(slot.seconds)},{label}")
                lines.append(_uri(slot.uri))
            else:
                lines.append(f"# {slot.start.isoformat()} {title} (no media uri)")
    return ("\n".join(lines) + "\n").encode()


# --- asrun.csv ------------------------------------------------------------------------------------------


def asrun_csv(schedule: AnySchedule, playout: Playout) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for slot in _ordered(schedule, playout):
        row = [
            slot.channel,
            slot.start.isoformat(),
            slot.stop.isoformat(),
            _decimal_seconds(slot.seconds),
            slot.item_id or "",
            slot.title,
            slot.artist or "",
            slot.pool or "",
            slot.block or "",
        ]
        writer.writerow([_inert(cell) for cell in row])
    return buffer.getvalue().encode()


# A spreadsheet runs a cell starting with one of these as a formula (OWASP, CSV injection); the quote is
# there so a quote we add can always be told from one the value had.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def _inert(cell: str) -> str:
    """The cell with a single quote in front when it starts like a formula (or with a quote)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


# --- playout.json ---------------------------------------------------------------------------------------


def playout_json(schedule: AnySchedule, playout: Playout) -> bytes:
    entries: list[dict[str, Any]] = [
        {
            "channel": slot.channel,
            "start": slot.start.isoformat(),
            "stop": slot.stop.isoformat(),
            "duration": round(slot.seconds, 3),
            "kind": slot.kind,
            "title": slot.title,
            "item_id": slot.item_id,
            "artist": slot.artist,
            "category": slot.category,
            "uri": slot.uri,
            "pool": slot.pool,
            "block": slot.block,
        }
        for slot in _ordered(schedule, playout)
    ]
    document = {"report": playout.report.to_dict(), "playout": entries}
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"


# Output name -> (content type, writer). The run request's "formats" picks from these names.
WRITERS: dict[str, tuple[str, Writer]] = {
    "guide.xml": ("application/xml", guide_xml),
    "channels.m3u": ("audio/x-mpegurl; charset=utf-8", channels_m3u),
    "playlist.m3u8": ("audio/x-mpegurl; charset=utf-8", playlist_m3u8),
    "asrun.csv": ("text/csv; charset=utf-8; header=present", asrun_csv),
    "playout.json": ("application/json", playout_json),
}
