"""onair.usecases.guide's pure parts: the window a request names, and the published playout as the guide
reads it (slots per channel in time order, serialized as the answer writes them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from onair.errors import BadRequest
from onair.http.models import PlayoutSlot
from onair.usecases import guide

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_window_defaults_to_the_next_24_hours():
    span = guide.window(None, None, NOW)
    assert (span.start, span.end) == (NOW, NOW + timedelta(hours=24))
    # With only `to`, the 24 hours before it; with only `from`, the 24 after it
    assert guide.window(None, "2026-06-02T00:00:00Z", NOW).start == datetime(2026, 6, 1, tzinfo=UTC)
    assert guide.window("2026-06-03T00:00:00+02:00", None, NOW).end == datetime(2026, 6, 3, 22, tzinfo=UTC)


def test_window_of_48_hours_is_the_most():
    assert guide.window("2026-06-01T00:00:00Z", "2026-06-03T00:00:00Z", NOW).end.day == 3
    with pytest.raises(BadRequest) as error:
        guide.window("2026-06-01T00:00:00Z", "2026-06-03T00:00:00.001Z", NOW)
    assert error.value.details[0].path == "to"


@pytest.mark.parametrize(
    ("start", "end", "path"),
    [
        ("2026-06-01T00:00:00", None, "from"),  # no offset: which instant?
        (None, "soon", "to"),
        ("2026-06-01T10:00:00Z", "2026-06-01T10:00:00Z", "to"),  # empty
        ("2026-06-01T10:00:00Z", "2026-06-01T09:00:00Z", "to"),
    ],
)
def test_bad_windows_are_refused_naming_the_parameter(start, end, path):
    with pytest.raises(BadRequest) as error:
        guide.window(start, end, NOW)
    assert (error.value.code, error.value.details[0].path) == ("invalid_request", path)


def entry(channel: str, start: str, stop: str, title: str, **extra: str | None) -> dict[str, object]:
    return {
        "channel": channel,
        "start": start,
        "stop": stop,
        "duration": 1.0,
        "kind": "block",
        "title": title,
        "item_id": None,
        "artist": None,
        "category": None,
        "uri": "s3://media/x.flac",
        "pool": None,
        "block": None,
    } | extra


M3U = (
    b'#EXTM3U\n#EXTINF:-1 tvg-id="b" tvg-name="Bee, the \'second\'",Bee, the "second"\nplaylist.m3u8#b\n'
    b'#EXTINF:-1 tvg-id="a" tvg-name="Ay",Ay\nplaylist.m3u8#a\n'
)


def parsed(entries: list[dict[str, object]], m3u: bytes | None = M3U) -> guide._Playout:
    document = {"playout": entries, "report": {"rule_breaks": []}}
    return guide._parse("run", "Europe/Paris", json.dumps(document).encode(), m3u)


def test_slots_are_serialized_as_json_would_write_them_whatever_their_text():
    # Given titles with quotes, backslashes, control characters and non-ASCII text
    titles = ['Say "hi"', "back\\slash", "tab\there\nline", "Café — ☕", "\u2028sep"]
    entries = [
        entry("a", f"2026-06-01T0{i}:00:00+02:00", f"2026-06-01T0{i + 1}:00:00+02:00", t, artist="Zoë")
        for i, t in enumerate(titles)
    ]
    playout = parsed(entries)
    # Then each slot's answer is the JSON of the answer's fields (those with a value), and a PlayoutSlot
    for text, source in zip(playout.by_channel["a"].slots, entries, strict=True):
        expected = {k: v for k, v in source.items() if k in guide.SLOT_FIELDS and v is not None}
        assert json.loads(text) == expected
        PlayoutSlot.model_validate_json(text)


def test_channels_come_from_channels_m3u_in_the_schedules_order_with_their_names():
    playout = parsed([entry("a", "2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z", "x")])
    assert playout.channels == [{"id": "b", "name": 'Bee, the "second"'}, {"id": "a", "name": "Ay"}]
    # Without a channels.m3u the ids of the playout, in its order
    playout = parsed([entry("z", "2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z", "x")], m3u=None)
    assert playout.channels == [{"id": "z", "name": "z"}]


def test_each_channels_slots_are_kept_in_time_order_across_offsets():
    # Given slots listed out of order, with times at different offsets (the same instants sort by instant)
    entries = [
        entry("a", "2026-06-01T03:00:00+02:00", "2026-06-01T04:00:00+02:00", "third"),
        entry("a", "2026-05-31T23:00:00Z", "2026-06-01T00:00:00Z", "first"),  # 01:00+02:00
        entry("a", "2026-06-01T02:00:00+02:00", "2026-06-01T01:00:00Z", "second"),
    ]
    playout = parsed(entries)
    assert [json.loads(s)["title"] for s in playout.by_channel["a"].slots] == ["first", "second", "third"]
    assert playout.by_channel["a"].starts == sorted(playout.by_channel["a"].starts)
