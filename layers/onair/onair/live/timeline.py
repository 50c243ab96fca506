"""A channel's live timeline: its playout slots laid out as HLS segments, compact and searchable.

Not one object per segment (a 7-day channel of 1-minute items cut in 2 s segments has ~300,000): the
timeline is a list of *pieces*, each a run of consecutive segments of one media placed at an instant
(start, media, first segment, count, repetitions for a looped slate, the last segment's airtime), and per
media the segment durations. A segment is found by bisection: over the pieces' starts, then over the
media's prefix sums. Every piece boundary is a discontinuity (an item boundary, a discontinuity inside
the VOD, a slate loop, a splice), so sequence and discontinuity numbers are prefix counts too, derived
when the timeline is loaded and never stored per segment.

Numbering: `seq_base` and `disc_base` are the media sequence and discontinuity sequence numbers of the
first segment; a new timeline takes them from the one it replaces through `splice`, which keeps every
segment that can already have been served. So `EXT-X-MEDIA-SEQUENCE` is "segments since the channel's
epoch" on every API instance, across republished runs, computed from stored data and never counted at
request time.

Times are integer milliseconds since the Unix epoch (UTC): DST and midnight do not exist here.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, pairwise
from typing import Any, NamedTuple

from onair import collector
from onair.errors import Finding
from onair.live.ids import slot_id, splice_event_id
from onair.live.media import MediaIndex, Rendition, ladder_mismatch
from onair.playout.types import Slot

TIMELINE_VERSION = 1
FILLER = "filler"  # the playout's slot kind for a block's filler pool: an ad break
DEFAULT_KEEP_MS = 2 * 3600 * 1000  # history a splice keeps before its instant (windows reach back into it)


@dataclass(frozen=True)
class LiveSlot:
    """One playout slot as the timeline needs it (the run function maps playout.types.Slot to this)."""

    start_ms: int
    stop_ms: int
    title: str
    kind: str = "programme"  # programme | event | block | filler
    item_id: str | None = None
    media: str | None = None  # the item's HLS URI: a key of the `media` mapping given to build_timeline

    @classmethod
    def of(cls, slot: Slot) -> LiveSlot:
        """A playout slot: its aware local times become UTC instants (a DST change is no gap)."""
        return cls(
            start_ms=round(slot.start.timestamp() * 1000),
            stop_ms=round(slot.stop.timestamp() * 1000),
            title=slot.title,
            kind=slot.kind,
            item_id=slot.item_id,
            media=slot.uri,
        )


@dataclass(eq=True)
class TimelineRendition:
    base: str
    segments: list[str]  # relative to base (a bare file name) or absolute
    byteranges: list[list[int] | None] | None = None  # [length, offset] per segment
    maps: list[tuple[int, str, list[int] | None]] = field(default_factory=list)  # (first segment, uri, range)

    def uri(self, index: int) -> str:
        stored = self.segments[index]
        return stored if ":" in stored else self.base + stored

    def byterange(self, index: int) -> list[int] | None:
        return self.byteranges[index] if self.byteranges is not None else None

    def map_at(self, index: int) -> tuple[str, list[int] | None] | None:
        if not self.maps:
            return None
        at = bisect_right([first for first, _, _ in self.maps], index) - 1
        return (self.maps[at][1], self.maps[at][2]) if at >= 0 else None


@dataclass(eq=True)
class TimelineMedia:
    """One media's segments as the timeline plays them: durations shared by its renditions (aligned)."""

    key: str  # the playlist URI it was resolved from
    durations: list[int]
    renditions: list[TimelineRendition]
    runs: list[tuple[int, int]] = field(default_factory=list)  # (first, count) between discontinuities
    prefix: list[int] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.prefix = [0, *accumulate(self.durations)]
        if not self.runs:
            self.runs = [(0, len(self.durations))]

    @classmethod
    def of(cls, index: MediaIndex, renditions: int) -> TimelineMedia:
        chosen = index.renditions[:renditions]
        first = chosen[0]
        bounds = [0, *first.discontinuities, len(first.durations)]
        return cls(
            key=index.uri,
            durations=list(first.durations),
            renditions=[_rendition(r) for r in chosen],
            runs=[(a, b - a) for a, b in pairwise(bounds) if b > a],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "durations": self.durations,
            "runs": [list(run) for run in self.runs] if len(self.runs) > 1 else None,
            "renditions": [
                {
                    "base": r.base,
                    "segments": r.segments,
                    "byteranges": r.byteranges,
                    "maps": [list(m) for m in r.maps] or None,
                }
                for r in self.renditions
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TimelineMedia:
        return cls(
            key=data["key"],
            durations=list(data["durations"]),
            runs=[(int(a), int(b)) for a, b in data.get("runs") or ()],
            renditions=[
                TimelineRendition(
                    base=r["base"],
                    segments=list(r["segments"]),
                    byteranges=r.get("byteranges"),
                    maps=[(int(m[0]), m[1], m[2]) for m in r.get("maps") or ()],
                )
                for r in data["renditions"]
            ],
        )


def _rendition(rendition: Rendition) -> TimelineRendition:
    data = rendition.to_dict()  # the same relative-to-base compaction as the media index
    return TimelineRendition(
        base=data["base"],
        segments=data["segments"],
        byteranges=data.get("byteranges"),
        maps=[(first, uri, rng) for first, uri, rng in data.get("maps", ())],
    )


class Piece(NamedTuple):
    start: int  # ms
    media: int  # index into Timeline.media
    first: int  # first segment of the media
    count: int  # type: ignore[assignment]  # segments per repetition (shadows tuple.count, unused here)
    reps: int  # repetitions (a looped slate); > 1 only when every repetition is whole
    cut: int  # airtime of the very last segment (ms): its duration unless the slot ended inside it


class SlotRecord(NamedTuple):
    """A programme (or break) as the playlist's EXT-X-DATERANGE announces it."""

    start: int
    stop: int
    title: str
    kind: str
    item: str | None
    id: str  # a digest of everything announced: the same ID always carries the same attributes
    scte35: tuple[str, str] | None  # breaks: splice_insert OUT and IN, hex (threefive)


_SLOT_FIELDS = ("start", "stop", "title", "kind", "item")


class Segment(NamedTuple):
    seq: int  # EXT-X-MEDIA-SEQUENCE numbering
    start: int  # ms
    duration: int  # ms of airtime (the last one of a slot may be cut)
    media: int
    index: int  # type: ignore[assignment]  # segment of the media (shadows tuple.index, unused here)
    discontinuity: bool  # an EXT-X-DISCONTINUITY precedes it
    dseq: int  # its discontinuity sequence number


class Timeline:
    def __init__(
        self,
        *,
        channel: str,
        target: int,
        media: list[TimelineMedia],
        pieces: Sequence[Piece],
        slots: Sequence[SlotRecord],
        ladder: list[dict[str, Any]] | None = None,
        seq_base: int = 0,
        disc_base: int = 0,
        head_disc: bool = False,
    ) -> None:
        self.channel = channel
        self.target = target  # EXT-X-TARGETDURATION, seconds
        self.media = media
        self.pieces = list(pieces)
        self.slots = list(slots)
        self.ladder = ladder or []  # one entry per rendition when the channel has several
        self.seq_base = seq_base
        self.disc_base = disc_base
        self.head_disc = head_disc  # the first piece follows content that was trimmed away
        self._derive()

    @property
    def renditions(self) -> int:
        return max(1, len(self.ladder))

    def _derive(self) -> None:
        self.starts = [p.start for p in self.pieces]
        self.seqs: list[int] = []
        self.dseqs: list[int] = []
        self.ends: list[int] = []
        seq, dseq = self.seq_base, self.disc_base
        for piece in self.pieces:
            self.seqs.append(seq)
            self.dseqs.append(dseq)
            self.ends.append(piece.start + self._length(piece))
            seq += piece.count * piece.reps
            dseq += piece.reps  # each repetition, and the next piece, starts with a discontinuity
        self.seq_end = seq  # the number the next segment after this timeline would get
        self.disc_next = dseq
        self.slot_starts = [s.start for s in self.slots]
        self.slot_stops = [s.stop for s in self.slots]
        # The lowest EXT-X-VERSION the tags used need (RFC 8216 7): 6 for EXT-X-MAP in a media playlist,
        # 4 for byte ranges, 3 for decimal EXTINF. Fixed per timeline, as a player expects.
        renditions = [r for m in self.media for r in m.renditions]
        self.version = (
            6 if any(r.maps for r in renditions) else 4 if any(r.byteranges for r in renditions) else 3
        )

    def _period(self, piece: Piece) -> int:
        prefix = self.media[piece.media].prefix
        return prefix[piece.first + piece.count] - prefix[piece.first]

    def _length(self, piece: Piece) -> int:
        last = self.media[piece.media].durations[piece.first + piece.count - 1]
        return piece.reps * self._period(piece) - last + piece.cut

    # --- lookups (each O(log n)) -------------------------------------------------------------------

    def segment(self, seq: int) -> Segment:
        """The segment numbered `seq` (seq_base <= seq < seq_end)."""
        if not self.seq_base <= seq < self.seq_end:
            raise IndexError(f"segment {seq} is not in this timeline ({self.seq_base}-{self.seq_end - 1})")
        p = bisect_right(self.seqs, seq) - 1
        piece = self.pieces[p]
        media = self.media[piece.media]
        rep, i = divmod(seq - self.seqs[p], piece.count)
        start = (
            piece.start
            + rep * self._period(piece)
            + media.prefix[piece.first + i]
            - media.prefix[piece.first]
        )
        last = rep == piece.reps - 1 and i == piece.count - 1
        duration = piece.cut if last else media.durations[piece.first + i]
        discontinuity = i == 0 and (rep > 0 or p > 0 or self.head_disc)
        return Segment(seq, start, duration, piece.media, piece.first + i, discontinuity, self.dseqs[p] + rep)

    def on_air(self, now_ms: int) -> int | None:
        """The number of the last segment started at or before `now_ms` (in a gap: the last one before
        it), or None before the first."""
        p = bisect_right(self.starts, now_ms) - 1
        if p < 0:
            return None
        piece = self.pieces[p]
        if now_ms >= self.ends[p]:
            return self.seqs[p] + piece.count * piece.reps - 1
        media = self.media[piece.media]
        period = self._period(piece)
        rep = min((now_ms - piece.start) // period, piece.reps - 1)
        within = now_ms - piece.start - rep * period
        i = bisect_right(
            media.prefix, media.prefix[piece.first] + within, piece.first, piece.first + piece.count
        )
        return self.seqs[p] + rep * piece.count + (i - 1 - piece.first)

    def first_start(self) -> int | None:
        return self.pieces[0].start if self.pieces else None

    def slots_between(self, start_ms: int, stop_ms: int) -> list[SlotRecord]:
        """Slots overlapping [start_ms, stop_ms)."""
        first = bisect_right(self.slot_stops, start_ms)
        last = bisect_left(self.slot_starts, stop_ms)
        return self.slots[first:last]

    def uri(self, segment: Segment, rendition: int = 0) -> str:
        return self.track(segment.media, rendition).uri(segment.index)

    def track(self, media: int, rendition: int) -> TimelineRendition:
        renditions = self.media[media].renditions
        return renditions[max(0, min(rendition, len(renditions) - 1))]  # fewer renditions: its last one

    # --- JSON (runs/{run}/live/{channel}.json) -----------------------------------------------------------

    def to_json(self) -> bytes:
        columns = list(zip(*self.pieces, strict=True)) if self.pieces else [()] * len(Piece._fields)
        data = {
            "v": TIMELINE_VERSION,
            "channel": self.channel,
            "target": self.target,
            "ladder": self.ladder,
            "seq_base": self.seq_base,
            "disc_base": self.disc_base,
            "head_disc": self.head_disc,
            "media": [m.to_dict() for m in self.media],
            "pieces": {name: list(col) for name, col in zip(Piece._fields, columns, strict=True)},
            # IDs are digests of the other fields: recomputed on load, not stored. SCTE-35 only for breaks.
            "slots": {name: [getattr(s, name) for s in self.slots] for name in _SLOT_FIELDS},
            "scte35": {str(n): list(s.scte35) for n, s in enumerate(self.slots) if s.scte35},
        }
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    # Loading allocates a few hundred thousand objects, all kept: without the pause the collector scans
    # them over and over (twice the load time for a week of distinct media).
    @collector.paused()
    def from_json(cls, raw: bytes | str) -> Timeline:
        data = json.loads(raw)
        if data.get("v") != TIMELINE_VERSION:
            raise ValueError(f"timeline version {data.get('v')!r}, expected {TIMELINE_VERSION}")
        pieces = data["pieces"]
        slots = data["slots"]
        scte35 = data.get("scte35") or {}
        channel = data["channel"]
        return cls(
            channel=channel,
            target=int(data["target"]),
            ladder=data.get("ladder") or [],
            media=[TimelineMedia.from_dict(m) for m in data["media"]],
            pieces=[Piece(*row) for row in zip(*(pieces[name] for name in Piece._fields), strict=True)],
            slots=[
                SlotRecord(
                    start,
                    stop,
                    title,
                    kind,
                    item,
                    slot_id(channel, start, stop, kind, item, title),
                    tuple(scte35[str(n)]) if str(n) in scte35 else None,
                )
                for n, (start, stop, title, kind, item) in enumerate(
                    zip(*(slots[name] for name in _SLOT_FIELDS), strict=True)
                )
            ],
            seq_base=int(data["seq_base"]),
            disc_base=int(data["disc_base"]),
            head_disc=bool(data["head_disc"]),
        )


# --- building --------------------------------------------------------------------------------------------


def build_timeline(
    channel: str,
    slots: Iterable[LiveSlot],
    media: Mapping[str, MediaIndex | None],
    slate: str | None = None,
) -> tuple[Timeline, list[Finding]]:
    """Lay a channel's slots out as segments. `media` maps each item URI to its resolved index (None:
    unusable); `slate` is the channel's slate URI (a key of `media`), looped over airtime that has no media
    of its own: slots without usable HLS media, the rest of a slot whose media is shorter, gaps between
    slots. Without a slate such airtime is a gap in the timeline, reported as not_streamable (no media
    at all) or short_media (media shorter than its slot). Numbering starts at 0: `splice` gives the
    timeline its place after the one already published."""
    ordered = sorted(slots, key=lambda s: (s.start_ms, s.stop_ms))
    usable = {key: index for key, index in media.items() if index is not None}
    slate_index = usable.get(slate) if slate else None
    used_keys = list(dict.fromkeys(s.media for s in ordered if s.media in usable))
    if slate and slate_index is not None and slate not in used_keys:
        used_keys.append(slate)
    common, findings = ladder_mismatch(usable[k] for k in used_keys)
    renditions = len(common) if common and len(common) > 1 else 1
    table = {key: TimelineMedia.of(usable[key], renditions) for key in used_keys}
    order = {key: n for n, key in enumerate(used_keys)}
    builder = _Builder(list(table.values()))
    records: list[SlotRecord] = []
    missing: dict[tuple[str, str | None], list[int]] = {}
    cursor: int | None = None
    for slot in ordered:
        start = slot.start_ms if cursor is None else max(slot.start_ms, cursor)
        if slot.stop_ms <= start:
            continue  # zero-length, or wholly overlapped by the slot before (the playout never does that)
        if cursor is not None and start > cursor and slate_index is not None:
            builder.loop(order[slate], cursor, start)  # type: ignore[index]
        records.append(_record(channel, start, slot.stop_ms, slot.title, slot.kind, slot.item_id))
        at = start
        if slot.media in usable:
            at = builder.once(order[slot.media], start, slot.stop_ms)
        if at < slot.stop_ms:
            if slate_index is not None:
                builder.loop(order[slate], at, slot.stop_ms)  # type: ignore[index]
            else:
                code = "short_media" if slot.media in usable else "not_streamable"
                missing.setdefault((code, slot.item_id), []).append(slot.stop_ms - at)
        cursor = slot.stop_ms
    for (code, item), gaps in missing.items():
        what = "its media is shorter than its slot" if code == "short_media" else "no usable HLS media"
        findings.append(
            Finding(
                code=code,
                message=f"channel {channel}, item {item}: {what} and the channel has no slate: "
                f"{len(gaps)} slot(s), {sum(gaps) / 1000:.3f} s of airtime without picture",
                path=item,
            )
        )
    target = max(
        [r.target_duration for key in used_keys for r in usable[key].renditions[:renditions]], default=1
    )
    ladder = _ladder(common, [usable[k] for k in used_keys]) if common and renditions > 1 else []
    timeline = Timeline(
        channel=channel,
        target=target,
        media=builder.media,
        pieces=builder.pieces,
        slots=records,
        ladder=ladder,
    )
    return timeline, findings


def _ladder(
    common: Sequence[tuple[str | None, str | None]], indexes: list[MediaIndex]
) -> list[dict[str, Any]]:
    """Per rendition: the peak bandwidth over every media (RFC 8216 4.3.4.2: BANDWIDTH bounds them all)."""
    ladder = []
    for r, (resolution, codecs) in enumerate(common):
        renditions = [index.renditions[r] for index in indexes]
        entry: dict[str, Any] = {
            "bandwidth": max((x.bandwidth or 0 for x in renditions), default=0),
            "resolution": resolution,
            "codecs": codecs,
        }
        averages = [x.average_bandwidth for x in renditions]
        if all(averages):
            entry["average_bandwidth"] = max(a for a in averages if a)
        rates = [x.frame_rate for x in renditions if x.frame_rate]
        if rates:
            entry["frame_rate"] = max(rates)
        ladder.append(entry)
    return ladder


class _Builder:
    def __init__(self, media: list[TimelineMedia]) -> None:
        self.media = media
        self.pieces: list[Piece] = []

    def once(self, m: int, t: int, end: int) -> int:
        """Place media m from its first segment at t, cut at `end`; the instant its placement ends."""
        media = self.media[m]
        prefix = media.prefix
        for first, count in media.runs:
            if t >= end:
                break
            length = prefix[first + count] - prefix[first]
            if t + length <= end:
                self.pieces.append(Piece(t, m, first, count, 1, media.durations[first + count - 1]))
                t += length
                continue
            # The segments that start before `end`; the last one's airtime is cut at `end`.
            k = bisect_left(prefix, prefix[first] + (end - t), first, first + count) - first
            last_start = prefix[first + k - 1] - prefix[first]
            self.pieces.append(Piece(t, m, first, k, 1, end - t - last_start))
            t = end
        return t

    def loop(self, m: int, t: int, end: int) -> None:
        """Loop media m over [t, end): whole loops as one piece with repetitions, then the part loop."""
        media = self.media[m]
        whole = media.prefix[-1]
        while t < end:
            reps = (end - t) // whole
            if len(media.runs) == 1 and reps >= 1:
                self.pieces.append(Piece(t, m, 0, len(media.durations), reps, media.durations[-1]))
                t += reps * whole
                continue
            t = self.once(m, t, end)


def _record(channel: str, start: int, stop: int, title: str, kind: str, item: str | None) -> SlotRecord:
    digest = slot_id(channel, start, stop, kind, item, title)
    scte = _scte35(splice_event_id(digest), (stop - start) / 1000) if kind == FILLER else None
    return SlotRecord(start, stop, title, kind, item, digest, scte)


def _scte35(event_id: int, seconds: float) -> tuple[str, str]:
    """The break's splice_insert pair (SCTE 35), encoded by threefive: OUT with the break's duration and
    auto-return, IN immediate. Computed at run time and stored, so the live route never imports it."""
    from threefive import Cue, SpliceInsert

    def cue(out: bool) -> str:
        command = SpliceInsert()
        command.splice_event_id = event_id
        command.splice_event_cancel_indicator = False
        command.out_of_network_indicator = out
        command.program_splice_flag = True
        command.splice_immediate_flag = True
        command.time_specified_flag = False
        command.event_id_compliance_flag = True
        command.unique_program_id = event_id & 0xFFFF  # 16 bits, where the event id has 32
        command.avail_num = 0
        command.avails_expected = 0
        command.component_count = 0
        command.duration_flag = out
        if out:
            command.break_auto_return = True
            command.break_duration = round(seconds, 6)
        splice = Cue()
        splice.command = command
        splice.encode()
        encoded: str = splice.hex()  # threefive is untyped
        return encoded

    return cue(True), cue(False)


# --- splicing ---------------------------------------------------------------------------------------------


def splice(old: Timeline | None, new: Timeline, at_ms: int, *, keep_ms: int = DEFAULT_KEEP_MS) -> Timeline:
    """`new` as the continuation of `old` (the timeline published so far), switching at the first
    instant B >= max(at_ms, new's start) that is not inside one of old's slots or segments: the programme
    on air when the new run is published plays to its end. Everything of `old` before B is kept as it
    was (same segments, numbers, dates, DATERANGE IDs); `new` joins at its first segment boundary at or
    after B (a gap shorter than a segment when B falls inside one of its segments), numbered on from old.

    `at_ms` must lie beyond any instant an API instance may still answer from `old`: the publish instant
    plus the longest an instance caches the published pointer. History older than at_ms - keep_ms is
    dropped (its numbers stay counted in seq_base)."""
    if old is None:
        return new
    switch = _switch_instant(old, new, at_ms)
    head = _head(old, switch)
    keep_from = at_ms - keep_ms
    media: list[TimelineMedia] = []
    by_key: dict[str, list[int]] = {}
    head_pieces = _renumbered(head, old.media, media, by_key)

    # Numbers of the kept head: derived like Timeline._derive, from old's own bases.
    seq, dseq, kept = old.seq_base, old.disc_base, 0
    for piece, end in zip(head, _ends(old, head), strict=True):
        if end > keep_from:
            break
        seq += piece.count * piece.reps
        dseq += piece.reps
        kept += 1
    head_disc = old.head_disc if kept == 0 else True
    tail = _tail(new, switch)
    pieces = head_pieces[kept:] + _renumbered(tail, new.media, media, by_key)
    slots = [s for s in old.slots if keep_from < s.stop <= switch]
    for s in new.slots:
        if s.stop <= switch:
            continue
        if s.start < switch:  # the new programme on air at the switch: announced from the switch on
            s = _record(new.channel, switch, s.stop, s.title, s.kind, s.item)
        slots.append(s)
    return Timeline(
        channel=new.channel,
        target=max(old.target, new.target),  # RFC 8216 6.2.1 wants it constant: it only ever grows
        media=_compact(media, pieces),
        pieces=_remap(media, pieces),
        slots=slots,
        ladder=new.ladder,
        seq_base=seq,
        disc_base=dseq,
        head_disc=head_disc,
    )


def _switch_instant(old: Timeline, new: Timeline, at_ms: int) -> int:
    begins = new.first_start()
    switch = max(at_ms, begins if begins is not None else min(new.slot_starts, default=at_ms))
    inside = bisect_right(old.slot_starts, switch) - 1
    if inside >= 0 and old.slots[inside].start < switch < old.slots[inside].stop:
        switch = old.slots[inside].stop  # let the programme on air finish
    seq = old.on_air(switch)
    if seq is not None:
        segment = old.segment(seq)
        if segment.start < switch < segment.start + segment.duration:
            switch = segment.start + segment.duration  # slate filling a gap: to its segment's end
    return switch


def _head(old: Timeline, switch: int) -> list[Piece]:
    """old's pieces before `switch` (a segment boundary), the one across it cut there."""
    head: list[Piece] = []
    for piece, end in zip(old.pieces, old.ends, strict=True):
        if piece.start >= switch:
            break
        if end <= switch:
            head.append(piece)
            continue
        media = old.media[piece.media]
        period = old._period(piece)
        rep, within = divmod(switch - piece.start, period)
        i = bisect_left(media.prefix, media.prefix[piece.first] + within, piece.first) - piece.first
        if rep:
            head.append(piece._replace(reps=rep, cut=media.durations[piece.first + piece.count - 1]))
        if i:
            cut = media.durations[piece.first + i - 1]
            head.append(Piece(piece.start + rep * period, piece.media, piece.first, i, 1, cut))
        break
    return head


def _tail(new: Timeline, switch: int) -> list[Piece]:
    """new's pieces from its first segment starting at or after `switch`."""
    if not new.pieces:
        return []
    seq = new.on_air(switch)
    if seq is None:
        return list(new.pieces)
    if new.segment(seq).start < switch:
        seq += 1
    if seq >= new.seq_end:
        return []
    p = bisect_right(new.seqs, seq) - 1
    piece = new.pieces[p]
    rep, i = divmod(seq - new.seqs[p], piece.count)
    period = new._period(piece)
    media = new.media[piece.media]
    out: list[Piece] = []
    if i:
        last_rep = rep == piece.reps - 1
        cut = piece.cut if last_rep else media.durations[piece.first + piece.count - 1]
        start = new.segment(seq).start
        out.append(Piece(start, piece.media, piece.first + i, piece.count - i, 1, cut))
        rep += 1
    if rep < piece.reps:
        out.append(piece._replace(start=piece.start + rep * period, reps=piece.reps - rep))
    return out + new.pieces[p + 1 :]


def _ends(timeline: Timeline, pieces: list[Piece]) -> list[int]:
    return [p.start + timeline._length(p) for p in pieces]


def _renumbered(
    pieces: list[Piece], source: list[TimelineMedia], into: list[TimelineMedia], by_key: dict[str, list[int]]
) -> list[Piece]:
    """Pieces pointing into `into`: a media both timelines hold (same URI, same content) is kept once; one
    whose playlist changed behind the same URI is a second entry."""
    mapping: dict[int, int] = {}
    out = []
    for piece in pieces:
        if piece.media not in mapping:
            candidate = source[piece.media]
            same = by_key.setdefault(candidate.key, [])
            found = next((n for n in same if into[n] == candidate), None)
            if found is None:
                into.append(candidate)
                found = len(into) - 1
                same.append(found)
            mapping[piece.media] = found
        out.append(piece._replace(media=mapping[piece.media]))
    return out


def _compact(media: list[TimelineMedia], pieces: list[Piece]) -> list[TimelineMedia]:
    used = sorted({p.media for p in pieces})
    return [media[m] for m in used]


def _remap(media: list[TimelineMedia], pieces: list[Piece]) -> list[Piece]:
    used = {m: n for n, m in enumerate(sorted({p.media for p in pieces}))}
    return [p._replace(media=used[p.media]) for p in pieces]
