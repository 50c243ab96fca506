"""A channel's live timeline: compact pieces, slate filling, findings, numbering, JSON, splicing."""

from __future__ import annotations

import json

import threefive

from onair.live.media import MediaIndex, Rendition
from onair.live.timeline import LiveSlot, Piece, Timeline, build_timeline, splice, splice_event_id
from tests.live_support import vod

T0 = 1_800_000_000_000  # 2027-01-15T08:00:00Z
A = vod("http://h/a/index.m3u8", [2, 2, 2], "a")  # 6 s
AD = vod("http://h/ad/index.m3u8", [2, 2], "ad")  # 4 s
SLATE = vod("http://h/slate/index.m3u8", [2, 2], "slate")  # 4 s
MEDIA = {m.uri: m for m in (A, AD, SLATE)}


def slot(
    start_s: float, stop_s: float, media: MediaIndex | None, kind: str = "programme", title: str = ""
) -> LiveSlot:
    return LiveSlot(
        T0 + round(start_s * 1000),
        T0 + round(stop_s * 1000),
        title or (media.uri.split("/")[3] if media else "none"),
        kind,
        item_id=title or (media.uri.split("/")[3] if media else "none"),
        media=media.uri if media else None,
    )


def uris(timeline: Timeline) -> list[str]:
    return [timeline.uri(timeline.segment(seq)) for seq in range(timeline.seq_base, timeline.seq_end)]


def test_slots_become_pieces_not_segments():
    # Given a programme, a break and the programme again
    timeline, findings = build_timeline(
        "ch", [slot(0, 6, A), slot(6, 10, AD, "filler"), slot(10, 16, A)], MEDIA
    )
    # Then there is one piece per slot, numbered by prefix counts
    assert findings == []
    assert timeline.pieces == [
        Piece(T0, 0, 0, 3, 1, 2000),
        Piece(T0 + 6000, 1, 0, 2, 1, 2000),
        Piece(T0 + 10000, 0, 0, 3, 1, 2000),
    ]
    assert len(timeline.media) == 2  # A is stored once
    assert (timeline.seqs, timeline.dseqs, timeline.seq_end) == ([0, 3, 5], [0, 1, 2], 8)
    assert uris(timeline)[2:4] == ["http://h/a/a2.ts", "http://h/ad/ad0.ts"]


def test_media_longer_than_its_slot_is_cut_there():
    # Given a 6 s media in a 5 s slot
    timeline, _ = build_timeline("ch", [slot(0, 5, A), slot(5, 9, AD)], MEDIA)
    # Then its third segment airs 1 s, and the next item starts on time
    assert timeline.segment(2).duration == 1000
    assert timeline.segment(3).start == T0 + 5000


def test_a_slot_without_media_loops_the_slate_in_whole_repetitions_then_a_cut_one():
    # Given a 10 s slot without media and a 4 s slate
    timeline, findings = build_timeline("ch", [slot(0, 10, None)], MEDIA, slate=SLATE.uri)
    # Then two whole loops are one piece, the last 2 s another; every loop starts with a discontinuity
    assert findings == []
    assert [(p.count, p.reps, p.cut) for p in timeline.pieces] == [(2, 2, 2000), (1, 1, 2000)]
    assert [timeline.segment(q).discontinuity for q in range(5)] == [False, False, True, False, True]
    assert [timeline.segment(q).dseq for q in range(5)] == [0, 0, 1, 1, 2]
    assert uris(timeline) == ["http://h/slate/slate0.ts", "http://h/slate/slate1.ts"] * 2 + [
        "http://h/slate/slate0.ts"
    ]


def test_shorter_media_and_gaps_are_filled_with_slate():
    # Given a 6 s media in an 8 s slot, then a 2 s gap before the next slot
    timeline, findings = build_timeline("ch", [slot(0, 8, A), slot(10, 14, AD)], MEDIA, slate=SLATE.uri)
    # Then slate fills both
    assert findings == []
    assert [timeline.media[p.media].key for p in timeline.pieces] == [A.uri, SLATE.uri, SLATE.uri, AD.uri]
    assert timeline.segment(timeline.on_air(T0 + 9000)).start == T0 + 8000
    assert timeline.segment(timeline.on_air(T0 + 10000)).start == T0 + 10000


def test_without_a_slate_missing_airtime_is_reported_once_per_item():
    # Given two slots of an item without media, one of media shorter than its slot, and no slate
    slots = [slot(0, 6, None, title="x"), slot(6, 14, A), slot(14, 20, None, title="x")]
    timeline, findings = build_timeline("ch", slots, MEDIA)
    # Then each item is one finding with its count and airtime, and the timeline has gaps
    assert sorted((f.code, f.path) for f in findings) == [("not_streamable", "x"), ("short_media", "a")]
    not_streamable = next(f for f in findings if f.code == "not_streamable")
    assert "2 slot(s), 12.000 s" in not_streamable.message
    assert [p.start for p in timeline.pieces] == [T0 + 6000]
    # In a gap, the last segment before it stays the one "on air"
    assert timeline.on_air(T0 + 13000) == 2
    assert timeline.on_air(T0 + 1000) is None


def test_an_unusable_media_is_not_streamable():
    timeline, findings = build_timeline("ch", [slot(0, 6, A)], {A.uri: None})
    assert [f.code for f in findings] == ["not_streamable"]
    assert timeline.pieces == []


def test_internal_discontinuities_split_pieces():
    # Given a VOD with a discontinuity inside it (two parts)
    rendition = Rendition(
        "http://h/d/i.m3u8", 2, (2000, 2000, 2000), ("a.ts", "b.ts", "c.ts"), discontinuities=(2,)
    )
    index = MediaIndex("http://h/d/i.m3u8", (rendition,))
    timeline, _ = build_timeline("ch", [slot(0, 6, index)], {index.uri: index})
    # Then the timeline carries it as a piece boundary, hence an EXT-X-DISCONTINUITY
    assert [(p.first, p.count) for p in timeline.pieces] == [(0, 2), (2, 1)]
    assert timeline.segment(2).discontinuity


def test_breaks_carry_a_splice_insert_pair_encoded_by_threefive():
    timeline, _ = build_timeline("ch", [slot(0, 6, A), slot(6, 10, AD, "filler")], MEDIA)
    programme, brk = timeline.slots
    assert programme.scte35 is None
    out, back = brk.scte35
    cue_out, cue_in = threefive.Cue(out), threefive.Cue(back)
    cue_out.decode()
    cue_in.decode()
    assert cue_out.command.name == "Splice Insert" and cue_out.command.out_of_network_indicator
    assert cue_out.command.break_duration == 4.0 and cue_out.command.break_auto_return
    assert not cue_in.command.out_of_network_indicator
    assert cue_out.command.splice_event_id == cue_in.command.splice_event_id == splice_event_id(brk.id)


def test_slot_ids_depend_on_what_they_announce():
    one, _ = build_timeline("ch", [slot(0, 6, A)], MEDIA)
    same, _ = build_timeline("ch", [slot(0, 6, A)], MEDIA)
    other, _ = build_timeline("ch", [slot(0, 6, A, title="Renamed")], MEDIA)
    assert one.slots[0].id == same.slots[0].id != other.slots[0].id


def test_json_round_trip_is_lossless_and_compact():
    # Given a timeline with a ladder-free mix of media, a break, slate and a gap
    slots = [slot(0, 5, A), slot(5, 9, AD, "filler"), slot(9, 30, None), slot(32, 38, A)]
    timeline, _ = build_timeline("ch", slots, MEDIA, slate=SLATE.uri)
    raw = timeline.to_json()
    # When it is read back
    again = Timeline.from_json(raw)
    # Then every segment, number and slot is the same, and segment URIs are stored relative
    assert uris(again) == uris(timeline)
    assert [again.segment(q) for q in range(again.seq_end)] == [
        timeline.segment(q) for q in range(timeline.seq_end)
    ]
    assert again.slots == timeline.slots
    assert b"http://h/a/a0.ts" not in raw
    assert json.loads(raw)["pieces"]["reps"]


def test_a_week_of_one_minute_items_is_small():
    # Given 7 days of 1-minute items, each its own 30-segment media
    media = {f"http://h/{n}/i.m3u8": vod(f"http://h/{n}/i.m3u8", [2] * 30) for n in range(50)}
    keys = list(media)
    slots = [
        LiveSlot(T0 + n * 60_000, T0 + (n + 1) * 60_000, f"t{n}", item_id=str(n), media=keys[n % 50])
        for n in range(7 * 24 * 60)
    ]
    timeline, _ = build_timeline("ch", slots, media)
    # Then the timeline is a piece per slot, ~300k segments, in well under a megabyte
    assert len(timeline.pieces) == 10080 and timeline.seq_end == 302_400
    assert len(timeline.to_json()) < 1_000_000


def test_slots_from_the_playout_become_utc_instants_across_a_dst_change():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from onair.playout.types import Slot

    paris = ZoneInfo("Europe/Paris")
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST; the playout's slots carry aware local times
    before = Slot(
        "ch", datetime(2026, 3, 29, 1, 59, 54, tzinfo=paris), datetime(2026, 3, 29, 3, 0, tzinfo=paris), "x"
    )
    live = LiveSlot.of(before)
    assert live.stop_ms - live.start_ms == 6000


# --- splicing ------------------------------------------------------------------------------------------------


def test_splice_lets_the_programme_on_air_finish_then_numbers_on():
    # Given the published timeline (A, AD, A, ...) and a new run with other content from the same start
    old, _ = build_timeline("ch", [slot(0, 6, A), slot(6, 10, AD, "filler"), slot(10, 16, A)], MEDIA)
    new, _ = build_timeline("ch", [slot(0, 9, None), slot(9, 20, None)], MEDIA, slate=SLATE.uri)
    # When it is published at 7 s (inside the break)
    spliced = splice(old, new, T0 + 7000)
    # Then the break airs to its end (10 s); the new timeline joins at its first segment boundary after
    # that (its slate segment 9-11 s is under way at 10 s: 1 s without a segment), numbered on from 5
    assert uris(spliced)[:5] == uris(old)[:5]
    join = spliced.segment(5)
    assert (join.start, join.discontinuity, join.dseq) == (T0 + 11000, True, 2)
    assert spliced.uri(join) == "http://h/slate/slate1.ts"
    # And the new programme on air at the switch is announced from the switch, under another ID
    assert [(s.start - T0, s.stop - T0) for s in spliced.slots] == [(0, 6000), (6000, 10000), (10000, 20000)]
    assert spliced.slots[2].id != new.slots[1].id


def test_splice_keeps_numbers_when_old_history_is_dropped():
    # Given 10 x (A for 6 s, 10 s of slate: 2 whole loops and 2 s): 8 segments, 4 discontinuities per 16 s
    slots = [s for n in range(10) for s in (slot(n * 16, n * 16 + 6, A), slot(n * 16 + 6, n * 16 + 16, None))]
    old, _ = build_timeline("ch", slots, MEDIA, slate=SLATE.uri)
    new, _ = build_timeline("ch", [slot(n * 4, n * 4 + 4, AD) for n in range(50)], MEDIA)
    # When it is published at 100 s, keeping 30 s of history
    spliced = splice(old, new, T0 + 100_000, keep_ms=30_000)
    # Then pieces ending by 70 s are gone (4 cycles, then A), their numbers counted in the bases
    assert (spliced.seq_base, spliced.disc_base, spliced.head_disc) == (4 * 8 + 3, 4 * 4 + 1, True)
    assert spliced.pieces[0].start == T0 + 70_000
    # Up to the switch (the end of the programme on air at 100 s: A from 96 to 102 s, seq 50)
    for seq in range(spliced.seq_base, 51):
        assert spliced.uri(spliced.segment(seq)) == old.uri(old.segment(seq))
        assert spliced.segment(seq) == old.segment(seq)._replace(media=spliced.segment(seq).media)
    # Then the new timeline, at its segment starting there
    assert (
        spliced.segment(51).start == T0 + 102_000 and spliced.uri(spliced.segment(51)) == "http://h/ad/ad1.ts"
    )


def test_splice_onto_nothing_is_the_new_timeline():
    new, _ = build_timeline("ch", [slot(0, 6, A)], MEDIA)
    assert splice(None, new, T0) is new


def test_splice_after_the_old_timeline_ended_continues_its_numbers():
    old, _ = build_timeline("ch", [slot(0, 6, A)], MEDIA)
    new, _ = build_timeline("ch", [slot(100, 106, A)], MEDIA)
    spliced = splice(old, new, T0 + 50_000)
    assert spliced.segment(3).start == T0 + 100_000 and spliced.segment(3).dseq == 1
    assert spliced.seq_end == 6
