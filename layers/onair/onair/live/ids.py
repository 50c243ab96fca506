"""The identities a live channel announces, apart from the timeline so the writers can name them too
(asrun.csv's break_id is the SCTE-35 splice_event_id of the cue the live playlist carries) without
importing the HLS machinery."""

from __future__ import annotations

import hashlib


def slot_id(channel: str, start: int, stop: int, kind: str, item: str | None, title: str) -> str:
    """The EXT-X-DATERANGE ID of a slot (start and stop in ms since the epoch): a digest of what the tag
    announces, so one ID never carries two sets of attributes (RFC 8216 4.3.2.7), on any instance, in any
    run."""
    return hashlib.sha256(f"{channel}\n{start}\n{stop}\n{kind}\n{item}\n{title}".encode()).hexdigest()[:16]


def splice_event_id(slot_id: str) -> int:
    """The SCTE-35 splice_event_id of a break: what asrun.csv's break rows carry for reconciliation."""
    return int(slot_id[:8], 16)
