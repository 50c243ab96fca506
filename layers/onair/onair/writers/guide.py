"""guide.xml: the XMLTV guide (the layout: onair/writers/__init__.py)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import datetime
from typing import cast

from lxml import etree

from onair.models import XMLTV_CHANNEL_ID, Channel, XmltvListing
from onair.playout.types import Playout, Slot
from onair.readers import xmltv_dtd as dtd
from onair.readers.xmltv import attributes, format_time
from onair.writers.common import PARSER, AnySchedule, batches, iso_times, ordered, whole_seconds

GENERATOR = "OnAir"
DOCTYPE = '<!DOCTYPE tv SYSTEM "xmltv.dtd">'
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# The <category> word a player files an item's kind under (docs/FORMATS.md, "What the readers use"):
# Jellyfin's XMLTV provider matches these case-insensitively against its movie/news/sports/kids lists
# (MediaBrowser.Model/LiveTv/ListingsProviderInfo.cs), Plex files what it does not know as a movie.
CATEGORY_WORDS = {
    "movie": "Movie",
    "episode": "Series",
    "series": "Series",
    "news": "News",
    "sports": "Sports",
    "kids": "Kids",
    "music": "Music",
    "documentary": "Documentary",
}
# Bytes tv_validate_file reads as mis-encoded UTF-8 (XMLTV::ValidateFile verify_utf8): C1 controls, the
# replacement character, and the latter's mojibake. Written as character references instead: the same text
# for every XML reader. One pattern with a literal first byte per pass: the regex engine then skips ahead
# with a byte search (an alternation scans ten times slower, a second for a 50 MB guide).
_C1 = re.compile(rb"\xc2([\x80-\x9f])")
_REPLACEMENTS = ((b"\xc3\xaf\xc2\xbf\xc2\xbd", b"\xc3\xaf&#xBF;\xc2\xbd"), (b"\xef\xbf\xbd", b"&#xFFFD;"))


def guide_xml(schedule: AnySchedule, playout: Playout) -> Iterator[bytes]:
    """An XMLTV guide that validates against xmltv.dtd: the channels with programmes in the run, then the
    programmes by channel and time. A channel with none is left out (tv_validate_file's
    channelnoprogramme); so is a channel of a listing that only its programmes name, when tv_validate_file
    refuses its id (the listing has the same unknownid).

    Written as a stream of elements, each serialized as it would be in the whole indented tree, and
    encoded a batch at a time (no tree of the guide, nor its whole text, is ever held); a stored programme
    already in the DTD's shape is copied as text (_Copier), not parsed and rebuilt."""
    head = f"<?xml version='1.0' encoding='UTF-8'?>\n{DOCTYPE}\n<tv generator-info-name=\"{GENERATOR}\""
    elements = _elements(schedule, playout)
    first = next(elements, None)
    if first is None:
        yield (head + "/>\n").encode()
        return
    yield (head + ">").encode()
    for batch in batches(itertools.chain((first,), elements)):
        yield _encoded(batch)
    yield b"\n</tv>\n"


def _elements(schedule: AnySchedule, playout: Playout) -> Iterator[str]:
    """The guide's elements in order, each as _serialized writes it."""
    slots = ordered(schedule, playout)
    on_air = {slot.channel for slot in slots}
    ids: dict[str, str] = {}
    if isinstance(schedule, XmltvListing):
        for xmltv_channel in schedule.channels:
            if xmltv_channel.id in on_air and (
                xmltv_channel.declared or XMLTV_CHANNEL_ID.match(xmltv_channel.id)
            ):
                yield _serialized(_xmltv_channel(xmltv_channel.id, xmltv_channel.xml))
    else:
        ids = {channel.id: channel.guide_id for channel in schedule.channels}
        for channel in schedule.channels:
            if channel.id in on_air:
                yield _serialized(_channel(channel))
    copier = _Copier()
    for slot, start, stop in zip(slots, *iso_times(schedule, playout), strict=True):
        xml = playout.source_xml(slot)
        if xml:
            yield copier.programme(slot, xml, start, stop)
        else:
            yield _serialized(_programme(slot, ids.get(slot.channel)))


def _encoded(elements: list[str]) -> bytes:
    """Elements as the guide's bytes, each after a line break and a space of indent. Copied text keeps the
    stored (ASCII) serialization's references to non-ASCII (lxml writes none in UTF-8); bytes
    tv_validate_file reads as mis-encoded become references. Neither spans two elements."""
    text = "\n " + "\n ".join(elements)
    if "&#" in text:
        text = _characters(text)
    data = _C1.sub(lambda match: b"&#x%X;" % match[1][0], text.encode())
    for suspect, reference in _REPLACEMENTS:
        data = data.replace(suspect, reference)
    return data


def _serialized(element: etree._Element) -> str:
    """The element as the guide's whole tree writes it, at depth 1 below <tv>: indented, no tail, no
    namespace declaration it does not use."""
    etree.cleanup_namespaces(element)
    etree.indent(element, space=" ", level=1)
    element.tail = None
    return etree.tostring(element, encoding="unicode")


# A character reference to a non-ASCII character (lxml's ASCII serialization writes one for each): the
# character itself in a UTF-8 guide, as lxml writes it there. ASCII references (&#10; in attributes, &#13;)
# are written the same by both.
_CHARREF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")


class _Characters(dict[str, str]):
    """A reference's digits ("233", "xE9") -> what the UTF-8 guide writes for it."""

    def __missing__(self, digits: str) -> str:
        code = int(digits[1:], 16) if digits[0] == "x" else int(digits)
        text = self[digits] = chr(code) if code >= 0x80 else f"&#{digits};"
        return text


def _characters(text: str) -> str:
    """The text with each reference to a non-ASCII character replaced by the character (a split and a
    lookup per reference, not a Python call per reference: a 50 MB guide has 650,000)."""
    parts = _CHARREF.split(text)
    parts[1::2] = map(_Characters().__getitem__, parts[1::2])  # per guide: at most its own characters
    return "".join(parts)


# Stored elements are lxml serializations: attributes double-quoted with `<`, `>`, `&` and `"` escaped,
# `>` in text escaped, so every `>` ends a tag. Whitespace-only (or empty) text between two tags:
_GAP = re.compile(r">(\s*)<")
_WORDS = re.compile(r">[^<]*[^\s<][^<]*<")  # text with something other than whitespace
_TEXT = re.compile(r">[^<]+<")  # any text, in a programme split at its gaps (where it has words)
_ENUMERATED = sorted(
    {name for declared in dtd.ATTRIBUTES.values() for name, spec in declared.items() if spec.values}
)
# An attribute's value, unless an enumeration's (only those can change what _conform keeps); a name
# merely ending like one keeps its value too, which only makes more shapes
_FREE_VALUE = re.compile("=" + "".join(f"(?<!{re.escape(name)}=)" for name in _ENUMERATED) + '"[^"<>]*"')
_TAG = re.compile(r"<(/?)([^\s/>]+)[^>]*?(/?)>")
_ATTRIBUTE = re.compile(r'\s([^\s=]+)="([^"]*)"')
_ENTITY = re.compile("&(?!#|amp;|lt;|gt;|quot;)")  # lxml writes only these references


def _unsafe(xml: str) -> bool:
    """Holds what the copy cannot read: comments, processing instructions, CDATA, entity references."""
    return "<!" in xml or "<?" in xml or _ENTITY.search(xml) is not None


class _Copier:
    """Stored programmes written by copying their text, when that gives what rebuilding them gives.

    The importer stores a programme that follows the DTD in the guide's form (XmltvProgramme.guide_form):
    only its start, stop and channel are written again. For any other (and every programme of files
    stored before guide_form), a programme's shape (its tags, attribute names, enumerated values, where
    text is and where only whitespace is) decides what _conform and the indentation do to it. The first
    programme of each shape is written both ways: when the copy (new start, stop and channel, the
    whitespace between tags re-indented) equals the rebuilt element, every programme of that shape is
    copied; otherwise each is rebuilt. Anything the copy cannot read safely (comments, processing
    instructions, CDATA, entity references) is always rebuilt."""

    def __init__(self) -> None:
        self.gaps: dict[str, list[str | None] | None] = {}  # shape -> per gap, ">new text<" (None: kept)
        self.copies = 0
        self._channels: dict[str, str] = {}  # channel id -> its escaped attribute value
        # (ISO text, XMLTV time) of the last time written: a stop is the next start
        self._last_time = ("", "")

    def programme(self, slot: Slot, xml: str, start: str, stop: str) -> str:
        """The slot's stored programme `xml`, given its start and stop as ISO texts (common.iso_times)."""
        times = (self._time(slot.start, start), self._time(slot.stop, stop))
        if slot.source_guide_form:
            return self._retimed(slot, xml, times)
        if _unsafe(xml) or not xml.startswith("<programme "):
            return _serialized(_xmltv_programme(slot, xml))
        pieces = _GAP.split(xml)  # the gaps are at the odd indexes; text left in a piece has words
        shape = _TEXT.sub(">T<", _FREE_VALUE.sub('=""', "\0".join(pieces[::2])))
        if shape in self.gaps:
            gaps = self.gaps[shape]
            if gaps is None:
                return _serialized(_xmltv_programme(slot, xml))
            self.copies += 1
            return self._copy(slot, pieces, gaps, times)
        rebuilt = _serialized(_xmltv_programme(slot, xml))
        gaps = _indentation(_FREE_VALUE.sub('=""', _GAP.sub("><", _WORDS.sub(">T<", xml))))
        if gaps is not None and _characters(self._copy(slot, list(pieces), gaps, times)) != rebuilt:
            gaps = None
        self.gaps[shape] = gaps
        return rebuilt

    def _retimed(self, slot: Slot, xml: str, times: tuple[str, str]) -> str:
        """A programme stored in the guide's form: its first attributes (start, stop, channel) written
        from the slot (`times`: its start and stop as XMLTV times), the rest of its text copied."""
        channel_at = xml.index(' channel="')  # no earlier: start's value has no quote
        rest = xml.index('"', channel_at + 10) + 1
        start = f'<programme start="{times[0]}"'
        if slot.stop != slot.start or xml.find(' stop="', 0, channel_at) > 0:
            start += f' stop="{times[1]}"'
        return f'{start} channel="{self._channel(slot)}"{xml[rest:]}'

    def _copy(self, slot: Slot, pieces: list[str], gaps: list[str | None], times: tuple[str, str]) -> str:
        """The copy, from the programme's text split at its gaps (`pieces`, changed in place)."""
        if len(pieces) != 2 * len(gaps) + 1:
            raise AssertionError("a programme's gaps do not match its shape")
        source = _ATTRIBUTE.findall(pieces[0])
        start = [f'<programme start="{times[0]}"']
        if slot.stop != slot.start or any(name == "stop" for name, _ in source):
            start.append(f' stop="{times[1]}"')
        start.append(f' channel="{self._channel(slot)}"')
        start.extend(f' {name}="{value}"' for name, value in source if name in _PROGRAMME_KEPT)
        pieces[0] = "".join(start)
        if None in gaps:
            for index, gap in enumerate(gaps):
                at = 2 * index + 1
                pieces[at] = ">" + pieces[at] + "<" if gap is None else gap
        else:
            pieces[1::2] = cast("list[str]", gaps)  # no None in it
        return "".join(pieces)

    def _channel(self, slot: Slot) -> str:
        """The slot's channel id as an attribute value."""
        channel = self._channels.get(slot.channel)
        if channel is None:
            channel = self._channels[slot.channel] = _escape(slot.channel)
        return channel

    def _time(self, value: datetime, iso: str) -> str:
        """format_time, once for a stop and the next programme's start (the same ISO text)."""
        if iso != self._last_time[0]:
            self._last_time = (iso, format_time(value, iso))
        return self._last_time[1]


# A stored programme's attributes the copy keeps (after start, stop and channel, which come from the slot)
_PROGRAMME_KEPT = frozenset(dtd.ATTRIBUTES["programme"]) - {"start", "stop", "channel"}


def _indentation(shape: str) -> list[str | None] | None:
    """Per gap between two tags of a programme of this shape, in order: ">" the whitespace the indented
    guide has there "<" (None: the text of an element without children, kept). None: not a shape to
    copy."""
    tags = list(_TAG.finditer(shape))
    if (
        not tags
        or tags[0].group(1, 2, 3) != ("", "programme", "")
        or tags[-1].group(1, 2) != ("/", "programme")
    ):
        return None
    gaps: list[str | None] = []
    depth = 0
    depths = []  # each tag's element's depth below <tv> (the programme is at 1)
    for tag in tags:
        closing, empty = tag[1] == "/", tag[3] == "/"
        depths.append(depth if closing else depth + 1)
        depth += -1 if closing else 0 if empty else 1
    for index, (tag, following) in enumerate(itertools.pairwise(tags)):
        if tag.end() != following.start():
            continue  # text between them (">T<"): not a gap
        leaf = not tag[1] and not tag[3] and following[1] == "/" and following[2] == tag[2]
        gaps.append(None if leaf else ">\n" + " " * depths[index + 1] + "<")
    return gaps


def _escape(value: str) -> str:
    """An attribute value as lxml writes it."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _channel(channel: Channel) -> etree._Element:
    """An OnAir channel under its guide id: its name, its number as a second display name (the DTD's way
    to give one, which Jellyfin reads as the channel number), its logo."""
    element = etree.Element("channel", id=channel.guide_id)
    etree.SubElement(element, "display-name").text = channel.name or channel.id
    if channel.number:
        etree.SubElement(element, "display-name").text = channel.number
    if channel.logo:
        etree.SubElement(element, "icon", src=channel.logo)
    return element


def _xmltv_channel(channel_id: str, xml: str) -> etree._Element:
    element = etree.fromstring(xml, PARSER)
    element.set("id", channel_id)  # the id as the importer read it (stripped)
    if element.tag == "channel" and _conform(element, "channel"):
        return element
    fallback = etree.Element("channel", id=channel_id)
    etree.SubElement(fallback, "display-name").text = channel_id
    return fallback


def _xmltv_programme(slot: Slot, xml: str) -> etree._Element:
    source = etree.fromstring(xml, PARSER)
    times = _programme_times(slot)
    if slot.stop == slot.start and source.get("stop") is None:
        del times["stop"]  # kept without a stop (the last on its channel): nothing says when it ends
    # Only what _conform can keep is copied: lxml sets each attribute after a scan of those already set.
    declared = dtd.ATTRIBUTES["programme"]
    kept = {name: value for name, value in attributes(source) if name in declared and name not in times}
    attrib = {**times, **kept}
    element = etree.Element("programme", attrib)
    element.text = source.text
    element.extend(list(source))
    if source.tag == "programme" and _conform(element, "programme"):
        return element
    return _programme(slot)  # no usable title: the importer refuses those, but never write an invalid guide


def _programme_times(slot: Slot, channel: str | None = None) -> dict[str, str]:
    return {
        "start": format_time(slot.start),
        "stop": format_time(slot.stop),
        "channel": channel or slot.channel,
    }


def _programme(slot: Slot, channel: str | None = None) -> etree._Element:
    """A programme from the slot alone, children in DTD order: title, sub-title, desc, categories (the
    kind's word first), length, icon, episode numbers, rating."""
    element = etree.Element("programme", _programme_times(slot, channel))
    item = slot.item
    etree.SubElement(element, "title").text = slot.title
    if slot.artist:
        etree.SubElement(element, "sub-title").text = slot.artist
    if item is not None and item.description:
        etree.SubElement(element, "desc").text = item.description
    words = [CATEGORY_WORDS[item.kind]] if item is not None and item.kind else []
    if slot.category and slot.category.lower() not in {word.lower() for word in words}:
        words.append(slot.category)
    for word in words:
        etree.SubElement(element, "category").text = word
    etree.SubElement(element, "length", units="seconds").text = str(whole_seconds(slot.seconds))
    if item is None:
        return element
    if item.image:
        etree.SubElement(element, "icon", src=item.image)
    if item.season is not None or item.episode is not None:
        for system, number in _episode_numbers(item.season, item.episode):
            etree.SubElement(element, "episode-num", system=system).text = number
    if item.rating:
        etree.SubElement(etree.SubElement(element, "rating"), "value").text = item.rating
    return element


def _episode_numbers(season: int | None, episode: int | None) -> list[tuple[str, str]]:
    """xmltv_ns counts from zero ("0.1." is season 1, episode 2); onscreen is what viewers read (S01E02)."""
    zero_based = f"{'' if season is None else season - 1}.{'' if episode is None else episode - 1}."
    onscreen = ("" if season is None else f"S{season:02}") + ("" if episode is None else f"E{episode:02}")
    return [("xmltv_ns", zero_based), ("onscreen", onscreen)]


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
    children: list[tuple[str, etree._Element]] = []
    for child in list(element):
        element.remove(child)
        child.tail = None
        if isinstance(tag := child.tag, str) and tag in positions and _conform(child, tag):
            children.append((tag, child))
    children.sort(key=lambda pair: positions[pair[0]])  # stable: same-name children keep their order
    counts: dict[str, int] = {}
    kept_children: list[etree._Element] = []
    for tag, child in children:
        count = counts[tag] = counts.get(tag, 0) + 1
        maximum = model[positions[tag]][2]
        if maximum is None or count <= maximum:
            kept_children.append(child)
    if any(counts.get(child_name, 0) < minimum for child_name, minimum, _ in model):
        return False
    element.text = None
    element.extend(kept_children)
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
