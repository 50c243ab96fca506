"""The playout engine: turns a schedule model into timed slots and a report. No AWS, no I/O."""

from __future__ import annotations

from onair.models import OnAirSchedule, XmltvListing
from onair.playout.onair import onair_playout
from onair.playout.types import Playout, RunRange
from onair.playout.xmltv import xmltv_playout


def generate(schedule: XmltvListing | OnAirSchedule, run_range: RunRange, seed: int) -> Playout:
    """Deterministic: the same schedule, range and seed give the same playout."""
    if isinstance(schedule, XmltvListing):
        return xmltv_playout(schedule, run_range)
    return onair_playout(schedule, run_range, seed)
