"""schedule.json written in pieces is the same JSON as one model_dump_json, and reads back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from onair import models
from onair.models import StoredSchedule, XmltvListing, load_stored, stored_json_chunks
from onair.readers.schedule import parse_schedule
from tests.conftest import SAMPLE_ONAIR, SAMPLE_XMLTV


def stored_in_pieces(monkeypatch, document: bytes) -> tuple[StoredSchedule, list[bytes]]:
    # Chunks of two programmes, so the three of the sample span two chunks
    monkeypatch.setattr(models, "PROGRAMMES_PER_CHUNK", 2)
    parsed = parse_schedule(document, max_bytes=10**6)
    stored = StoredSchedule(id="s", created_at=datetime(2026, 12, 1, tzinfo=UTC), schedule=parsed.schedule)
    return stored, list(stored_json_chunks(stored))


@pytest.mark.parametrize("document", [SAMPLE_XMLTV, SAMPLE_ONAIR], ids=["xmltv", "onair"])
def test_chunks_join_into_the_model_dump_and_load_back(monkeypatch, document):
    # When a schedule is written in pieces
    stored, chunks = stored_in_pieces(monkeypatch, document)
    data = b"".join(chunks)
    # Then they are the one-piece JSON (a listing's programmes on lines of their own), which loads back as
    # the same model, whole or a line at a time
    assert json.loads(data) == json.loads(stored.model_dump_json())
    assert StoredSchedule.model_validate_json(data) == stored
    assert load_stored(data.split(b"\n")) == stored
    if document is SAMPLE_XMLTV:
        assert len(chunks) == 4  # head, two chunks of programmes, closing
        assert [line[-1:] for line in data.split(b"\n")] == [b"[", b",", b"}", b"}"]
    else:
        assert b"\n" not in data


def test_programmes_loaded_a_line_at_a_time_share_their_fields_set_but_copy_it_to_change_it(monkeypatch):
    _, chunks = stored_in_pieces(monkeypatch, SAMPLE_XMLTV)
    data = b"".join(chunks)
    programmes = load_stored(data.split(b"\n")).schedule.programmes
    assert len({id(p.model_fields_set) for p in programmes}) == 1
    whole = StoredSchedule.model_validate_json(data).schedule.programmes
    assert [p.model_fields_set for p in programmes] == [p.model_fields_set for p in whole]
    # model_copy(update=...) adds to a copy: the other programmes keep theirs
    changed = programmes[0].model_copy(update={"clump": (0, 2)})
    assert "clump" in changed.model_fields_set
    assert all("clump" not in p.model_fields_set for p in programmes)


@pytest.mark.parametrize("document", [SAMPLE_XMLTV, SAMPLE_ONAIR], ids=["xmltv", "onair"])
@pytest.mark.parametrize("on_lines", [True, False], ids=["on lines", "on one line"])
def test_a_run_takes_a_listings_programmes_as_they_load_and_gets_the_rest_without_them(
    monkeypatch, document, on_lines
):
    # Given a schedule.json, a listing's programmes on lines of their own or not
    stored, chunks = stored_in_pieces(monkeypatch, document)
    lines = b"".join(chunks).split(b"\n") if on_lines else [stored.model_dump_json().encode()]
    # When it is loaded with a taker of programmes
    taken: list[object] = []
    loaded = load_stored(lines, take=taken.extend)
    # Then a listing's programmes all went to it, in order, and the rest loaded as before
    schedule = stored.schedule
    if isinstance(schedule, XmltvListing):
        assert taken == schedule.programmes and len(taken) == 3
        assert loaded == stored.model_copy(
            update={"schedule": schedule.model_copy(update={"programmes": []})}
        )
    else:
        assert taken == [] and loaded == stored


def test_a_schedule_json_stored_on_one_line_loads_whole(monkeypatch):
    # Given a large listing's schedule.json as written before its programmes had lines of their own
    stored, _ = stored_in_pieces(monkeypatch, SAMPLE_XMLTV)
    # When a run loads it, Then it is the same model
    assert load_stored([stored.model_dump_json().encode()]) == stored


@pytest.mark.parametrize(
    ("cut", "message"),
    [(lambda lines: lines[:-1], "ends before its programmes do"), (lambda lines: [*lines, b"{}"], "goes on")],
    ids=["cut short", "trailing line"],
)
def test_a_schedule_json_whose_lines_do_not_end_as_written_is_refused(monkeypatch, cut, message):
    _, chunks = stored_in_pieces(monkeypatch, SAMPLE_XMLTV)
    with pytest.raises(ValueError, match=message):
        load_stored(cut(b"".join(chunks).split(b"\n")))


def test_an_import_past_a_chunk_writes_its_programmes_as_it_reads_them_into_the_same_schedule_json(
    monkeypatch,
):
    # Given the programmes the whole sample makes when none is spooled (a chunk holds them all)
    whole = parse_schedule(SAMPLE_XMLTV, max_bytes=10**6)
    assert whole.spool is None and len(whole.head.programmes) == 3
    # When the import's chunks hold two programmes, so the sample's three spill into the spool
    monkeypatch.setattr(models, "PROGRAMMES_PER_CHUNK", 2)
    spooled = parse_schedule(SAMPLE_XMLTV, max_bytes=10**6)
    # Then the listing it holds has none of them, and schedule.json is the one whole import's, in lines
    assert spooled.spool is not None and spooled.head.programmes == []
    assert spooled.counts() == whole.counts() == {"channels": 2, "programmes": 3}
    at = datetime(2026, 12, 1, tzinfo=UTC)
    data = b"".join(spooled.stored_json("s", at))
    assert json.loads(data) == json.loads(b"".join(whole.stored_json("s", at)))
    assert [line[-1:] for line in data.split(b"\n")] == [b"[", b",", b"}", b"}"]
    assert load_stored(data.split(b"\n")) == load_stored(b"".join(whole.stored_json("s", at)).split(b"\n"))
    # and the spool can be read more than once (the whole schedule, then schedule.json again)
    assert spooled.schedule == whole.schedule
    assert b"".join(spooled.stored_json("s", at)) == data


def test_a_listing_of_one_chunk_is_held_and_stored_on_one_line(monkeypatch):
    monkeypatch.setattr(models, "PROGRAMMES_PER_CHUNK", 3)
    parsed = parse_schedule(SAMPLE_XMLTV, max_bytes=10**6)
    assert parsed.spool is None and len(parsed.head.programmes) == 3
    assert b"\n" not in b"".join(parsed.stored_json("s", datetime(2026, 12, 1, tzinfo=UTC)))


CLUMPED = b"""<tv>
  <channel id="one.example"><display-name>One</display-name></channel>
  <programme start="20261201180000 +0000" stop="20261201190000 +0000" channel="one.example" clumpidx="0/2"><title>News</title></programme>
  <programme start="20261201180000 +0000" stop="20261201190000 +0000" channel="one.example" clumpidx="1/2"><title>Weather</title></programme>
  <programme start="20261201190000 +0000" stop="20261201200000 +0000" channel="one.example"><title>Film</title></programme>
</tv>
"""


def stored_listing(document: bytes) -> StoredSchedule:
    parsed = parse_schedule(document, max_bytes=10**6)
    return StoredSchedule(id="s", created_at=datetime(2026, 12, 1, tzinfo=UTC), schedule=parsed.schedule)


def test_schedule_json_holds_a_clump_only_for_the_programmes_that_are_parts_of_one():
    document = json.loads(stored_listing(CLUMPED).model_dump_json())
    assert [p.get("clump") for p in document["schedule"]["programmes"]] == [[0, 2], [1, 2], None]
    assert ["clump" in p for p in document["schedule"]["programmes"]] == [True, True, False]
    assert b"clump" not in stored_listing(SAMPLE_XMLTV).model_dump_json().encode()  # as small as it was


def test_a_schedule_json_stored_before_programmes_had_a_clump_reads_it_from_their_xml():
    # Given a schedule.json as written before: no "clump" field (nor "guide_form", which came later),
    # clumpidx only in the stored elements
    stored = stored_listing(CLUMPED)
    document = json.loads(stored.model_dump_json())
    for programme in document["schedule"]["programmes"]:
        programme.pop("clump", None)
        programme.pop("guide_form", None)
    # When a run loads it
    loaded = load_stored([json.dumps(document).encode()])
    # Then the programmes are the parts of their clump, as if imported today (but for the guide's form)
    without_guide_form = {"schedule": {"programmes": {"__all__": {"guide_form"}}}}
    assert loaded.model_dump(exclude=without_guide_form) == stored.model_dump(exclude=without_guide_form)
    assert [p.clump for p in loaded.schedule.programmes] == [(0, 2), (1, 2), None]
