"""The playout engine: turns a schedule model into timed slots and a report. No AWS, no I/O."""

from __future__ import annotations

from onair.models import OnAirSchedule, XmltvListing
from onair.playout.budget import SlotBudget
from onair.playout.onair import onair_playout
from onair.playout.types import Playout, RunRange
from onair.playout.xmltv import xmltv_playout


def generate(
    schedule: XmltvListing | OnAirSchedule, run_range: RunRange, seed: int, budget: SlotBudget | None = None
) -> Playout:
    """Deterministic: the same schedule, range and seed give the same playout. With a `budget`, a run that
    would make more slots raises RunTooLarge (OnAir: while generating; XMLTV: its slots are the listing's
    programmes, already in memory, so before anything is written)."""
    if isinstance(schedule, XmltvListing):
        playout = xmltv_playout(schedule, run_range)
        if budget is not None and len(playout.slots) > budget.slots:
            raise budget.exceeded(len(playout.slots))
        return playout
    return onair_playout(schedule, run_range, seed, budget)
