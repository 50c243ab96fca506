"""The playout engine's entry point: a schedule model into timed slots and a report (onair.playout)."""

from __future__ import annotations

from onair import collector
from onair.models import OnAirSchedule, XmltvListing
from onair.playout.budget import SlotBudget
from onair.playout.onair import onair_playout
from onair.playout.shelf import ProgrammeShelf
from onair.playout.types import Notice, Playout, RunRange
from onair.playout.xmltv import xmltv_playout


@collector.paused()  # the slots all live until the run is written: nothing for the collector to find
def generate(
    schedule: XmltvListing | OnAirSchedule,
    run_range: RunRange,
    seed: int,
    budget: SlotBudget | None = None,
    shelf: ProgrammeShelf | None = None,
) -> Playout:
    """Deterministic: the same schedule, range and seed give the same playout. With a `budget`, a run that
    would make more slots raises RunTooLarge (OnAir: while generating; XMLTV: its slots are the listing's
    programmes, already in memory, so before anything is written). A listing loaded without its programmes
    has them on `shelf` (models.load_stored's `take`)."""
    if isinstance(schedule, XmltvListing):
        playout = xmltv_playout(schedule, run_range, shelf)
        if budget is not None and len(playout.slots) > budget.slots:
            raise budget.exceeded(len(playout.slots))
    else:
        playout = onair_playout(schedule, run_range, seed, budget)
    playout.report.notices.extend(lineup_notices(schedule))
    return playout


def lineup_notices(schedule: XmltvListing | OnAirSchedule) -> list[Notice]:
    """A no_stream notice per channel without a stream URL (an XMLTV listing names none): channels.m3u
    lists only channels a player can open, so it leaves these out."""
    if isinstance(schedule, XmltvListing):
        ids = [channel.id for channel in schedule.channels]
        reason = "an XMLTV listing names no stream URL"
    else:
        ids = [channel.id for channel in schedule.channels if channel.stream is None]
        reason = "the channel has no stream URL"
    detail = f"{reason}: channels.m3u leaves it out until it has one (its live URL, once OnAir gives it)"
    return [Notice("no_stream", channel_id, detail) for channel_id in ids]
