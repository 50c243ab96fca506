"""playout.json (the layout: onair/writers/__init__.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring  # the C encoder json.dumps uses

from onair.playout.types import Playout, Slot
from onair.writers.common import AnySchedule, batches, durations, iso_times, ordered

# json.dumps with indent runs the pure-Python encoder (7 s for 85,000 slots); each slot's flat entry is
# written here instead, byte for byte as json.dumps(indent=1, sort_keys=True, ensure_ascii=False) would.
_ENTRY = (
    '  {{\n   "artist": {},\n   "block": {},\n   "category": {},\n   "channel": {},\n   "duration": {},\n'
    '   "item_id": {},\n   "kind": {},\n   "pool": {},\n   "start": {},\n   "stop": {},\n   "title": {},\n'
    '   "uri": {}\n  }}'
)


def playout_json(schedule: AnySchedule, playout: Playout) -> Iterator[bytes]:
    starts, stops = iso_times(schedule, playout)
    entries = map(_entry, ordered(schedule, playout), starts, stops, durations(schedule, playout))
    opening = '{\n "playout": [\n'
    for batch in batches(entries):
        yield (opening + ",\n".join(batch)).encode()
        opening = ",\n"
    report = json.dumps(playout.report.to_dict(), ensure_ascii=False, indent=1, sort_keys=True)
    listed = '{\n "playout": []' if opening.startswith("{") else "\n ]"
    # the report one level down: one more space of indent on each of its lines (JSON strings hold none)
    yield f'{listed},\n "report": {report.replace(chr(10), chr(10) + " ")}\n}}\n'.encode()


def _entry(slot: Slot, start: str, stop: str, seconds: float) -> str:
    # null or the JSON string, inline: a call per value is 860,000 calls for a large listing
    return _ENTRY.format(
        "null" if slot.artist is None else encode_basestring(slot.artist),
        "null" if slot.block is None else encode_basestring(slot.block),
        "null" if slot.category is None else encode_basestring(slot.category),
        encode_basestring(slot.channel),
        _number(round(seconds, 3)),
        "null" if slot.item_id is None else encode_basestring(slot.item_id),
        encode_basestring(slot.kind),
        "null" if slot.pool is None else encode_basestring(slot.pool),
        encode_basestring(start),
        encode_basestring(stop),
        encode_basestring(slot.title),
        "null" if slot.uri is None else encode_basestring(slot.uri),
    )


def _number(value: float) -> str:
    if value - value == 0:  # finite: json.dumps writes float.__repr__
        return repr(value)
    return json.dumps(value)
