"""The OnAir schedule format (urn:onair:schedule:1): XSD findings, semantic checks, strict mode, samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from onair.errors import InvalidSchedule, TooLarge
from onair.models import OnAirSchedule
from onair.readers.schedule import parse_schedule
from tests.conftest import ROOT, SAMPLE_ONAIR

SAMPLES = sorted((ROOT / "samples").glob("*.xml"))
LIMIT = 5 * 1024 * 1024

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<schedule xmlns="urn:onair:schedule:1" timezone="Europe/Paris">\n'


def document(body: str, head: str = HEAD) -> bytes:
    """A schedule whose line 1 is the declaration and line 2 the <schedule> tag: body starts on line 3."""
    return (head + body + "</schedule>\n").encode()


CHANNELS = """  <channels>
    <channel id="r1" name="Radio One"/>
    <channel id="r2" name="Radio Two"/>
  </channels>
"""
LIBRARY = """  <library>
    <item id="a" title="Song A" artist="Band" duration="PT3M" category="pop"/>
    <item id="b" title="Song B" artist="Band" duration="PT4M" category="pop"/>
    <item id="news" title="News" duration="PT5M"/>
  </library>
"""
# Lines: channels 3-6, library 7-11, so the next section starts on line 12.
POOLS = """  <pools>
    <pool id="p" order="shuffle"><category ref="pop"/></pool>
  </pools>
"""


def rejected(data: bytes, *, strict: bool = False) -> list[dict[str, object]]:
    with pytest.raises(InvalidSchedule) as caught:
        parse_schedule(data, max_bytes=LIMIT, strict=strict)
    assert caught.value.status == 422
    return [finding.to_dict() for finding in caught.value.details]


def parsed(data: bytes, *, strict: bool = False) -> OnAirSchedule:
    schedule = parse_schedule(data, max_bytes=LIMIT, strict=strict).schedule
    assert isinstance(schedule, OnAirSchedule)
    return schedule


# --- valid documents ---------------------------------------------------------------------------------


def test_radio_sample_imports_with_every_section():
    # Given the radio sample: two channels, 16 items, five pools, two rules, six blocks, six events
    # When it is parsed in strict mode
    result = parse_schedule((ROOT / "samples/radio-rotation.xml").read_bytes(), max_bytes=LIMIT, strict=True)
    # Then every section is in the model and nothing is reported
    schedule = result.schedule
    assert isinstance(schedule, OnAirSchedule)
    assert schedule.counts() == {"channels": 2, "items": 16}
    assert (len(schedule.pools), len(schedule.rules), len(schedule.blocks), len(schedule.events)) == (
        5,
        2,
        6,
        6,
    )
    assert {pool.order for pool in schedule.pools} == {"sequential", "shuffle", "random", "weighted"}
    assert result.warnings == []


def test_tv_sample_imports_with_series_and_a_fixed_film():
    # Given the TV sample, whose episodes carry a series instead of an artist
    # When it is parsed
    schedule = parsed((ROOT / "samples/tv-virtual-channel.xml").read_bytes(), strict=True)
    # Then the counts are right and the series is the credit that artist separation compares
    assert schedule.counts() == {"channels": 1, "items": 12}
    episode = schedule.item("hh-s01e01")
    assert (episode.artist, episode.series, episode.credit) == (None, "Harbor Heights", "Harbor Heights")
    assert [(e.days, e.time, e.item) for e in schedule.events] == [(["sat"], "21:00", "film-lighthouse")]


@pytest.mark.parametrize("path", SAMPLES, ids=[path.name for path in SAMPLES])
def test_every_sample_imports_in_strict_mode(path: Path):
    # Given any document in samples/
    # When it is parsed strictly
    result = parse_schedule(path.read_bytes(), max_bytes=LIMIT, strict=True)
    # Then it is an OnAir schedule with at least one channel and no warnings
    assert result.schedule.format == "onair"
    assert result.schedule.counts()["channels"] >= 1
    assert result.warnings == []


def test_there_are_samples_to_import():
    assert len(SAMPLES) >= 2


def test_minimal_document_with_only_channels_and_library_stays_valid():
    # Given the test suite's minimal document: channels and a library, nothing else
    # When it is parsed strictly
    schedule = parsed(SAMPLE_ONAIR, strict=True)
    # Then it is read as before, with empty pools, rules, blocks and events
    assert schedule.counts() == {"channels": 1, "items": 2}
    assert (schedule.pools, schedule.rules, schedule.blocks, schedule.events) == ([], [], [], [])


def test_values_are_normalized_in_the_model():
    # Given durations with decimals, a default weight, days out of order and repeated, token whitespace
    data = document(
        CHANNELS
        + """  <library>
    <item id=" a " title="A" duration="PT1H2M3.5S" category="pop"/>
  </library>
  <pools><pool id="p" order="sequential"><item ref="a"/></pool></pools>
  <blocks><block channel="r1" days="sun mon sun" start="06:00" end="24:00" pool="p"/></blocks>
"""
    )
    # When it is parsed
    schedule = parsed(data)
    # Then duration is in seconds, weight defaults to 1, days are in week order once, ids are trimmed
    item = schedule.items[0]
    assert (item.id, item.duration, item.weight) == ("a", 3723.5, 1.0)
    block = schedule.blocks[0]
    assert (block.days, block.start_seconds, block.end_seconds) == (["mon", "sun"], 6 * 3600, 86400)


def test_channel_rules_override_the_global_ones_field_by_field():
    # Given global rules and an override for r2 of one field
    data = document(
        CHANNELS
        + LIBRARY
        + """  <rules>
    <rule artist-separation="30" max-plays-per-day="4"/>
    <rule channel="r2" artist-separation="90"/>
  </rules>
"""
    )
    # When the rules in force are asked for
    schedule = parsed(data)
    # Then r2 has its own separation and the global daily cap; r1 has the globals
    assert schedule.rules_for("r2").model_dump() == {
        "channel": "r2",
        "artist_separation": 90,
        "title_separation": None,
        "max_plays_per_hour": None,
        "max_plays_per_day": 4,
    }
    assert schedule.rules_for("r1").artist_separation == 30


def test_pool_items_expand_categories_in_library_order_once():
    # Given a pool naming an item and then its category
    data = document(
        CHANNELS
        + LIBRARY
        + '  <pools><pool id="p" order="weighted"><item ref="b"/><category ref="pop"/></pool></pools>\n'
    )
    # When its items are listed
    schedule = parsed(data)
    # Then b keeps its first place and a follows from the category; news is not in it
    assert [item.id for item in schedule.pool_items("p")] == ["b", "a"]


def test_blocks_may_end_at_midnight_and_touch_without_overlapping():
    # Given back-to-back blocks, the last ending at 24:00
    data = document(
        CHANNELS
        + LIBRARY
        + POOLS
        + """  <blocks>
    <block channel="r1" days="mon" start="00:00" end="12:00" pool="p"/>
    <block channel="r1" days="mon" start="12:00" end="24:00:00" pool="p"/>
    <block channel="r2" days="mon" start="06:00" end="18:00" pool="p"/>
  </blocks>
"""
    )
    # When it is parsed
    schedule = parsed(data)
    # Then all three blocks are kept
    assert len(schedule.blocks) == 3


# --- XSD findings ------------------------------------------------------------------------------------


def test_schema_errors_carry_line_and_element_path_with_attribute():
    # Given an item whose duration uses days (line 5) and one with weight 0 (line 6)
    data = document(
        """  <channels><channel id="r1" name="R"/></channels>
  <library>
    <item id="a" title="A" duration="P1D"/>
    <item id="b" title="B" duration="PT1M" weight="0"/>
  </library>
"""
    )
    # When it is parsed
    findings = rejected(data)
    # Then each schema error is a "notvalid" finding at its line, with the attribute in the path
    assert [(f["code"], f["line"], f["path"]) for f in findings] == [
        ("notvalid", 5, "/schedule/library/item[1]/@duration"),
        ("notvalid", 6, "/schedule/library/item[2]/@weight"),
    ]
    assert "P1D" in str(findings[0]["message"])
    assert "{urn:onair:schedule:1}" not in str(findings[0]["message"])


def test_schema_errors_have_no_column_because_libxml2_validates_a_tree():
    # Given a document with an element the schema does not know
    data = document(CHANNELS + LIBRARY + "  <playlist/>\n")
    # When it is parsed
    findings = rejected(data)
    # Then the finding points at the element's line and path; libxml2 gives no column (reported as None,
    # never as a misleading 0)
    assert [(f["code"], f["line"], f["column"], f["path"]) for f in findings] == [
        ("notvalid", 12, None, "/schedule/playlist")
    ]


def test_schema_reports_every_error_not_only_the_first():
    # Given three independent schema errors: a bad day, a bad start time, an unknown pool order
    data = document(
        CHANNELS
        + LIBRARY
        + """  <pools><pool id="p" order="loop"><item ref="a"/></pool></pools>
  <blocks><block channel="r1" days="mon fry" start="25:00" end="24:00" pool="p"/></blocks>
"""
    )
    # When it is parsed
    findings = rejected(data)
    # Then each one is reported, at its line
    paths = {(f["line"], f["path"]) for f in findings}
    assert (12, "/schedule/pools/pool[1]/@order") in paths
    assert (13, "/schedule/blocks/block[1]/@days") in paths
    assert (13, "/schedule/blocks/block[1]/@start") in paths


def test_missing_required_section_is_a_schema_error():
    # Given a schedule without a library
    data = document(CHANNELS)
    # When it is parsed
    findings = rejected(data)
    # Then the schema says what is missing
    assert findings[0]["code"] == "notvalid" and "library" in str(findings[0]["message"])


def test_wrong_namespace_is_reported_as_such():
    # Given a <schedule> in no namespace
    data = document(CHANNELS + LIBRARY, head='<schedule timezone="UTC">\n')
    # When it is parsed
    findings = rejected(data)
    # Then one "namespace" finding says which namespace is expected
    assert [(f["code"], f["line"], f["path"]) for f in findings] == [("namespace", 1, "/schedule")]


# --- semantic checks ---------------------------------------------------------------------------------


def codes_lines_paths(findings: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(f["code"], f["line"], f["path"]) for f in findings]


def test_unknown_timezone_is_reported_on_the_schedule_element():
    # Given a time zone that is not an IANA name
    data = document(
        CHANNELS + LIBRARY, head='<schedule xmlns="urn:onair:schedule:1" timezone="Mars/Olympus">\n'
    )
    # When it is parsed
    findings = rejected(data)
    # Then the finding names the attribute
    assert codes_lines_paths(findings) == [("timezone", 1, "/schedule/@timezone")]


def test_duplicate_ids_are_reported_per_kind():
    # Given a repeated channel id and a repeated item id; a pool sharing an item's id is fine
    data = document(
        """  <channels>
    <channel id="r1" name="One"/>
    <channel id="r1" name="Again"/>
  </channels>
  <library>
    <item id="a" title="A" duration="PT1M" category="pop"/>
    <item id="a" title="A2" duration="PT1M" category="pop"/>
  </library>
  <pools><pool id="a" order="random"><item ref="a"/></pool></pools>
"""
    )
    # When it is parsed
    findings = rejected(data)
    # Then each second declaration is reported at its own line
    assert codes_lines_paths(findings) == [
        ("duplicateid", 5, "/schedule/channels/channel[2]/@id"),
        ("duplicateid", 9, "/schedule/library/item[2]/@id"),
    ]
    assert "line 4" in str(findings[0]["message"])


def test_zero_duration_is_reported():
    # Given an item lasting PT0S (a valid xs:duration, but nothing to play)
    data = document(
        '  <channels><channel id="r1" name="R"/></channels>\n'
        '  <library><item id="a" title="A" duration="PT0S"/></library>\n'
    )
    # When it is parsed
    findings = rejected(data)
    # Then it is a bad duration
    assert codes_lines_paths(findings) == [("badduration", 4, "/schedule/library/item[1]/@duration")]


@pytest.mark.parametrize(
    "duration",
    ["PT0.0001S", "PT0.999S", "PT24H0.5S", "PT25H", "PT999999999H", "PT" + "9" * 18 + "S"],
    ids=["0.1ms", "under-1s", "over-24h", "25h", "999999999h", "18-digits"],
)
def test_durations_outside_one_second_to_a_day_are_reported(duration):
    # Given an item whose duration is a valid xs:duration, but shorter than 1 s or longer than 24 h
    data = document(
        '  <channels><channel id="r1" name="R"/></channels>\n'
        f'  <library><item id="a" title="A" duration="{duration}"/></library>\n'
    )
    # When it is parsed
    findings = rejected(data)
    # Then it is a bad duration, at the attribute, with the value quoted briefly
    assert codes_lines_paths(findings) == [("badduration", 4, "/schedule/library/item[1]/@duration")]
    assert "PT1S to PT24H" in str(findings[0]["message"]) and len(str(findings[0]["message"])) < 200


def test_a_schema_finding_quotes_a_huge_value_briefly():
    # Given a duration of 5,000 digits, which libxml2's xs:duration refuses
    data = document(
        '  <channels><channel id="r1" name="R"/></channels>\n'
        f'  <library><item id="a" title="A" duration="PT{"9" * 5000}S"/></library>\n'
    )
    # Then the finding names the attribute, and its message stays short
    [finding] = rejected(data)
    assert (finding["code"], finding["path"]) == ("notvalid", "/schedule/library/item[1]/@duration")
    assert len(str(finding["message"])) <= 300


def test_durations_of_exactly_one_second_and_one_day_are_accepted():
    data = document(
        '  <channels><channel id="r1" name="R"/></channels>\n'
        '  <library><item id="a" title="A" duration="PT1S"/><item id="b" title="B" duration="PT24H"/>'
        "</library>\n"
    )
    assert [item.duration for item in parsed(data).items] == [1, 86400]


@pytest.mark.parametrize("weight", ["1" * 400, "1000000.5", "0.0000001"], ids=["400-digits", "huge", "tiny"])
def test_weights_out_of_range_are_reported_not_stored_as_infinity(weight):
    # Given a weight the XSD accepts (a decimal > 0) that is not finite as a float, or out of range
    data = document(
        '  <channels><channel id="r1" name="R"/></channels>\n'
        f'  <library><item id="a" title="A" duration="PT1M" weight="{weight}"/></library>\n'
    )
    # When it is parsed, then it is a bad weight at the attribute
    findings = rejected(data)
    assert codes_lines_paths(findings) == [("badweight", 4, "/schedule/library/item[1]/@weight")]


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("artist-separation", "9" * 5000),  # past Python's 4,300-digit int() limit: was a 500
        ("title-separation", str(366 * 24 * 60 + 1)),
        ("max-plays-per-hour", "3601"),
        ("max-plays-per-day", "9" * 20),
    ],
    ids=["5000-digits", "past-366-days", "past-3600-an-hour", "20-digits"],
)
def test_rule_values_out_of_range_are_reported_whatever_their_digit_count(attribute, value):
    data = document(
        '  <channels><channel id="r1" name="R"/></channels>\n'
        '  <library><item id="a" title="A" duration="PT1M"/></library>\n'
        f'  <rules><rule {attribute}="{value}"/></rules>\n'
    )
    findings = rejected(data)
    assert codes_lines_paths(findings) == [("badrule", 5, f"/schedule/rules/rule[1]/@{attribute}")]
    assert len(str(findings[0]["message"])) < 200


def test_rule_values_at_their_limits_and_with_leading_zeros_are_accepted():
    data = document(
        '  <channels><channel id="r1" name="R"/></channels>\n'
        '  <library><item id="a" title="A" duration="PT1M"/></library>\n'
        f'  <rules><rule artist-separation="{"0" * 5000}45" title-separation="527040" '
        'max-plays-per-hour="+3600" max-plays-per-day="90000"/></rules>\n'
    )
    rules = parsed(data).rules_for("r1")
    assert (rules.artist_separation, rules.title_separation) == (45, 527040)
    assert (rules.max_plays_per_hour, rules.max_plays_per_day) == (3600, 90000)


def test_item_with_artist_and_series_is_a_conflict():
    # Given an item that claims both an artist and a series
    data = document(
        '  <channels><channel id="r1" name="R"/></channels>\n'
        '  <library><item id="a" title="A" artist="X" series="Y" duration="PT1M"/></library>\n'
    )
    # When it is parsed
    findings = rejected(data)
    # Then it is reported on the series attribute
    assert codes_lines_paths(findings) == [("conflict", 4, "/schedule/library/item[1]/@series")]


def test_every_unresolved_reference_is_reported():
    # Given references to things that do not exist, from every kind of element that refers
    data = document(
        CHANNELS
        + LIBRARY
        + """  <pools>
    <pool id="p" order="shuffle"><item ref="ghost"/><category ref="jazz"/></pool>
  </pools>
  <rules><rule channel="r9" artist-separation="10"/></rules>
  <blocks><block channel="r3" days="mon" start="06:00" end="10:00" pool="nopool" filler="nofiller"/></blocks>
  <events><event channel="r4" days="mon" time="07:00" item="noitem"/></events>
"""
    )
    # When it is parsed
    findings = rejected(data)
    # Then every one is an "unresolved" finding on the attribute that refers
    assert codes_lines_paths(findings) == [
        ("unresolved", 13, "/schedule/pools/pool[1]/item[1]/@ref"),
        ("unresolved", 13, "/schedule/pools/pool[1]/category[1]/@ref"),
        ("unresolved", 15, "/schedule/rules/rule[1]/@channel"),
        ("unresolved", 16, "/schedule/blocks/block[1]/@channel"),
        ("unresolved", 16, "/schedule/blocks/block[1]/@pool"),
        ("unresolved", 16, "/schedule/blocks/block[1]/@filler"),
        ("unresolved", 17, "/schedule/events/event[1]/@channel"),
        ("unresolved", 17, "/schedule/events/event[1]/@item"),
    ]


def test_reference_to_an_item_with_a_bad_duration_is_not_also_unresolved():
    # Given a pool that names an item whose duration is wrong
    data = document(
        '  <channels><channel id="r1" name="R"/></channels>\n'
        '  <library><item id="a" title="A" duration="PT0S"/></library>\n'
        '  <pools><pool id="p" order="random"><item ref="a"/></pool></pools>\n'
        '  <blocks><block channel="r1" days="mon" start="00:00" end="24:00" pool="p"/></blocks>\n'
    )
    # When it is parsed
    findings = rejected(data)
    # Then only the duration is reported: the item is declared, just broken
    assert [f["code"] for f in findings] == ["badduration"]


def test_overlapping_blocks_of_a_channel_are_reported_once_per_pair_with_their_days():
    # Given r1 blocks 06-10 (weekdays) and 09-12 (mon, sat), and r2 09-12 on mon (another channel)
    data = document(
        CHANNELS
        + LIBRARY
        + POOLS
        + """  <blocks>
    <block channel="r1" days="mon tue wed thu fri" start="06:00" end="10:00" pool="p"/>
    <block channel="r1" days="sat mon" start="09:00" end="12:00" pool="p"/>
    <block channel="r2" days="mon" start="09:00" end="12:00" pool="p"/>
  </blocks>
"""
    )
    # When it is parsed
    findings = rejected(data)
    # Then one overlap, on the later block, naming the earlier one and only the shared day
    assert codes_lines_paths(findings) == [("overlap", 17, "/schedule/blocks/block[2]")]
    assert "/schedule/blocks/block[1] (line 16) on mon" in str(findings[0]["message"])
    assert "sat" not in str(findings[0]["message"])


def test_a_block_inside_another_and_a_third_overlapping_the_first_are_both_found():
    # Given 00-24, then 06-08 inside it, then 20-22 also inside it (the sweep keeps the furthest reach)
    data = document(
        CHANNELS
        + LIBRARY
        + POOLS
        + """  <blocks>
    <block channel="r1" days="tue" start="00:00" end="24:00" pool="p"/>
    <block channel="r1" days="tue" start="06:00" end="08:00" pool="p"/>
    <block channel="r1" days="tue" start="20:00" end="22:00" pool="p"/>
  </blocks>
"""
    )
    # When it is parsed
    findings = rejected(data)
    # Then both inner blocks are reported against the full-day block
    assert codes_lines_paths(findings) == [
        ("overlap", 17, "/schedule/blocks/block[2]"),
        ("overlap", 18, "/schedule/blocks/block[3]"),
    ]


def test_blocks_do_not_cross_midnight():
    # Given a late-night block 22:00-02:00 and a block starting at 24:00
    data = document(
        CHANNELS
        + LIBRARY
        + POOLS
        + """  <blocks>
    <block channel="r1" days="fri" start="22:00" end="02:00" pool="p"/>
    <block channel="r2" days="fri" start="24:00" end="24:00" pool="p"/>
  </blocks>
"""
    )
    # When it is parsed
    findings = rejected(data)
    # Then both are bad times; the first message says how to write a night show
    assert codes_lines_paths(findings) == [
        ("badtime", 16, "/schedule/blocks/block[1]/@end"),
        ("badtime", 17, "/schedule/blocks/block[2]/@start"),
    ]
    assert "split it in two" in str(findings[0]["message"])


def test_fixed_event_at_24_00_is_outside_the_day():
    # Given an event at 24:00 (the schema's time type allows it, for block ends)
    data = document(
        CHANNELS + LIBRARY + '  <events><event channel="r1" days="mon" time="24:00" item="news"/></events>\n'
    )
    # When it is parsed
    findings = rejected(data)
    # Then it is outside the day
    assert codes_lines_paths(findings) == [("outsideday", 12, "/schedule/events/event[1]/@time")]


def test_fixed_events_that_overlap_by_duration_are_reported():
    # Given news (5 min) at 12:00 and again at 12:03 on the same channel and day; 12:05 is fine
    data = document(
        CHANNELS
        + LIBRARY
        + """  <events>
    <event channel="r1" days="mon" time="12:00" item="news"/>
    <event channel="r1" days="mon" time="12:03" item="news"/>
    <event channel="r1" days="tue" time="12:00" item="news"/>
    <event channel="r1" days="tue" time="12:05" item="news"/>
  </events>
"""
    )
    # When it is parsed
    findings = rejected(data)
    # Then the overlapping pair is reported on the later event
    assert codes_lines_paths(findings) == [("overlap", 14, "/schedule/events/event[2]")]


def test_two_rules_for_the_same_scope_are_reported():
    # Given two global rules and two for r1
    data = document(
        CHANNELS
        + LIBRARY
        + """  <rules>
    <rule artist-separation="10"/>
    <rule title-separation="10"/>
    <rule channel="r1" max-plays-per-hour="2"/>
    <rule channel="r1" max-plays-per-day="2"/>
  </rules>
"""
    )
    # When it is parsed
    findings = rejected(data)
    # Then both second rules are reported
    assert codes_lines_paths(findings) == [
        ("duplicaterule", 14, "/schedule/rules/rule[2]"),
        ("duplicaterule", 16, "/schedule/rules/rule[4]/@channel"),
    ]


def test_all_findings_are_collected_not_only_the_first():
    # Given a bad time zone, a duplicate item, an unresolved pool and an overlap in one document
    data = document(
        CHANNELS
        + """  <library>
    <item id="a" title="A" duration="PT1M" category="pop"/>
    <item id="a" title="A" duration="PT1M" category="pop"/>
  </library>
"""
        + POOLS
        + """  <blocks>
    <block channel="r1" days="mon" start="00:00" end="12:00" pool="p"/>
    <block channel="r1" days="mon" start="11:00" end="13:00" pool="missing"/>
  </blocks>
""",
        head='<schedule xmlns="urn:onair:schedule:1" timezone="Nowhere/Town">\n',
    )
    # When it is parsed
    findings = rejected(data)
    # Then each problem is reported
    assert [f["code"] for f in findings] == ["timezone", "duplicateid", "unresolved", "overlap"]


# --- lenient and strict ------------------------------------------------------------------------------

UNUSED = document(
    CHANNELS
    + LIBRARY
    + """  <pools>
    <pool id="p" order="shuffle"><category ref="pop"/></pool>
    <pool id="spare" order="random"><item ref="a"/></pool>
  </pools>
  <blocks><block channel="r1" days="mon" start="00:00" end="24:00" pool="p"/></blocks>
"""
)


def test_unused_items_pools_and_channels_without_blocks_are_warnings_in_lenient_mode():
    # Given an item in no pool or event (news), a pool no block plays (spare), a channel with no block (r2)
    # When it is parsed leniently
    result = parse_schedule(UNUSED, max_bytes=LIMIT)
    # Then it imports, with one warning each
    assert codes_lines_paths([w.to_dict() for w in result.warnings]) == [
        ("unuseditem", 10, "/schedule/library/item[3]"),
        ("unusedpool", 14, "/schedule/pools/pool[2]"),
        ("noblocks", 5, "/schedule/channels/channel[2]"),
    ]


def test_strict_mode_turns_warnings_into_errors():
    # Given the same document
    # When it is parsed strictly
    findings = rejected(UNUSED, strict=True)
    # Then the warnings are the errors
    assert [f["code"] for f in findings] == ["unuseditem", "unusedpool", "noblocks"]


def test_strict_mode_message_says_warnings_count_as_errors():
    with pytest.raises(InvalidSchedule, match="strict mode"):
        parse_schedule(UNUSED, max_bytes=LIMIT, strict=True)


def test_stored_schedule_round_trips_through_json():
    # Given the radio sample's model
    schedule = parsed((ROOT / "samples/radio-rotation.xml").read_bytes())
    # When it is dumped to JSON and read back (as schedule.json is)
    again = OnAirSchedule.model_validate_json(schedule.model_dump_json())
    # Then nothing is lost
    assert again == schedule


def test_schedule_json_stored_before_pools_existed_still_loads():
    # Given a schedule.json with only timezone, channels and items
    stored = '{"format": "onair", "timezone": "UTC", "channels": [{"id": "c", "name": "C"}], "items": []}'
    # When it is loaded
    schedule = OnAirSchedule.model_validate_json(stored)
    # Then the new sections are empty
    assert (schedule.pools, schedule.blocks) == ([], [])


def test_a_schedule_with_more_elements_than_the_limit_is_refused_while_streaming(monkeypatch):
    # Given a limit of 10 elements and a document with more (schedule, channels, 2 channels, library, ...)
    monkeypatch.setattr("onair.readers.onair.MAX_ELEMENTS", 10)
    items = "".join(f'    <item id="i{n}" title="T" duration="PT1M"/>\n' for n in range(10))
    data = document(CHANNELS + "  <library>\n" + items + "  </library>\n")
    # When it is parsed
    with pytest.raises(TooLarge) as caught:
        parse_schedule(data, max_bytes=LIMIT)
    # Then it is refused as too large (413), at the line of the 11th element read (in end-tag order)
    assert caught.value.status == 413
    assert [(f.code, f.line) for f in caught.value.details] == [("toomany", 15)]


def test_a_schedule_at_the_element_limit_is_read(monkeypatch):
    # Given a limit equal to the minimal document's 6 elements
    monkeypatch.setattr("onair.readers.onair.MAX_ELEMENTS", 6)
    # When the minimal document is parsed
    # Then it is read
    assert parsed(SAMPLE_ONAIR).counts() == {"channels": 1, "items": 2}


# --- attributes for players (docs/FORMATS.md, "What the readers use") ---------------------------------


def player_document(channel_attributes: str = "", item_attributes: str = "") -> bytes:
    return document(
        f"""  <channels>
    <channel id="r1" name="Radio One" {channel_attributes}/>
  </channels>
  <library>
    <item id="a" title="Song A" duration="PT3M" {item_attributes}/>
  </library>
"""
    )


def test_the_iptv_sample_reads_every_player_attribute_into_the_model():
    # Given the IPTV sample, which uses every channel and item attribute for players
    schedule = parsed((ROOT / "samples/iptv-lineup.xml").read_bytes(), strict=True)
    # Then the channels carry number, logo, group and a stream or a slate
    retro, cinema = schedule.channels
    assert (retro.number, retro.group, retro.stream, retro.slate) == (
        "7",
        "Entertainment",
        "https://live.example.com/retro/index.m3u8",
        None,
    )
    assert retro.logo == "https://media.example.com/logos/retro.png"
    assert (cinema.number, cinema.stream, cinema.slate) == (
        "7.1",
        None,
        "https://media.example.com/slates/cinema/index.m3u8",
    )
    # And the items their description, season and episode (numbers), image, rating and kind
    episode = schedule.item("hh-s01e02")
    assert (episode.season, episode.episode, episode.kind, episode.rating) == (1, 2, "episode", "TV-PG")
    assert episode.description == "The ferry is late, and so is the truth."
    assert episode.image == "https://media.example.com/hh/s01e02.jpg"
    assert {item.kind for item in schedule.items} == {
        "episode", "news", "sports", "kids", "movie", "music", "documentary", None
    }  # fmt: skip


def test_a_schedule_json_stored_before_player_attributes_still_loads():
    stored = (
        '{"format": "onair", "timezone": "UTC", "channels": [{"id": "c", "name": "C"}], '
        '"items": [{"id": "a", "title": "A", "duration": 60}]}'
    )
    schedule = OnAirSchedule.model_validate_json(stored)
    assert (schedule.channels[0].stream, schedule.items[0].kind, schedule.items[0].season) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("attribute", "value", "says"),
    [
        ("stream", "playlist.m3u8#r1", "is relative"),
        ("stream", "/live/r1.m3u8", "is relative"),
        ("stream", "ftp://media.example/r1.ts", "scheme 'ftp'"),
        ("stream", "s3://bucket/r1.m3u8", "scheme 's3'"),
        ("stream", "https://live.example/r1.m3u8#low", "fragment"),
        ("stream", "https:///r1.m3u8", "no host"),
        ("stream", "http://live.example:port/r1", "not a URL"),
        ("logo", "rtsp://cam.example/logo.png", "scheme 'rtsp'"),
        ("logo", 'https://img.example/a"b.png', "quote"),
        ("slate", "udp://@239.0.0.1:1234", "scheme 'udp'"),
        ("slate", "slate/index.m3u8", "is relative"),
    ],
)
def test_a_channel_url_a_player_cannot_open_is_badurl(attribute, value, says):
    # Given a channel whose stream, logo or slate is not an absolute URL with a scheme players open
    findings = rejected(player_document(f'{attribute}="{value.replace(chr(34), "&quot;")}"'))
    # Then the import is refused with a badurl finding on that attribute, saying what is wrong
    assert [(f["code"], f["path"], f["line"]) for f in findings] == [
        ("badurl", f"/schedule/channels/channel[1]/@{attribute}", 4)
    ]
    assert says in str(findings[0]["message"])


@pytest.mark.parametrize(
    "stream",
    [
        "http://live.example/r1.ts",
        "HTTPS://LIVE.EXAMPLE/r1.m3u8",
        "rtsp://cam.example:554/1",
        "rtp://239.0.0.1:5004",
        "udp://@239.0.0.1:1234",
    ],
)
def test_a_stream_over_http_https_rtsp_rtp_or_udp_is_accepted(stream):
    assert parsed(player_document(f'stream="{stream}"')).channels[0].stream == stream


def test_an_item_image_must_be_an_absolute_http_url():
    findings = rejected(player_document(item_attributes='image="images/a.jpg"'))
    assert [(f["code"], f["path"]) for f in findings] == [("badurl", "/schedule/library/item[1]/@image")]


SPACES = "\u00a0\u2003"  # no-break and em spaces: the schema's \\S sees only ASCII spaces


@pytest.mark.parametrize(
    "body",
    [
        f'<channels><channel id="r1" name="{SPACES}"/></channels><library/>',
        f'<channels><channel id="r1" name="R" group="{SPACES}"/></channels><library/>',
        f'<channels><channel id="r1" name="R"/></channels><library><item id="a" title="{SPACES}" duration="PT1M"/></library>',
        f'<channels><channel id="r1" name="R"/></channels><library><item id="a" title="A" description="{SPACES}" duration="PT1M"/></library>',
        f'<channels><channel id="r1" name="R"/></channels><library><item id="a" title="A" rating="{SPACES}" duration="PT1M"/></library>',
    ],
    ids=["name", "group", "title", "description", "rating"],
)
def test_a_text_of_only_unicode_spaces_is_blank(body):
    # Given a text of Unicode spaces only, which XMLTV's tv_validate_file would call an empty title or
    # description in the guide, and players show as nothing
    findings = rejected(document(body + "\n"))
    # Then it is refused as blank, on its attribute
    assert [f["code"] for f in findings] == ["blank"]
    assert "has no visible character" in str(findings[0]["message"])


@pytest.mark.parametrize("number", ["0", "07", "7.", "seven", "1234567", "-1"])
def test_a_channel_number_is_a_positive_number_with_an_optional_sub_number(number):
    findings = rejected(player_document(f'number="{number}"'))
    assert [(f["code"], f["path"]) for f in findings] == [
        ("notvalid", "/schedule/channels/channel[1]/@number")
    ]


@pytest.mark.parametrize(
    ("attribute", "value"), [("season", "0"), ("episode", "100000"), ("episode", "+1"), ("kind", "film")]
)
def test_seasons_and_episodes_count_from_one_and_kinds_are_from_the_list(attribute, value):
    findings = rejected(player_document(item_attributes=f'{attribute}="{value}"'))
    assert [(f["code"], f["path"]) for f in findings] == [
        ("notvalid", f"/schedule/library/item[1]/@{attribute}")
    ]


def test_two_channels_with_one_number_are_a_warning():
    data = document(
        """  <channels>
    <channel id="r1" name="One" number="7"/>
    <channel id="r2" name="Two" number="7"/>
  </channels>
  <library><item id="a" title="A" duration="PT1M"/></library>
"""
    )
    warnings = parse_schedule(data, max_bytes=LIMIT).warnings
    assert [(w.code, w.line, w.path) for w in warnings] == [
        ("duplicatenumber", 5, "/schedule/channels/channel[2]/@number")
    ]
    assert [f["code"] for f in rejected(data, strict=True)] == ["duplicatenumber"]


def test_two_channels_published_under_one_guide_id_are_refused(monkeypatch):
    # Given a guide id function that gives two ids the same guide id (only a hash collision could, which no
    # test can make happen: the function is replaced for this one)
    monkeypatch.setattr("onair.models.guide_id", lambda channel_id: "same.onair")
    findings = rejected(document(CHANNELS + LIBRARY))
    # Then the later channel is refused with guideid, naming the line of the first
    assert [(f["code"], f["line"], f["path"]) for f in findings] == [
        ("guideid", 5, "/schedule/channels/channel[2]/@id")
    ]
    assert "line 4" in str(findings[0]["message"])
