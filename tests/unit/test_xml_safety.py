"""The hardened reading every import goes through: caps, gzip, DTD refusal, encodings, parser errors."""

from __future__ import annotations

import gzip

import pytest

from onair.errors import DocumentRejected
from onair.formats.schedule import parse_schedule
from onair.formats.xml import declared_encoding
from tests.conftest import SAMPLE_XMLTV

LIMIT = 1024 * 1024
PROGRAMME = (
    '<programme start="20261201180000 +0000" stop="20261201190000 +0000" channel="c">'
    "<title>{title}</title></programme>"
)


def listing(title: str = "News", *, declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (
        f'{declaration}\n<tv><channel id="c"><display-name>C</display-name></channel>\n'
        + PROGRAMME.format(title=title)
        + "\n</tv>\n"
    )


def rejected(data: bytes, *, max_bytes: int = LIMIT) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as caught:
        parse_schedule(data, max_bytes=max_bytes)
    return caught.value


def test_an_internal_dtd_subset_is_refused_before_parsing():
    bomb = b'<!DOCTYPE tv [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n<tv>&b;</tv>'
    error = rejected(bomb)
    assert (error.status, error.code) == (400, "dtd_not_allowed")
    assert (error.details[0].line, error.details[0].column) == (1, 1)


def test_padding_does_not_hide_an_internal_subset():
    # Given a subset behind 100 KB of comments and processing instructions
    padding = b"<!-- " + b"x" * 100_000 + b" -->\n<?pi data?>\n"
    error = rejected(padding + b'<!DOCTYPE tv [<!ENTITY a "a">]><tv>&a;</tv>')
    # Then it is found all the same, on its line
    assert error.code == "dtd_not_allowed" and error.details[0].line == 2 + 1


def test_a_subset_for_another_root_is_not_a_schedule_and_says_it_had_a_dtd():
    error = rejected(b'<!DOCTYPE lolz [<!ENTITY lol "lol">]><lolz>&lol;</lolz>')
    assert error.code == "not_a_schedule"
    assert [finding.code for finding in error.details] == ["not_a_schedule", "dtd_not_allowed"]


def test_an_external_doctype_is_accepted_and_never_fetched():
    # An address nothing listens on: fetching it would fail or hang
    document = listing(declaration='<!DOCTYPE tv SYSTEM "http://127.0.0.1:9/xmltv.dtd">')
    parsed = parse_schedule(document.encode(), max_bytes=LIMIT)
    assert parsed.schedule.counts() == {"channels": 1, "programmes": 1}


def test_entities_are_never_resolved_and_xinclude_is_not_processed():
    xinclude = listing(
        'News<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>'
    )
    parsed = parse_schedule(xinclude.encode(), max_bytes=LIMIT)
    assert "root:" not in parsed.schedule.programmes[0].xml
    error = rejected(listing("&ext;").encode())
    assert (error.code, error.details[0].code) == ("not_well_formed", "badentity")


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("UTF-8", b""), ("UTF-8", b"\xef\xbb\xbf"), ("ISO-8859-1", b""), ("windows-1252", b""), ("UTF-16", b"")],
)
def test_declared_encodings_are_read(encoding, bom):
    # Given a listing with non-ASCII text, encoded as it declares
    document = listing("Télé Ça va", declaration=f'<?xml version="1.0" encoding="{encoding}"?>')
    data = bom + document.encode(encoding.replace("UTF-16", "utf-16"))
    # When it is parsed, then the text comes back intact
    parsed = parse_schedule(data, max_bytes=LIMIT)
    assert parsed.schedule.programmes[0].title == "Télé Ça va"


def test_bytes_that_are_not_utf8_are_badutf8_with_their_position():
    error = rejected(listing("caf\xe9").encode("latin-1").replace(b'encoding="UTF-8"', b""))
    assert error.code == "not_well_formed"
    (finding,) = error.details
    assert (finding.code, finding.line) == ("badutf8", 3) and finding.column


def test_an_unknown_encoding_is_415():
    error = rejected(listing(declaration='<?xml version="1.0" encoding="x-klingon"?>').encode())
    assert (error.status, error.code) == (415, "unsupported_encoding")


def test_declared_encoding_follows_bom_then_declaration():
    assert declared_encoding(b"\xef\xbb\xbf<tv/>") == "utf-8"
    assert declared_encoding("<tv/>".encode("utf-16")) == "utf-16"
    assert declared_encoding(b"<?xml version='1.0' encoding='ISO-8859-1'?><tv/>") == "iso-8859-1"
    assert declared_encoding(b"<tv/>") == "utf-8"


def test_gzip_bodies_are_inflated_within_the_cap():
    assert parse_schedule(gzip.compress(SAMPLE_XMLTV), max_bytes=LIMIT).source == SAMPLE_XMLTV
    bomb = gzip.compress(b"<tv>" + b" " * (4 * LIMIT) + b"</tv>")
    assert len(bomb) < LIMIT
    error = rejected(bomb)
    assert (error.status, error.code) == (413, "too_large")
    assert rejected(gzip.compress(SAMPLE_XMLTV)[:-20]).code == "bad_gzip"


def test_size_is_capped_before_parsing():
    error = rejected(SAMPLE_XMLTV, max_bytes=len(SAMPLE_XMLTV) - 1)
    assert (error.status, error.code) == (413, "too_large")


def test_nesting_is_bounded():
    deep = "<tv>" + "<x-a>" * 300 + "</x-a>" * 300 + "</tv>"
    error = rejected(deep.encode())
    assert (error.status, error.code) == (400, "too_deep")
    assert error.details[0].code == "too_deep" and error.details[0].line == 1


@pytest.mark.parametrize(
    ("document", "line"),
    [
        (b"<tv>\n  <channel id='a'>\n</tv>", 3),
        (b"<tv>\n<programme a='1' a='2'/></tv>", 2),
        (b"<tv>\n<a:b/>\n</tv>", 2),
        (b"<tv>\n\n<foo:/></tv>", 3),
    ],
)
def test_not_well_formed_documents_report_line_and_column(document, line):
    error = rejected(document)
    assert (error.status, error.code) == (400, "not_well_formed")
    (finding,) = error.details
    assert finding.code == "notwell" and finding.message
    assert finding.line == line and finding.column > 0


@pytest.mark.parametrize("document", [b"", b"   \n", b"<?xml version='1.0'?>"])
def test_empty_documents_are_not_well_formed(document):
    assert rejected(document).code == "not_well_formed"


def test_well_formed_xml_that_is_no_schedule_says_which_root_it_has():
    error = rejected(b"<?xml version='1.0'?>\n<rss version='2.0'><channel/></rss>")
    assert (error.status, error.code) == (400, "not_a_schedule")
    assert "<rss>" in error.message and error.details[0].line == 2
