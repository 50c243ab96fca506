"""XMLTV listings (`<tv>`, ../shared/reference/xmltv.dtd): streaming reader and lenient/strict rules.

Finding codes follow XMLTV's tv_validate_file where one exists (notvalid, unknownid, badstart, ...).
Lenient mode keeps usable data and lists warnings; strict mode turns every finding into an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from lxml import etree

from onair.errors import Finding, InvalidSchedule
from onair.formats.xml import local_name
from onair.models import XmltvChannel, XmltvListing, XmltvProgramme

_TIME = re.compile(
    r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"
    r"(?:(?P<hour>\d{2})(?:(?P<minute>\d{2})(?:(?P<second>\d{2}))?)?)?"
    r"\s*(?P<zone>[+-]\d{4}|Z|UTC|GMT)?$"
)
MAX_OFFSET = timedelta(hours=14)
MAX_FINDINGS = 200


class XmltvTimeError(ValueError):
    pass


def parse_time(text: str) -> tuple[datetime, bool]:
    """An XMLTV time ('20261201183000 +0100', precision may stop at the day) and whether it had a zone."""
    match = _TIME.match(text.strip())
    if match is None:
        raise XmltvTimeError(f"'{text}' is not an XMLTV time (YYYYMMDDhhmmss +hhmm)")
    zone = match["zone"]
    offset = timedelta(0)
    if zone and zone[0] in "+-":
        hours, minutes = int(zone[1:3]), int(zone[3:5])
        if minutes >= 60:
            raise XmltvTimeError(f"'{zone}' is not a UTC offset")
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if zone[0] == "-" else 1)
        if abs(offset) > MAX_OFFSET:
            raise XmltvTimeError(f"UTC offset {zone} is beyond ±14:00")
    try:
        value = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            tzinfo=timezone(offset),
        )
    except ValueError as error:
        raise XmltvTimeError(f"'{text}' is not a real date and time: {error}") from error
    return value, zone is not None


def format_time(value: datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S %z")


class _Findings:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []

    def error(self, code: str, message: str, element: etree._Element, path: str) -> None:
        if len(self.errors) < MAX_FINDINGS:
            self.errors.append(Finding(code, message, element.sourceline, None, path))

    def warn(self, code: str, message: str, line: int | None, path: str) -> None:
        target = self.errors if self.strict else self.warnings
        if len(target) < MAX_FINDINGS:
            target.append(Finding(code, message, line, None, path))


def read_xmltv(
    root: etree._Element, events: Iterator[tuple[str, etree._Element]], *, strict: bool
) -> tuple[XmltvListing, list[Finding]]:
    """Consume the rest of the event stream under <tv>; elements are cleared once read (constant memory)."""
    findings = _Findings(strict)
    channels: dict[str, XmltvChannel] = {}
    programmes: list[XmltvProgramme] = []
    seen: set[tuple[str, datetime, datetime | None, str]] = set()
    programme_index = 0
    depth = 1
    for event, element in events:
        if event == "start":
            depth += 1
            continue
        depth -= 1
        if depth != 1:  # only whole children of <tv> are read; their subtrees are still intact here
            continue
        name = local_name(element)
        if name == "channel":
            _read_channel(element, channels, findings, len(channels) + 1)
        elif name == "programme":
            programme_index += 1
            programme = _read_programme(element, findings, programme_index)
            if programme is not None:
                key = (programme.channel, programme.start, programme.stop, _title(element))
                if key in seen:
                    findings.warn(
                        "duplicate",
                        "the same programme appears twice; the copy is dropped",
                        element.sourceline,
                        f"/tv/programme[{programme_index}]",
                    )
                else:
                    seen.add(key)
                    programmes.append(programme)
        elif not name.startswith("x-"):
            findings.warn("notvalid", f"<{name}> is not an XMLTV element", element.sourceline, f"/tv/{name}")
        element.clear(keep_tail=False)
        while element.getprevious() is not None:
            del root[0]

    for channel_id in sorted({p.channel for p in programmes} - channels.keys()):
        findings.warn("unknownid", f"channel '{channel_id}' is used but not declared", None, "/tv")
        channels[channel_id] = XmltvChannel(id=channel_id, xml=_implicit_channel(channel_id))
    used = {p.channel for p in programmes}
    for channel_id in channels.keys() - used:
        findings.warn("channelnoprogramme", f"channel '{channel_id}' has no programmes", None, "/tv")
    if not programmes:
        findings.warn("noprogrammes", "the listing has no programmes", None, "/tv")
    if findings.errors:
        raise InvalidSchedule(
            f"the XMLTV listing has {len(findings.errors)} error(s)"
            + (" (strict mode: warnings count as errors)" if strict else ""),
            details=findings.errors,
        )
    listing = XmltvListing(channels=list(channels.values()), programmes=programmes)
    return listing, findings.warnings


def _read_channel(
    element: etree._Element, channels: dict[str, XmltvChannel], findings: _Findings, index: int
) -> None:
    path = f"/tv/channel[{index}]"
    channel_id = (element.get("id") or "").strip()
    if not channel_id:
        findings.error("invalidid", "<channel> needs a non-empty id attribute", element, path)
    elif channel_id in channels:
        findings.warn("duplicateid", f"channel '{channel_id}' is declared twice", element.sourceline, path)
    else:
        channels[channel_id] = XmltvChannel(id=channel_id, xml=_serialize(element))


def _read_programme(element: etree._Element, findings: _Findings, index: int) -> XmltvProgramme | None:
    path = f"/tv/programme[{index}]"
    errors_before = len(findings.errors)
    channel = (element.get("channel") or "").strip()
    if not channel:
        findings.error("notvalid", "<programme> needs a channel attribute", element, path)
    start = _time(element, "start", findings, path)
    stop = _time(element, "stop", findings, path) if element.get("stop") is not None else None
    if element.get("start") is None:
        findings.error("badstart", "<programme> needs a start attribute", element, path)
    if start and stop and stop <= start:
        findings.error("badstop", f"stop {element.get('stop')} is not after start", element, path)
    if element.get("stop") is None:
        findings.warn("nostop", "no stop time: the next programme's start ends it", element.sourceline, path)
    titles = [child for child in element if local_name(child) == "title"]
    if not titles:
        findings.error("notvalid", "<programme> needs at least one <title>", element, path)
    elif not any((title.text or "").strip() for title in titles):
        findings.error("emptytitle", "the programme's title is empty", element, f"{path}/title")
    if len(findings.errors) > errors_before or start is None:
        return None
    return XmltvProgramme(
        channel=channel, start=start, stop=stop, title=_title(element).strip(), xml=_serialize(element)
    )


def _time(element: etree._Element, attribute: str, findings: _Findings, path: str) -> datetime | None:
    text = element.get(attribute)
    if text is None:
        return None
    code = "badstart" if attribute == "start" else "badstop"
    try:
        value, zoned = parse_time(text)
    except XmltvTimeError as error:
        findings.error(code, str(error), element, f"{path}/@{attribute}")
        return None
    if not zoned:
        findings.warn(
            "notimezone", f"{attribute} '{text}' has no UTC offset: read as UTC", element.sourceline, path
        )
    return value


def _title(element: etree._Element) -> str:
    return next((child.text or "" for child in element if local_name(child) == "title"), "")


def _serialize(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode", with_tail=False)


def _implicit_channel(channel_id: str) -> str:
    channel = etree.Element("channel", id=channel_id)
    etree.SubElement(channel, "display-name").text = channel_id
    return _serialize(channel)
