"""schedule.json written in pieces is the same JSON as one model_dump_json, and reads back."""

from __future__ import annotations

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
