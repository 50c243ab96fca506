"""Every XMLTV corpus file in ../shared: the lenient and strict outcome, counts worked out from the files.

Counts are per finding code. How they were read from the files (half-open intervals; a missing stop ends at
the channel's next later start; the last programme without one runs at least a second):
- dups.xml: 7 programmes, 2 exact copies dropped (A at 11:31:00, t on channel c); B without stop and B with
  stop differ in stop, so both stay and overlap (1).
- whitespace.xml: 5 copies of one programme once titles are stripped: 1 kept, 4 duplicates.
- clump_extract_1.xml: the two "news" are parts 1/3 and 2/3 of one clump, not copies: 3 kept, no overlap.
- overlap.xml: channel 1 has A, C at 11:31:00 and B, D, E, F at 11:31:01 (3 + 1 overlaps), channel 2 G/H and
  channel 5 J/K (1 each); channel a's zero-length programmes overlap nothing: 6.
- sort1.xml: F, A, D, E all start at 00:00 (3 overlaps), B and C at 03:00 (1): 4.
- test_remove_some_overlapping.xml: containers A, B, C overlap their 3, 2, 2 parts (7) plus Overlap 0/1: 8.
- example.xml: five programmes all start 18:00 on channel_one: the 4 after the first one overlap it.
- x-whatever.xml: x-foo, x-extra, x-random, x-fig-roll inside desc, x-attr, x-whatever: 6 notvalid.
- amp.xml: `&amp;amp;` in the desc is text "&amp;" after parsing: 1 badentity.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from lxml import etree

from onair.errors import DocumentRejected
from onair.models import XmltvListing
from onair.readers.schedule import parse_schedule
from tests.conftest import shared_path


@dataclass(frozen=True)
class Imported:
    channels: int
    programmes: int
    warnings: dict[str, int]


@dataclass(frozen=True)
class Rejected:
    code: str  # the error's code
    findings: dict[str, int]  # its details per finding code


def rejected_strictly(imported: Imported) -> Rejected:
    """Strict mode: the same findings, each an error."""
    return Rejected("invalid_schedule", imported.warnings)


# file -> lenient outcome; strict is the same findings as errors unless stated in STRICT below.
LENIENT: dict[str, Imported | Rejected] = {
    "ektotv/broken.xml": Rejected("not_well_formed", {"notwell": 1}),
    "ektotv/channel-only.xml": Imported(1, 0, {"invalidid": 1, "noprogrammes": 1}),
    "ektotv/comments.xml": Imported(1, 1, {"invalidid": 1}),
    "ektotv/example.xml": Imported(
        2, 5, {"channelnoprogramme": 1, "invalidid": 2, "nostop": 1, "overlap": 4}
    ),
    "ektotv/invalid.xml": Imported(1, 1, {"invalidid": 1, "notimezone": 2, "notvalid": 1}),
    "xmltv-t-data/amp.xml": Imported(2, 2, {"badentity": 1, "nostop": 1, "unknownid": 2}),
    "xmltv-t-data/attrs.xml": Imported(1, 1, {"unknownid": 1}),
    "xmltv-t-data/clump.xml": Imported(1, 2, {"notimezone": 4, "unknownid": 1}),
    "xmltv-t-data/clump_extract.xml": Imported(1, 2, {"unknownid": 1}),
    "xmltv-t-data/clump_extract_1.xml": Imported(1, 3, {"notimezone": 6, "unknownid": 1}),
    "xmltv-t-data/dups.xml": Imported(
        2, 5, {"duplicate": 2, "nostop": 6, "notimezone": 6, "overlap": 1, "unknownid": 2}
    ),
    "xmltv-t-data/empty.xml": Imported(0, 0, {"noprogrammes": 1}),
    "xmltv-t-data/intervals.xml": Imported(
        1, 6, {"nostop": 1, "notimezone": 11, "overlap": 4, "unknownid": 1, "zerolength": 1}
    ),
    "xmltv-t-data/length.xml": Imported(1, 1, {"unknownid": 1}),
    "xmltv-t-data/overlap.xml": Imported(
        5, 14, {"nostop": 6, "notimezone": 22, "overlap": 6, "unknownid": 5, "zerolength": 2}
    ),
    "xmltv-t-data/simple.xml": Imported(2, 2, {"nostop": 2, "unknownid": 2}),
    "xmltv-t-data/sort.xml": Imported(3, 4, {"nostop": 2, "notimezone": 3, "unknownid": 3}),
    "xmltv-t-data/sort1.xml": Imported(1, 6, {"nostop": 4, "notimezone": 8, "overlap": 4, "unknownid": 1}),
    "xmltv-t-data/sort2.xml": Imported(1, 3, {"nostop": 2, "notimezone": 4, "overlap": 2, "unknownid": 1}),
    "xmltv-t-data/test.xml": Imported(2, 1, {"channelnoprogramme": 1, "nostop": 1, "notimezone": 1}),
    "xmltv-t-data/test_empty.xml": Imported(1, 1, {"nostop": 1, "notimezone": 1, "unknownid": 1}),
    "xmltv-t-data/test_livre.xml": Imported(1, 1, {"nostop": 1, "notimezone": 1, "unknownid": 1}),
    "xmltv-t-data/test_remove_some_overlapping.xml": Imported(
        1, 12, {"notimezone": 24, "overlap": 8, "unknownid": 1}
    ),
    "xmltv-t-data/test_sort_by_channel.xml": Imported(
        1, 3, {"nostop": 1, "notimezone": 5, "overlap": 1, "unknownid": 1, "zerolength": 1}
    ),
    "xmltv-t-data/whitespace.xml": Imported(1, 1, {"duplicate": 4, "nostop": 5, "unknownid": 1}),
    "xmltv-t-data/x-whatever.xml": Imported(2, 2, {"nostop": 2, "notvalid": 6, "unknownid": 2}),
}
STRICT: dict[str, Imported | Rejected] = {
    name: rejected_strictly(outcome) if isinstance(outcome, Imported) else outcome
    for name, outcome in LENIENT.items()
}
# Files tv_validate_file's DTD step rejects (checked against ../shared/reference/xmltv.dtd below).
DTD_INVALID = {"ektotv/invalid.xml", "xmltv-t-data/x-whatever.xml"}


def outcome(data: bytes, *, strict: bool) -> Imported | Rejected:
    try:
        parsed = parse_schedule(data, max_bytes=10_000_000, strict=strict)
    except DocumentRejected as error:
        return Rejected(error.code, dict(Counter(finding.code for finding in error.details)))
    assert isinstance(parsed.schedule, XmltvListing)
    counts = parsed.schedule.counts()
    warnings = dict(Counter(finding.code for finding in parsed.warnings))
    return Imported(counts["channels"], counts["programmes"], warnings)


def test_the_table_names_every_corpus_file():
    corpus = shared_path("corpus", "xmltv")
    assert sorted(str(path.relative_to(corpus)) for path in corpus.glob("*/*.xml")) == sorted(LENIENT)


@pytest.mark.parametrize("name", sorted(LENIENT))
def test_lenient_outcome(name):
    data = shared_path("corpus", "xmltv", name).read_bytes()
    assert outcome(data, strict=False) == LENIENT[name]


@pytest.mark.parametrize("name", sorted(STRICT))
def test_strict_outcome(name):
    data = shared_path("corpus", "xmltv", name).read_bytes()
    assert outcome(data, strict=True) == STRICT[name]


@pytest.mark.parametrize("name", sorted(set(LENIENT) - {"ektotv/broken.xml"}))
def test_notvalid_agrees_with_the_dtd(name):
    """The hand-written content models judge each corpus file as libxml2 does with the real DTD, element by
    element: every child of <tv> is wrapped alone in a <tv> and validated both ways."""
    dtd = etree.DTD(str(shared_path("reference", "xmltv.dtd")))
    document = etree.parse(str(shared_path("corpus", "xmltv", name)), etree.XMLParser(resolve_entities=False))
    assert dtd.validate(document) == (name not in DTD_INVALID)
    for child in document.getroot():
        if not isinstance(child.tag, str):
            continue
        wrapped = b"<tv>" + etree.tostring(child, with_tail=False) + b"</tv>"
        ours = outcome(wrapped, strict=True)
        flagged = isinstance(ours, Rejected) and "notvalid" in ours.findings
        assert dtd.validate(etree.fromstring(wrapped)) != flagged, (child.sourceline, ours)
