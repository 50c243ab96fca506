"""XMLTV listings (`<tv>`, xmltv.dtd): streaming reader and lenient/strict rules.

Finding codes follow XMLTV's tv_validate_file (XMLTV::ValidateFile) where it has one: notvalid, invalidid,
duplicateid, unknownid, noprogrammes, channelnoprogramme, emptytitle, emptydescription, badstart, badstop,
badepisode, badiso8859, badentity. OnAir adds checks it lacks: real dates, offsets within ±14:00, stop not
before start, duplicates, overlaps, missing time zones and stops. docs/FORMATS.md lists every code.

Lenient mode (the default) keeps whatever is usable and lists the rest as warnings; only findings that make
a programme or channel unusable are errors. Strict mode judges the file as tv_validate_file would: every
finding is an error.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from onair.errors import Finding
from onair.models import (
    Clump,
    ProgrammeSpool,
    XmltvChannel,
    XmltvListing,
    XmltvProgramme,
    clump_parts,
    fixed_offset,
    read_clumpidx,
)
from onair.readers import xmltv_dtd as dtd
from onair.readers.findings import MAX_FINDINGS, Findings

# The elements the parser hands the reader: Python sees two events per programme, not one per element.
READ_TAGS = ("channel", "programme")
MAX_OFFSET = timedelta(hours=14)
_PROGRAMME_FIELDS = set(XmltvProgramme.model_fields)

_TIME = re.compile(r"^(?P<digits>\d+)(?P<space>\s*)(?P<zone>[+-]\d{4}|[A-Za-z]+)?$")
# Named zones XMLTV files use (the DTD's own example is BST). Only unambiguous abbreviations: IST (India,
# Ireland, Israel) and the like are refused rather than guessed.
# fmt: off
_ZONES = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120,
    "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "EST": -300, "EDT": -240,
    "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480,
    "HST": -600, "JST": 540, "KST": 540, "AWST": 480, "ACST": 570, "ACDT": 630, "AEST": 600,
    "AEDT": 660, "NZST": 720, "NZDT": 780,
}
# fmt: on
# tv_validate_file's channel-id check: RFC 2838 style, at least one dot.
_CHANNEL_ID = re.compile(r"^[-a-zA-Z0-9]+(\.[-a-zA-Z0-9]+)+$")
# tv_validate_file's xmltv_ns check: three dot-separated parts, each "n" or "n/total" or empty.
_PART = r"\s*\d*(?:\s*/\s*\d+)?\s*"
_XMLTV_NS = re.compile(rf"^{_PART}\.{_PART}\.{_PART}$")
# An entity reference that survived parsing: double-escaped (&amp;amp;) or undefined (&nbsp; with a DOCTYPE).
_ENTITY_TEXT = re.compile(r"&(?:[A-Za-z_:][\w.:-]*|#[0-9]+|#x[0-9A-Fa-f]+);")
_C1 = re.compile("[\x80-\x9f]")
# What _scan_text looks for, as it appears in the serialized (ASCII) element: most elements have neither.
_ESCAPED_ENTITY = re.compile(r"&amp;(?:[A-Za-z_:][\w.:-]*|#[0-9]+|#x[0-9A-Fa-f]+);")
_C1_REFERENCE = re.compile(r"&#(?:12[89]|1[3-5][0-9]);")


def _suspect_text(xml: str) -> bool:
    return ("&amp;" in xml and _ESCAPED_ENTITY.search(xml) is not None) or (
        "&#1" in xml and _C1_REFERENCE.search(xml) is not None
    )


_ISO8859 = re.compile(r"^(?:iso[-_ ]?8859[-_ ]?\d+|latin-?\d+|l\d)$", re.IGNORECASE)

# Missing these makes the element unusable: an error even in lenient mode.
_ESSENTIAL_ATTRIBUTES = frozenset({("programme", "start"), ("programme", "channel"), ("channel", "id")})
_ESSENTIAL_CHILDREN = frozenset({("programme", "title")})


class XmltvTimeError(ValueError):
    pass


@dataclass(frozen=True)
class _Time:
    value: datetime
    zoned: bool
    nits: tuple[str, ...]  # usable, but not the form tv_validate_file accepts


@functools.lru_cache(maxsize=4096)  # a listing repeats its times: each stop is usually the next start
def _parse_time(text: str) -> _Time:
    match = _TIME.match(text.strip())
    if match is None:
        raise XmltvTimeError(f"'{text}' is not an XMLTV time (YYYYMMDDhhmmss +hhmm)")
    digits, zone = match["digits"], match["zone"]
    if len(digits) not in (8, 10, 12, 14):
        raise XmltvTimeError(f"'{text}' is not an XMLTV time: it needs at least YYYYMMDD (then hh, mm, ss)")
    nits: list[str] = []
    if len(digits) < 12:
        nits.append("has no minutes (tv_validate_file wants at least YYYYMMDDhhmm)")
    offset = timedelta(0)
    if zone and zone[0] in "+-":
        hours, minutes = int(zone[1:3]), int(zone[3:5])
        if minutes >= 60:
            raise XmltvTimeError(f"'{zone}' is not a UTC offset")
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if zone[0] == "-" else 1)
        if abs(offset) > MAX_OFFSET:
            raise XmltvTimeError(f"UTC offset {zone} is beyond ±14:00")
    elif zone:
        if zone.upper() not in _ZONES:
            raise XmltvTimeError(f"time zone '{zone}' is not one OnAir knows: give a numeric offset (+hhmm)")
        if zone != zone.upper():
            nits.append(f"writes the zone '{zone}' in lower case")
        offset = timedelta(minutes=_ZONES[zone.upper()])
    if zone and not match["space"]:
        nits.append("has no space before its zone")
    parts = [int(digits[index : index + 2]) for index in range(8, len(digits), 2)]
    hour, minute, second = [*parts, 0, 0, 0][:3]
    try:
        value = datetime(
            int(digits[:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            hour,
            minute,
            second,
            tzinfo=fixed_offset(offset),
        )
    except ValueError as error:
        raise XmltvTimeError(f"'{text}' is not a real date and time: {error}") from error
    try:  # every instant is stored, compared and written in UTC too: it must be a datetime there as well
        value.astimezone(UTC)
    except OverflowError as error:
        raise XmltvTimeError(f"'{text}' is outside years 1-9999 in UTC") from error
    return _Time(value, zone is not None, tuple(nits))


def parse_time(text: str) -> tuple[datetime, bool]:
    """An XMLTV time ('20261201183000 +0100', precision may stop at the day) and whether it had a zone."""
    parsed = _parse_time(text)
    return parsed.value, parsed.zoned


def format_time(value: datetime, iso: str | None = None) -> str:
    """An aware datetime as an XMLTV time that parse_time reads back to the same instant (whole seconds);
    `iso`: its isoformat(), when the caller has it.

    Not strftime: its %Y writes years before 1000 unpadded (and it takes 3 µs; isoformat, which pads
    them, 1). An offset XMLTV cannot write (seconds, as in local mean times before 1900, or beyond ±14:00)
    is given as the same instant in UTC."""
    if iso is None:
        iso = value.isoformat()  # "YYYY-MM-DDThh:mm:ss" and the suffix below
    suffix = iso[19:]  # "+hh:mm", or longer with microseconds or an offset's seconds
    zone = _xmltv_zone(suffix) if len(suffix) == 6 else None
    if zone is not None:
        return iso[:19].replace("-", "").replace("T", "").replace(":", "") + zone
    if value.microsecond:
        return format_time(value.replace(microsecond=0))
    offset = value.utcoffset() or timedelta(0)
    if offset % timedelta(minutes=1) or abs(offset) > MAX_OFFSET:
        try:
            value, offset = value.astimezone(UTC), timedelta(0)
        except OverflowError:  # that wall clock is past a year bound in UTC: keep it, offset in minutes
            offset = max(-MAX_OFFSET, min(MAX_OFFSET, offset - offset % timedelta(minutes=1)))
    minutes = abs(offset) // timedelta(minutes=1)
    sign = "-" if offset < timedelta(0) else "+"
    return (
        f"{value.year:04}{value.month:02}{value.day:02}{value.hour:02}{value.minute:02}{value.second:02}"
        f" {sign}{minutes // 60:02}{minutes % 60:02}"
    )


@functools.cache  # one entry per offset in whole minutes
def _xmltv_zone(offset: str) -> str | None:
    """An isoformat() offset ("+01:00") as an XMLTV time writes it (" +0100"); None beyond ±14:00."""
    if offset[1:] > "14:00":
        return None
    return f" {offset[:3]}{offset[4:]}"


@dataclass(frozen=True)
class _Violation:
    message: str
    line: int | None
    path: str
    fatal: bool = False


@dataclass(frozen=True, slots=True)
class _Slot:
    """What the overlap check needs of a stored programme: the import keeps one per programme, so it is
    kept small (slots, and no path: the index makes it)."""

    start: datetime
    stop: datetime | None
    clump: Clump  # (0, 1) for a programme that is no part of a clump
    index: int  # document order among the programmes: its path is /tv/programme[index]
    line: int | None
    title: str


def read_xmltv(
    root: etree._Element, elements: Iterator[etree._Element], *, strict: bool
) -> tuple[XmltvListing, ProgrammeSpool | None, list[Finding]]:
    """Consume the rest of the element stream under <tv>; each child leaves the tree once read (constant
    memory). The listing holds its programmes, or, past a thousand, none: they are in the spool."""
    return _Reader(root, strict).read(elements)


class _Reader:
    def __init__(self, root: etree._Element, strict: bool) -> None:
        self.root = root
        self.findings = Findings(strict)
        self.channels: dict[str, XmltvChannel] = {}
        self.channel_places: dict[str, tuple[int | None, str]] = {}
        self.programmes = ProgrammeSpool()
        self.channel_ids: dict[str, str] = {}
        self.slots: dict[str, list[_Slot]] = {}
        self.seen: dict[tuple[object, ...], int | None] = {}
        self.used: dict[str, tuple[int | None, str]] = {}  # channel id -> first programme using it
        self.counts: dict[str, int] = {}  # children of <tv> by name, for paths
        self.c1_hits: list[tuple[int | None, str, str]] = []
        self.c1_total = 0

    def read(
        self, elements: Iterator[etree._Element]
    ) -> tuple[XmltvListing, ProgrammeSpool | None, list[Finding]]:
        for violation in _check_attributes(self.root, "tv", "/tv"):
            self._notvalid(violation)
        self._check_namespaces()
        after_programme = False
        root = self.root
        for element in elements:
            if element.getparent() is not root:  # only whole children of <tv> are read, subtrees intact
                continue
            # Every child before this one is complete (the stream brings only channels and programmes,
            # READ_TAGS: any other child is taken here too, in document order). Each is read once out of
            # the tree: inside it, lxml would copy every namespace <tv> declares into the element's DTD
            # check and its serialization, a cost per element that grows with their square.
            while root[0] is not element:
                after_programme = self._read_detached(root[0], after_programme)
        while len(root):
            after_programme = self._read_detached(root[0], after_programme)
        if (self.root.text or "").strip():
            self._notvalid(_Violation("text directly inside <tv>", self.root.sourceline, "/tv"))
        self._finish()
        return self._result()

    def _read_detached(self, child: etree._Element, after_programme: bool) -> bool:
        del self.root[0]  # the namespaces its subtree uses are declared on it (libxml2 reconciles them)
        after_programme = self._read_child(child, after_programme)
        self._check_tail(child)
        return after_programme

    def _check_namespaces(self) -> None:
        """tv_validate_file reads a namespace declaration as an attribute the DTD does not declare."""
        for prefix in self.root.nsmap:  # the root's own: it has no ancestors
            name = f"xmlns:{prefix}" if prefix else "xmlns"
            message = f"<tv> declares the namespace {name}: XMLTV uses none (extensions are kept, not read)"
            self._notvalid(_Violation(message, self.root.sourceline, f"/tv/@{name}"))

    def _read_child(self, element: etree._Element, after_programme: bool) -> bool:
        if not isinstance(element.tag, str):
            return after_programme
        name = element.tag
        index = self.counts[name] = self.counts.get(name, 0) + 1
        path = f"/tv/{name}[{index}]"
        if name == "channel":
            if after_programme:
                message = "<channel> after a <programme>: the DTD puts every channel first"
                self._notvalid(_Violation(message, element.sourceline, path))
            self._read_channel(element, path)
        elif name == "programme":
            self._read_programme(element, path)
            return True
        else:
            self._notvalid(_unknown(element, name, "tv", path))
        return after_programme

    def _check_tail(self, element: etree._Element) -> None:
        if (element.tail or "").strip():
            line = element.sourceline
            self._notvalid(_Violation("text directly inside <tv>", line, "/tv"))
        element.tail = None

    def _notvalid(self, violation: _Violation) -> None:
        self.findings.add(
            "notvalid", violation.message, violation.line, violation.path, fatal=violation.fatal
        )

    def _checked_xml(self, element: etree._Element, name: str, path: str) -> tuple[str, bool]:
        """DTD rules (libxml2 in C; the Python walk only to say what fails) and text checks; the element
        serialized as it will be stored, and whether that is in the guide's form (a programme only)."""
        valid = dtd.is_valid(element)
        for violation in () if valid else _validate(element, name, path):
            self._notvalid(violation)
        _entities_to_text(element)
        guide_form = valid and name == "programme"  # valid: no namespace (the parse drops comments, PIs)
        if guide_form:
            _to_guide_form(element)
        xml = _serialize(element)
        if _suspect_text(xml):
            self._scan_text(element, path)
        return xml, guide_form

    # --- channels -------------------------------------------------------------------------------------

    def _read_channel(self, element: etree._Element, path: str) -> None:
        line = element.sourceline
        fatal_before = self.findings.fatal_total
        xml, _ = self._checked_xml(element, "channel", path)
        channel_id = element.get("id")
        if channel_id is None:
            return
        if not channel_id.strip():
            self.findings.add("invalidid", "the channel id is empty", line, f"{path}/@id", fatal=True)
            return
        if not _CHANNEL_ID.match(channel_id):
            message = f"channel id '{channel_id}' is not of the form name.domain (e.g. bbc1.bbc.co.uk)"
            self.findings.add("invalidid", message, line, f"{path}/@id")
        channel_id = channel_id.strip()
        if channel_id in self.channels:
            first_line = self.channel_places[channel_id][0]
            message = (
                f"channel '{channel_id}' is declared again (first at line {first_line}); this one is dropped"
            )
            self.findings.add("duplicateid", message, line, path)
            return
        if self.findings.fatal_total == fatal_before:
            self.channels[channel_id] = XmltvChannel(id=channel_id, xml=xml)
            self.channel_places[channel_id] = (line, path)

    # --- programmes -----------------------------------------------------------------------------------

    def _read_programme(self, element: etree._Element, path: str) -> None:
        findings, line = self.findings, element.sourceline
        fatal_before = findings.fatal_total
        xml, guide_form = self._checked_xml(element, "programme", path)

        channel = element.get("channel")
        if channel is not None and not channel.strip():
            findings.add("notvalid", "the channel attribute is empty", line, f"{path}/@channel", fatal=True)
        elif channel is not None:
            channel = channel.strip()
            self.used.setdefault(channel, (line, path))
        start = self._time(element, "start", path)
        stop = self._time(element, "stop", path)
        if element.get("stop") is None:
            findings.add("nostop", "no stop time: the next programme's start ends it", line, path)
        if start and stop and stop < start:
            message = f"stop {element.get('stop')} is before start {element.get('start')}"
            findings.add("badstop", message, line, f"{path}/@stop", fatal=True)
        elif start and stop and stop == start:
            findings.add("zerolength", "stop equals start: the programme has no airtime", line, path)

        title = self._check_titles(element, path)
        self._check_descriptions(element, path)
        self._check_episodes(element, path)
        clump = self._clump(element, path)
        if findings.fatal_total > fatal_before or start is None or not channel:
            return
        channel = self.channel_ids.setdefault(channel, channel)  # one string per channel id, kept below
        key = (channel, start, stop, title, clump)
        if key in self.seen:
            message = f"the same programme as line {self.seen[key]} (channel, start, stop, title): dropped"
            findings.add("duplicate", message, line, path)
            return
        self.seen[key] = line
        # Checked above, so constructed without validation; the shared fields set and the interned channel
        # id keep a large listing's programmes at a quarter of the memory a validated model takes.
        self.programmes.append(
            XmltvProgramme.model_construct(
                # One fields set shared by all of them (730 bytes each otherwise; the models are frozen, and
                # model_copy copies it before it adds to it)
                _PROGRAMME_FIELDS,
                channel=channel,
                start=start,
                stop=stop,
                title=title,
                xml=xml,
                clump=clump,
                guide_form=guide_form,
            )
        )
        index = self.counts["programme"]
        slot = _Slot(start, stop, clump or (0, 1), index, line, title)
        self.slots.setdefault(channel, []).append(slot)

    def _time(self, element: etree._Element, attribute: str, path: str) -> datetime | None:
        text = element.get(attribute)
        if text is None:  # a missing start is reported by the DTD check
            return None
        code, line, where = f"bad{attribute}", element.sourceline, f"{path}/@{attribute}"
        try:
            parsed = _parse_time(text)
        except XmltvTimeError as error:
            self.findings.add(code, str(error), line, where, fatal=True)
            return None
        for nit in parsed.nits:
            self.findings.add(code, f"{attribute} '{text}' {nit}", line, where)
        if not parsed.zoned:
            message = f"{attribute} '{text}' has no UTC offset: read as UTC"
            self.findings.add("notimezone", message, line, where)
        return parsed.value

    def _check_titles(self, element: etree._Element, path: str) -> str:
        titles = list(element.iterchildren("title"))  # filtered in C: no proxy per other child
        texts = [(child.text or "").strip() for child in titles]
        if titles and not any(texts):
            self.findings.add(
                "emptytitle", "the title is empty", element.sourceline, f"{path}/title", fatal=True
            )
        for number, (child, text) in enumerate(zip(titles, texts, strict=True), start=1):
            if not text and any(texts):
                message = "an empty title (another title is not)"
                self.findings.add("emptytitle", message, child.sourceline, f"{path}/title[{number}]")
        return next((text for text in texts if text), "")

    def _check_descriptions(self, element: etree._Element, path: str) -> None:
        descriptions = list(element.iterchildren("desc"))  # filtered in C: no proxy per other child
        for number, child in enumerate(descriptions, start=1):
            if not (child.text or "").strip() and not len(child):
                message = "an empty <desc>: leave the element out when there is no description"
                self.findings.add("emptydescription", message, child.sourceline, f"{path}/desc[{number}]")

    def _check_episodes(self, element: etree._Element, path: str) -> None:
        episodes = list(element.iterchildren("episode-num"))  # filtered in C: no proxy per other child
        for number, child in enumerate(episodes, start=1):
            text = child.text or ""
            if (
                (child.get("system") or "").strip() == "xmltv_ns"
                and text.strip()
                and not _XMLTV_NS.match(text)
            ):
                message = (
                    f"episode-num '{text.strip()}' is not xmltv_ns (season . episode . part, zero-based)"
                )
                self.findings.add("badepisode", message, child.sourceline, f"{path}/episode-num[{number}]")

    def _clump(self, element: etree._Element, path: str) -> Clump | None:
        """The programme's clumpidx, None unless it makes the programme a part of a clump of two or more."""
        text = element.get("clumpidx")
        if text is None:
            return None
        clump = read_clumpidx(text)
        if clump is None:
            message = f"clumpidx '{text[:40]}' is not 'index/count' with index < count: read as 0/1"
            self.findings.add("badclumpidx", message, element.sourceline, f"{path}/@clumpidx")
            return None
        return clump if clump[1] > 1 else None

    def _scan_text(self, element: etree._Element, path: str) -> None:
        """badentity for entity references left in text; C1 characters kept for the encoding check.

        One walk in document order that numbers each node among its siblings as it goes (a path per node
        from its preceding siblings would be quadratic in an element's children)."""
        pending = [(element, path)]
        while pending:
            node, node_path = pending.pop()
            texts = [node.text or "", (node.tail or "") if node is not element else ""]
            texts.extend(value for _, value in attributes(node))
            text = "".join(texts)
            entity = _ENTITY_TEXT.search(text)
            if entity:
                message = f"text contains '{entity[0]}': an entity escaped twice or not defined in XML"
                self.findings.add("badentity", message, node.sourceline, node_path)
            control = _C1.search(text)
            if control:
                self.c1_total += 1
                if len(self.c1_hits) < MAX_FINDINGS:
                    self.c1_hits.append((node.sourceline, node_path, control[0]))
            numbers: dict[str, int] = {}
            children = []
            for child in node:
                if isinstance(child.tag, str):
                    number = numbers[child.tag] = numbers.get(child.tag, 0) + 1
                    children.append((child, f"{node_path}/{child.tag}[{number}]"))
            pending.extend(reversed(children))

    # --- the whole listing ----------------------------------------------------------------------------

    def _finish(self) -> None:
        findings = self.findings
        for channel_id, (line, path) in self.used.items():
            if channel_id not in self.channels:
                findings.add("unknownid", f"channel '{channel_id}' is used but not declared", line, path)
        for channel_id in sorted(self.slots.keys() - self.channels.keys()):  # the programmes' channels
            self.channels[channel_id] = XmltvChannel(
                id=channel_id, xml=_implicit_channel(channel_id), declared=False
            )
        if not self.counts.get("programme"):
            findings.add("noprogrammes", "the listing has no programmes", self.root.sourceline, "/tv")
        else:  # as tv_validate_file: a listing with no programmes at all is one finding, not one per channel
            for channel_id, (line, path) in self.channel_places.items():
                if channel_id not in self.used:
                    findings.add(
                        "channelnoprogramme", f"channel '{channel_id}' has no programmes", line, path
                    )
        for channel_id, slots in self.slots.items():
            for pair in _overlaps(slots):
                # reported on the later one in the document: the reader meets the conflict there
                other, slot = sorted(pair, key=lambda item: item.index)
                message = f"overlaps '{other.title}' (line {other.line}) on channel '{channel_id}'"
                findings.add("overlap", message, slot.line, f"/tv/programme[{slot.index}]")
        encoding = self.root.getroottree().docinfo.encoding or ""
        if self.c1_hits and _ISO8859.match(encoding):
            for line, path, char in self.c1_hits:
                message = (
                    f"control character U+{ord(char):04X} in a document declared {encoding}:"
                    " the file is probably Windows-1252"
                )
                findings.add("badiso8859", message, line, path)
            if self.c1_total > len(self.c1_hits):
                more = self.c1_total - len(self.c1_hits)
                findings.add("badiso8859", f"{more} more elements with control characters", None, "/tv")

    def _result(self) -> tuple[XmltvListing, ProgrammeSpool | None, list[Finding]]:
        self.findings.raise_if_any("the XMLTV listing")
        channels = list(self.channels.values())
        if self.programmes.spilled:
            return (
                XmltvListing(channels=channels, programmes=[]),
                self.programmes,
                self.findings.warnings("/tv"),
            )
        listing = XmltvListing(channels=channels, programmes=self.programmes.held)
        return listing, None, self.findings.warnings("/tv")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def _overlaps(slots: list[_Slot]) -> Iterator[tuple[_Slot, _Slot]]:
    """Each programme that overlaps one that started before (or with) it, with the first such one still
    on air (in start, stop, document order) that is not a part of its clump.

    Intervals are half-open [start, stop): back-to-back programmes and zero-length ones do not overlap.
    A missing stop is the channel's next later start; the last programme without one runs at least one second.
    Parts of one clump (same slot, different clumpidx of the same count) share their slot by design.

    One sweep in start order, O(n log n) however many programmes are on air at once. Instants are offsets
    from the epoch: a timedelta cannot overflow where a datetime does (9999-12-31 23:59:59 + 1 s).
    """
    starts = sorted({slot.start - _EPOCH for slot in slots})

    def timed(slot: _Slot) -> tuple[timedelta, timedelta, _Slot]:
        start = slot.start - _EPOCH
        if slot.stop is not None:
            return start, slot.stop - _EPOCH, slot
        following = bisect.bisect_right(starts, start)
        return start, starts[following] if following < len(starts) else start + _SECOND, slot

    intervals = sorted((timed(slot) for slot in slots), key=lambda item: item[:2])
    on_air: deque[int] = deque()  # positions in `intervals`, ascending; ended ones leave from the front
    ends: list[tuple[timedelta, int]] = []  # (stop, position) of those on air: a heap, the next to end first
    ended = [False] * len(intervals)
    clump = _ClumpSlot()
    for position, (start, stop, slot) in enumerate(intervals):
        if stop <= start:
            continue
        while ends and ends[0][0] <= start:
            ended[heapq.heappop(ends)[1]] = True
        while on_air and ended[on_air[0]]:
            on_air.popleft()
        if (start, stop) != clump.slot:
            clump = _ClumpSlot((start, stop))
        if on_air:
            first = intervals[on_air[0]]
            if first[:2] != (start, stop) or not clump_parts(first[2].clump, slot.clump):
                yield slot, first[2]
            else:
                # The first one on air shares this slot, so every one on air does (sorted by start and
                # stop, none ended): the answer is the first in the slot that is not this one's clump.
                other = clump.first_outside(slot)
                if other is not None:
                    yield slot, other
        heapq.heappush(ends, (stop, position))
        on_air.append(position)
        clump.add(slot)


class _ClumpSlot:
    """The programmes sharing one (start, stop) slot so far, indexed to find the first that is not a
    part of a given programme's clump in O(1)."""

    def __init__(self, slot: tuple[timedelta, timedelta] | None = None) -> None:
        self.slot = slot
        self.first: _Slot | None = None
        self.first_other_count: _Slot | None = None  # the first whose clump count differs from first's
        self.parts: dict[Clump, _Slot] = {}  # the first claiming each (index, count)

    def add(self, slot: _Slot) -> None:
        if self.first is None:
            self.first = slot
        elif self.first_other_count is None and slot.clump[1] != self.first.clump[1]:
            self.first_other_count = slot
        self.parts.setdefault(slot.clump, slot)

    def first_outside(self, slot: _Slot) -> _Slot | None:
        """Called when the first one here is a part of `slot`'s clump (so shares its count): the earliest
        with another count or claiming the same part."""
        candidates = [other for other in (self.first_other_count, self.parts.get(slot.clump)) if other]
        return min(candidates, key=lambda other: other.index, default=None)


# --- DTD checks -----------------------------------------------------------------------------------------


def _validate(element: etree._Element, name: str, path: str) -> list[_Violation]:
    """Check one element and its subtree against the content models and attribute lists above.

    Names are compared as lxml gives them: XMLTV has no namespace, so "{urn:x}title" is no title."""
    violations = _check_attributes(element, name, path)
    children = [(child, tag) for child in element if isinstance(tag := child.tag, str)]  # no comments, PIs
    texts = [element.text or ""] + [child.tail or "" for child in element]
    if name in dtd.EMPTY:
        if children or any(texts):
            violations.append(_Violation(f"<{name}> must be empty", element.sourceline, path))
        return violations
    if name in dtd.SEQUENCES and any(text.strip() for text in texts):
        violations.append(_Violation(f"text is not allowed directly in <{name}>", element.sourceline, path))
    numbers: dict[str, int] = {}
    for child, child_name in children:
        number = numbers[child_name] = numbers.get(child_name, 0) + 1
        child_path = f"{path}/{child_name}[{number}]"
        if child_name in dtd.ALLOWED_CHILDREN.get(name, ()):
            violations.extend(_validate(child, child_name, child_path))
        else:
            violations.append(_unknown(child, child_name, name, child_path))
    if name in dtd.SEQUENCES:
        violations.extend(_check_sequence(element, name, children, path))
    return violations


def _check_sequence(
    element: etree._Element, name: str, children: list[tuple[etree._Element, str]], path: str
) -> list[_Violation]:
    model, position = dtd.SEQUENCES[name], dtd.POSITIONS[name]
    violations: list[_Violation] = []
    counts: dict[str, int] = {}
    furthest = -1
    for child, child_name in children:
        if child_name not in position:
            continue
        number = counts[child_name] = counts.get(child_name, 0) + 1
        child_path = f"{path}/{child_name}[{number}]"
        if position[child_name] < furthest:
            message = f"<{child_name}> is out of order: the DTD puts it before <{model[furthest][0]}>"
            violations.append(_Violation(message, child.sourceline, child_path))
        else:
            furthest = position[child_name]
        maximum = model[position[child_name]][2]
        if maximum is not None and number > maximum:
            message = f"<{name}> allows only one <{child_name}>"
            violations.append(_Violation(message, child.sourceline, child_path))
    for child_name, minimum, _ in model:
        if counts.get(child_name, 0) < minimum:
            fatal = (name, child_name) in _ESSENTIAL_CHILDREN
            message = f"<{name}> needs a <{child_name}>"
            violations.append(_Violation(message, element.sourceline, path, fatal))
    return violations


def _check_attributes(element: etree._Element, name: str, path: str) -> list[_Violation]:
    allowed = dtd.ATTRIBUTES.get(name, {})
    violations: list[_Violation] = []
    line = element.sourceline
    for attribute, value in attributes(element):
        spec = allowed.get(attribute)
        if attribute.startswith("x-"):
            message = f"attribute '{attribute}' is an extension the DTD does not declare (kept)"
            violations.append(_Violation(message, line, f"{path}/@{attribute}"))
        elif spec is None:
            message = f"<{name}> has no attribute '{attribute}' in the DTD"
            violations.append(_Violation(message, line, f"{path}/@{attribute}"))
        elif (
            spec.values is not None and value not in spec.values
        ):  # as validated after parsing: not normalized
            expected = " | ".join(sorted(spec.values))
            message = f"{name}/@{attribute} '{value}' is not one of ({expected})"
            violations.append(_Violation(message, line, f"{path}/@{attribute}"))
    for attribute, spec in allowed.items():
        if spec.required and element.get(attribute) is None:
            fatal = (name, attribute) in _ESSENTIAL_ATTRIBUTES
            message = f"<{name}> needs a{'n' if attribute[0] in 'aeiou' else ''} {attribute} attribute"
            violations.append(_Violation(message, line, f"{path}/@{attribute}", fatal))
    return violations


def _unknown(element: etree._Element, name: str, parent: str, path: str) -> _Violation:
    if name.startswith("x-"):
        message = f"<{name}> is an extension the DTD does not declare (kept, not read)"
    elif name in dtd.SEQUENCES or name in dtd.TEXT or name in dtd.MIXED or name in dtd.EMPTY:
        message = f"<{name}> is not allowed in <{parent}>"
    else:
        message = f"<{name}> is not an XMLTV element (ignored)"
    return _Violation(message, element.sourceline, path)


# --- helpers --------------------------------------------------------------------------------------------


def _entities_to_text(element: etree._Element) -> None:
    """Undefined entity references (kept by the parser when a DOCTYPE names an external DTD) become their
    literal text, so the stored element serializes to well-formed XML; _scan_text reports them.

    Each text is assembled once: appending entity by entity would copy the growing text per entity."""
    entities = list(element.iter(etree.Entity))
    if not entities:
        return
    # Where each entity's literal goes: its parent's text, or the tail of the element before it (an entity
    # before it sends its literal to the same place).
    targets: dict[etree._Element, tuple[etree._Element, str]] = {}
    pieces: dict[tuple[etree._Element, str], list[str]] = {}
    for entity in entities:
        parent = entity.getparent()
        if parent is None:
            continue
        previous = entity.getprevious()
        if previous is None:
            target = (parent, "text")
        elif previous in targets:
            target = targets[previous]
        else:
            target = (previous, "tail")
        targets[entity] = target
        if target not in pieces:
            node, side = target
            pieces[target] = [(node.text if side == "text" else node.tail) or ""]
        pieces[target].append((entity.text or "") + (entity.tail or ""))
    for entity in targets:
        entity.getparent().remove(entity)  # type: ignore[union-attr]
    for (node, side), parts in pieces.items():
        if side == "text":
            node.text = "".join(parts)
        else:
            node.tail = "".join(parts)


def attributes(element: etree._Element) -> list[tuple[str, str]]:
    """An element's attributes as (name, value), names as lxml spells them ("{uri}local" when namespaced).

    Linear in their number, unlike `element.attrib.items()`, which looks each value up again by name
    (libxml2's xmlGetNsProp scans the list): 50,000 attributes on <tv> took seconds."""
    return [(value.attrname, str(value)) for value in _ATTRIBUTES(element)]


_ATTRIBUTES = etree.XPath("@*")


def _to_guide_form(element: etree._Element) -> None:
    """A programme that follows the DTD, made as guide.xml writes it at depth 1 (XmltvProgramme.guide_form):
    indented, start, stop (when it has one) and channel its first attributes."""
    names = element.keys()
    head = ["start", "stop", "channel"] if "stop" in names else ["start", "channel"]
    if names[: len(head)] != head:  # lxml appends each attribute set: clear, then set them in order
        values = dict(attributes(element))
        element.attrib.clear()
        for name in [*head, *(name for name in values if name not in head)]:
            element.set(name, values[name])
    etree.indent(element, space=" ", level=1)


def _serialize(element: etree._Element) -> str:
    """ASCII, other characters as references: an ASCII str is one byte a character and lends its bytes to
    the JSON encoder as they are, where a non-ASCII one takes 1-4 bytes a character and gains a cached UTF-8
    copy when pydantic-core writes schedule.json (tens of MiB for a large listing)."""
    return etree.tostring(element, encoding="us-ascii", with_tail=False).decode("ascii")


def _implicit_channel(channel_id: str) -> str:
    channel = etree.Element("channel", id=channel_id)
    etree.SubElement(channel, "display-name").text = channel_id
    return _serialize(channel)
