"""playout.json (the layout: onair/writers/__init__.py)."""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C encoder json.dumps uses
from typing import Any

from onair.playout.types import Playout, Slot
from onair.writers.common import AnySchedule, iso_times, ordered

# json.dumps with indent runs the pure-Python encoder (7 s for 85,000 slots); each slot's flat entry is
# written here instead, byte for byte as json.dumps(indent=1, sort_keys=True, ensure_ascii=False) would.
_ENTRY = (
    '  {{\n   "artist": {},\n   "block": {},\n   "category": {},\n   "channel": {},\n   "duration": {},\n'
    '   "item_id": {},\n   "kind": {},\n   "pool": {},\n   "start": {},\n   "stop": {},\n   "title": {},\n'
    '   "uri": {}\n  }}'
)


def playout_json(schedule: AnySchedule, playout: Playout) -> bytes:
    starts, stops = iso_times(schedule, playout)
    entries = ",\n".join(map(_entry, ordered(schedule, playout), starts, stops))
    report = json.dumps(playout.report.to_dict(), ensure_ascii=False, indent=1, sort_keys=True)
    listed = f"[\n{entries}\n ]" if entries else "[]"
    # the report one level down: one more space of indent on each of its lines (JSON strings hold none)
    return f'{{\n "playout": {listed},\n "report": {report.replace(chr(10), chr(10) + " ")}\n}}\n'.encode()


def _entry(slot: Slot, start: str, stop: str) -> str:
    return _ENTRY.format(
        _value(slot.artist),
        _value(slot.block),
        _value(slot.category),
        _value(slot.channel),
        _value(round(slot.seconds, 3)),
        _value(slot.item_id),
        _value(slot.kind),
        _value(slot.pool),
        encode_basestring(start),
        encode_basestring(stop),
        _value(slot.title),
        _value(slot.uri),
    )


def _value(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring(value)
    if type(value) is float and value - value == 0:  # finite: json.dumps writes float.__repr__
        return repr(value)
    return json.dumps(value, ensure_ascii=False)
