"""schedule.json written in pieces is the same JSON as one model_dump_json, and reads back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from onair import models
from onair.models import StoredSchedule, stored_json_chunks
from onair.readers.schedule import parse_schedule
from tests.conftest import SAMPLE_ONAIR, SAMPLE_XMLTV


@pytest.mark.parametrize("document", [SAMPLE_XMLTV, SAMPLE_ONAIR], ids=["xmltv", "onair"])
def test_chunks_join_into_the_model_dump(monkeypatch, document):
    # Given chunks of two programmes, so the three of the sample span two chunks
    monkeypatch.setattr(models, "PROGRAMMES_PER_CHUNK", 2)
    parsed = parse_schedule(document, max_bytes=10**6)
    stored = StoredSchedule(id="s", created_at=datetime(2026, 12, 1, tzinfo=UTC), schedule=parsed.schedule)
    # When it is written in pieces
    chunks = list(stored_json_chunks(stored))
    # Then the pieces are the one-piece JSON, which reads back as the same model
    assert b"".join(chunks) == stored.model_dump_json().encode()
    assert StoredSchedule.model_validate_json(b"".join(chunks)) == stored
    if document is SAMPLE_XMLTV:
        assert len(chunks) == 4  # head, two chunks of programmes, closing


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
    loaded = StoredSchedule.model_validate_json(json.dumps(document))
    # Then the programmes are the parts of their clump, as if imported today (but for the guide's form)
    without_guide_form = {"schedule": {"programmes": {"__all__": {"guide_form"}}}}
    assert loaded.model_dump(exclude=without_guide_form) == stored.model_dump(exclude=without_guide_form)
    assert [p.clump for p in loaded.schedule.programmes] == [(0, 2), (1, 2), None]
