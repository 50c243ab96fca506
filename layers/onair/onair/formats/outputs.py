"""Writers for run outputs: guide.xml (XMLTV) and playout.json. Byte-identical for identical inputs."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from lxml import etree

from onair.formats.xmltv import format_time
from onair.models import OnAirSchedule, XmltvListing
from onair.playout.engine import Slot

GENERATOR = "OnAir"


def guide_xml(schedule: XmltvListing | OnAirSchedule, slots: Sequence[Slot]) -> bytes:
    """An XMLTV guide that validates against xmltv.dtd: channels first, then programmes in channel order."""
    tv = etree.Element("tv", {"generator-info-name": GENERATOR})
    channel_ids = {slot.channel for slot in slots}
    if isinstance(schedule, XmltvListing):
        for channel in schedule.channels:
            if channel.id in channel_ids:
                tv.append(etree.fromstring(channel.xml))
    else:
        for channel in schedule.channels:
            element = etree.SubElement(tv, "channel", id=channel.id)
            etree.SubElement(element, "display-name").text = channel.name
    for slot in slots:
        attributes = {
            "start": format_time(slot.start),
            "stop": format_time(slot.stop),
            "channel": slot.channel,
        }
        if slot.source_xml:
            programme = etree.fromstring(slot.source_xml)
            programme.attrib.clear()
            programme.attrib.update(attributes)
        else:
            programme = etree.Element("programme", attributes)
            etree.SubElement(programme, "title").text = slot.title
        tv.append(programme)
    etree.indent(tv, space=" ")
    return (
        etree.tostring(tv, xml_declaration=True, encoding="UTF-8", doctype='<!DOCTYPE tv SYSTEM "xmltv.dtd">')
        + b"\n"
    )


def playout_json(slots: Sequence[Slot], report: dict[str, object]) -> bytes:
    entries = [
        {
            "channel": slot.channel,
            "start": slot.start.isoformat(),
            "stop": slot.stop.isoformat(),
            "duration": (slot.stop - slot.start).total_seconds(),
            "title": slot.title,
            "item_id": slot.item_id,
            "artist": slot.artist,
        }
        for slot in slots
    ]
    document = {"report": report, "playout": entries}
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"


Writer = Callable[[XmltvListing | OnAirSchedule, Sequence[Slot], dict[str, object]], bytes]

# Output name -> (content type, writer). The run request's "formats" picks from these names.
WRITERS: dict[str, tuple[str, Writer]] = {
    "guide.xml": ("application/xml", lambda schedule, slots, report: guide_xml(schedule, slots)),
    "playout.json": ("application/json", lambda schedule, slots, report: playout_json(slots, report)),
}
