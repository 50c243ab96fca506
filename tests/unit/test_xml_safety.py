"""The hardened reading every import goes through: caps, gzip, DTD refusal, encodings, parser errors."""

from __future__ import annotations

import gzip

import pytest

from onair.errors import DocumentRejected
from onair.readers.schedule import parse_schedule
from onair.readers.xml import Encoding, document_encoding
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


def test_document_encoding_follows_bom_then_first_bytes_then_declaration():
    assert document_encoding(b"\xef\xbb\xbf<tv/>") == Encoding("UTF-8", "utf-8")
    assert document_encoding("\ufeff<tv/>".encode("utf-16-be")) == Encoding("UTF-16BE", "utf-16-be")
    assert document_encoding("\ufeff<tv/>".encode("utf-32-le")) == Encoding("UTF-32LE", "utf-32-le")
    assert document_encoding("<tv/>".encode("utf-32-be")) == Encoding("UTF-32BE", "utf-32-be")
    assert document_encoding("<?xml version='1.0'?><tv/>".encode("utf-16-be")).name == "UTF-16BE"
    assert document_encoding(b"<?xml version='1.0' encoding='ISO-8859-1'?><tv/>") == Encoding(
        "ISO-8859-1", "iso8859-1"
    )
    assert document_encoding(b"<tv/>") == Encoding("UTF-8", "utf-8")


def subset_listing(declaration: str = "") -> str:
    """A listing with an internal subset whose entity the programme uses."""
    return f'{declaration}<!DOCTYPE tv [<!ENTITY e "x">]>\n' + listing("&e;", declaration="")


def utf7(text: str) -> bytes:
    """UTF-7 that spells the subset's brackets in base64 ("+AFs-", "+AF0-"), as an attacker would: Python's
    encoder writes them as they are."""
    return text.encode("utf-7").replace(b"[", b"+AFs-").replace(b"]", b"+AF0-")


def swap_pairs(data: bytes, order: tuple[int, int, int, int]) -> bytes:
    return b"".join(bytes(data[i + j] for j in order) for i in range(0, len(data), 4))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(subset_listing().encode("utf-32-le"), id="UTF-32LE without BOM"),
        pytest.param(subset_listing().encode("utf-32-be"), id="UTF-32BE without BOM"),
        pytest.param(subset_listing().encode("utf-32"), id="UTF-32 with BOM"),
        pytest.param(
            subset_listing('<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16-be"),
            id="UTF-16BE without BOM",
        ),
        pytest.param(
            subset_listing('<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16-le"),
            id="UTF-16LE without BOM",
        ),
        pytest.param(utf7(subset_listing('<?xml version="1.0" encoding="UTF-7"?>')), id="UTF-7 ([ is +AFs-)"),
        pytest.param(
            ("<!--" + "x" * 300_000 + "-->" + subset_listing()).encode("utf-16"), id="UTF-16 behind padding"
        ),
    ],
)
def test_no_encoding_hides_an_internal_subset_from_the_scan(data):
    # Given an internal subset in an encoding that is not ASCII-compatible (or, UTF-7, hides its brackets)
    # When it is parsed, then the scan reads it as the parser would, and refuses it
    error = rejected(data)
    assert (error.status, error.code) == (400, "dtd_not_allowed")


@pytest.mark.parametrize("cut", range(12))
def test_a_subset_is_found_wherever_the_decoded_prolog_is_cut(cut):
    # Given UTF-16 whose prolog the scan decodes in pieces of 64 KiB, with "<!DOCTYPE" (or the comment's
    # end before it) straddling the first piece's end by `cut` characters
    padding = 32768 - 1 - len("<!--") - len("-->") - cut  # the BOM is the first of 32768 characters
    data = ("<!--" + "x" * padding + "-->" + subset_listing()).encode("utf-16")
    # Then the scan reads on and finds the subset
    assert rejected(data).code == "dtd_not_allowed"


@pytest.mark.parametrize("cut", range(12))
def test_a_subset_is_found_wherever_a_utf8_prolog_is_cut(cut):
    # Given UTF-8, which the scan reads as it is in pieces of 64 KiB, "<!DOCTYPE" straddling the first one
    padding = 65536 - len("<!--") - len("-->") - cut
    data = ("<!--" + "x" * padding + "-->" + subset_listing()).encode()
    # Then the scan reads on and finds the subset
    assert rejected(data).code == "dtd_not_allowed"


def test_a_document_in_a_file_is_read_as_its_bytes_are(tmp_path):
    # Given the same listing, plain and gzipped, in files (as an upload is, in /tmp)
    for name, data in (("plain.xml", SAMPLE_XMLTV), ("listing.xml.gz", gzip.compress(SAMPLE_XMLTV))):
        path = tmp_path / name
        path.write_bytes(data)
        with path.open("rb") as document:
            parsed = parse_schedule(document, max_bytes=LIMIT)
            # Then it imports as its bytes do, and its source is the document, at its start
            assert parsed.schedule == parse_schedule(SAMPLE_XMLTV, max_bytes=LIMIT).schedule
            assert (parsed.source.read(), parsed.source_bytes) == (SAMPLE_XMLTV, len(SAMPLE_XMLTV))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(subset_listing().encode())
    with bad.open("rb") as document, pytest.raises(DocumentRejected) as caught:
        parse_schedule(document, max_bytes=LIMIT)
    assert caught.value.code == "dtd_not_allowed"


def test_the_parser_reads_the_encoding_the_scan_read():
    # Given a declaration padded past what is read of it, naming UTF-7, in which "+AFs-" is "["
    declaration = '<?xml version="1.0"' + " " * 5000 + 'encoding="UTF-7"?>'
    data = utf7(subset_listing(declaration))
    # When it is parsed, then the parser was told UTF-8, as the scan read it: no subset gets in either way
    error = rejected(data)
    assert (error.code, error.details[0].code) == ("not_well_formed", "notwell")


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be", "utf-32-le"])
def test_utf32_documents_are_read_with_or_without_bom(codec):
    document = listing("Télé", declaration='<?xml version="1.0" encoding="UTF-32"?>')
    data = document.encode(codec)
    assert parse_schedule(data, max_bytes=LIMIT).schedule.programmes[0].title == "Télé"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(swap_pairs(listing().encode("utf-32-be"), (1, 0, 3, 2)), id="UCS-4 2143"),
        pytest.param(swap_pairs(listing().encode("utf-32-be"), (2, 3, 0, 1)), id="UCS-4 3412"),
        pytest.param(
            swap_pairs(("\ufeff" + listing()).encode("utf-32-be"), (1, 0, 3, 2)), id="UCS-4 2143 BOM"
        ),
        pytest.param(listing().replace("UTF-8", "IBM037").encode("cp037"), id="EBCDIC"),
        pytest.param(listing().replace("UTF-8", "UCS-4").encode(), id="UCS-4 declared in ASCII"),
    ],
)
def test_encodings_that_cannot_be_read_are_415_unsupported_encoding(data):
    error = rejected(data)
    assert (error.status, error.code) == (415, "unsupported_encoding")
    assert error.details[0].code == "badencoding"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_or_declaration_is_not_well_formed_badencoding(codec):
    # XML 1.0 section 4.3.3: UTF-16 begins with a BOM (or, Appendix F, a declaration says it)
    error = rejected(listing(declaration="").encode(codec))
    assert (error.status, error.code, error.details[0].code) == (400, "not_well_formed", "badencoding")


def test_gzip_bodies_are_inflated_within_the_cap():
    assert parse_schedule(gzip.compress(SAMPLE_XMLTV), max_bytes=LIMIT).source.read() == SAMPLE_XMLTV
    bomb = gzip.compress(b"<tv>" + b" " * (4 * LIMIT) + b"</tv>")
    assert len(bomb) < LIMIT
    error = rejected(bomb)
    assert (error.status, error.code) == (413, "too_large")
    assert rejected(gzip.compress(SAMPLE_XMLTV)[:-20]).code == "bad_gzip"


def test_concatenated_gzip_members_are_one_document():
    # Given a listing split in two gzip members (RFC 1952 2.2, `cat a.gz b.gz`)
    half = len(SAMPLE_XMLTV) // 2
    data = gzip.compress(SAMPLE_XMLTV[:half]) + gzip.compress(SAMPLE_XMLTV[half:])
    # Then it is read whole
    assert parse_schedule(data, max_bytes=LIMIT).source.read() == SAMPLE_XMLTV
    # And the inflation cap holds across members
    member = gzip.compress(b" " * (LIMIT // 2 + 1))
    error = rejected(gzip.compress(b"<tv>") + member + member, max_bytes=LIMIT)
    assert (error.status, error.code) == (413, "too_large")


@pytest.mark.parametrize(
    "tail",
    [b"garbage", b"\x1f\x8b", gzip.compress(SAMPLE_XMLTV)[:-8], b"\x00\x00junk"],
    ids=["garbage", "a lone magic", "a truncated member", "zeros then garbage"],
)
def test_bytes_after_the_gzip_stream_are_bad_gzip(tail):
    error = rejected(gzip.compress(SAMPLE_XMLTV) + tail)
    assert (error.status, error.code) == (400, "bad_gzip")


def test_zero_padding_after_the_gzip_stream_is_ignored_as_gzip_does():
    assert (
        parse_schedule(gzip.compress(SAMPLE_XMLTV) + b"\x00" * 512, max_bytes=LIMIT).source.read()
        == SAMPLE_XMLTV
    )


def test_a_body_of_countless_empty_gzip_members_is_refused():
    # Each member costs an inflater: a body of nothing but empty ones is refused once there are too many
    error = rejected(gzip.compress(SAMPLE_XMLTV) + gzip.compress(b"", mtime=0) * 10_000)
    assert (error.status, error.code) == (400, "bad_gzip")


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


@pytest.mark.parametrize("data", [b"", b" ", b"\r\n\t \x0b\x0c"], ids=["nothing", "a space", "whitespace"])
def test_a_document_of_nothing_but_whitespace_is_not_well_formed_at_its_start(data):
    error = rejected(data)
    assert (error.status, error.code) == (400, "not_well_formed")
    assert [(d.code, d.line, d.column) for d in error.details] == [("notwell", 1, 1)]
