"""Run output writers: the exact shape of each output, DTD-valid guides, CSV round trips, determinism."""

from __future__ import annotations

import csv
import gc
import io
import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from onair import models
from onair.errors import DocumentRejected
from onair.models import (
    WEEKDAYS,
    Block,
    Channel,
    Item,
    OnAirSchedule,
    Pool,
    PoolMember,
    StoredSchedule,
    XmltvListing,
    load_stored,
    stored_json_chunks,
)
from onair.playout.engine import generate
from onair.playout.shelf import ProgrammeShelf
from onair.playout.types import FillError, Playout, Report, RuleBreak, RunRange, Slot
from onair.readers.schedule import parse_schedule
from onair.writers import WRITERS
from onair.writers import common as writers_common
from onair.writers import guide as guide_writer
from onair.writers.m3u import render_channels_m3u
from tests import readers
from tests.conftest import SAMPLE_XMLTV, shared_path
from tests.corpus import corpus_files

PARIS = timezone(timedelta(hours=1))
MIDNIGHT = datetime(2026, 12, 1, 0, 0, tzinfo=PARIS)
TRICKY_TITLE = 'Hits, "live"\nand more'


def at(seconds: float) -> datetime:
    return MIDNIGHT + timedelta(seconds=seconds)


def onair_schedule() -> OnAirSchedule:
    return OnAirSchedule(
        timezone="Europe/Paris",
        channels=[Channel(id="radio1", name='Radio "One"\nFM'), Channel(id="radio2", name="Zwei Ü")],
        items=[
            Item(id="a", title="Morning", artist="Band A", duration=210, category="pop", uri="s3://m/a.mp3"),
            Item(id="b", title="Café Ölé", duration=3.5, uri="https://m.example/b.mp3"),
        ],
    )


def onair_playout() -> Playout:
    slots = [
        Slot(
            "radio1",
            at(0),
            at(210),
            "Morning",
            "block",
            "a",
            "Band A",
            "pop",
            "s3://m/a.mp3",
            "day",
            "00:00-06:00",
        ),
        Slot(
            "radio1",
            at(210),
            at(213.5),
            "Café Ölé",
            "filler",
            "b",
            None,
            None,
            "https://m.example/b.mp3",
            "fill",
        ),
        Slot("radio1", at(213.5), at(400), TRICKY_TITLE, "event", "c", "Ärzte, Die", "rock", None),
        Slot("radio2", at(60), at(120), "Nachrichten", "programme", "n", "Série", None, "s3://m/n.mp3"),
    ]
    report = Report(
        rule_breaks=[RuleBreak("artist_separation", "radio1", "a", at(0), 30.0)],
        fill_errors=[FillError("underrun", "radio1", "00:00-06:00", at(400), 1.5)],
    )
    return Playout(slots, report)


def xmltv_listing(document: bytes = SAMPLE_XMLTV) -> XmltvListing:
    schedule = parse_schedule(document, max_bytes=10**6).schedule
    assert isinstance(schedule, XmltvListing)
    return schedule


def xmltv_playout(listing: XmltvListing) -> Playout:
    slots = [
        Slot(p.channel, p.start, p.stop or p.start + timedelta(hours=1), p.title, source_xml=p.xml)
        for p in listing.programmes
    ]
    return Playout(slots, Report())


MESSY_XMLTV = """<?xml version="1.0" encoding="UTF-8"?>
<tv>
  <channel id="one.example"><url>https://one.example</url><display-name xml:lang="de">Éins</display-name></channel>
  <programme start="20261201180000 +0000" stop="20261201190000 +0000" channel="one.example" x-extra="1">
    <desc>Headlines first.</desc>
    <new/>
    <!-- a comment -->
    <video><quality>HDTV</quality><aspect>16:9</aspect></video>
    <credits><actor role="Anchor">Ana</actor><director>Dee</director></credits>
    <date>2026</date><date>2025</date>
    <rating system="x"><icon src="r.png"/></rating>
    <length units="weeks">1</length>
    <x-custom>kept by the importer</x-custom>
    <foo:extra xmlns:foo="urn:foo">namespaced</foo:extra>
    <title lang="de">Nachrichten über Öl</title>
  </programme>
</tv>
""".encode()


def validate(guide: bytes) -> None:
    dtd = etree.DTD(str(shared_path("reference", "xmltv.dtd")))
    tree = etree.fromstring(guide)
    assert dtd.validate(tree), dtd.error_log.filter_from_errors()


def schedules() -> list[tuple[OnAirSchedule | XmltvListing, Playout]]:
    listing, messy = xmltv_listing(), xmltv_listing(MESSY_XMLTV)
    return [
        (onair_schedule(), onair_playout()),
        (listing, xmltv_playout(listing)),
        (messy, xmltv_playout(messy)),
    ]


def test_writers_are_named_in_order_with_their_content_types():
    assert [(name, content_type) for name, (content_type, _) in WRITERS.items()] == [
        ("guide.xml", "application/xml"),
        ("channels.m3u", "audio/x-mpegurl; charset=utf-8"),
        ("playlist.m3u8", "audio/x-mpegurl; charset=utf-8"),
        ("asrun.csv", "text/csv; charset=utf-8; header=present"),
        ("playout.json", "application/json"),
    ]


@pytest.mark.parametrize("batch", [1, 2, 3])
@pytest.mark.parametrize("name", list(WRITERS))
def test_an_output_written_in_pieces_of_a_few_entries_is_the_same_bytes(monkeypatch, name, batch):
    # The run stores each output piece by piece as its writer yields it: pieces of 2,000 entries in a run,
    # of one to three here, so that every kind of boundary between two pieces is crossed
    for schedule, playout in [*schedules(), (onair_schedule(), Playout([], Report()))]:
        whole = write(name, schedule, playout)
        with monkeypatch.context() as patched:
            patched.setattr(writers_common, "BATCH", batch)
            pieces = list(WRITERS[name][1](schedule, playout))
        assert b"".join(pieces) == whole
        if name != "channels.m3u" and len(playout.slots) > batch:
            assert len(pieces) > 1


# --- guide.xml ------------------------------------------------------------------------------------------


def write(name: str, schedule: OnAirSchedule | XmltvListing, playout: Playout) -> bytes:
    return b"".join(WRITERS[name][1](schedule, playout))


def test_guide_for_an_onair_schedule_lists_every_channel_then_programmes_in_dtd_order():
    # Given an OnAir schedule with two channels and slots with and without artist and category
    # When the guide is written
    guide = write("guide.xml", onair_schedule(), onair_playout())
    # Then it is an XMLTV document: every channel first, then each slot as a programme
    assert guide.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE tv SYSTEM \"xmltv.dtd\">\n")
    assert guide.endswith(b"</tv>\n")
    tv = etree.fromstring(guide)
    assert tv.attrib == {"generator-info-name": "OnAir"}
    assert [(c.get("id"), c.findtext("display-name")) for c in tv.findall("channel")] == [
        ("radio1.onair", 'Radio "One"\nFM'),  # ids not of the form name.domain get one
        ("radio2.onair", "Zwei Ü"),
    ]
    programmes = tv.findall("programme")
    assert [dict(p.attrib) for p in programmes[:2]] == [
        {"start": "20261201000000 +0100", "stop": "20261201000330 +0100", "channel": "radio1.onair"},
        {"start": "20261201000330 +0100", "stop": "20261201000333 +0100", "channel": "radio1.onair"},
    ]
    shapes = [[(child.tag, child.text, dict(child.attrib)) for child in p] for p in programmes]
    assert shapes == [
        [
            ("title", "Morning", {}),
            ("sub-title", "Band A", {}),
            ("category", "pop", {}),
            ("length", "210", {"units": "seconds"}),
        ],
        [("title", "Café Ölé", {}), ("length", "4", {"units": "seconds"})],  # 3.5 s rounds half up
        [
            ("title", TRICKY_TITLE, {}),
            ("sub-title", "Ärzte, Die", {}),
            ("category", "rock", {}),
            ("length", "187", {"units": "seconds"}),  # 186.5 s
        ],
        [("title", "Nachrichten", {}), ("sub-title", "Série", {}), ("length", "60", {"units": "seconds"})],
    ]
    validate(guide)


def test_guide_carries_each_channel_and_item_detail_players_read():
    # Given a channel with a number and a logo, and an episode with every guide attribute
    episode = Item(
        id="hh-s01e02",
        title="Harbor Heights",
        series="Harbor Heights",
        duration=1320,
        category="drama",
        description="The ferry is late.",
        season=1,
        episode=2,
        image="https://img.example/hh/2.jpg",
        rating="TV-PG",
        kind="episode",
    )
    film = Item(id="film", title="Lighthouse", duration=6000, category="movie", kind="movie", season=3)
    sched = OnAirSchedule(
        timezone="Europe/Paris",
        channels=[
            Channel(id="retro", name="Retro TV", number="7", logo="https://img.example/retro.png?a=1&b=2")
        ],
        items=[episode, film],
    )
    slots = [
        Slot(
            "retro",
            at(0),
            at(1320),
            episode.title,
            "block",
            episode.id,
            "Harbor Heights",
            "drama",
            item=episode,
        ),
        Slot("retro", at(1320), at(7320), film.title, "block", film.id, None, "movie", item=film),
    ]
    # When the guide is written
    guide = write("guide.xml", sched, Playout(slots, Report()))
    # Then the channel has its name, then its number as a display name, then its logo
    validate(guide)
    tv = etree.fromstring(guide)
    channel = tv.find("channel")
    assert [(c.tag, c.text, dict(c.attrib)) for c in channel] == [
        ("display-name", "Retro TV", {}),
        ("display-name", "7", {}),
        ("icon", None, {"src": "https://img.example/retro.png?a=1&b=2"}),
    ]
    # And the episode every detail, in DTD order: the kind's category word first, episode numbers from zero
    # (xmltv_ns) and as on screen
    first, second = tv.findall("programme")
    assert [(c.tag, (c.text or "").strip() or None, dict(c.attrib)) for c in first] == [
        ("title", "Harbor Heights", {}),
        ("sub-title", "Harbor Heights", {}),
        ("desc", "The ferry is late.", {}),
        ("category", "Series", {}),
        ("category", "drama", {}),
        ("length", "1320", {"units": "seconds"}),
        ("icon", None, {"src": "https://img.example/hh/2.jpg"}),
        ("episode-num", "0.1.", {"system": "xmltv_ns"}),
        ("episode-num", "S01E02", {"system": "onscreen"}),
        ("rating", None, {}),
    ]
    assert first.findtext("rating/value") == "TV-PG"
    # And a category equal to the kind's word is written once; a season alone is numbered alone
    assert [c.text for c in second.findall("category")] == ["Movie"]
    assert [(e.get("system"), e.text) for e in second.findall("episode-num")] == [
        ("xmltv_ns", "2.."),
        ("onscreen", "S03"),
    ]


def test_guide_leaves_out_channels_without_programmes_in_the_run():
    # Given two channels, one with no slot in the run (tv_validate_file: channelnoprogramme)
    sched = onair_schedule()
    playout = Playout([s for s in onair_playout().slots if s.channel == "radio1"], Report())
    # Then only the one with programmes is in the guide
    tv = etree.fromstring(write("guide.xml", sched, playout))
    assert [c.get("id") for c in tv.findall("channel")] == ["radio1.onair"]


def test_guide_of_a_listing_declares_no_channel_that_only_programmes_name_with_an_invalid_id():
    # Given a listing whose programmes name "TA" (undeclared, not name.domain) and "b.example" (undeclared)
    listing = xmltv_listing(
        b"""<tv><channel id="a.example"><display-name>A</display-name></channel>
<programme start="20261201180000 +0000" stop="20261201190000 +0000" channel="a.example"><title>x</title></programme>
<programme start="20261201180000 +0000" stop="20261201190000 +0000" channel="TA"><title>y</title></programme>
<programme start="20261201180000 +0000" stop="20261201190000 +0000" channel="b.example"><title>z</title></programme>
</tv>"""
    )
    # When its guide is written
    tv = etree.fromstring(write("guide.xml", listing, xmltv_playout(listing)))
    # Then "TA" gets no <channel> (the listing had none: the same unknownid, no new invalidid), b.example does
    assert [c.get("id") for c in tv.findall("channel")] == ["a.example", "b.example"]
    assert [p.get("channel") for p in tv.findall("programme")] == ["a.example", "TA", "b.example"]


def test_guide_writes_characters_tv_validate_file_reads_as_misencoded_as_references():
    # Given titles with a C1 control (U+0085), the replacement character and its mojibake
    slots = [
        Slot("radio1", at(0), at(60), "Next\x85Line"),
        Slot("radio1", at(60), at(120), "Broken \ufffd"),
        Slot("radio1", at(120), at(180), "Mojibake \u00ef\u00bf\u00bd"),
    ]
    # When the guide is written
    guide = write("guide.xml", onair_schedule(), Playout(slots, Report()))
    # Then their bytes are character references, and the text reads back the same
    assert (
        b"\xc2\x85" not in guide and b"\xef\xbf\xbd" not in guide and b"\xc3\xaf\xc2\xbf\xc2\xbd" not in guide
    )
    assert b"&#x85;" in guide and b"&#xFFFD;" in guide and b"&#xBF;" in guide
    assert [p.findtext("title") for p in etree.fromstring(guide).findall("programme")] == [
        s.title for s in slots
    ]


def test_guide_for_an_xmltv_listing_keeps_the_source_children_with_times_from_the_slot():
    # Given the sample listing, with the engine having moved the first programme by 5 minutes
    listing = xmltv_listing()
    playout = xmltv_playout(listing)
    moved = playout.slots[0]
    start, stop = moved.start + timedelta(minutes=5), moved.stop + timedelta(minutes=5)
    playout = Playout(
        [Slot(moved.channel, start, stop, moved.title, source_xml=moved.source_xml), *playout.slots[1:]],
        Report(),
    )
    # When the guide is written
    tv = etree.fromstring(write("guide.xml", listing, playout))
    # Then every channel is there as received, and programmes go by channel and time, times from the slots
    assert [etree.tostring(c, encoding="unicode").split() for c in tv.findall("channel")] == [
        ["<channel", 'id="one.example">', "<display-name>One</display-name>", "</channel>"],
        ["<channel", 'id="two.example">', "<display-name>Two</display-name>", "</channel>"],
    ]
    programmes = [
        (p.get("channel"), p.get("start"), p.get("stop"), [(c.tag, c.text, dict(c.attrib)) for c in p])
        for p in tv.findall("programme")
    ]
    assert programmes == [
        ("one.example", "20261201180000 +0100", "20261201190000 +0100", [("title", "Quiz", {"lang": "en"})]),
        (
            "one.example",
            "20261201190500 +0100",
            "20261201200500 +0100",
            [("title", "Evening News", {"lang": "en"}), ("desc", "Headlines.", {})],
        ),
        ("two.example", "20261201180000 +0000", "20261201183000 +0000", [("title", "Cartoons", {})]),
    ]
    validate(write("guide.xml", listing, playout))


def test_guide_puts_out_of_order_xmltv_children_into_dtd_order_so_it_validates():
    # Given a programme the importer accepted leniently: desc before title, credits and video out of
    # order, unknown and namespaced elements, an unknown attribute, two dates, a rating without value,
    # a bad length unit, xml:lang where the DTD has lang
    listing = xmltv_listing(MESSY_XMLTV)
    dtd = etree.DTD(str(shared_path("reference", "xmltv.dtd")))
    assert not dtd.validate(etree.fromstring(MESSY_XMLTV))
    # When the guide is written
    guide = write("guide.xml", listing, xmltv_playout(listing))
    # Then it validates, with what was valid kept in DTD order and the rest dropped
    validate(guide)
    tv = etree.fromstring(guide)
    channel = tv.find("channel")
    assert [child.tag for child in channel] == ["display-name", "url"]
    assert channel.find("display-name").attrib == {"lang": "de"}  # xml:lang is not in the DTD; lang is
    programme = tv.find("programme")
    assert dict(programme.attrib) == {
        "start": "20261201180000 +0000",
        "stop": "20261201190000 +0000",
        "channel": "one.example",
    }
    assert [
        (child.tag, child.text) for child in programme if child.tag not in ("credits", "video", "new")
    ] == [
        ("title", "Nachrichten über Öl"),
        ("desc", "Headlines first."),
        ("date", "2026"),
    ]
    assert [child.tag for child in programme] == ["title", "desc", "credits", "date", "video", "new"]
    assert [child.tag for child in programme.find("credits")] == ["director", "actor"]
    assert programme.find("credits/actor").get("role") == "Anchor"
    assert [child.tag for child in programme.find("video")] == ["aspect", "quality"]


# --- channels.m3u ---------------------------------------------------------------------------------------


def player_schedule() -> OnAirSchedule:
    """Three channels as players see them: every attribute; a stream only; none (a slate, no stream)."""
    return OnAirSchedule(
        timezone="Europe/Paris",
        channels=[
            Channel(
                id="radio1",
                name='Radio "One", FM',
                number="7.1",
                logo="https://img.example/r1.png?size=2&v=1",
                group="Music\nPop",
                stream="https://live.example/radio1/index.m3u8",
            ),
            Channel(id="news.example.com", name="News", stream="udp://@239.0.0.1:1234"),
            Channel(id="films", name="Films", slate="https://img.example/slate/index.m3u8"),
        ],
        items=[Item(id="a", title="Morning", duration=210)],
    )


GUIDE_URL = "https://feeds.example/feeds/T0k3n_-x/guide.xml.gz"


def test_channels_m3u_is_stored_as_the_lineup_of_every_channel():
    # Given channels with and without their player attributes
    # When a run writes channels.m3u
    lineup = json.loads(write("channels.m3u", player_schedule(), Playout([], Report())))
    # Then it stores the lineup, every channel in schedule order, absent values as null
    assert lineup == {
        "format": "onair-lineup",
        "version": 1,
        "channels": [
            {
                "id": "radio1",
                "guide_id": "radio1.onair",
                "name": 'Radio "One", FM',
                "number": "7.1",
                "logo": "https://img.example/r1.png?size=2&v=1",
                "group": "Music\nPop",
                "stream": "https://live.example/radio1/index.m3u8",
                "slate": None,
            },
            {
                "id": "news.example.com",
                "guide_id": "news.example.com",
                "name": "News",
                "number": None,
                "logo": None,
                "group": None,
                "stream": "udp://@239.0.0.1:1234",
                "slate": None,
            },
            {
                "id": "films",
                "guide_id": "films.onair",
                "name": "Films",
                "number": None,
                "logo": None,
                "group": None,
                "stream": None,
                "slate": "https://img.example/slate/index.m3u8",
            },
        ],
    }


def test_channels_m3u_names_the_guide_and_lists_each_channel_with_its_stream():
    # Given a run's lineup
    lineup = write("channels.m3u", player_schedule(), Playout([], Report()))
    # When it is rendered for the feed, with its guide URL
    m3u = render_channels_m3u(lineup, GUIDE_URL, None).decode()
    # Then the first line names the guide for Kodi and TiviMate alike, every attribute is double-quoted and
    # left out when absent, and a channel without a stream URL is left out
    assert m3u == (
        f'#EXTM3U url-tvg="{GUIDE_URL}" x-tvg-url="{GUIDE_URL}"\n'
        '#EXTINF:-1 tvg-id="radio1.onair" tvg-name="Radio \'One\', FM" tvg-chno="7.1" '
        'tvg-logo="https://img.example/r1.png?size=2&v=1" group-title="Music Pop",Radio \'One\', FM\n'
        "https://live.example/radio1/index.m3u8\n"
        '#EXTINF:-1 tvg-id="news.example.com" tvg-name="News",News\n'
        "udp://@239.0.0.1:1234\n"
    )
    header, channels = readers.channels_m3u(m3u.encode())
    assert header == {"url-tvg": GUIDE_URL, "x-tvg-url": GUIDE_URL}
    assert [c.name for c in channels] == ["Radio 'One', FM", "News"]


def test_channels_m3u_without_a_guide_url_has_a_bare_first_line():
    m3u = render_channels_m3u(write("channels.m3u", player_schedule(), Playout([], Report())), None, None)
    assert m3u.decode().splitlines()[0] == "#EXTM3U"


def test_channels_m3u_takes_the_live_url_for_a_channel_without_a_stream_of_its_own():
    # Given a lineup whose channel "films" has no stream URL
    lineup = write("channels.m3u", player_schedule(), Playout([], Report()))
    asked = []

    def live_url(channel_id: str) -> str:
        asked.append(channel_id)
        return f"https://api.example/live/{channel_id}.m3u8"

    # When it is rendered with a live URL for channels
    _, channels = readers.channels_m3u(render_channels_m3u(lineup, GUIDE_URL, live_url))
    # Then only the channel without a stream is asked for (by its schedule id), and it is listed with it
    assert asked == ["films"]
    assert [(c.attributes["tvg-id"], c.url) for c in channels] == [
        ("radio1.onair", "https://live.example/radio1/index.m3u8"),
        ("news.example.com", "udp://@239.0.0.1:1234"),
        ("films.onair", "https://api.example/live/films.m3u8"),
    ]


@pytest.mark.parametrize(
    "url", ["playlist.m3u8#films", "/live/films.m3u8", "https://x.example/a#b", "ftp://x/y"]
)
def test_channels_m3u_never_writes_a_relative_or_fragment_url(url):
    lineup = write("channels.m3u", player_schedule(), Playout([], Report()))
    with pytest.raises(ValueError, match="live URL of channel 'films'"):
        render_channels_m3u(lineup, GUIDE_URL, lambda channel_id: url)


def test_channels_m3u_percent_encodes_what_would_break_the_first_line():
    # Given a guide URL with a comma (Kodi cuts url-tvg at a comma) and a quote
    m3u = render_channels_m3u(
        write("channels.m3u", player_schedule(), Playout([], Report())), 'https://f.example/a,b"c.gz', None
    )
    assert m3u.decode().splitlines()[0] == (
        '#EXTM3U url-tvg="https://f.example/a%2Cb%22c.gz" x-tvg-url="https://f.example/a%2Cb%22c.gz"'
    )


def test_channels_m3u_of_a_run_stored_before_lineups_is_answered_as_stored():
    old = b'#EXTM3U\n#EXTINF:-1 tvg-id="radio1" tvg-name="R",R\nplaylist.m3u8#radio1\n'
    assert render_channels_m3u(old, GUIDE_URL, None) == old


def test_a_run_reports_each_channel_left_out_of_channels_m3u():
    # Given a schedule whose channel "films" has no stream URL, and an XMLTV listing (which names none)
    playout = generate(player_schedule(), RunRange(date(2026, 12, 1), 1), 0)
    listing = xmltv_listing()
    listing_playout = generate(listing, RunRange(None, 1), 0)
    # Then the run report names each channel channels.m3u leaves out, and counts them in its summary
    assert [(n.code, n.channel) for n in playout.report.notices] == [("no_stream", "films")]
    assert playout.report.summary()["notices"] == {"no_stream": 1}
    assert [(n.code, n.channel) for n in listing_playout.report.notices] == [
        ("no_stream", "one.example"),
        ("no_stream", "two.example"),
    ]
    assert playout.report.to_dict()["notices"][0]["channel"] == "films"


def test_channels_m3u_names_xmltv_channels_by_their_first_display_name():
    listing = xmltv_listing(MESSY_XMLTV)
    lineup = json.loads(write("channels.m3u", listing, xmltv_playout(listing)))
    assert [(c["id"], c["guide_id"], c["name"], c["stream"]) for c in lineup["channels"]] == [
        ("one.example", "one.example", "Éins", None)
    ]


@pytest.mark.parametrize("index", [0, 1, 2, 3], ids=["onair", "xmltv", "xmltv-messy", "onair-players"])
def test_channels_m3u_ids_are_the_guide_channel_ids(index):
    schedule, playout = [*schedules(), (player_schedule(), Playout([], Report()))][index]
    if index == 3:
        playout = generate(schedule, RunRange(date(2026, 12, 1), 1), 0)
    guide_ids = [
        c.get("id") for c in etree.fromstring(write("guide.xml", schedule, playout)).findall("channel")
    ]
    lineup = json.loads(write("channels.m3u", schedule, playout))
    everyone = render_channels_m3u(
        write("channels.m3u", schedule, playout), None, lambda c: f"https://l.example/{c}"
    )
    m3u_ids = [c.attributes["tvg-id"] for c in readers.channels_m3u(everyone)[1]]
    assert m3u_ids == [c["guide_id"] for c in lineup["channels"]]
    assert guide_ids == [i for i in m3u_ids if i in guide_ids]  # the guide has those with programmes
    assert guide_ids


# --- playlist.m3u8 --------------------------------------------------------------------------------------


def test_playlist_groups_slots_by_channel_with_integer_durations_and_uris():
    m3u8 = write("playlist.m3u8", onair_schedule(), onair_playout())
    assert m3u8.decode() == (
        "#EXTM3U\n"
        "#EXTGRP:radio1\n"
        "#EXTINF:210,Band A - Morning\n"
        "s3://m/a.mp3\n"
        "#EXTINF:4,Café Ölé\n"
        "https://m.example/b.mp3\n"
        '# 2026-12-01T00:03:33.500000+01:00 Hits, "live" and more (no media uri)\n'
        "#EXTGRP:radio2\n"
        "#EXTINF:60,Série - Nachrichten\n"
        "s3://m/n.mp3\n"
    )


def test_playlist_entry_durations_are_the_slot_seconds():
    slots = [Slot("radio1", at(i * 300), at(i * 300 + 17 + i), f"T{i}", uri=f"u{i}") for i in range(5)]
    m3u8 = write("playlist.m3u8", onair_schedule(), Playout(slots, Report())).decode()
    durations = [
        int(line.split(":")[1].split(",")[0]) for line in m3u8.splitlines() if line.startswith("#EXTINF")
    ]
    assert durations == [int(slot.seconds) for slot in slots]


def test_playlist_writes_xmltv_programmes_as_comments():
    listing = xmltv_listing()
    assert write("playlist.m3u8", listing, xmltv_playout(listing)).decode() == (
        "#EXTM3U\n"
        "#EXTGRP:one.example\n"
        "# 2026-12-01T18:00:00+01:00 Quiz (no media uri)\n"
        "# 2026-12-01T19:00:00+01:00 Evening News (no media uri)\n"
        "#EXTGRP:two.example\n"
        "# 2026-12-01T18:00:00+00:00 Cartoons (no media uri)\n"
    )


# --- asrun.csv ------------------------------------------------------------------------------------------


def asrun_break_id(slot: Slot) -> str:
    """What a filler slot's row must carry: the splice_event_id of the SCTE-35 OUT cue its live channel
    announces for it (decoded by threefive from the timeline's EXT-X-DATERANGE), "" for other slots."""
    if slot.kind != "filler":
        return ""
    from threefive import Cue

    from onair.live.timeline import LiveSlot, build_timeline

    timeline, _ = build_timeline(slot.channel, [LiveSlot.of(slot)], {})
    cue = Cue(timeline.slots[0].scte35[0])
    cue.decode()
    return str(cue.command.splice_event_id)


def test_asrun_csv_parses_back_to_the_slots():
    # Given slots, one titled with a comma, quotes and a newline
    playout = onair_playout()
    # When the as-run log is written and read back with csv.reader
    data = write("asrun.csv", onair_schedule(), playout)
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    # Then the header and one row per slot, fields as the slots have them (break_id: fillers' only)
    assert rows[0] == [
        *["channel", "start", "end", "duration", "item_id", "title", "artist", "pool", "block"],
        "break_id",
    ]
    assert rows[1:] == [
        [
            s.channel,
            s.start.isoformat(),
            s.stop.isoformat(),
            d,
            s.item_id or "",
            s.title,
            s.artist or "",
            s.pool or "",
            s.block or "",
            asrun_break_id(s),
        ]
        for s, d in zip(playout.slots, ["210", "3.5", "186.5", "60"], strict=True)
    ]
    assert [bool(row[9]) for row in rows[1:]] == [s.kind == "filler" for s in playout.slots]
    assert rows[3][5] == TRICKY_TITLE
    assert data.count(b"\r\n") == 5  # header and 4 records; the title's line break stays inside quotes
    assert b'"Hits, ""live""\nand more"' in data
    assert data.startswith(b"channel,start,end,duration,item_id,title,artist,pool,block,break_id\r\n")


def test_asrun_csv_rounds_durations_to_three_decimals():
    slots = [Slot("radio1", at(0), at(1.23456), "x"), Slot("radio1", at(10), at(12.1), "y")]
    rows = list(
        csv.reader(io.StringIO(write("asrun.csv", onair_schedule(), Playout(slots, Report())).decode()))
    )
    assert [row[3] for row in rows[1:]] == ["1.235", "2.1"]


FORMULAS = ['=HYPERLINK("https://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]


@pytest.mark.parametrize("text", FORMULAS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_asrun_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas(text):
    # Given a slot whose every text field starts with a formula trigger
    slot = Slot(text, at(0), at(60), text, "block", text, text, None, None, text, text)
    # When the as-run log is written and read back
    data = write("asrun.csv", onair_schedule(), Playout([slot], Report()))
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    # Then each of those cells starts with a single quote, so a spreadsheet shows it as text (OWASP)
    channel, start, end, duration, item_id, title, artist, pool, block, break_id = rows[1]
    assert [channel, item_id, title, artist, pool, block] == ["'" + text] * 6
    # And the times and the duration are as they were (and a programme has no break_id)
    assert [start, end, duration, break_id] == [slot.start.isoformat(), slot.stop.isoformat(), "60", ""]


def test_asrun_csv_quote_prefix_is_reversible_and_leaves_other_cells_alone():
    # Given titles that start with a quote or hold a trigger further in, at a -05:00 offset
    new_york = timezone(timedelta(hours=-5))
    titles = ["'Round Midnight", "''", "a=b", "A - B", " =1", "", "1-2"]
    slots = [
        Slot(
            "radio1",
            datetime(2026, 12, 1, n, tzinfo=new_york),
            datetime(2026, 12, 1, n, 30, tzinfo=new_york),
            t,
        )
        for n, t in enumerate(titles)
    ]
    # When the as-run log is written and read back
    data = write("asrun.csv", onair_schedule(), Playout(slots, Report()))
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))[1:]
    # Then a value starting with ' gets one more, so dropping one leading ' always gives the value back
    assert [row[5] for row in rows] == ["''Round Midnight", "'''", "a=b", "A - B", " =1", "", "1-2"]
    assert [row[5][1:] if row[5].startswith("'") else row[5] for row in rows] == titles
    # And ISO times with negative offsets start with their year: untouched
    assert [row[1] for row in rows] == [slot.start.isoformat() for slot in slots]
    assert rows[0][1] == "2026-12-01T00:00:00-05:00"


# --- playout.json ---------------------------------------------------------------------------------------


def test_playout_json_carries_the_report_and_every_slot():
    playout = onair_playout()
    data = write("playout.json", onair_schedule(), playout)
    assert data.endswith(b"}\n")
    assert "Café Ölé".encode() in data  # not \u-escaped
    document = json.loads(data)
    assert document["report"] == playout.report.to_dict()
    assert document["report"]["rule_breaks"][0]["at"] == "2026-12-01T00:00:00+01:00"
    assert document["playout"][0] == {
        "channel": "radio1",
        "start": "2026-12-01T00:00:00+01:00",
        "stop": "2026-12-01T00:03:30+01:00",
        "duration": 210.0,
        "kind": "block",
        "title": "Morning",
        "item_id": "a",
        "artist": "Band A",
        "category": "pop",
        "uri": "s3://m/a.mp3",
        "pool": "day",
        "block": "00:00-06:00",
    }
    assert [entry["title"] for entry in document["playout"]] == [slot.title for slot in playout.slots]
    assert list(document) == ["playout", "report"]  # keys sorted


# --- every writer ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(WRITERS))
@pytest.mark.parametrize("index", [0, 1, 2], ids=["onair", "xmltv", "xmltv-messy"])
def test_every_writer_is_byte_identical_on_identical_input(name, index):
    first = write(name, *schedules()[index])
    assert first
    assert write(name, *schedules()[index]) == first


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("guide.xml", ["Zwei Ü", "Café Ölé", "Ärzte, Die", "Série"]),
        ("channels.m3u", ["Zwei Ü"]),  # channels only
        ("playlist.m3u8", ["Café Ölé", "Série - Nachrichten"]),
        ("asrun.csv", ["Café Ölé", "Ärzte, Die", "Série"]),
        ("playout.json", ["Café Ölé", "Ärzte, Die", "Série"]),
    ],
)
def test_every_writer_keeps_non_ascii_text_as_utf8(name, expected):
    text = write(name, onair_schedule(), onair_playout()).decode("utf-8")
    assert [value for value in expected if value not in text] == []


@pytest.mark.parametrize("name", list(WRITERS))
def test_every_writer_orders_slots_by_channel_then_time_whatever_the_input_order(name):
    playout = onair_playout()
    shuffled = Playout(list(reversed(playout.slots)), playout.report)
    assert write(name, onair_schedule(), shuffled) == write(name, onair_schedule(), playout)


def test_guide_validates_for_every_kind_of_schedule():
    for schedule, playout in schedules():
        validate(write("guide.xml", schedule, playout))


def test_guide_validates_for_every_listing_of_the_corpus_the_importer_accepts():
    # Given every ../shared XMLTV file the lenient importer accepts, each programme as a slot
    dtd = etree.DTD(str(shared_path("reference", "xmltv.dtd")))
    written = []
    for path in corpus_files("xmltv"):
        try:
            listing = parse_schedule(path.read_bytes(), max_bytes=50 * 10**6).schedule
        except DocumentRejected:
            continue
        assert isinstance(listing, XmltvListing)
        # When its guide is written
        guide = write("guide.xml", listing, xmltv_playout(listing))
        # Then the guide validates, whatever the source got wrong
        assert dtd.validate(etree.fromstring(guide)), (path.name, dtd.error_log.filter_from_errors()[:3])
        written.append(path.name)
    assert written


# --- time zones: DST days and odd offsets ---------------------------------------------------------------

# (zone, local day, its length in hours): fall-back, spring-forward, Lord Howe's 30-minute shift, +05:45
ZONE_DAYS = [
    ("Europe/London", date(2026, 10, 25), 25),
    ("Europe/London", date(2026, 3, 29), 23),
    ("America/New_York", date(2026, 11, 1), 25),
    ("America/New_York", date(2026, 3, 8), 23),
    ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),
    ("Australia/Lord_Howe", date(2026, 10, 4), 23.5),
    ("Asia/Kathmandu", date(2026, 6, 1), 24),
]
TIMED_OUTPUTS = ["guide.xml", "asrun.csv", "playout.json", "playlist.m3u8"]  # channels.m3u has no times


def zone_day_run(zone: str, day: date) -> tuple[OnAirSchedule, Playout]:
    """One 00:00-24:00 block of 7- and 11-minute items (one with media, one without), run for `day`."""
    sched = OnAirSchedule(
        timezone=zone,
        channels=[Channel(id="c", name="C")],
        items=[
            Item(id="seven", title="Seven", duration=420, uri="s3://m/7.mp3"),
            Item(id="eleven", title="Eleven", duration=660),
        ],
        pools=[
            Pool(id="p", order="sequential", members=[PoolMember(item="seven"), PoolMember(item="eleven")])
        ],
        blocks=[Block(channel="c", days=list(WEEKDAYS), start="00:00", end="24:00", pool="p")],
    )
    return sched, generate(sched, RunRange(day, 1), 1)


def written_times(name: str, data: bytes) -> list[tuple[str, datetime, datetime | None]]:
    """(title, start, stop) of every entry in output order, times as written; the playlist's media entries
    carry no time (None, None is not allowed: their start is taken as unknown and skipped for offsets)."""
    if name == "guide.xml":
        return [(p.fields["title"], p.start, p.stop) for p in readers.guide(data)[1]]
    if name == "asrun.csv":
        return [(row.fields["title"], row.start, row.stop) for row in readers.asrun(data)]
    if name == "playout.json":
        return [(entry.fields["title"], entry.start, entry.stop) for entry in readers.playout_json(data)[0]]
    return [(e.label, e.start, None) for e in readers.playlist(data) if e.start is not None]


@pytest.mark.parametrize("name", TIMED_OUTPUTS)
@pytest.mark.parametrize(("zone", "day", "hours"), ZONE_DAYS, ids=[f"{z}-{d}" for z, d, _ in ZONE_DAYS])
def test_every_output_lists_a_dst_day_in_instant_order_with_the_offset_of_each_instant(
    name: str, zone: str, day: date, hours: float
) -> None:
    # Given a day of 7- and 11-minute items in a zone with a DST change (or an odd offset) that day
    tz = ZoneInfo(zone)
    midnight, next_midnight = (
        datetime.combine(d, time(), tz).astimezone(UTC) for d in (day, day + timedelta(1))
    )
    assert next_midnight - midnight == timedelta(hours=hours)  # the test data is the day it claims to be
    sched, playout = zone_day_run(zone, day)
    by_instant = sorted(playout.slots, key=lambda slot: slot.start.astimezone(UTC))

    # When the output is written and read back
    entries = written_times(name, write(name, sched, playout))

    # Then its entries are the slots in instant order, each time written with the offset of its instant
    if name == "playlist.m3u8":
        labels = [e.label for e in readers.playlist(write(name, sched, playout))]
        assert labels == [slot.title for slot in by_instant]
        by_instant = [slot for slot in by_instant if slot.uri is None]  # comment lines carry a start
    assert [title for title, _, _ in entries] == [slot.title for slot in by_instant]
    starts = [start.astimezone(UTC) for _, start, _ in entries]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert starts == [slot.start.astimezone(UTC) for slot in by_instant]
    for _, start, stop in entries:
        assert start.utcoffset() == readers.offset_in(tz, start), start
        assert stop is None or stop.utcoffset() == readers.offset_in(tz, stop), stop
    if name != "playlist.m3u8":  # and the day is covered from local midnight to the next, less the underrun
        assert starts[0] == midnight
        underrun = timedelta(seconds=sum(error.seconds for error in playout.report.fill_errors))
        last_stop = entries[-1][2]
        assert last_stop is not None and last_stop.astimezone(UTC) + underrun == next_midnight


COPY_SHAPES = [
    "<title>Plain</title>",
    '<title lang="en">Spaced</title><desc>  </desc><category> </category>',
    '<title xml:lang="fr">Été 🎉</title><desc>C1 \u0085 and U+FFFD \ufffd, quotes " and &amp; &lt;tags&gt;</desc>',
    '<title>Rated Öl 🎉 \u0085</title><rating system="VCHIP"><value>TV-PG</value><icon src="r.png"/></rating>',
    '<title>Cast</title><credits><actor role="Host">Ana<image>a.png</image> <url>u</url></actor></credits>',
    '<title>Long</title><length units="minutes">90</length><video><aspect>16:9</aspect></video>',
    '<title>Bad unit</title><length units="weeks">1</length>',
    "<desc>Before its title</desc><title>Out of order</title>",
    "<title>Words between</title> stray words <desc>d</desc>",
    "<title>Commented</title><!-- note --><new/>",
    '<title>Extra</title><x-custom a="1">dropped</x-custom><previously-shown start="2020"/>',
    "<title>\n   Indented\n   </title>\n      <sub-title>deep</sub-title>\n",
]


def copy_listing(attributes: str = '{times} channel="{channel}" x-extra="1"') -> bytes:
    """Each shape twice (the second of a shape is the one copied), on two channels, the programmes'
    attributes as `attributes` says (by default with one the DTD lacks)."""
    programmes = []
    for index, children in enumerate(COPY_SHAPES * 2):
        start = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(hours=index)
        channel = ("one.example", "two.example")[index % 2]
        stop = (
            ""
            if index == 2 * len(COPY_SHAPES) - 1
            else f' stop="{start + timedelta(hours=1):%Y%m%d%H%M%S} +0000"'
        )
        times = f'start="{start:%Y%m%d%H%M%S} +0000"{stop}'
        programmes.append(
            f"<programme {attributes.format(times=times, channel=channel)}>\n    {children}\n  </programme>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<tv>\n'
        '<channel id="one.example"><display-name>One</display-name></channel>\n'
        '<channel id="two.example"><display-name>Two</display-name></channel>\n'
        + "\n".join(programmes)
        + "\n</tv>\n"
    ).encode()


@pytest.mark.parametrize(
    ("attributes", "in_guide_form"),
    [
        ('{times} channel="{channel}" x-extra="1"', 0),  # the DTD lacks x-extra: none is stored in it
        ('channel="{channel}" clumpidx="0/1" {times}', 14),  # valid shapes, attributes in another order
    ],
)
def test_guide_copies_stored_programmes_byte_for_byte_as_rebuilding_them_would(
    monkeypatch, attributes, in_guide_form
):
    # Given a listing whose programmes come in many shapes (in DTD order or not, with comments, words
    # between elements, nested and mixed content, non-ASCII and C1 text), each shape twice; those that
    # follow the DTD stored in the guide's form, unless an attribute it lacks makes none of them follow it
    listing = xmltv_listing(copy_listing(attributes))
    assert sum(programme.guide_form for programme in listing.programmes) == in_guide_form
    playout = generate(listing, RunRange(None, 1), 1)
    copied = []
    real_init = guide_writer._Copier.__init__

    def recording_init(self):
        real_init(self)
        copied.append(self)

    monkeypatch.setattr(guide_writer._Copier, "__init__", recording_init)
    # When the guide is written, copying what it can
    guide = write("guide.xml", listing, playout)
    # Then some programmes were copied, and the guide is the one rebuilding every programme writes
    assert copied[0].copies + in_guide_form >= 5
    assert any(gaps is not None for gaps in copied[0].gaps.values()) or in_guide_form
    monkeypatch.setattr(
        guide_writer._Copier,
        "programme",
        lambda self, slot, xml, start, stop: guide_writer._serialized(
            guide_writer._xmltv_programme(slot, xml)
        ),
    )
    assert guide == write("guide.xml", listing, playout)
    validate(guide)


@pytest.mark.parametrize("per_line", [2, 1000], ids=["on lines", "on one line"])
@pytest.mark.parametrize(
    "attributes", ['{times} channel="{channel}" x-extra="1"', 'channel="{channel}" {times}']
)
def test_a_run_with_its_programmes_on_a_shelf_writes_every_output_as_one_holding_them(
    monkeypatch, attributes, per_line
):
    # Given the programmes of many shapes (non-ASCII and C1 text among them) stored in schedule.json, on
    # lines of two programmes or on one line
    monkeypatch.setattr(models, "PROGRAMMES_PER_CHUNK", per_line)
    listing = xmltv_listing(copy_listing(attributes))
    stored = StoredSchedule(id="s", created_at=datetime(2026, 12, 1, tzinfo=UTC), schedule=listing)
    lines = b"".join(stored_json_chunks(stored)).split(b"\n")
    whole = load_stored(lines).schedule
    held = generate(whole, RunRange(None, 1), 1)
    # When a run loads them onto a shelf, as the run job does
    with ProgrammeShelf() as shelf:
        head = load_stored(lines, take=shelf.add).schedule
        shelved = generate(head, RunRange(None, 1), 1, None, shelf)
        # Then the listing it keeps has none, its slots hold places, and every output is byte for byte
        # the one written from the programmes held in memory
        assert not head.programmes and head.channels == whole.channels
        assert all(isinstance(slot.source_xml, int) for slot in shelved.slots)
        for name in WRITERS:
            assert write(name, head, shelved) == write(name, whole, held), name


def test_guide_of_a_listing_stored_before_guide_form_is_the_same():
    # Given a listing whose valid programmes are stored in the guide's form, and the same listing as a
    # schedule.json written before guide_form existed reads (every programme without it)
    listing = xmltv_listing(copy_listing('channel="{channel}" {times}'))
    assert any(programme.guide_form for programme in listing.programmes)
    older = XmltvListing.model_validate_json(
        listing.model_dump_json().replace('"guide_form":true', '"guide_form":false')
    )
    assert not any(programme.guide_form for programme in older.programmes)
    # When each one's guide is written
    guides = [
        write("guide.xml", schedule, generate(schedule, RunRange(None, 1), 1))
        for schedule in (listing, older)
    ]
    # Then they are the same bytes
    assert guides[0] == guides[1]


def test_what_writers_share_is_reused_for_one_playout_and_let_go_with_it():
    # Given an XMLTV listing's playout whose outputs were all written
    from onair.writers import common

    listing = xmltv_listing()
    playout = xmltv_playout(listing)
    first = {name: write(name, listing, playout) for name in WRITERS}
    # When a second playout of the same schedule is written, then the first is dropped
    moved = Playout(
        [Slot(s.channel, s.start, s.stop, s.title + "!", source_xml=s.source_xml) for s in playout.slots],
        Report(),
    )
    assert write("asrun.csv", listing, moved) != first["asrun.csv"]  # its own slots, not the first's
    assert {name: write(name, listing, playout) for name in WRITERS} == first
    del playout, moved
    gc.collect()
    # Then nothing is kept for them: their slots (and stored XML) go with them
    assert common._last == []
