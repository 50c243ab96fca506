"""The live playlist at chosen instants (a controllable clock), read back with the m3u8 library; and
properties over random channels: numbers never go back, a number always names the same segment."""

from __future__ import annotations

from datetime import UTC, datetime

import m3u8
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onair.live.media import MediaIndex, Rendition
from onair.live.playlist import live_playlist, max_age, multivariant_playlist
from onair.live.timeline import DEFAULT_KEEP_MS, LiveSlot, Timeline, build_timeline, splice
from tests.live_support import vod

T0 = 1_800_000_000_000  # 2027-01-15T08:00:00Z
A = vod("http://h/a/index.m3u8", [2, 2, 2], "a")
AD = vod("http://h/ad/index.m3u8", [2, 2], "ad")
SLATE = vod("http://h/slate/index.m3u8", [2, 2], "slate")
MEDIA = {m.uri: m for m in (A, AD, SLATE)}


def slot(
    start_ms: int, seconds: float, media: MediaIndex | None, kind: str = "programme", title: str = ""
) -> LiveSlot:
    name = title or (media.uri.split("/")[3] if media else "none")
    return LiveSlot(
        start_ms, start_ms + round(seconds * 1000), name, kind, name, media.uri if media else None
    )


def channel(start: int = T0, slate: bool = False) -> Timeline:
    """A (6 s), a break AD (4 s), A (6 s), then 8 s without media."""
    slots = [slot(start, 6, A), slot(start + 6000, 4, AD, "filler"), slot(start + 10000, 6, A)]
    slots.append(slot(start + 16000, 8, None, title="late"))
    return build_timeline("ch", slots, MEDIA, slate=SLATE.uri if slate else None)[0]


def read(text: str) -> m3u8.M3U8:
    playlist = m3u8.loads(text)
    assert not playlist.is_endlist and not playlist.is_variant
    return playlist


def names(playlist: m3u8.M3U8) -> list[str]:
    return [s.uri.rsplit("/", 1)[1] for s in playlist.segments]


def iso(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


# --- at chosen instants ---------------------------------------------------------------------------------------


def test_before_the_first_segment_the_playlist_has_none_yet():
    playlist = read(live_playlist(channel(), T0 - 1, 3))
    assert playlist.segments == [] and playlist.media_sequence == 0 and playlist.target_duration == 2


def test_at_the_first_instant_the_first_segment_is_on_air():
    playlist = read(live_playlist(channel(), T0, 3))
    assert names(playlist) == ["a0.ts"]
    assert playlist.segments[0].program_date_time == iso(T0)
    (daterange,) = playlist.segments[0].dateranges
    assert (daterange.start_date, daterange.duration, daterange.class_) == (
        "2027-01-15T08:00:00.000Z",
        6.0,
        "urn:onair:programme",
    )
    assert dict(daterange.x_client_attrs)["x_title"] == '"a"'


def test_just_before_a_boundary_no_discontinuity_yet():
    playlist = read(live_playlist(channel(), T0 + 5999, 3))
    assert names(playlist) == ["a0.ts", "a1.ts", "a2.ts"]
    assert not any(s.discontinuity for s in playlist.segments)


def test_at_the_boundary_the_break_starts_with_a_discontinuity_a_date_and_its_cues():
    playlist = read(live_playlist(channel(), T0 + 6000, 3))
    # Then the window keeps three target durations: a0 dropped, the break's first segment on air
    assert names(playlist) == ["a1.ts", "a2.ts", "ad0.ts"]
    assert (playlist.media_sequence, playlist.discontinuity_sequence) == (1, 0)
    ad = playlist.segments[2]
    assert ad.discontinuity and ad.program_date_time == iso(T0 + 6000)
    (brk,) = ad.dateranges
    assert brk.class_ == "urn:onair:break" and brk.duration == 4.0
    assert brk.scte35_out.startswith("0xfc") and brk.scte35_in.startswith("0xfc")
    # And the programme started before the window is still announced, above the first segment
    assert [d.class_ for d in playlist.segments[0].dateranges] == ["urn:onair:programme"]


def test_after_the_boundary_the_window_slides_and_the_numbers_follow():
    playlist = read(live_playlist(channel(), T0 + 12000, 3))
    # seq 0-2 a, 3-4 ad, 5-7 a: at 12 s a1 (seq 6) is on air
    assert names(playlist) == ["ad1.ts", "a0.ts", "a1.ts"]
    assert (playlist.media_sequence, playlist.discontinuity_sequence) == (4, 1)
    # The first segment has a date (though its discontinuity tag left with ad0), the next item too
    assert playlist.segments[0].program_date_time == iso(T0 + 8000)
    assert not playlist.segments[0].discontinuity
    assert playlist.segments[1].discontinuity and playlist.segments[1].program_date_time == iso(T0 + 10000)
    assert playlist.segments[2].program_date_time is None


def test_the_window_holds_at_least_three_target_durations():
    # Given 4 s segments and a window of 2 segments asked for
    slow = vod("http://h/slow/i.m3u8", [4] * 10, "w")
    timeline, _ = build_timeline("ch", [slot(T0, 40, slow)], {slow.uri: slow})
    playlist = read(live_playlist(timeline, T0 + 30000, 2))
    # Then it holds 3 segments (12 s = 3 target durations), not 2
    assert len(playlist.segments) == 3
    # And a larger window is honoured
    assert len(read(live_playlist(timeline, T0 + 30000, 6)).segments) == 6


def test_in_a_gap_without_slate_the_playlist_stays_as_it_was():
    timeline = channel()
    assert live_playlist(timeline, T0 + 17000, 3) == live_playlist(timeline, T0 + 23000, 3)


def test_with_a_slate_the_gap_plays_it():
    playlist = read(live_playlist(channel(slate=True), T0 + 19000, 3))
    assert names(playlist)[-2:] == ["slate0.ts", "slate1.ts"]


def test_across_midnight_utc_the_dates_roll_over():
    midnight = 1_800_057_600_000  # 2027-01-16T00:00:00Z
    playlist = read(live_playlist(channel(midnight - 6000), midnight + 1000, 3))
    assert playlist.segments[-1].program_date_time == datetime(2027, 1, 16, tzinfo=UTC)
    assert playlist.segments[0].program_date_time == datetime(2027, 1, 15, 23, 59, 56, tzinfo=UTC)


def test_across_a_dst_change_the_dates_are_continuous():
    from zoneinfo import ZoneInfo

    from onair.playout.types import Slot

    paris = ZoneInfo("Europe/Paris")
    # Given a playout whose slots change at 02:00 CET = 03:00 CEST on 2026-03-29
    slots = [
        Slot(
            "ch",
            datetime(2026, 3, 29, 1, 59, 54, tzinfo=paris),
            datetime(2026, 3, 29, 3, 0, tzinfo=paris),
            "a",
            uri=A.uri,
        ),
        Slot(
            "ch",
            datetime(2026, 3, 29, 3, 0, tzinfo=paris),
            datetime(2026, 3, 29, 3, 0, 4, tzinfo=paris),
            "ad",
            uri=AD.uri,
        ),
    ]
    timeline, _ = build_timeline("ch", [LiveSlot.of(s) for s in slots], MEDIA)
    # When the playlist is read 1 s after the change
    playlist = read(
        live_playlist(timeline, round(datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC).timestamp() * 1000), 3)
    )
    # Then the item after the change is dated 01:00:00Z, 6 s after the first (no hour gap, no overlap)
    first, *_, last = playlist.segments
    assert first.program_date_time == datetime(2026, 3, 29, 0, 59, 56, tzinfo=UTC)
    assert last.program_date_time == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_uri_map_rewrites_segment_uris():
    text = live_playlist(
        channel(), T0 + 3000, 3, uri_map=lambda uri: uri.replace("http://h/", "https://cdn/")
    )
    assert names(read(text)) == ["a0.ts", "a1.ts"] and "https://cdn/a/a1.ts" in text


def test_maps_and_byteranges_are_written_with_explicit_offsets():
    rendition = Rendition(
        "http://h/f/i.m3u8",
        2,
        (2000, 2000),
        ("http://h/f/all.mp4", "http://h/f/all.mp4"),
        byteranges=((1000, 700), (900, 1700)),
        maps=((0, "http://h/f/init.mp4", (700, 0)),),
    )
    index = MediaIndex(rendition.uri, (rendition,))
    timeline, _ = build_timeline("ch", [slot(T0, 4, index), slot(T0 + 4000, 4, index)], {index.uri: index})
    text = live_playlist(timeline, T0 + 4500, 3)
    assert "#EXT-X-VERSION:6" in text
    # One EXT-X-MAP at the top and one after the discontinuity
    assert text.count('#EXT-X-MAP:URI="http://h/f/init.mp4",BYTERANGE="700@0"') == 2
    playlist = read(text)
    assert [s.byterange for s in playlist.segments] == ["1000@700", "900@1700", "1000@700"]


def test_titles_cannot_break_out_of_their_quoted_string():
    timeline, _ = build_timeline("ch", [slot(T0, 6, A, title='Say "hi"\nEXT-X-ENDLIST')], MEDIA)
    text = live_playlist(timeline, T0, 3)
    assert "\nEXT-X-ENDLIST" not in text and "X-TITLE=\"Say 'hi' EXT-X-ENDLIST\"" in text


def test_cache_max_age_is_half_a_target_duration():
    assert max_age(channel()) == 1


def test_at_a_republish_the_window_runs_from_the_old_timeline_into_the_new():
    # Given the channel, and a new run (slate-only programme "news" from 0 s) published at 3 s
    old = channel()
    new, _ = build_timeline("ch", [slot(T0, 30, None, title="news")], MEDIA, slate=SLATE.uri)
    spliced = splice(old, new, T0 + 3000)
    # Before the switch (the end of the programme on air at 3 s: 6 s) both answer alike
    assert live_playlist(spliced, T0 + 5999, 3) == live_playlist(old, T0 + 5999, 3)
    # At the switch the new run joins at its segment starting there (the second half of a slate loop),
    # numbers following on
    playlist = read(live_playlist(spliced, T0 + 6000, 3))
    assert names(playlist) == ["a1.ts", "a2.ts", "slate1.ts"]
    assert (playlist.media_sequence, playlist.discontinuity_sequence) == (1, 0)
    join = playlist.segments[2]
    assert join.discontinuity and join.program_date_time == iso(T0 + 6000)
    # And "news" is announced from the switch on (its part before it never aired), under its own ID
    (news,) = join.dateranges
    assert (news.start_date, news.duration) == ("2027-01-15T08:00:06.000Z", 24.0)
    assert news.id != new.slots[0].id
    # After it, the next loop of the slate is a discontinuity of its own
    later = read(live_playlist(spliced, T0 + 8000, 3))
    assert names(later) == ["a2.ts", "slate1.ts", "slate0.ts"] and later.segments[2].discontinuity


def test_any_rendition_number_answers_a_playlist():
    timeline = channel()
    assert live_playlist(timeline, T0, 3, rendition=-1) == live_playlist(timeline, T0, 3, rendition=99)


# --- renditions ------------------------------------------------------------------------------------------------


def ladder_media(uri: str, durations: list[int]) -> MediaIndex:
    def rendition(name: str, resolution: str, bandwidth: int) -> Rendition:
        base = uri.rsplit("/", 1)[0] + f"/{name}/"
        return Rendition(
            base + "i.m3u8",
            2,
            tuple(durations),
            tuple(f"{base}s{n}.ts" for n in range(len(durations))),
            bandwidth=bandwidth,
            codecs="avc1.64001f,mp4a.40.2",
            resolution=resolution,
        )

    return MediaIndex(
        uri, (rendition("hi", "1280x720", 2_000_000), rendition("lo", "640x360", 500_000)), True
    )


def test_a_shared_ladder_gives_a_multivariant_playlist_and_one_media_playlist_per_rendition():
    x, y = ladder_media("http://h/x/m.m3u8", [2000, 2000]), ladder_media("http://h/y/m.m3u8", [2000])
    timeline, findings = build_timeline("ch", [slot(T0, 4, x), slot(T0 + 4000, 2, y)], {x.uri: x, y.uri: y})
    assert findings == []
    master = m3u8.loads(multivariant_playlist(timeline, lambda r: f"ch/{r}.m3u8"))
    assert [(p.uri, p.stream_info.bandwidth, p.stream_info.resolution) for p in master.playlists] == [
        ("ch/0.m3u8", 2_000_000, (1280, 720)),
        ("ch/1.m3u8", 500_000, (640, 360)),
    ]
    low = read(live_playlist(timeline, T0 + 4000, 3, rendition=1))
    high = read(live_playlist(timeline, T0 + 4000, 3, rendition=0))
    assert [s.uri for s in low.segments] == [
        "http://h/x/lo/s0.ts",
        "http://h/x/lo/s1.ts",
        "http://h/y/lo/s0.ts",
    ]
    assert high.media_sequence == low.media_sequence and [s.duration for s in high.segments] == [
        s.duration for s in low.segments
    ]


def test_a_mismatched_ladder_gives_one_rendition():
    x, plain = ladder_media("http://h/x/m.m3u8", [2000]), vod("http://h/p/i.m3u8", [2])
    timeline, findings = build_timeline(
        "ch", [slot(T0, 2, x), slot(T0 + 2000, 2, plain)], {x.uri: x, plain.uri: plain}
    )
    assert [f.code for f in findings] == ["ladder_mismatch"]
    assert multivariant_playlist(timeline, str) is None
    assert read(live_playlist(timeline, T0, 3)).segments[0].uri == "http://h/x/hi/s0.ts"  # the first variant


# --- properties --------------------------------------------------------------------------------------------------

durations = st.lists(st.integers(300, 4000), min_size=1, max_size=5)


@st.composite
def channels(draw: st.DrawFn, start: int = T0) -> Timeline:
    """A random channel: 1-4 media (some with a discontinuity inside), 1-10 slots with random kinds, gaps,
    media or none, maybe a slate."""
    media: dict[str, MediaIndex] = {}
    for n in range(draw(st.integers(1, 4))):
        ms = draw(durations)
        uri = f"http://h/{start}/{n}/i.m3u8"
        disc = tuple(sorted(draw(st.sets(st.integers(1, len(ms) - 1), max_size=1)))) if len(ms) > 1 else ()
        rendition = Rendition(
            uri, 4, tuple(ms), tuple(f"http://h/{start}/{n}/s{k}.ts" for k in range(len(ms))), disc
        )
        media[uri] = MediaIndex(uri, (rendition,))
    keys = [*media, None]
    slots, t = [], start
    for n in range(draw(st.integers(1, 10))):
        t += draw(st.sampled_from([0, 0, 0, 700, 3000]))
        length = draw(st.integers(500, 15000))
        key = draw(st.sampled_from(keys))
        kind = draw(st.sampled_from(["programme", "filler"]))
        slots.append(LiveSlot(t, t + length, f"t{n}", kind, f"i{n}", key))
        t += length
    slate = draw(st.sampled_from([*media, None]))
    return build_timeline("ch", slots, media, slate=slate)[0]


def check_structure(timeline: Timeline) -> None:
    """Segments follow one another without overlap, each found again by the instant it starts at."""
    previous = None
    for seq in range(timeline.seq_base, timeline.seq_end):
        segment = timeline.segment(seq)
        assert segment.duration > 0
        if previous is not None:
            assert segment.start >= previous.start + previous.duration
            assert segment.dseq == previous.dseq + (1 if segment.discontinuity else 0)
        assert timeline.on_air(segment.start) == seq
        previous = segment
    starts = [s.start for s in timeline.slots[1:]]
    assert all(a.stop <= b for a, b in zip(timeline.slots, starts, strict=False))  # DATERANGEs never overlap


def observe(
    timeline: Timeline, instants: list[int], window: int, seen: dict[int, tuple]
) -> list[tuple[int, int]]:
    """Read the playlist at each instant; record what each sequence number names (failing on a
    contradiction) and return (media sequence, discontinuity sequence) per instant."""
    heads = []
    for now in instants:
        playlist = read(live_playlist(timeline, now, window))
        dseq = playlist.discontinuity_sequence
        for n, segment in enumerate(playlist.segments):
            dseq += 1 if n and segment.discontinuity else 0
            named = (segment.uri, dseq, segment.duration)
            assert seen.setdefault(playlist.media_sequence + n, named) == named
            assert round(segment.duration) <= playlist.target_duration
        heads.append((playlist.media_sequence, playlist.discontinuity_sequence))
    return heads


PROPERTIES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTIES
@given(channels(), st.lists(st.integers(-2000, 150_000), min_size=1, max_size=25), st.integers(1, 8))
def test_numbers_never_go_back_and_always_name_the_same_segment(timeline, offsets, window):
    check_structure(timeline)
    instants = sorted(T0 + o for o in offsets)
    heads = observe(timeline, instants, window, {})
    assert heads == sorted(heads)  # media sequence, then discontinuity sequence: never back
    # And a timeline read back from its JSON answers the same text
    again = Timeline.from_json(timeline.to_json())
    assert all(live_playlist(again, t, window) == live_playlist(timeline, t, window) for t in instants)


@PROPERTIES
@given(
    channels(),
    channels(start=T0 + 20_000),
    st.integers(0, 120_000),
    st.lists(st.integers(-2000, 200_000), min_size=1, max_size=25),
    st.integers(1, 8),
    st.sampled_from([DEFAULT_KEEP_MS, 20_000, 5_000]),
)
def test_a_splice_changes_nothing_already_served_and_numbers_on(old, new, publish, offsets, window, keep):
    # Given the published timeline, and a new one spliced onto it for the instant `at`
    at = T0 + publish
    spliced = splice(old, new, at, keep_ms=keep)
    check_structure(spliced)
    instants = sorted(T0 + o for o in offsets)
    seen: dict[int, tuple] = {}
    # Then before `at` (API instances still on the old timeline, or already on the new) the answers agree
    # wherever the old answer lies within the history the splice keeps
    before = [t for t in instants if t < at]
    for t in before:
        old_text = live_playlist(old, t, window)
        first = read(old_text).media_sequence
        if first < old.seq_end and old.segment(first).start < at - keep:
            continue
        assert _without_target(live_playlist(spliced, t, window)) == _without_target(old_text)
    # And across the switch numbers never go back, and never name two segments
    heads = observe(old, before, window, seen)
    heads += observe(spliced, [t for t in instants if t >= at], window, seen)
    assert heads == sorted(heads)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    channels(),
    channels(start=T0 + 10_000),
    channels(start=T0 + 40_000),
    st.integers(0, 60_000),
    st.lists(st.integers(-1000, 200_000), min_size=1, max_size=30),
)
def test_splices_chain(first, second, third, gap, offsets):
    # Given a timeline republished twice
    one = splice(first, second, T0 + 5000)
    two = splice(one, third, T0 + 5000 + gap + 30_000)
    check_structure(two)
    seen: dict[int, tuple] = {}
    instants = sorted(T0 + o for o in offsets)
    heads = observe(two, instants, 4, seen)
    assert heads == sorted(heads)
    # Then what both spliced timelines hold before the second switch is the same
    for t in (t for t in instants if t < T0 + 5000 + gap + 30_000):
        assert _without_target(live_playlist(two, t, 4)) == _without_target(live_playlist(one, t, 4))


def _without_target(text: str) -> str:
    # A splice keeps the larger target duration of the two (it may only grow); the rest must be equal
    return "\n".join(line for line in text.splitlines() if not line.startswith("#EXT-X-TARGETDURATION"))
