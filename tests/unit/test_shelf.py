"""The run's programme shelf: each element's text back from its place, the lean programme from the model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onair.models import XmltvProgramme
from onair.playout.shelf import ProgrammeShelf, ShelvedProgramme

START = datetime(2026, 12, 1, tzinfo=UTC)


def programme(index: int, xml: str) -> XmltvProgramme:
    return XmltvProgramme(
        channel="one.example",
        start=START + timedelta(hours=index),
        stop=START + timedelta(hours=index + 1) if index else None,
        title=f"Title {index}",
        xml=xml,
        clump=(0, 2) if index == 1 else None,
        guide_form=index == 2,
    )


def test_a_shelf_gives_back_every_element_from_its_place_and_keeps_the_fields_the_engine_reads():
    # Given elements of every size, non-ASCII (stored before the importer wrote references) among them,
    # shelved in chunks
    texts = ['<programme a="1"/>', "<programme>Ärzte &amp; Köche \u2603</programme>", "x" * 70_000, "<p/>"]
    models = [programme(index, text) for index, text in enumerate(texts)]
    with ProgrammeShelf() as shelf:
        shelf.add(models[:3])
        shelf.add([])
        shelf.add(models[3:])
        # Then each programme's place reads back its text, in any order, and the rest is the model's
        assert [shelf.xml(p.xml) for p in reversed(shelf.programmes)] == texts[::-1]
        assert shelf.programmes[1] == ShelvedProgramme(
            "one.example", models[1].start, models[1].stop, "Title 1", (0, 2), False, shelf.programmes[1].xml
        )
        assert [p.guide_form for p in shelf.programmes] == [False, False, True, False]
        assert shelf.programmes[0].stop is None
