"""What a schedule may name as live media: HLS URIs, and s3 keys of the media library only; channel ids as
one path segment of keys and URLs."""

from __future__ import annotations

import pytest

from onair import keys
from onair.live.fetch import SchemeFetcher
from onair.live.media import is_hls, library_key, outside_library, resolve
from onair.ports import FetchError
from tests.live_support import DictFetcher, vod_text

BUCKET = "onair-123-data"
PREFIX = keys.LIBRARY_PREFIX


@pytest.mark.parametrize(
    ("uri", "hls"),
    [
        ("https://cdn.example/a/index.m3u8", True),
        ("http://cdn.example/a/INDEX.M3U8?token=1", True),
        (f"s3://{BUCKET}/library/a.m3u8", True),
        ("https://cdn.example/a.mp4", False),
        ("https://cdn.example/a.m3u8.mp4", False),
        ("file:///srv/a.m3u8", False),
        ("ftp://x/a.m3u8", False),
        ("s3://onair-media/pop/001.flac", False),
        ("a.m3u8", False),
    ],
)
def test_an_item_is_live_media_when_its_uri_is_an_http_or_s3_hls_playlist(uri, hls):
    assert is_hls(uri) is hls


@pytest.mark.parametrize(
    ("uri", "key"),
    [
        (f"s3://{BUCKET}/library/shows/a/index.m3u8", "library/shows/a/index.m3u8"),
        (f"s3://{BUCKET}/library/a b%20c.ts", "library/a b%20c.ts"),  # literal, as the AWS CLI reads it
        (f"S3://{BUCKET}/library/x.ts", "library/x.ts"),
        (f"s3://{BUCKET}/schedules/x/feed/y/guide.xml", None),
        (f"s3://{BUCKET}/feed-tokens/t.json", None),
        (f"s3://{BUCKET}/libraryx/a.ts", None),
        (f"s3://{BUCKET}/library/../runs/x/out/guide.xml", None),
        (f"s3://{BUCKET}/library/./a.ts", None),
        (f"s3://{BUCKET}/library//a.ts", None),
        (f"s3://{BUCKET}/library/a\\..\\..\\runs.ts", None),
        (f"s3://{BUCKET}/library/a.ts?versionId=1", None),
        (f"s3://{BUCKET}/library/a.ts#x", None),
        (f"s3://{BUCKET}/library/a\n.ts", None),
        (f"s3://{BUCKET}:443/library/a.ts", None),
        (f"s3://user@{BUCKET}/library/a.ts", None),
        ("s3://other-bucket/library/a.ts", None),
        (f"https://{BUCKET}.s3.amazonaws.com/library/a.ts", None),
    ],
)
def test_only_objects_of_the_stacks_bucket_under_library_are_library_keys(uri, key):
    assert library_key(uri, BUCKET, PREFIX) == key


def test_a_playlist_naming_any_other_s3_key_is_blocked_even_through_relative_segments():
    # Given an s3 playlist in the library whose segments climb out of it, or name another bucket
    uri = f"s3://{BUCKET}/library/shows/a/index.m3u8"
    for segment in (
        "../../../runs/x/out/playout.json",
        f"s3://{BUCKET}/feed-tokens/t.json",
        "s3://b2/library/a.ts",
    ):
        body = vod_text([2.0, 2.0]).replace("s1.ts", segment)
        index = resolve(uri, DictFetcher({uri: body})).index
        assert index is not None  # the parser accepts it: an s3 URI is a media URI
        # Then the library check refuses it, naming the playlist
        finding = outside_library(index, BUCKET, PREFIX)
        assert finding is not None and finding.code == "blocked_key" and finding.path == uri
    # And a playlist of library segments, http ones beside them, passes
    body = vod_text([2.0, 2.0]).replace("s1.ts", "https://cdn.example/s1.ts")
    assert outside_library(resolve(uri, DictFetcher({uri: body})).index, BUCKET, PREFIX) is None


def test_the_scheme_fetcher_refuses_schemes_it_has_no_fetcher_for():
    fetcher = SchemeFetcher({"s3": DictFetcher({"s3://b/library/a.m3u8": "#EXTM3U"})})
    assert fetcher.fetch("s3://b/library/a.m3u8").body == b"#EXTM3U"
    for url in ("https://example.com/a.m3u8", "file:///etc/passwd", "data:,x"):
        with pytest.raises(FetchError) as caught:
            fetcher.fetch(url)
        assert caught.value.code == "bad_scheme"


@pytest.mark.parametrize(
    ("channel", "name"),
    [
        ("tv1", "tv1"),
        ("TV 1/é", "TV%201%2F%C3%A9"),
        (".", "%2E"),
        ("..", "%2E."),
        ("a?b#c%d", "a%3Fb%23c%25d"),
    ],
)
def test_a_channel_id_is_one_safe_path_segment_of_keys_and_urls(channel, name):
    assert keys.channel_name(channel) == name
    assert keys.run_live("r", channel) == f"runs/r/live/{name}.json"
    assert keys.feed_live("s", "r", channel).count("/") == 5
