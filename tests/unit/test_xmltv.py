"""XMLTV import rules: each finding code with its line and path, lenient against strict, times, overlaps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from onair.errors import Finding, InvalidSchedule, NotASchedule
from onair.models import XmltvListing
from onair.playout.engine import generate
from onair.playout.types import RunRange
from onair.readers import xmltv
from onair.readers.schedule import parse_schedule
from onair.readers.xml import iterparse
from onair.writers import guide
from tests.conftest import SAMPLE_XMLTV, shared_path
from tests.steps import growth

CHANNEL = '<channel id="one.example"><display-name>One</display-name></channel>'


def listing(*programmes: str, channels: str = CHANNEL, head: str = "") -> bytes:
    """A document with one element per line: line 1 <tv> (after `head`), then channels, then programmes."""
    return (head + "\n".join(["<tv>", *([channels] if channels else []), *programmes, "</tv>"])).encode()


def at(minutes: int) -> str:
    return (datetime(2026, 12, 1) + timedelta(minutes=minutes)).strftime("%Y%m%d%H%M%S")


def programme(
    inner: str = "<title>News</title>",
    start: str = "20261201180000 +0000",
    stop: str | None = "20261201190000 +0000",
    channel: str = "one.example",
    extra: str = "",
) -> str:
    stop_attribute = f' stop="{stop}"' if stop is not None else ""
    return f'<programme start="{start}"{stop_attribute} channel="{channel}"{extra}>{inner}</programme>'


def lenient(document: bytes) -> tuple[XmltvListing, list[Finding]]:
    parsed = parse_schedule(document, max_bytes=10_000_000)
    assert isinstance(parsed.schedule, XmltvListing)
    return parsed.schedule, parsed.warnings


def rejected(document: bytes, *, strict: bool = False) -> InvalidSchedule:
    with pytest.raises(InvalidSchedule) as caught:
        parse_schedule(document, max_bytes=10_000_000, strict=strict)
    return caught.value


def only(findings: list[Finding], code: str) -> Finding:
    matching = [finding for finding in findings if finding.code == code]
    assert len(matching) == 1, findings
    return matching[0]


def test_a_clean_listing_imports_without_findings_in_either_mode():
    for strict in (False, True):
        parsed = parse_schedule(SAMPLE_XMLTV, max_bytes=100_000, strict=strict)
        assert parsed.warnings == []
        assert parsed.schedule.counts() == {"channels": 2, "programmes": 3}


# --- warnings: each code, its line and path; lenient keeps the data, strict refuses the same finding -------

WARNINGS = [
    # (case, document, code, line, path)
    (
        "child order (ektotv invalid.xml)",
        listing(programme("<title>T</title><new/><previously-shown/>")),
        "notvalid",
        3,
        "/tv/programme[1]/previously-shown[1]",
    ),
    (
        "channel children order",
        listing(
            channels='<channel id="a.example"><icon src="i.png"/><display-name>A</display-name></channel>'
        ),
        "notvalid",
        2,
        "/tv/channel[1]/display-name[1]",
    ),
    (
        "unknown element",
        listing(programme("<title>T</title><rubbish/>")),
        "notvalid",
        3,
        "/tv/programme[1]/rubbish[1]",
    ),
    (
        "x- element",
        listing(programme("<x-extra>no</x-extra><title>T</title>")),
        "notvalid",
        3,
        "/tv/programme[1]/x-extra[1]",
    ),
    (
        "x- attribute",
        listing(programme(extra=' x-foo="bar"')),
        "notvalid",
        3,
        "/tv/programme[1]/@x-foo",
    ),
    (
        "unknown attribute",
        listing(programme(extra=' colour="red"')),
        "notvalid",
        3,
        "/tv/programme[1]/@colour",
    ),
    (
        "enumerated attribute",
        listing(programme('<title>T</title><length units="days">1</length>')),
        "notvalid",
        3,
        "/tv/programme[1]/length[1]/@units",
    ),
    (
        "missing required child of a channel",
        listing(channels='<channel id="one.example"><url>http://x</url></channel>'),
        "notvalid",
        2,
        "/tv/channel[1]",
    ),
    (
        "second <date>",
        listing(programme("<title>T</title><date>2020</date><date>2021</date>")),
        "notvalid",
        3,
        "/tv/programme[1]/date[2]",
    ),
    (
        "text in element content",
        listing(programme("<title>T</title><credits>Mike</credits>")),
        "notvalid",
        3,
        "/tv/programme[1]/credits[1]",
    ),
    (
        "EMPTY element with content",
        listing(programme("<title>T</title><new>yes</new>")),
        "notvalid",
        3,
        "/tv/programme[1]/new[1]",
    ),
    (
        "channel after programme",
        listing(programme(), '<channel id="two.example"><display-name>2</display-name></channel>'),
        "notvalid",
        4,
        "/tv/channel[2]",
    ),
    (
        "channel id form",
        listing(
            programme(channel="channel_one"),
            channels='<channel id="channel_one"><display-name>1</display-name></channel>',
        ),
        "invalidid",
        2,
        "/tv/channel[1]/@id",
    ),
    (
        "duplicate channel",
        listing(programme(), channels=CHANNEL + "\n" + CHANNEL),
        "duplicateid",
        3,
        "/tv/channel[2]",
    ),
    ("undeclared channel", listing(programme(channel="other.example")), "unknownid", 3, "/tv/programme[1]"),
    ("no programmes", listing(), "noprogrammes", 1, "/tv"),
    (
        "channel without programmes",
        listing(
            programme(),
            channels=CHANNEL + '\n<channel id="b.example"><display-name>B</display-name></channel>',
        ),
        "channelnoprogramme",
        3,
        "/tv/channel[2]",
    ),
    (
        "one empty title among others",
        listing(programme('<title lang="de">T</title><title lang="en"> </title>')),
        "emptytitle",
        3,
        "/tv/programme[1]/title[2]",
    ),
    (
        "empty description",
        listing(programme("<title>T</title><desc>  </desc>")),
        "emptydescription",
        3,
        "/tv/programme[1]/desc[1]",
    ),
    (
        "start without minutes (tv_validate_file wants 12 digits)",
        listing(programme(start="20261201 +0000", stop=None)),
        "badstart",
        3,
        "/tv/programme[1]/@start",
    ),
    (
        "stop glued to its zone",
        listing(programme(stop="20261201190000+0000")),
        "badstop",
        3,
        "/tv/programme[1]/@stop",
    ),
    (
        "xmltv_ns episode number",
        listing(programme('<title>T</title><episode-num system="xmltv_ns">S01E02</episode-num>')),
        "badepisode",
        3,
        "/tv/programme[1]/episode-num[1]",
    ),
    (
        "double-escaped ampersand",
        listing(programme("<title>T</title><desc>Tom &amp;amp; Jerry</desc>")),
        "badentity",
        3,
        "/tv/programme[1]/desc[1]",
    ),
    ("no time zone", listing(programme(stop="20261201190000")), "notimezone", 3, "/tv/programme[1]/@stop"),
    ("no stop", listing(programme(stop=None)), "nostop", 3, "/tv/programme[1]"),
    (
        "zero-length programme",
        listing(programme(stop="20261201180000 +0000")),
        "zerolength",
        3,
        "/tv/programme[1]",
    ),
    (
        "duplicate programme",
        listing(programme(), programme("<title> News </title>")),
        "duplicate",
        4,
        "/tv/programme[2]",
    ),
    (
        "overlap",
        listing(programme(), programme("<title>Late</title>", start="20261201183000 +0000")),
        "overlap",
        4,
        "/tv/programme[2]",
    ),
    (
        "bad clumpidx",
        listing(programme(extra=' clumpidx="2/2"')),
        "badclumpidx",
        3,
        "/tv/programme[1]/@clumpidx",
    ),
]


@pytest.mark.parametrize(
    ("document", "code", "line", "path"), [case[1:] for case in WARNINGS], ids=[case[0] for case in WARNINGS]
)
def test_usable_findings_are_warnings_when_lenient_and_errors_when_strict(document, code, line, path):
    # Given a listing whose data stays usable despite one finding
    # When it is imported leniently, then it imports and the warning says where
    _, warnings = lenient(document)
    warning = next((w for w in warnings if w.code == code), None)
    assert warning is not None, warnings
    assert (warning.line, warning.path) == (line, path), warning
    # When it is imported strictly, then the same finding is an error
    error = rejected(document, strict=True)
    assert Finding(code, warning.message, line, None, path) in error.details
    assert "strict mode" in error.message


# --- errors even in lenient mode: the data is unusable ---------------------------------------------------

ERRORS = [
    ("start not a time", listing(programme(start="tomorrow")), "badstart", "/tv/programme[1]/@start"),
    ("February 30", listing(programme(start="20260230180000 +0000")), "badstart", "/tv/programme[1]/@start"),
    (
        "offset beyond 14:00",
        listing(programme(start="20261201180000 +1430")),
        "badstart",
        "/tv/programme[1]/@start",
    ),
    (
        "offset minutes",
        listing(programme(start="20261201180000 +0160")),
        "badstart",
        "/tv/programme[1]/@start",
    ),
    (
        "unknown zone name",
        listing(programme(start="20261201180000 XYZ")),
        "badstart",
        "/tv/programme[1]/@start",
    ),
    ("year and month only", listing(programme(start="202612 +0000")), "badstart", "/tv/programme[1]/@start"),
    ("stop not a time", listing(programme(stop="20261301190000 +0000")), "badstop", "/tv/programme[1]/@stop"),
    (
        "stop before start",
        listing(programme(stop="20261201175959 +0000")),
        "badstop",
        "/tv/programme[1]/@stop",
    ),
    (
        "missing start",
        listing('<programme channel="one.example"><title>T</title></programme>'),
        "notvalid",
        "/tv/programme[1]/@start",
    ),
    (
        "missing channel",
        listing('<programme start="20261201180000 +0000"><title>T</title></programme>'),
        "notvalid",
        "/tv/programme[1]/@channel",
    ),
    ("empty channel", listing(programme(channel=" ")), "notvalid", "/tv/programme[1]/@channel"),
    ("no title", listing(programme("<desc>D</desc>")), "notvalid", "/tv/programme[1]"),
    ("empty title", listing(programme("<title>  </title>")), "emptytitle", "/tv/programme[1]/title"),
    (
        "channel without id",
        listing(channels="<channel><display-name>A</display-name></channel>"),
        "notvalid",
        "/tv/channel[1]/@id",
    ),
    (
        "channel with an empty id",
        listing(channels='<channel id=""><display-name>A</display-name></channel>'),
        "invalidid",
        "/tv/channel[1]/@id",
    ),
]


@pytest.mark.parametrize(
    ("document", "code", "path"), [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS]
)
def test_unusable_data_is_an_error_even_when_lenient(document, code, path):
    error = rejected(document)
    assert error.code == "invalid_schedule" and error.status == 422
    finding = only(error.details, code)
    assert finding.path == path and finding.line in (2, 3)
    assert "strict" not in error.message


def test_errors_are_reported_for_every_programme_not_only_the_first():
    document = listing(programme(start="bad"), programme(), programme(stop="also bad"))
    error = rejected(document)
    assert [(d.code, d.line) for d in error.details] == [("badstart", 3), ("badstop", 5)]
    assert error.message.startswith("the XMLTV listing has 2 error(s)")


def test_the_integration_sample_of_a_bad_start_gives_exactly_one_finding():
    body = b'<tv><programme start="20261340250000 +0000" channel="a"><title>X</title></programme></tv>'
    assert [(d.code, d.line, d.path) for d in rejected(body).details] == [
        ("badstart", 1, "/tv/programme[1]/@start")
    ]


# --- what lenient mode keeps ------------------------------------------------------------------------------


def test_unknown_channels_are_declared_implicitly_and_not_judged_by_the_id_form():
    schedule, warnings = lenient(listing(programme(channel="a"), channels=""))
    assert [channel.id for channel in schedule.channels] == ["a"]
    assert "<display-name>a</display-name>" in schedule.channels[0].xml
    assert {w.code for w in warnings} == {"unknownid"}


def test_duplicates_are_dropped_and_each_one_counted():
    copies = [programme(f"<title>{title}</title>") for title in ("News", " News", "News ", "  News  ")]
    schedule, warnings = lenient(listing(*copies))
    assert len(schedule.programmes) == 1
    assert [w.line for w in warnings if w.code == "duplicate"] == [4, 5, 6]
    assert "line 3" in warnings[0].message


def test_the_same_instant_written_with_another_offset_is_a_duplicate():
    schedule, warnings = lenient(
        listing(programme(), programme(start="20261201190000 +0100", stop="20261201200000 +0100"))
    )
    assert len(schedule.programmes) == 1 and [w.code for w in warnings] == ["duplicate"]


def test_programmes_that_differ_in_stop_or_clump_part_are_not_duplicates():
    schedule, _ = lenient(
        listing(
            programme(stop=None),
            programme(),
            programme(extra=' clumpidx="0/2"'),
            programme(extra=' clumpidx="1/2"'),
        )
    )
    assert len(schedule.programmes) == 4


@pytest.mark.parametrize(
    ("clumpidx", "clump", "finding"),
    [
        ("1/3", (1, 3), False),
        (" 0 / 2 ", (0, 2), False),
        ("0/1", None, False),  # a clump of one is no clump
        ("2/2", None, True),
        ("x", None, True),
        ("1" * 5000 + "/2", None, True),  # more digits than int() reads: a finding, not a ValueError
    ],
    ids=["1/3", "spaces", "0/1", "2/2", "x", "5000-digits"],
)
def test_the_programmes_clump_part_is_in_the_model(clumpidx, clump, finding):
    schedule, warnings = lenient(listing(programme(extra=f' clumpidx="{clumpidx}"')))
    [stored] = schedule.programmes
    assert stored.clump == clump
    assert [w.code for w in warnings] == (["badclumpidx"] if finding else [])


def test_a_missing_time_zone_is_read_as_utc_and_the_stop_stays_absent():
    schedule, _ = lenient(listing(programme(start="20261201180000", stop=None)))
    [stored] = schedule.programmes
    assert stored.start == datetime(2026, 12, 1, 18, tzinfo=UTC) and stored.stop is None


def test_extensions_and_out_of_order_children_stay_in_the_stored_programme():
    schedule, _ = lenient(
        listing(programme('<x-extra a="1">x</x-extra><title>T</title><new/><date>2020</date>'))
    )
    xml = schedule.programmes[0].xml
    assert '<x-extra a="1">x</x-extra>' in xml and "<date>2020</date>" in xml


def test_an_undefined_entity_is_kept_as_text_so_the_stored_xml_stays_well_formed():
    # With a DOCTYPE naming an external DTD the parser keeps &nbsp; as an unresolved reference.
    document = listing(programme("<title>Caf&nbsp;Bar</title>"), head='<!DOCTYPE tv SYSTEM "xmltv.dtd">\n')
    schedule, warnings = lenient(document)
    finding = only(warnings, "badentity")
    assert (finding.line, finding.path) == (4, "/tv/programme[1]/title[1]")
    stored = schedule.programmes[0]
    assert stored.title == "Caf&nbsp;Bar"
    assert etree.fromstring(stored.xml).findtext("title") == "Caf&nbsp;Bar"


def test_an_undefined_entity_in_a_channel_is_kept_as_text_too():
    channels = '<channel id="one.example"><display-name>A&nbsp;B</display-name></channel>'
    document = listing(programme(), channels=channels, head='<!DOCTYPE tv SYSTEM "xmltv.dtd">\n')
    schedule, warnings = lenient(document)
    assert only(warnings, "badentity").path == "/tv/channel[1]/display-name[1]"
    assert etree.fromstring(schedule.channels[0].xml).findtext("display-name") == "A&nbsp;B"


# --- times ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "zoned"),
    [
        ("20261201183000 +0100", datetime(2026, 12, 1, 18, 30, tzinfo=timezone(timedelta(hours=1))), True),
        ("200204201725", datetime(2002, 4, 20, 17, 25, tzinfo=UTC), False),
        ("20010829000500 BST", datetime(2001, 8, 29, 0, 5, tzinfo=timezone(timedelta(hours=1))), True),
        ("20030512233500 -0400", datetime(2003, 5, 12, 23, 35, tzinfo=timezone(timedelta(hours=-4))), True),
        ("20240229000000 +1400", datetime(2024, 2, 29, tzinfo=timezone(timedelta(hours=14))), True),
        ("20240229000000 -1400", datetime(2024, 2, 29, tzinfo=timezone(timedelta(hours=-14))), True),
        ("20240101 +0000", datetime(2024, 1, 1, tzinfo=UTC), True),
        ("2026120118", datetime(2026, 12, 1, 18, tzinfo=UTC), False),
    ],
)
def test_parse_time_reads_xmltv_times(text, expected, zoned):
    value, has_zone = xmltv.parse_time(text)
    assert (value, value.utcoffset(), has_zone) == (expected, expected.utcoffset(), zoned)


@pytest.mark.parametrize(
    "text",
    ["20230229000000 +0000", "20261231240000 +0000", "20261201186000", "20261201180000 +1401", "20261201 +0960",
     "20261201180000 IST", "2026120118000", "+0000"],
)  # fmt: skip
def test_parse_time_refuses_what_is_not_a_real_time(text):
    with pytest.raises(xmltv.XmltvTimeError):
        xmltv.parse_time(text)


def test_format_time_round_trips_with_the_offset():
    value = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    assert xmltv.format_time(value) == "20260329013000 -0330"
    assert xmltv.parse_time(xmltv.format_time(value)) == (value, True)


# --- overlaps ---------------------------------------------------------------------------------------------


def overlap_lines(*programmes: str) -> list[int | None]:
    _, warnings = lenient(listing(*programmes))
    return [w.line for w in warnings if w.code == "overlap"]


def test_back_to_back_programmes_do_not_overlap():
    assert (
        overlap_lines(programme(), programme(start="20261201190000 +0000", stop="20261201200000 +0000")) == []
    )


def test_a_programme_starting_before_the_previous_one_ends_overlaps():
    later = programme(start="20261201185959 +0000", stop="20261201200000 +0000")
    assert overlap_lines(programme(), later) == [4]


def test_overlap_compares_instants_not_wall_clock():
    # 19:30 +0100 is 18:30 UTC: inside 18:00-19:00 UTC
    assert overlap_lines(
        programme(), programme(start="20261201193000 +0100", stop="20261201203000 +0100")
    ) == [4]


def test_overlaps_are_per_channel():
    other = programme(channel="two.example")
    channels = CHANNEL + '\n<channel id="two.example"><display-name>Two</display-name></channel>'
    _, warnings = lenient(listing(programme(), other, channels=channels))
    assert "overlap" not in {w.code for w in warnings}


def test_clump_parts_sharing_a_slot_are_not_overlaps_but_a_third_programme_is():
    parts = [programme(f"<title>{n}</title>", extra=f' clumpidx="{n}/2"') for n in (0, 1)]
    assert overlap_lines(*parts) == []
    intruder = programme("<title>X</title>", start="20261201183000 +0000")
    assert overlap_lines(*parts, intruder) == [5]


def test_two_programmes_claiming_the_same_clump_part_overlap():
    parts = [programme(f"<title>{n}</title>", extra=' clumpidx="0/2"') for n in (0, 1)]
    assert overlap_lines(*parts) == [4]


def test_zero_length_programmes_overlap_nothing():
    middle = programme("<title>Flash</title>", start="20261201183000 +0000", stop="20261201183000 +0000")
    assert overlap_lines(programme(), middle) == []


def test_a_missing_stop_ends_at_the_channels_next_start():
    first = programme("<title>A</title>", stop=None)
    second = programme("<title>B</title>", start="20261201190000 +0000", stop="20261201200000 +0000")
    assert overlap_lines(first, second) == []
    same_start = programme("<title>C</title>", stop="20261201183000 +0000")
    assert overlap_lines(first, second, same_start) == [5]


def test_overlap_steps_grow_linearly_even_when_every_programme_overlaps_every_earlier_one():
    # Given programmes starting a minute apart that all run to the same late stop (each overlaps all
    # earlier ones), and the parts of one clump sharing a slot, with an intruder overlapping them all
    def nested(count: int) -> Callable[[], object]:
        document = listing(
            *(programme(f"<title>{n}</title>", start=at(n), stop=at(10**6)) for n in range(count))
        )
        return lambda: lenient(document)

    def clump(count: int) -> Callable[[], object]:
        parts = (programme(f"<title>{n}</title>", extra=f' clumpidx="{n}/{count}"') for n in range(count))
        document = listing(*parts, programme("<title>X</title>", start="20261201183000 +0000"))
        return lambda: lenient(document)

    # Then the reader's Python steps grow 4x with the listing (a sweep over every active one: 16x)
    assert growth((xmltv,), nested, 200) < 5
    assert growth((xmltv,), clump, 200) < 5


def test_overlap_reports_every_overlapping_programme_once_on_the_later_one():
    # Given A 18:00-21:00, B 18:30-19:00 (inside A), C 19:30-20:00 (inside A, after B), D 21:00-22:00
    document = listing(
        programme("<title>A</title>", stop="20261201210000 +0000"),
        programme("<title>B</title>", start="20261201183000 +0000"),
        programme("<title>C</title>", start="20261201193000 +0000", stop="20261201200000 +0000"),
        programme("<title>D</title>", start="20261201210000 +0000", stop="20261201220000 +0000"),
    )
    _, warnings = lenient(document)

    # Then B and C each overlap A (the first one still on air), D nothing
    assert [(w.line, w.message.split(" (")[0]) for w in warnings if w.code == "overlap"] == [
        (4, "overlaps 'A'"),
        (5, "overlaps 'A'"),
    ]


def test_a_clump_part_overlapping_another_part_and_a_programme_names_the_earliest():
    # Given parts 0/2 and 1/2 sharing 18:00-19:00, then a second 0/2 in the same slot
    parts = [programme(f"<title>{n}</title>", extra=f' clumpidx="{n % 2}/2"') for n in range(3)]
    _, warnings = lenient(listing(*parts))

    # Then only the repeated part overlaps, and it names the part it repeats
    assert [(w.line, w.message.split(" (")[0]) for w in warnings if w.code == "overlap"] == [
        (5, "overlaps '0'")
    ]


# --- time bounds: every instant in years 1-9999, nothing overflows near them ------------------------------


@pytest.mark.parametrize(
    ("attribute", "start", "stop"),
    [
        ("start", "00010101000000 +0100", "00010101020000 +0100"),  # 0000-12-31 23:00 UTC
        ("stop", "99991231220000 -0100", "99991231233000 -0100"),  # stop 10000-01-01 00:30 UTC
        ("start", "00010101000000 CET", None),
    ],
)
def test_a_time_whose_utc_instant_is_outside_years_1_to_9999_is_an_error(attribute, start, stop):
    error = rejected(listing(programme(start=start, stop=stop)))
    finding = only(error.details, f"bad{attribute}")
    assert (finding.line, finding.path) == (3, f"/tv/programme[1]/@{attribute}")
    assert "years 1-9999" in finding.message


def test_the_first_and_last_instants_of_years_1_to_9999_import():
    # Given a programme at the last second of 9999 without a stop (the overlap check adds one second),
    # one from the first second of year 1, and one at the last second ending at the same instant
    document = listing(
        programme("<title>First</title>", start="00010101000000 +0000", stop="00010101010000 -0100"),
        programme("<title>Last</title>", start="99991231235959 +0000", stop=None),
        programme("<title>Zero</title>", start="99991231235959 +0000", stop="99991231235959 +0000"),
    )
    schedule, warnings = lenient(document)
    assert [p.title for p in schedule.programmes] == ["First", "Last", "Zero"]
    assert {w.code for w in warnings} == {"nostop", "zerolength"}


def test_format_time_pads_years_before_1000_to_four_digits():
    value = datetime(1, 1, 1, 0, 5, tzinfo=UTC)
    assert xmltv.format_time(value) == "00010101000500 +0000"
    assert xmltv.format_time(datetime(999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))) == (
        "09991231235959 -1400"
    )
    assert xmltv.parse_time(xmltv.format_time(value)) == (value, True)


def test_format_time_writes_an_offset_xmltv_cannot_hold_as_the_same_instant_in_utc():
    # Given local mean times: Paris +00:09:21 (until 1911), Manila -15:56 (until 1844)
    for value in (
        datetime(1900, 1, 1, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(1800, 1, 1, tzinfo=ZoneInfo("Asia/Manila")),
    ):
        text = xmltv.format_time(value)
        # Then the text is an XMLTV time OnAir reads back, at the same instant
        assert text.endswith(" +0000")
        assert xmltv.parse_time(text)[0] == value


def test_a_guide_from_a_listing_in_years_1_to_999_imports_again_with_the_same_programmes():
    # Given programmes in years 0001-0999, one with an offset, one without a stop before the next
    document = listing(
        programme("<title>Dawn</title>", start="00010101000000 +0000", stop="00010101010000 +0000"),
        programme("<title>Rome</title>", start="05000615120000 +0130", stop=None),
        programme("<title>Late</title>", start="09991231220000 -0100", stop="09991231230000 -0100"),
    )
    schedule, _ = lenient(document)

    # When a run writes its guide.xml, and that guide is imported
    playout = generate(schedule, RunRange(None, 1), seed=1)
    written = b"".join(guide.guide_xml(schedule, playout))
    again, warnings = lenient(written)

    # Then it imports cleanly, programme for programme, at the same instants
    assert warnings == []
    assert [(p.title, p.start, p.stop) for p in again.programmes] == [
        (s.title, s.start, s.stop) for s in playout.slots
    ]
    assert [p.title for p in again.programmes] == ["Dawn", "Rome", "Late"]


def test_a_tv_root_in_a_namespace_is_not_an_xmltv_listing():
    for root in ('<tv xmlns="urn:evil">', '<e:tv xmlns:e="urn:evil">'):
        document = (
            listing(programme())
            .replace(b"<tv>", root.encode())
            .replace(b"</tv>", root.split()[0].replace("<", "</").encode() + b">")
        )
        with pytest.raises(NotASchedule) as caught:
            parse_schedule(document, max_bytes=10_000)
        assert (caught.value.status, caught.value.code) == (400, "not_a_schedule")
        [finding] = caught.value.details
        assert (finding.code, finding.line, finding.path) == ("not_a_schedule", 1, "/tv")
        assert "urn:evil" in finding.message


# --- attributes and entities: linear however many an element carries -------------------------------------


def test_every_attribute_of_a_wide_element_is_judged_with_its_value():
    attributes = " ".join(f'a{n}="{n}"' for n in range(300))
    document = listing(programme(), head="").replace(b"<tv>", f'<tv {attributes} xml:lang="en">'.encode())
    _, warnings = lenient(document)
    notvalid = [w for w in warnings if w.code == "notvalid"]
    assert (
        len(notvalid) == xmltv.MAX_FINDINGS
    )  # 301 attributes the DTD does not declare, listed up to the cap
    assert notvalid[0].path == "/tv/@a0" and notvalid[-1].path == f"/tv/@a{xmltv.MAX_FINDINGS - 1}"


def test_scanning_text_grows_linearly_with_an_elements_children():
    # Given a programme with many children whose text holds an escaped entity (each one a badentity)
    def scanned(count: int) -> Callable[[], object]:
        document = listing(programme("<title>T</title>" + "<desc>&amp;amp;</desc>" * count))
        return lambda: lenient(document)

    # Then the reader's steps grow 4x with the children (numbering each from its preceding siblings: 16x)
    assert growth((xmltv,), scanned, 200) < 5


def test_namespaces_declared_on_tv_are_notvalid_and_stored_only_with_the_programmes_using_them():
    # Given a <tv> declaring two namespaces (tv_validate_file: undeclared attributes), one programme using
    # one of them for an extension attribute, and one using none
    document = listing(
        programme(extra=' x:rating="5"'),
        programme("<title>Plain</title>", start="20261201190000 +0000", stop="20261201200000 +0000"),
    ).replace(b"<tv>", b'<tv xmlns:x="urn:x" xmlns:y="urn:y">')
    schedule, warnings = lenient(document)

    # Then each declaration is a notvalid warning on <tv>
    assert [(w.line, w.path) for w in warnings if w.code == "notvalid" and w.path.startswith("/tv/@")] == [
        (1, "/tv/@xmlns:x"),
        (1, "/tv/@xmlns:y"),
    ]
    # And a stored programme declares what it uses, nothing more: <tv>'s declarations are not copied into
    # every programme (their number times the programmes', in size and in time)
    first, plain = (etree.fromstring(p.xml) for p in schedule.programmes)
    assert (first.nsmap, first.get("{urn:x}rating")) == ({"x": "urn:x"}, "5")
    assert plain.nsmap == {} and b"xmlns" not in etree.tostring(plain)
    assert {d.code for d in rejected(document, strict=True).details} == {"notvalid"}


def test_many_undefined_entities_become_text_in_order_and_each_child_gets_its_path():
    # Given an external DOCTYPE (the parser keeps undefined entities) and a desc of many entities, then
    # titles whose entity text is reported with their number among the siblings
    entities = "".join(f"&e{n};" for n in range(50))
    inner = f"<title>T</title><title>&amp;amp;</title><desc>x{entities}y</desc>"
    head = '<!DOCTYPE tv SYSTEM "xmltv.dtd">\n'
    schedule, warnings = lenient(listing(programme(inner), head=head))
    desc = etree.fromstring(schedule.programmes[0].xml).findtext("desc")
    assert desc == "x" + entities + "y"
    assert [w.path for w in warnings if w.code == "badentity"] == [
        "/tv/programme[1]/title[2]",
        "/tv/programme[1]/desc[1]",
    ]


# --- encodings --------------------------------------------------------------------------------------------


def test_an_iso_8859_1_document_imports_with_its_characters():
    document = listing(programme("<title>Caf\xe9 \xa3</title>"))
    latin = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n' + document.decode("utf-8").encode("latin-1")
    schedule, warnings = lenient(latin)
    assert schedule.programmes[0].title == "Caf\xe9 \xa3"
    assert warnings == []


def test_windows_1252_bytes_declared_iso_8859_1_are_badiso8859():
    # 0x93/0x94 are curly quotes in Windows-1252 but C1 controls in ISO-8859-1
    body = listing(programme("<title>T</title><desc>\x93Hi\x94</desc>")).decode("utf-8").encode("latin-1")
    document = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n' + body
    _, warnings = lenient(document)
    finding = only(warnings, "badiso8859")
    assert (finding.line, finding.path) == (4, "/tv/programme[1]/desc[1]")
    assert "Windows-1252" in finding.message
    assert rejected(document, strict=True).details[0].code == "badiso8859"


def test_the_same_bytes_declared_windows_1252_are_fine():
    body = listing(programme("<title>T</title><desc>\x93Hi\x94</desc>")).decode("utf-8").encode("latin-1")
    schedule, warnings = lenient(b'<?xml version="1.0" encoding="windows-1252"?>\n' + body)
    assert warnings == []
    assert etree.fromstring(schedule.programmes[0].xml).findtext("desc") == "\u201cHi\u201d"


# --- limits and streaming ---------------------------------------------------------------------------------


def test_findings_are_capped_but_the_total_is_reported():
    many = xmltv.MAX_FINDINGS + 50
    programmes = [programme(f"<title>{n}</title>", start=at(n), stop=None) for n in range(many)]
    # each programme: nostop + notimezone -> 2 * many warnings
    schedule, warnings = lenient(listing(*programmes))
    assert len(schedule.programmes) == many
    assert len(warnings) == xmltv.MAX_FINDINGS + 1
    assert warnings[-1].code == "truncated"
    assert f"of {2 * many} warnings" in warnings[-1].message
    error = rejected(listing(*programmes), strict=True)
    assert len(error.details) == xmltv.MAX_FINDINGS
    assert error.message.startswith(
        f"the XMLTV listing has {2 * many} error(s); the first {xmltv.MAX_FINDINGS}"
    )


def test_the_reader_clears_programmes_as_it_goes():
    count = 10_000
    programmes = [programme(f"<title>{n}</title>", start=at(n) + " +0000", stop=None) for n in range(count)]
    elements = iterparse(BytesIO(listing(*programmes)))
    first = next(elements)
    root = first.getroottree().getroot()
    held: list[int] = []

    def watched():
        yield first
        for element in elements:
            held.append(len(root))
            yield element

    schedule, spool, _ = xmltv.read_xmltv(root, watched(), strict=False)
    assert schedule.programmes == [] and spool is not None and spool.count == count  # written as read
    # libxml2 reads ahead in chunks (a few hundred programmes here); a reader that kept them would hold all
    assert max(held) < count // 10
    assert len(root) <= 1


# --- the DTD as referee for the hand-written content models -----------------------------------------------


def dtd_valid(dtd: etree.DTD, document: bytes) -> bool:
    return dtd.validate(etree.fromstring(document))


def our_notvalid(document: bytes) -> list[Finding]:
    try:  # strict: every finding is in the error's details, whatever else the document gets wrong
        parse_schedule(document, max_bytes=10_000_000, strict=True)
    except InvalidSchedule as error:
        return [finding for finding in error.details if finding.code == "notvalid"]
    return []


RICH_PROGRAMME = """<programme start="20220331180000 +0000" stop="20220331190000 +0000" channel="a.b" clumpidx="0/1">
<title lang="en">T</title><sub-title>S</sub-title><desc>D</desc>
<credits><director>D</director><actor role="r" guest="yes">A<image type="person">i</image><url>u</url></actor>
<writer>W</writer><adapter>A</adapter><producer>P</producer><composer>C</composer><editor>E</editor>
<presenter>P</presenter><commentator>C</commentator><guest>G</guest></credits>
<date>2022</date><category>C</category><keyword>K</keyword><language>L</language><orig-language>O</orig-language>
<length units="minutes">60</length><icon src="i.png"/><url system="s">u</url><country>US</country>
<episode-num system="xmltv_ns">0.1.</episode-num>
<video><present>yes</present><colour>no</colour><aspect>16:9</aspect><quality>HDTV</quality></video>
<audio><present>yes</present><stereo>stereo</stereo></audio>
<previously-shown start="2021" channel="a.b"/><premiere>P</premiere><last-chance>L</last-chance><new/>
<subtitles type="teletext"><language>en</language></subtitles>
<rating system="s"><value>PG</value><icon src="r.png"/></rating><star-rating><value>3/5</value></star-rating>
<review type="text">R</review><image type="poster" size="1" orient="P" system="s">i</image>
</programme>"""


def mutations() -> list[tuple[str, bytes]]:
    """Each adjacent swap, removal and doubling of a child, at every level of a programme using every element."""
    cases: list[tuple[str, bytes]] = []
    base = etree.fromstring(RICH_PROGRAMME)
    parents = [element for element in base.iter() if len(element)]
    for parent_index, parent in enumerate(parents):
        for index in range(len(parent)):
            for kind in ("swap", "remove", "double"):
                if kind == "swap" and index + 1 >= len(parent):
                    continue
                copy = etree.fromstring(RICH_PROGRAMME)
                target = [element for element in copy.iter() if len(element)][parent_index]
                child = target[index]
                if kind == "swap":
                    target.remove(child)
                    target.insert(index + 1, child)
                elif kind == "remove":
                    target.remove(child)
                else:
                    target.insert(index, etree.fromstring(etree.tostring(child)))
                name = f"{kind} {parent.tag}/{child.tag}[{index}]"
                cases.append((name, b"<tv>" + etree.tostring(copy) + b"</tv>"))
    return cases


def test_the_content_model_table_agrees_with_the_dtd_on_every_swap_removal_and_doubling():
    dtd = etree.DTD(str(shared_path("reference", "xmltv.dtd")))
    base = b"<tv>" + RICH_PROGRAMME.encode() + b"</tv>"
    assert dtd_valid(dtd, base) and our_notvalid(base) == []
    cases = mutations()
    assert len(cases) > 120
    disagreements = [
        name for name, document in cases if dtd_valid(dtd, document) == bool(our_notvalid(document))
    ]
    assert disagreements == []
    assert Counter(dtd_valid(dtd, document) for _, document in cases)[False] > 50  # the mutations do bite


P = '<programme start="20220331180000 +0000" channel="a.b">'
SMALL_CASES = {
    "whitespace in an EMPTY element": f"{P}<title>T</title><new> </new></programme>",
    "text in an EMPTY element": f"{P}<title>T</title><new>x</new></programme>",
    "icon without src": f"{P}<title>T</title><icon/></programme>",
    "enumeration with spaces": f'{P}<title>T</title><image size=" 2 ">i</image></programme>',
    "enumeration off the list": f'{P}<title>T</title><image size="4">i</image></programme>',
    "text in element content": f"{P}<title>T</title><credits>x</credits></programme>",
    "element in #PCDATA": f"{P}<title>T<b>x</b></title></programme>",
    "xml:lang": f'{P}<title xml:lang="en">T</title></programme>',
    "namespaced child": f'{P}<title>T</title><n:desc xmlns:n="urn:x">D</n:desc></programme>',
    "channel after programme": f'{P}<title>T</title></programme><channel id="a.b"><display-name>A</display-name></channel>',
    "text inside tv": f"{P}<title>T</title></programme>stray",
    "unknown tv attribute": '<programme start="1" channel="c"><title>T</title></programme>',
    "review without type": f"{P}<title>T</title><review>R</review></programme>",
    "rating without value": f"{P}<title>T</title><rating><icon src='i'/></rating></programme>",
    "two values": f"{P}<title>T</title><star-rating><value>1</value><value>2</value></star-rating></programme>",
    "url in a credit": f"{P}<title>T</title><credits><actor>A<url>u</url><image>i</image></actor></credits></programme>",
    "desc in a credit": f"{P}<title>T</title><credits><actor>A<desc>d</desc></actor></credits></programme>",
    "channel with two display names and an icon": '<channel id="a.b"><display-name>A</display-name><display-name>B</display-name><icon src="i"/></channel>',
    "previously-shown with an unknown attribute": f'{P}<title>T</title><previously-shown date="1"/></programme>',
}


@pytest.mark.parametrize("inner", SMALL_CASES.values(), ids=SMALL_CASES.keys())
def test_small_cases_agree_with_the_dtd(inner):
    dtd = etree.DTD(str(shared_path("reference", "xmltv.dtd")))
    tv = '<tv generator="x">' if inner.startswith('<programme start="1"') else "<tv>"
    document = f"{tv}{inner}</tv>".encode()
    assert dtd_valid(dtd, document) == (our_notvalid(document) == [])
