"""OnAir rule-based schedules (`<schedule xmlns="urn:onair:schedule:1">`): reader and semantic checks.

docs/FORMATS.md documents the format with an annotated example.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree
from pydantic import ValidationError

from onair.errors import Finding, InvalidSchedule
from onair.formats.xml import local_name
from onair.models import Channel, Item, OnAirSchedule

NAMESPACE = "urn:onair:schedule:1"
_DURATION = re.compile(r"^PT(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?$")


def parse_duration(text: str) -> float:
    """Seconds in an xs:duration limited to hours, minutes and seconds ('PT3M30S')."""
    match = _DURATION.match(text.strip())
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"'{text}' is not a duration like PT3M30S")
    return float(match["h"] or 0) * 3600 + float(match["m"] or 0) * 60 + float(match["s"] or 0)


def read_onair(
    root: etree._Element, events: Iterator[tuple[str, etree._Element]], *, strict: bool
) -> tuple[OnAirSchedule, list[Finding]]:
    for _ in events:  # OnAir documents are small rule sets: read the whole tree, then check it
        pass
    errors: list[Finding] = []
    if etree.QName(root).namespace != NAMESPACE:
        errors.append(
            Finding(
                "namespace", f"<schedule> must be in the namespace {NAMESPACE}", root.sourceline, None, "/"
            )
        )
    timezone = root.get("timezone", "")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(
            Finding("timezone", f"'{timezone}' is not an IANA time zone", root.sourceline, None, "/schedule")
        )
    channels = [_build(Channel, element, errors) for element in _children(root, "channels", "channel")]
    items = [_build(Item, element, errors) for element in _children(root, "library", "item")]
    if not channels:
        errors.append(Finding("nochannels", "the schedule declares no channel", root.sourceline, None, "/"))
    if errors:
        raise InvalidSchedule(f"the OnAir schedule has {len(errors)} error(s)", details=errors)
    schedule = OnAirSchedule(
        timezone=timezone,
        channels=[c for c in channels if isinstance(c, Channel)],
        items=[i for i in items if isinstance(i, Item)],
    )
    return schedule, []


def _children(root: etree._Element, section: str, name: str) -> list[etree._Element]:
    return [
        element
        for group in root
        if local_name(group) == section
        for element in group
        if local_name(element) == name
    ]


def _build(model: type[Channel] | type[Item], element: etree._Element, errors: list[Finding]) -> object:
    values: dict[str, object] = dict(element.attrib)
    path = f"/schedule/{local_name(element.getparent())}/{local_name(element)}[@id='{values.get('id', '')}']"
    if "duration" in values:
        try:
            values["duration"] = parse_duration(str(values["duration"]))
        except ValueError as error:
            errors.append(Finding("badduration", str(error), element.sourceline, None, path))
            return None
    try:
        return model.model_validate(values)
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"])
            errors.append(Finding("notvalid", f"{field}: {problem['msg']}", element.sourceline, None, path))
        return None
