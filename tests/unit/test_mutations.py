"""Property: whatever a valid document is mutated into, the import either accepts it or rejects it with a
4xx and a code. Any other exception would be a 5xx in the API, so it is a bug."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onair.errors import DocumentRejected
from onair.models import StoredSchedule, findings_to_dicts
from onair.readers.schedule import parse_schedule
from tests.conftest import ROOT, SAMPLE_ONAIR, SAMPLE_XMLTV

LIMIT = 1024 * 1024
# The IPTV sample carries every attribute for players: URLs, numbers, seasons, kinds
DOCUMENTS = [SAMPLE_XMLTV, SAMPLE_ONAIR, (ROOT / "samples" / "iptv-lineup.xml").read_bytes()]


def replace_one(data: bytes, pattern: bytes, draw: st.DrawFn, replacement: bytes | None = None) -> bytes:
    """Replaces one match of `pattern` (chosen by hypothesis) with `replacement`, or doubles it when None."""
    matches = list(re.finditer(pattern, data))
    if not matches:
        return data
    found = matches[draw(st.integers(0, len(matches) - 1))]
    new = found.group() * 2 if replacement is None else replacement
    return data[: found.start()] + new + data[found.end() :]


def truncate(data: bytes, draw: st.DrawFn) -> bytes:
    return data[: draw(st.integers(0, len(data) - 1))]


def flip_byte(data: bytes, draw: st.DrawFn) -> bytes:
    at = draw(st.integers(0, len(data) - 1))
    return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]


def remove_closing_tag(data: bytes, draw: st.DrawFn) -> bytes:
    return replace_one(data, rb"</[^>]+>", draw, b"")


def duplicate_attribute(data: bytes, draw: st.DrawFn) -> bytes:
    return replace_one(data, rb' [\w:-]+="[^"]*"', draw)


def bad_date(data: bytes, draw: st.DrawFn) -> bytes:
    replacement = draw(
        st.sampled_from(
            [b"20260230120000 +0000", b"20261201250000 +0000", b"20261201 +1500", b"PT-3M", b"PT0S", b"x"]
        )
    )
    return replace_one(data, rb"\d{14} [+-]\d{4}|PT\w+", draw, replacement)


def bad_value(data: bytes, draw: st.DrawFn) -> bytes:
    """A URL, channel number, season, episode or kind replaced by another value or by any text."""
    replacement = draw(
        st.one_of(
            st.sampled_from(
                [b"playlist.m3u8#x", b"s3://b/k", b"http://", b"http://h:99999999/", b"http://[::1", b"0",
                 b"1e3", b"-1", b"99999", b"100000", b"\xc2\xa0", b"&#x85;", b"movie series", b""]
            ),
            st.text(max_size=20).map(str.encode),
        )
    )  # fmt: skip
    return replace_one(data, rb'(?<=stream=")[^"]*|(?<=logo=")[^"]*|(?<=image=")[^"]*|(?<=number=")[^"]*'
                       rb'|(?<=season=")[^"]*|(?<=episode=")[^"]*|(?<=kind=")[^"]*|(?<=slate=")[^"]*', draw,
                       replacement)  # fmt: skip


def stray_markup(data: bytes, draw: st.DrawFn) -> bytes:
    at = draw(st.integers(0, len(data)))
    return (
        data[:at]
        + draw(st.sampled_from([b"&", b"<", b"&amp", b"]]>", b"<!--", b"\x00", b"&#0;"]))
        + data[at:]
    )


def wrong_encoding(data: bytes, draw: st.DrawFn) -> bytes:
    text = data.decode("utf-8", errors="replace").replace("Evening", "Évening").replace("Morning", "Mörning")
    codec = draw(st.sampled_from(["latin-1", "utf-16", "utf-16-le", "cp1252", "utf-32"]))
    return text.encode(codec, errors="replace")


def random_insert(data: bytes, draw: st.DrawFn) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]


MUTATIONS = [
    truncate,
    flip_byte,
    remove_closing_tag,
    duplicate_attribute,
    bad_date,
    bad_value,
    stray_markup,
    wrong_encoding,
    random_insert,
]


@st.composite
def mutated_documents(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(DOCUMENTS))
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        data = mutation(data, draw) if data else data
    return data


def import_like_the_api(data: bytes, strict: bool) -> None:
    """Parse and build what the import stores, or raise a DocumentRejected."""
    parsed = parse_schedule(data, max_bytes=LIMIT, strict=strict)
    stored = StoredSchedule(
        id="x",
        created_at=datetime.now(UTC),
        warnings=findings_to_dicts(parsed.warnings),
        schedule=parsed.schedule,
    )
    StoredSchedule.model_validate_json(stored.model_dump_json())
    parsed.schedule.counts()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_documents(), strict=st.booleans())
def test_mutated_documents_import_or_fail_with_a_4xx_code(data, strict):
    try:
        import_like_the_api(data, strict)
    except DocumentRejected as rejection:
        assert 400 <= rejection.status < 500
        assert re.fullmatch(r"[a-z_]+", rejection.code)
        assert rejection.message
        for finding in rejection.details:
            assert finding.code and finding.message


def test_the_unmutated_documents_import():
    for document in DOCUMENTS:
        import_like_the_api(document, strict=False)
