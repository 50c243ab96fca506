"""The lineup a run stores as channels.m3u (JSON: onair.writers.m3u writes it and renders the M3U from
it), read without the writers' XML machinery: the console's guide reads channel names from it."""

from __future__ import annotations

import json
from typing import Any

LINEUP_FORMAT = "onair-lineup"
LINEUP_VERSION = 1


def lineup_channels(lineup: bytes) -> list[dict[str, Any]]:
    """The channels of a stored lineup (channels_lineup), in the schedule's order."""
    document = json.loads(lineup)
    if document.get("format") != LINEUP_FORMAT:
        raise ValueError("not an OnAir lineup")
    channels: list[dict[str, Any]] = document["channels"]
    return channels
