"""Resolving item playlists into media indexes: what is kept, and every finding (never an exception)."""

from __future__ import annotations

import json

import pytest

from onair.live.fetch import MemoryCache
from onair.live.media import (
    Limits,
    MediaIndex,
    check_duration,
    ladder_mismatch,
    parse,
    resolve,
    resolve_uri,
)
from tests.live_support import DictFetcher, vod, vod_text

URL = "https://media.example/show/ep1/index.m3u8"

MASTER = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=1280000,AVERAGE-BANDWIDTH=1000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25
hi/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=400000,CODECS="avc1.42c01e,mp4a.40.2",RESOLUTION=640x360
https://cdn.example/lo/index.m3u8
"""


def codes(resolution) -> list[str]:
    return [finding.code for finding in resolution.findings]


def test_media_playlist_gives_ms_durations_and_absolute_uris():
    # Given a VOD media playlist with relative, root-relative and absolute segment URIs
    text = (
        vod_text([2.002, 2.0, 1.5])
        .replace("s1.ts", "/other/s1.ts")
        .replace("s2.ts", "https://cdn.example/s2.ts")
    )
    # When it is resolved
    resolution = resolve(URL, DictFetcher({URL: text}))
    # Then durations are integer ms and every URI is absolute, resolved against the playlist
    assert resolution.findings == []
    rendition = resolution.index.renditions[0]
    assert rendition.durations == (2002, 2000, 1500)
    assert rendition.segments == (
        "https://media.example/show/ep1/s0.ts",
        "https://media.example/other/s1.ts",
        "https://cdn.example/s2.ts",
    )
    assert rendition.target_duration == 2
    assert resolution.index.duration_ms == 5502


def test_relative_uris_resolve_against_the_url_after_redirects():
    # Given a playlist reached through a redirect
    fetcher = DictFetcher(
        {"https://cdn.example/real/p.m3u8": vod_text([2, 2])}, {URL: "https://cdn.example/real/p.m3u8"}
    )
    # When it is resolved
    index = resolve(URL, fetcher).index
    # Then its segments resolve against where it was found (RFC 3986 5.1.3), and the index keeps the item URI
    assert index.renditions[0].segments[0] == "https://cdn.example/real/s0.ts"
    assert index.uri == URL


def test_s3_playlists_resolve_relative_segments_in_their_bucket():
    # urllib.parse.urljoin does not join s3: references; resolve_uri does
    assert resolve_uri("s3://bucket/a/b/p.m3u8", "s0.ts") == "s3://bucket/a/b/s0.ts"
    assert resolve_uri("s3://bucket/a/b/p.m3u8", "../c/s0.ts") == "s3://bucket/a/c/s0.ts"
    assert resolve_uri("s3://bucket/a/b/p.m3u8", "https://x.example/s.ts") == "https://x.example/s.ts"


def test_discontinuities_byteranges_and_maps_are_kept():
    # Given an fMP4 playlist with an init section, byte ranges (one without an offset) and a discontinuity
    text = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="init.mp4",BYTERANGE="700@0"
#EXT-X-BYTERANGE:1000@700
#EXTINF:2,
all.mp4
#EXT-X-BYTERANGE:900
#EXTINF:2,
all.mp4
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init2.mp4"
#EXTINF:1.5,
other.mp4
#EXT-X-ENDLIST
"""
    rendition = resolve(URL, DictFetcher({URL: text})).index.renditions[0]
    # Then offsets are made explicit, the discontinuity is at segment 2, each map starts where it applies
    assert rendition.byteranges == ((1000, 700), (900, 1700), None)
    assert rendition.discontinuities == (2,)
    base = "https://media.example/show/ep1/"
    assert rendition.maps == ((0, base + "init.mp4", (700, 0)), (2, base + "init2.mp4", None))


def test_multivariant_playlist_gives_its_ladder_with_each_variant_resolved():
    # Given a multivariant playlist whose two variants are aligned media playlists
    fetcher = DictFetcher(
        {
            URL: MASTER,
            "https://media.example/show/ep1/hi/index.m3u8": vod_text([2, 2, 1]),
            "https://cdn.example/lo/index.m3u8": vod_text([2, 2, 1]),
        }
    )
    # When it is resolved
    resolution = resolve(URL, fetcher)
    # Then each rendition has the variant's stream attributes and its own segments
    assert resolution.findings == []
    index = resolution.index
    assert index.multivariant and index.aligned
    hi, lo = index.renditions
    assert (hi.bandwidth, hi.average_bandwidth, hi.resolution, hi.frame_rate) == (
        1280000,
        1000000,
        "1280x720",
        25.0,
    )
    assert hi.codecs == "avc1.64001f,mp4a.40.2"
    assert lo.segments[0] == "https://cdn.example/lo/s0.ts"
    assert index.ladder == (("1280x720", "avc1.64001f,mp4a.40.2"), ("640x360", "avc1.42c01e,mp4a.40.2"))


def test_unaligned_variants_play_only_the_first():
    fetcher = DictFetcher(
        {
            URL: MASTER,
            "https://media.example/show/ep1/hi/index.m3u8": vod_text([2, 2, 1]),
            "https://cdn.example/lo/index.m3u8": vod_text([4, 1]),
        }
    )
    resolution = resolve(URL, fetcher)
    assert codes(resolution) == ["unaligned_variants"]
    assert len(resolution.index.renditions) == 1


def test_a_broken_variant_is_dropped_and_reported():
    fetcher = DictFetcher({URL: MASTER, "https://cdn.example/lo/index.m3u8": vod_text([2, 2])})
    resolution = resolve(URL, fetcher)
    assert codes(resolution) == ["unreachable", "variants_dropped"]
    assert [r.resolution for r in resolution.index.renditions] == ["640x360"]


def test_alternate_renditions_are_reported():
    text = (
        '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio.m3u8"\n'
        + MASTER.split("\n", 1)[1]
    )
    fetcher = DictFetcher(
        {
            URL: text,
            "https://media.example/show/ep1/hi/index.m3u8": vod_text([2]),
            "https://cdn.example/lo/index.m3u8": vod_text([2]),
        }
    )
    assert "alternate_renditions" in codes(resolve(URL, fetcher))


# --- findings: each hostile or unusable playlist is a finding, the index None -----------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (vod_text([2, 2], end=False), "not_vod"),
        (vod_text([2, 2]).replace("#EXTINF:2.000,\ns1.ts", "s1.ts"), "missing_duration"),
        (vod_text([2, 2]).replace("#EXTINF:2.000,\ns1.ts", "#EXTINF:nan,\ns1.ts"), "missing_duration"),
        (vod_text([2, 2]).replace("#EXTINF:2.000,\ns1.ts", "#EXTINF:0,\ns1.ts"), "missing_duration"),
        (vod_text([2, 2]).replace("#EXTINF:2.000,\ns1.ts", "#EXTINF:inf,\ns1.ts"), "missing_duration"),
        (vod_text([2, 2]).replace("s1.ts", "file:///etc/passwd"), "bad_scheme"),
        (vod_text([2, 2]).replace("s1.ts", "data:video/mp2t;base64,AAAA"), "bad_scheme"),
        (
            vod_text([2, 2]).replace(
                "#EXTINF:2.000,\ns1.ts", '#EXT-X-MAP:URI="file:///x"\n#EXTINF:2,\ns1.ts'
            ),
            "bad_scheme",
        ),
        (vod_text([2]).replace("#EXTINF", '#EXT-X-KEY:METHOD=AES-128,URI="k"\n#EXTINF'), "encrypted"),
        (vod_text([2]).replace("#EXTINF:2.000,", "#EXTINF:abc,"), "malformed"),
        (vod_text([2]).replace("#EXT-X-TARGETDURATION:2", "#EXT-X-TARGETDURATION:x"), "malformed"),
        (vod_text([2]).replace("#EXTINF", "#EXT-X-BYTERANGE:12@x\n#EXTINF"), "malformed"),
        ("hello, world\n", "malformed"),
        (b"#EXTM3U\n\xff\xfe\n", "malformed"),
        ("#EXTM3U\n#EXT-X-ENDLIST\n", "malformed"),
        ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nfile:///etc/passwd\n", "bad_scheme"),
    ],
    ids=[
        "no-endlist",
        "uri-without-extinf",
        "nan-duration",
        "zero-duration",
        "infinite-duration",
        "file-segment",
        "data-segment",
        "file-map",
        "encrypted",
        "bad-extinf",
        "bad-target",
        "bad-byterange",
        "not-hls",
        "not-utf8",
        "no-segments",
        "file-variant",
    ],
)
def test_hostile_or_unusable_playlists_are_findings(body, code):
    # Given a playlist that cannot be scheduled
    # When it is resolved
    resolution = resolve(URL, DictFetcher({URL: body}))
    # Then it is one finding with that code, on that URI, and no index
    assert resolution.index is None
    assert codes(resolution) == [code]
    assert resolution.findings[0].path == URL


def test_too_many_segments_is_too_large():
    resolution = resolve(URL, DictFetcher({URL: vod_text([2] * 11)}), limits=Limits(max_segments=10))
    assert codes(resolution) == ["too_large"]


def test_an_unreachable_or_non_http_item_uri_is_a_finding():
    assert codes(resolve(URL, DictFetcher())) == ["unreachable"]
    assert codes(resolve("file:///etc/passwd", DictFetcher())) == ["bad_scheme"]
    assert codes(resolve("ftp://x.example/p.m3u8", DictFetcher())) == ["bad_scheme"]


def test_a_variant_that_is_itself_multivariant_is_malformed():
    fetcher = DictFetcher({URL: "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhi/index.m3u8\n"})
    fetcher.bodies["https://media.example/show/ep1/hi/index.m3u8"] = (
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n"
    )
    resolution = resolve(URL, fetcher)
    assert resolution.index is None
    assert "malformed" in codes(resolution)


def test_an_exception_inside_the_library_is_a_finding():
    # Given a fetcher that breaks its contract (raises something other than FetchError)
    class Broken:
        def fetch(self, url, etag=None):
            raise RuntimeError("boom")

    # Then resolve still answers with a finding
    assert codes(resolve(URL, Broken())) == ["malformed"]


# --- per item and per channel ------------------------------------------------------------------------------


def test_duration_mismatch_beyond_one_second():
    index = vod(URL, [2, 2, 2])
    assert check_duration(index, 6.9) is None
    assert check_duration(index, 5.0) is None
    finding = check_duration(index, 7.5, "ep1")
    assert finding.code == "duration_mismatch" and "item ep1" in finding.message


def test_ladder_mismatch_names_the_media_off_the_common_ladder():
    def ladder(uri: str, resolutions: list[str]) -> MediaIndex:
        index = vod(uri, [2])
        rendition = index.renditions[0]
        renditions = tuple(
            type(rendition)(**{**rendition.__dict__, "resolution": r, "codecs": "avc1"}) for r in resolutions
        )
        return MediaIndex(uri, renditions, multivariant=True)

    a, b, c = (
        ladder("http://x/a", ["1280x720", "640x360"]),
        ladder("http://x/b", ["1280x720", "640x360"]),
        ladder("http://x/c", ["1920x1080"]),
    )
    assert ladder_mismatch([a, b]) == (a.ladder, [])
    common, findings = ladder_mismatch([a, b, c])
    assert common is None
    assert [(f.code, f.path) for f in findings] == [("ladder_mismatch", "http://x/c")]
    # Only single renditions: nothing to mismatch
    assert ladder_mismatch([vod("http://x/d", [2]), c]) == (None, [])


# --- the cache ------------------------------------------------------------------------------------------------


def test_a_second_resolution_downloads_nothing_unchanged():
    # Given a multivariant item resolved once into a cache
    fetcher = DictFetcher(
        {
            URL: MASTER,
            "https://media.example/show/ep1/hi/index.m3u8": vod_text([2, 2]),
            "https://cdn.example/lo/index.m3u8": vod_text([2, 2]),
        }
    )
    cache = MemoryCache()
    first = resolve(URL, fetcher, cache)
    assert len(fetcher.downloads) == 3
    # When it is resolved again (tomorrow's run) with the same cache
    second = resolve(URL, fetcher, cache)
    # Then every playlist answered 304 and the index is the same
    assert len(fetcher.downloads) == 3
    assert second.index == first.index
    # And when one variant changes behind its URI, only that one is downloaded again
    fetcher.bodies["https://cdn.example/lo/index.m3u8"] = vod_text([2, 2]).replace("s1", "t1")
    fetcher.bodies["https://media.example/show/ep1/hi/index.m3u8"] = vod_text([2, 2]).replace("s1", "t1")
    third = resolve(URL, fetcher, cache)
    assert fetcher.downloads[3:] == [
        "https://media.example/show/ep1/hi/index.m3u8",
        "https://cdn.example/lo/index.m3u8",
    ]
    assert third.index.renditions[1].segments[1] == "https://cdn.example/lo/t1.ts"


def test_cache_entries_and_indexes_are_json():
    cache = MemoryCache()
    index = resolve(URL, DictFetcher({URL: vod_text([2, 1.5])}), cache).index
    assert json.loads(json.dumps(cache.entries))[URL]["etag"]
    assert MediaIndex.from_dict(json.loads(json.dumps(index.to_dict()))) == index


def test_parse_reports_findings_as_plain_dicts():
    parsed = parse(b"nope", URL)
    assert parsed["kind"] == "failed"
    assert parsed["findings"][0]["code"] == "malformed"
