"""What the engine produces: timed slots and the run report. Plain data, shared by the engine and the writers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from onair.models import Item
    from onair.playout.shelf import ProgrammeShelf

SlotKind = Literal["programme", "event", "block", "filler"]


@dataclass(frozen=True)
class RunRange:
    first_day: date | None  # None: the whole listing (XMLTV), or today (OnAir)
    days: int


@dataclass(slots=True)  # not frozen: a year of playout makes 140,000 of these, and frozen init is 3x slower
class Slot:
    """One thing on air (read-only by convention). Times are aware, in the schedule's local offset."""

    channel: str
    start: datetime
    stop: datetime
    title: str
    kind: SlotKind = "programme"
    item_id: str | None = None
    artist: str | None = None  # the artist, or a TV item's series
    category: str | None = None
    uri: str | None = None
    pool: str | None = None
    block: str | None = None  # "06:00-10:00" for slots that fill a block
    # The XMLTV <programme> it came from, to keep every detail in the guide: its text, or where the
    # playout's shelf holds it (Playout.source_xml reads either)
    source_xml: str | int | None = None
    # The library item it plays (OnAir), shared by all its slots: the guide's description, episode, image,
    # rating and kind come from it. One reference, so a slot costs no more for the details it may carry.
    item: Item | None = field(default=None, repr=False)
    source_guide_form: bool = False  # source_xml is in the guide's form (XmltvProgramme.guide_form)

    @property
    def seconds(self) -> float:
        # Instants, not wall clocks: datetimes sharing a tzinfo subtract by wall clock, wrong across DST, so
        # take out the change of offset. (Float timestamps would do, but their steps reach 60 µs by 9000.)
        start, stop = self.start, self.stop
        delta = stop - start
        if stop.tzinfo is start.tzinfo:
            delta -= stop.utcoffset() - start.utcoffset()  # type: ignore[operator]
        return delta.total_seconds()


@dataclass(frozen=True)
class RuleBreak:
    """A separation rule that could not be met: the item was placed all the same, `by` short of the rule."""

    rule: str  # artist_separation | title_separation | max_plays_per_hour | max_plays_per_day
    channel: str
    item_id: str
    at: datetime
    by: float  # seconds short of a separation; plays over a cap


@dataclass(frozen=True)
class FillError:
    """A block (or the time before a fixed event) that did not end exactly on its boundary."""

    # underrun: silence left before the boundary; overrun: what was on air ran on past it (past a block's
    # end, or past a fixed event's time, which then starts late by `seconds`)
    kind: Literal["underrun", "overrun"]
    channel: str
    block: str  # "" for a late fixed event outside every block
    boundary: datetime
    seconds: float


@dataclass(frozen=True)
class Change:
    """What the playout of an XMLTV listing did to a programme, by what happened to it (docs/FORMATS.md):
    its stop clipped by an overlap, taken from the next start, a gap reported, a duplicate or a programme
    replaced by a later-listed one with the same start dropped, a zero-length or stop-less last one kept."""

    kind: Literal[
        "clipped",
        "stop_filled",
        "gap",
        "duplicate_dropped",
        "replaced",
        "zero_length_kept",
        "no_stop_kept",
        "no_stop_dropped",
    ]
    channel: str
    start: datetime
    stop: datetime | None
    title: str
    detail: str


@dataclass(frozen=True)
class Notice:
    """Something about the run's outputs a reader of them should know (no_stream: the channel has no stream
    URL, so channels.m3u leaves it out until the live channel gives it one)."""

    code: Literal["no_stream"]
    channel: str
    detail: str


@dataclass
class Report:
    rule_breaks: list[RuleBreak] = field(default_factory=list)
    fill_errors: list[FillError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The counts that go into the run status; playout.json carries the full report."""
        rules: dict[str, int] = {}
        for rule_break in self.rule_breaks:
            rules[rule_break.rule] = rules.get(rule_break.rule, 0) + 1
        changes: dict[str, int] = {}
        for change in self.changes:
            changes[change.kind] = changes.get(change.kind, 0) + 1
        notices: dict[str, int] = {}
        for notice in self.notices:
            notices[notice.code] = notices.get(notice.code, 0) + 1
        return {
            "rule_breaks": dict(sorted(rules.items())),
            "underruns": sum(1 for e in self.fill_errors if e.kind == "underrun"),
            "overruns": sum(1 for e in self.fill_errors if e.kind == "overrun"),
            "fill_error_seconds": round(sum(e.seconds for e in self.fill_errors), 3),
            "changes": dict(sorted(changes.items())),
            "notices": dict(sorted(notices.items())),
        }

    def to_dict(self) -> dict[str, Any]:
        def plain(entry: object) -> dict[str, Any]:
            return {
                k: v.isoformat() if isinstance(v, datetime) else v
                for k, v in asdict(entry).items()  # type: ignore[call-overload]
            }

        return {
            "summary": self.summary(),
            "rule_breaks": [plain(e) for e in self.rule_breaks],
            "fill_errors": [plain(e) for e in self.fill_errors],
            "changes": [plain(e) for e in self.changes],
            "notices": [plain(e) for e in self.notices],
        }


@dataclass(frozen=True)
class Playout:
    slots: list[Slot]  # per channel in time order, channels in schedule order
    report: Report
    shelf: ProgrammeShelf | None = None  # where the slots' source XML is, when they hold its place

    def source_xml(self, slot: Slot) -> str | None:
        """The slot's stored <programme>, if it came from one."""
        if isinstance(slot.source_xml, int):
            assert self.shelf is not None, "a slot holds a place on a shelf the playout does not have"
            return self.shelf.xml(slot.source_xml)
        return slot.source_xml
