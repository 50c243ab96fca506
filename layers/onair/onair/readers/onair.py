"""OnAir rule-based schedules (`<schedule xmlns="urn:onair:schedule:1">`): reader and checks.

Three stages, each reported as Findings with a code, the element's line and an element path:
1. the namespace, then the XSD (schemas/onair-schedule-1.xsd): structure and value syntax ("notvalid");
   a document that fails here stops here, because the later checks rely on its structure;
2. semantic checks: time zone, unique ids, durations, references, block times and overlaps, events;
3. warnings (an unused item or pool, a channel without blocks): returned in lenient mode, errors in strict.
docs/FORMATS.md lists every code with an annotated example.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree
from pydantic import BaseModel, ValidationError

from onair.errors import Finding, InvalidSchedule, TooLarge
from onair.models import (
    MAX_ITEM_SECONDS,
    MAX_PLAYS_PER_DAY,
    MAX_PLAYS_PER_HOUR,
    MAX_SEPARATION_MINUTES,
    MAX_WEIGHT,
    MIN_ITEM_SECONDS,
    MIN_WEIGHT,
    STREAM_SCHEMES,
    WEB_SCHEMES,
    WEEKDAYS,
    Block,
    Channel,
    FixedEvent,
    Item,
    OnAirSchedule,
    Pool,
    PoolMember,
    Rules,
    seconds_of_day,
    url_problem,
)
from onair.readers.findings import MAX_FINDINGS, Findings
from onair.readers.xml import local_name

NAMESPACE = "urn:onair:schedule:1"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "onair-schedule-1.xsd"
# OnAir documents are checked as a whole tree (the XSD and cross-references need it). 100k elements take
# about 400 MB once parsed and modelled, within ImportFunction's memory (a run loads the model only).
MAX_ELEMENTS = 100_000
_DURATION = re.compile(r"^PT(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?$")
_ATTRIBUTE_IN_MESSAGE = re.compile(r"attribute '([^']+)'")
# Rule attribute -> (model field, largest value, unit in messages). Values are read with their digits
# counted first: Python refuses int() of more than 4,300 digits, and the XSD lets any integer through.
RULE_LIMITS = {
    "artist-separation": ("artist_separation", MAX_SEPARATION_MINUTES, " minutes"),
    "title-separation": ("title_separation", MAX_SEPARATION_MINUTES, " minutes"),
    "max-plays-per-hour": ("max_plays_per_hour", MAX_PLAYS_PER_HOUR, ""),
    "max-plays-per-day": ("max_plays_per_day", MAX_PLAYS_PER_DAY, ""),
}
QUOTED = 40  # characters of an attribute value quoted in a message
MAX_MESSAGE = 300  # characters of a schema finding's message

M = TypeVar("M", bound=BaseModel)


def parse_duration(text: str) -> float:
    """Seconds in an xs:duration limited to hours, minutes and seconds ('PT3M30S')."""
    match = _DURATION.match(text.strip())
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"'{text}' is not a duration like PT3M30S")
    return float(match["h"] or 0) * 3600 + float(match["m"] or 0) * 60 + float(match["s"] or 0)


@cache
def schema() -> etree.XMLSchema:
    """The XSD, parsed once per process with the same hardening as documents (it imports nothing)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser))


def element_path(element: etree._Element, attribute: str | None = None) -> str:
    """`/schedule/blocks/block[2]` (+ `/@pool`): entries of a section are always numbered from 1."""
    parts: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        name = local_name(node)
        if parent is not None:
            siblings = [sibling for sibling in parent if sibling.tag == node.tag]
            if parent.getparent() is not None or len(siblings) > 1:
                name = f"{name}[{siblings.index(node) + 1}]"
        parts.append(name)
        node = parent
    path = "/" + "/".join(reversed(parts))
    return f"{path}/@{attribute}" if attribute else path


class _Findings(Findings):
    """Findings located by element (its line and path), as the checks below meet them."""

    def error(self, code: str, message: str, element: etree._Element, attribute: str | None = None) -> None:
        self.add(code, message, element.sourceline, element_path(element, attribute), fatal=True)

    def warn(self, code: str, message: str, element: etree._Element, attribute: str | None = None) -> None:
        self.add(code, message, element.sourceline, element_path(element, attribute))


def read_onair(
    root: etree._Element, elements: Iterator[etree._Element], *, strict: bool
) -> tuple[OnAirSchedule, list[Finding]]:
    # Read the whole tree, then check it; refuse one too big to hold.
    for count, element in enumerate(elements, start=1):
        if count > MAX_ELEMENTS:
            raise TooLarge(
                f"the OnAir schedule has more than {MAX_ELEMENTS} elements",
                details=[
                    Finding("toomany", f"element {count} of at most {MAX_ELEMENTS}", element.sourceline)
                ],
            )
    if etree.QName(root).namespace != NAMESPACE:
        raise InvalidSchedule(
            "the OnAir schedule is in the wrong namespace",
            details=[
                Finding(
                    "namespace",
                    f"<schedule> must be in the namespace {NAMESPACE}",
                    root.sourceline,
                    None,
                    "/schedule",
                )
            ],
        )
    _validate_xsd(root)
    findings = _Findings(strict)
    schedule = _Reader(root, findings).read()
    findings.raise_if_any("the OnAir schedule")
    assert schedule is not None  # every way to None records an error, raised just above
    return schedule, findings.warnings("/schedule")


def _validate_xsd(root: etree._Element) -> None:
    validator = schema()
    if validator.validate(root):
        return
    tree = root.getroottree()
    findings: list[Finding] = []
    for entry in list(validator.error_log)[:MAX_FINDINGS]:
        message = entry.message.replace(f"{{{NAMESPACE}}}", "")
        if len(message) > MAX_MESSAGE:  # libxml2 quotes the whole value, which may be megabytes long
            message = message[: MAX_MESSAGE - 1] + "…"
        attribute = _ATTRIBUTE_IN_MESSAGE.search(message)
        findings.append(
            Finding(
                "notvalid",
                message,
                entry.line or None,
                entry.column or None,  # libxml2 validates a tree: nodes keep their line, not their column
                _readable_path(tree, entry.path, attribute[1] if attribute else None),
            )
        )
    raise InvalidSchedule(
        f"the OnAir schedule does not match its schema ({len(findings)} error(s))", details=findings
    )


def _readable_path(tree: etree._ElementTree, xpath: str | None, attribute: str | None) -> str | None:
    """libxml2 names nodes like `/*/*[3]/*[2]`; the element it points at gives the path users read."""
    if not xpath:
        return None
    try:
        found = tree.xpath(xpath)
    except etree.XPathError:
        return xpath
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return element_path(found[0], attribute)
    return xpath


def _token(value: str | None) -> str | None:
    """Attribute text as the XSD read it: xs:token collapses whitespace."""
    return " ".join(value.split()) if value is not None else None


def _days(value: str) -> list[str]:
    named = set(value.split())
    return [day for day in WEEKDAYS if day in named]  # week order, each day once


def bounded_integer(text: str, largest: int) -> int | None:
    """The value of an xs:integer text if 0 <= value <= largest, else None, whatever its digit count."""
    body = text.strip()
    digits = body.lstrip("+-").lstrip("0") or "0"
    if not digits.isdigit() or len(digits) > len(str(largest)):
        return None
    value = -int(digits) if body.startswith("-") else int(digits)
    return value if 0 <= value <= largest else None


def _ordinal(text: str | None) -> int | None:
    return None if text is None else int(text)  # the XSD allows 1 to 5 digits, no sign or leading zero


def _quoted(text: str) -> str:
    return f"'{text}'" if len(text) <= QUOTED else f"'{text[:QUOTED]}…' ({len(text)} characters)"


def _section(root: etree._Element, section: str) -> list[etree._Element]:
    return [element for group in root if local_name(group) == section for element in group]


class _Reader:
    """Builds the models from a schema-valid tree and runs every semantic check, collecting findings."""

    def __init__(self, root: etree._Element, findings: _Findings) -> None:
        self.root = root
        self.findings = findings
        self.declared: dict[str, set[str]] = {"channel": set(), "item": set(), "pool": set()}
        self.unbuilt: set[etree._Element] = set()  # elements with an error already reported: no model

    def read(self) -> OnAirSchedule | None:
        timezone = _token(self.root.get("timezone")) or ""
        self._check_timezone(timezone)
        channels = self._channels()
        items, categories = self._items()
        pools = self._pools(items, categories)
        rules = self._rules(channels)
        blocks = self._blocks(channels, pools)
        events = self._events(channels, items)
        self._warn_unused(channels, items, pools, blocks, events)
        if self.findings.errors:
            return None
        return self._build(
            OnAirSchedule,
            {
                "timezone": timezone,
                "channels": [model for model, _ in channels.values()],
                "items": [model for model, _ in items.values()],
                "pools": [model for model, _ in pools.values()],
                "rules": [model for model, _ in rules],
                "blocks": [model for model, _ in blocks],
                "events": [model for model, _ in events],
            },
            self.root,
        )

    # --- model building -------------------------------------------------------------------------

    def _build(self, model: type[M], values: dict[str, Any], element: etree._Element) -> M | None:
        """The schema already checked syntax, so a failure here means a rule the XSD cannot express."""
        try:
            return model.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as error:
            for problem in error.errors():
                field = ".".join(str(part) for part in problem["loc"])
                self.findings.error("notvalid", f"{field}: {problem['msg']}", element)
            return None

    def _unique(
        self, kind: str, entries: Iterable[tuple[str, M | None, etree._Element]]
    ) -> dict[str, tuple[M, etree._Element]]:
        """Id -> (model, element) of the first of each id; later ones are reported. Entries whose model
        failed to build still count as declared (None model), so references to them are not "unresolved"."""
        first: dict[str, etree._Element] = {}
        built: dict[str, tuple[M, etree._Element]] = {}
        for identifier, model, element in entries:
            if identifier in first:
                self.findings.error(
                    "duplicateid",
                    f"{kind} id '{identifier}' is already declared on line {first[identifier].sourceline}",
                    element,
                    "id",
                )
                continue
            first[identifier] = element
            if model is not None:
                built[identifier] = (model, element)
        self.declared[kind] = set(first)
        return built

    def _resolve(self, kind: str, identifier: str | None, element: etree._Element, attribute: str) -> None:
        if identifier is not None and identifier not in self.declared[kind]:
            self.findings.error("unresolved", f"no {kind} has the id '{identifier}'", element, attribute)

    # --- sections -------------------------------------------------------------------------------

    def _check_timezone(self, timezone: str) -> None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.findings.error("timezone", f"'{timezone}' is not an IANA time zone", self.root, "timezone")

    def _channels(self) -> dict[str, tuple[Channel, etree._Element]]:
        entries = []
        for element in _section(self.root, "channels"):
            identifier = _token(element.get("id")) or ""
            values = {
                "id": identifier,
                "name": self._visible(element, "name"),
                "number": _token(element.get("number")),
                "logo": self._url(element, "logo", WEB_SCHEMES),
                "group": self._visible(element, "group"),
                "stream": self._url(element, "stream", STREAM_SCHEMES),
                "slate": self._url(element, "slate", WEB_SCHEMES),
            }
            model = None if element in self.unbuilt else self._build(Channel, values, element)
            entries.append((identifier, model, element))
        channels = self._unique("channel", entries)
        self._check_guide_ids(channels)
        self._check_numbers(channels)
        return channels

    def _check_guide_ids(self, channels: dict[str, tuple[Channel, etree._Element]]) -> None:
        """Two ids that would be published under one guide id (only ever by a hash collision): refused,
        since players would merge the two channels' guides."""
        first: dict[str, etree._Element] = {}
        for channel, element in channels.values():
            other = first.setdefault(channel.guide_id, element)
            if other is not element:
                self.findings.error(
                    "guideid",
                    f"channel '{channel.id}' would be published under the guide id '{channel.guide_id}' of "
                    f"the channel on line {other.sourceline}: rename one of them",
                    element,
                    "id",
                )

    def _check_numbers(self, channels: dict[str, tuple[Channel, etree._Element]]) -> None:
        first: dict[str, etree._Element] = {}
        for channel, element in channels.values():
            if channel.number is None:
                continue
            other = first.setdefault(channel.number, element)
            if other is not element:
                self.findings.warn(
                    "duplicatenumber",
                    f"channel number {channel.number} is already the number of the channel on line "
                    f"{other.sourceline}: players list both under one number",
                    element,
                    "number",
                )

    def _url(self, element: etree._Element, attribute: str, schemes: tuple[str, ...]) -> str | None:
        """The attribute's URL, or None (absent, or reported as badurl: the element is then not built)."""
        text = _token(element.get(attribute))
        if text is None:
            return None
        problem = url_problem(text, schemes)
        if problem is not None:
            self.findings.error("badurl", f"{attribute} {_quoted(text)} {problem}", element, attribute)
            self.unbuilt.add(element)
        return text

    def _visible(self, element: etree._Element, attribute: str) -> str | None:
        """The attribute's text; one of only (Unicode) spaces is reported as blank, as XMLTV's
        tv_validate_file would report the guide's empty title or description."""
        text = element.get(attribute)
        if text is not None and not text.strip():
            self.findings.error("blank", f"{attribute} has no visible character", element, attribute)
            self.unbuilt.add(element)
        return text

    def _items(self) -> tuple[dict[str, tuple[Item, etree._Element]], set[str]]:
        entries = []
        categories: set[str] = set()
        for element in _section(self.root, "library"):
            identifier = _token(element.get("id")) or ""
            category = _token(element.get("category"))
            if category is not None:
                categories.add(category)
            entries.append((identifier, self._item(identifier, category, element), element))
        return self._unique("item", entries), categories

    def _item(self, identifier: str, category: str | None, element: etree._Element) -> Item | None:
        duration_text = element.get("duration", "")
        try:
            duration = parse_duration(duration_text)
        except ValueError as error:
            self.findings.error("badduration", str(error), element, "duration")
            return None
        if not MIN_ITEM_SECONDS <= duration <= MAX_ITEM_SECONDS:
            what = "not positive" if duration <= 0 else "too short" if duration < 1 else "too long"
            self.findings.error(
                "badduration",
                f"duration {_quoted(duration_text)} is {what}: an item lasts from PT1S to PT24H",
                element,
                "duration",
            )
            return None
        weight_text = element.get("weight", "1")
        weight = float(weight_text)  # the XSD checked an xs:decimal; 400 digits are float inf
        if not MIN_WEIGHT <= weight <= MAX_WEIGHT:
            self.findings.error(
                "badweight",
                f"weight {_quoted(weight_text)} is out of range: a weight is from {MIN_WEIGHT:g} "
                f"to {MAX_WEIGHT:g}",
                element,
                "weight",
            )
            return None
        if element.get("artist") is not None and element.get("series") is not None:
            self.findings.error("conflict", "an item has an artist or a series, not both", element, "series")
            return None
        values = {
            "id": identifier,
            "title": self._visible(element, "title"),
            "artist": element.get("artist"),
            "series": element.get("series"),
            "duration": duration,
            "category": category,
            "uri": _token(element.get("uri")),
            "weight": weight,
            "description": self._visible(element, "description"),
            "season": _ordinal(element.get("season")),
            "episode": _ordinal(element.get("episode")),
            "image": self._url(element, "image", WEB_SCHEMES),
            "rating": self._visible(element, "rating"),
            "kind": _token(element.get("kind")),
        }
        return None if element in self.unbuilt else self._build(Item, values, element)

    def _pools(
        self, items: dict[str, tuple[Item, etree._Element]], categories: set[str]
    ) -> dict[str, tuple[Pool, etree._Element]]:
        entries = []
        for element in _section(self.root, "pools"):
            identifier = _token(element.get("id")) or ""
            members: list[PoolMember] = []
            for member in element:
                reference = _token(member.get("ref")) or ""
                if local_name(member) == "item":
                    self._resolve("item", reference, member, "ref")
                    members.append(PoolMember(item=reference))
                else:
                    if reference not in categories:
                        self.findings.error(
                            "unresolved", f"no item has the category '{reference}'", member, "ref"
                        )
                    members.append(PoolMember(category=reference))
            values = {"id": identifier, "order": element.get("order"), "members": members}
            entries.append((identifier, self._build(Pool, values, element), element))
        return self._unique("pool", entries)

    def _rules(
        self, channels: dict[str, tuple[Channel, etree._Element]]
    ) -> list[tuple[Rules, etree._Element]]:
        rules: list[tuple[Rules, etree._Element]] = []
        scopes: dict[str | None, etree._Element] = {}
        for element in _section(self.root, "rules"):
            channel = _token(element.get("channel"))
            self._resolve("channel", channel, element, "channel")
            if channel in scopes:
                scope = f"channel '{channel}'" if channel else "every channel"
                self.findings.error(
                    "duplicaterule",
                    f"the rules for {scope} are already given on line {scopes[channel].sourceline}",
                    element,
                    "channel" if channel else None,
                )
                continue
            scopes[channel] = element
            values: dict[str, Any] = {"channel": channel}
            in_range = True
            for attribute, (field, largest, unit) in RULE_LIMITS.items():
                text = element.get(attribute)
                if text is None:
                    continue
                values[field] = bounded_integer(text, largest)
                if values[field] is None:
                    in_range = False
                    self.findings.error(
                        "badrule",
                        f"{attribute} {_quoted(text)} is out of range: at most {largest}{unit} "
                        "(a larger value could never apply in a run)",
                        element,
                        attribute,
                    )
            if not in_range:
                continue
            model = self._build(Rules, values, element)
            if model is not None:
                rules.append((model, element))
        return rules

    def _blocks(
        self,
        channels: dict[str, tuple[Channel, etree._Element]],
        pools: dict[str, tuple[Pool, etree._Element]],
    ) -> list[tuple[Block, etree._Element]]:
        blocks: list[tuple[Block, etree._Element]] = []
        for element in _section(self.root, "blocks"):
            days = _days(element.get("days", ""))
            values = {
                "channel": _token(element.get("channel")),
                "start": _token(element.get("start")),
                "end": _token(element.get("end")),
                "pool": _token(element.get("pool")),
                "filler": _token(element.get("filler")),
            }
            self._resolve("channel", values["channel"], element, "channel")
            self._resolve("pool", values["pool"], element, "pool")
            self._resolve("pool", values["filler"], element, "filler")
            start, end = seconds_of_day(values["start"] or ""), seconds_of_day(values["end"] or "")
            if start >= 86400:
                self.findings.error("badtime", "a block starts before 24:00", element, "start")
                continue
            if end <= start:
                self.findings.error(
                    "badtime",
                    f"the block ends ({values['end']}) before it starts ({values['start']}); blocks do not "
                    "cross midnight: split it in two, the second starting at 00:00 on the next day",
                    element,
                    "end",
                )
                continue
            model = self._build(Block, {**values, "days": days}, element)
            if model is not None:
                blocks.append((model, element))
        self._check_overlaps(
            [(b.channel, b.days, b.start_seconds, b.end_seconds, e) for b, e in blocks], "block"
        )
        return blocks

    def _events(
        self,
        channels: dict[str, tuple[Channel, etree._Element]],
        items: dict[str, tuple[Item, etree._Element]],
    ) -> list[tuple[FixedEvent, etree._Element]]:
        events: list[tuple[FixedEvent, etree._Element]] = []
        for element in _section(self.root, "events"):
            days = _days(element.get("days", ""))
            values = {
                "channel": _token(element.get("channel")),
                "time": _token(element.get("time")),
                "item": _token(element.get("item")),
            }
            self._resolve("channel", values["channel"], element, "channel")
            self._resolve("item", values["item"], element, "item")
            if seconds_of_day(values["time"] or "") >= 86400:
                self.findings.error(
                    "outsideday",
                    "a fixed event starts within its day: 00:00 <= time < 24:00",
                    element,
                    "time",
                )
                continue
            model = self._build(FixedEvent, {**values, "days": days}, element)
            if model is not None:
                events.append((model, element))
        # Two events of a channel that overlap by their items' durations cannot both start on time.
        timed = [
            (
                event.channel,
                event.days,
                event.time_seconds,
                event.time_seconds + items[event.item][0].duration,
                e,
            )
            for event, e in events
            if event.item in items
        ]
        self._check_overlaps(timed, "event")
        return events

    def _check_overlaps(
        self, spans: Sequence[tuple[str, Sequence[str], float, float, etree._Element]], kind: str
    ) -> None:
        """Per channel and weekday, a sweep in start order: each span is checked against the one that
        reaches furthest so far. One finding per overlapping pair, listing its days."""
        by_day: dict[tuple[str, str], list[tuple[float, float, etree._Element]]] = defaultdict(list)
        for channel, days, start, end, element in spans:
            for day in days:
                by_day[(channel, day)].append((start, end, element))
        clashes: dict[tuple[etree._Element, etree._Element], list[str]] = {}
        order = {element: index for index, (*_, element) in enumerate(spans)}
        for (_, day), day_spans in sorted(by_day.items(), key=lambda entry: WEEKDAYS.index(entry[0][1])):
            day_spans.sort(key=lambda span: (span[0], order[span[2]]))
            reach: tuple[float, float, etree._Element] | None = None
            for span in day_spans:
                if reach is not None and span[0] < reach[1]:
                    clashes.setdefault((reach[2], span[2]), []).append(day)
                if reach is None or span[1] > reach[1]:
                    reach = span
        for (earlier, later), days in sorted(clashes.items(), key=lambda clash: order[clash[0][1]]):
            self.findings.error(
                "overlap",
                f"this {kind} overlaps {element_path(earlier)} (line {earlier.sourceline}) on {' '.join(days)}",
                later,
            )

    def _warn_unused(
        self,
        channels: dict[str, tuple[Channel, etree._Element]],
        items: dict[str, tuple[Item, etree._Element]],
        pools: dict[str, tuple[Pool, etree._Element]],
        blocks: list[tuple[Block, etree._Element]],
        events: list[tuple[FixedEvent, etree._Element]],
    ) -> None:
        # A schedule with no pools plays its whole library: "unused" only means something once pools exist.
        if pools:
            used_items = {event.item for event, _ in events}
            used_categories: set[str] = set()
            for pool, _ in pools.values():
                used_items.update(m.item for m in pool.members if m.item is not None)
                used_categories.update(m.category for m in pool.members if m.category is not None)
            for identifier, (item, element) in items.items():
                if identifier not in used_items and item.category not in used_categories:
                    self.findings.warn(
                        "unuseditem", f"item '{identifier}' is in no pool and no event", element
                    )
        used_pools = {block.pool for block, _ in blocks} | {block.filler for block, _ in blocks}
        for identifier, (_, element) in pools.items():
            if identifier not in used_pools:
                self.findings.warn("unusedpool", f"no block plays pool '{identifier}'", element)
        if blocks:
            programmed = {block.channel for block, _ in blocks}
            for identifier, (_, element) in channels.items():
                if identifier not in programmed:
                    self.findings.warn("noblocks", f"channel '{identifier}' has no block", element)
