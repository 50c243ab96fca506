"""playout.json (the layout: onair/writers/__init__.py)."""

from __future__ import annotations

import json
from typing import Any

from onair.playout.types import Playout
from onair.writers.common import AnySchedule, ordered


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
        for slot in ordered(schedule, playout)
    ]
    document = {"report": playout.report.to_dict(), "playout": entries}
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"
