"""Hardened XML reading shared by every format: size caps, gzip, DTD refusal, streaming parse.

libxml2 is told never to load a DTD, resolve an entity, touch the network or build a huge tree; an internal
DTD subset (where every entity-expansion attack lives) is refused before the parser sees the document.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from io import BytesIO

from lxml import etree

from onair.errors import (
    DocumentRejected,
    Finding,
    NotASchedule,
    NotWellFormed,
    TooLarge,
    UnsupportedMediaType,
)

GZIP_MAGIC = b"\x1f\x8b"
_XML_DECLARATION_BYTES = 256


def read_body(data: bytes, max_bytes: int) -> bytes:
    """The document's bytes, gunzipped when they are gzip, refused past `max_bytes` either way."""
    if len(data) > max_bytes:
        raise TooLarge(f"the document is {len(data)} bytes; the limit is {max_bytes}")
    if not data.startswith(GZIP_MAGIC):
        return data
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(data, max_bytes + 1)
    except zlib.error as error:
        raise DocumentRejected(f"the gzip body is corrupt: {error}", code="bad_gzip") from error
    if len(inflated) > max_bytes or inflater.unconsumed_tail:
        raise TooLarge(f"the document inflates past the limit of {max_bytes} bytes")
    if not inflater.eof:
        raise DocumentRejected("the gzip body is truncated", code="bad_gzip")
    return inflated


def _prolog_bytes(data: bytes) -> bytes:
    """The document in an ASCII-compatible form, enough to read its prolog's markup."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00?\x00", b"\x00<\x00?")):
        return data.decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    return data


_NAME_END = re.compile(rb"[\s\[>]")


def refuse_internal_subset(data: bytes, schedule_roots: frozenset[str]) -> None:
    """Reject `<!DOCTYPE x [ ... ]>` before libxml2 reads it: internal subsets declare the entities and
    attribute defaults that expansion attacks use. The whole prolog is scanned (comments and processing
    instructions skipped), so no amount of padding hides a subset from this check.

    A DOCTYPE that only names an external DTD (`SYSTEM "xmltv.dtd"`, common in XMLTV files) is allowed and
    never fetched. A subset declared for a root that is no schedule is reported as "not a schedule": that is
    the more useful answer, and it does not depend on reading the subset.
    """
    text = _prolog_bytes(data)
    position = 0
    while True:
        while position < len(text) and text[position] in b" \t\r\n\xef\xbb\xbf":
            position += 1
        if text.startswith(b"<?", position):
            end = b"?>"
        elif text.startswith(b"<!--", position):
            end = b"-->"
        elif text[position : position + 9].upper() == b"<!DOCTYPE":
            _check_doctype(text, position, schedule_roots)
            return
        else:
            return  # the root element, or something the parser will reject with a precise error
        position = text.find(end, position + 2)
        if position == -1:
            return  # unterminated: the parser reports it
        position += len(end)


def _check_doctype(text: bytes, start: int, schedule_roots: frozenset[str]) -> None:
    name_start = start + 9
    while name_start < len(text) and text[name_start] in b" \t\r\n":
        name_start += 1
    name_end = _NAME_END.search(text, name_start)
    name = text[name_start : name_end.start() if name_end else len(text)].decode("utf-8", errors="replace")
    quote = None
    for index in range(name_start, len(text)):
        char = text[index : index + 1]
        if quote:
            quote = None if char == quote else quote
        elif char in (b'"', b"'"):
            quote = char
        elif char == b">":
            return
        elif char == b"[":
            line = text.count(b"\n", 0, start) + 1
            column = start - (text.rfind(b"\n", 0, start) + 1) + 1
            if name.rpartition(":")[2] not in schedule_roots:
                raise NotASchedule(
                    f"<{name}> is not a schedule document: expected an XMLTV <tv> or an OnAir <schedule> root",
                    details=[
                        Finding("not_a_schedule", f"DOCTYPE declares the root <{name}>", line, column, None),
                        Finding("dtd_not_allowed", "internal DTD subset", line, column, None),
                    ],
                )
            raise DocumentRejected(
                "the document declares an internal DTD subset; DTDs and entity declarations are not accepted",
                code="dtd_not_allowed",
                details=[Finding("dtd_not_allowed", "internal DTD subset", line, column, None)],
            )


# libxml2 error types with a finding code of their own (XMLTV's tv_validate_file names where it has one).
_FINDING_CODES = {
    "ERR_INVALID_ENCODING": "badencoding",
    "ERR_UNDECLARED_ENTITY": "badentity",
    "ERR_UNKNOWN_ENCODING": "badencoding",
    "ERR_UNSUPPORTED_ENCODING": "badencoding",
}
_POSITION_SUFFIX = re.compile(r"(?:, line \d+, column \d+)?\s*$")


def not_well_formed(error: etree.XMLSyntaxError, encoding: str) -> DocumentRejected:
    """The parser's first fatal error, with its line and column; an encoding libxml2 cannot read is a 415."""
    line, column = error.position if error.position and error.position != (0, 0) else (None, None)
    message, kind = error.msg or str(error), ""
    last = error.error_log.last_error if error.error_log else None
    if last is not None and (line is None or (last.line, last.column) == (line, column)):
        line, column, message, kind = last.line, last.column, last.message, last.type_name
    message = _POSITION_SUFFIX.sub("", message.strip())
    code = _FINDING_CODES.get(kind, "notwell")
    if kind == "ERR_RESOURCE_LIMIT" and "depth" in message:
        code = "too_deep"
    if code == "badencoding" and encoding == "utf-8" and kind != "ERR_UNSUPPORTED_ENCODING":
        code = "badutf8"
    finding = Finding(code, message, line, column, None)
    if kind in ("ERR_UNSUPPORTED_ENCODING", "ERR_UNKNOWN_ENCODING"):
        return UnsupportedMediaType(
            f"the document's encoding is not supported: {message}",
            code="unsupported_encoding",
            details=[finding],
        )
    where = f" (line {line}, column {column})" if line else ""
    if code == "too_deep":
        return NotWellFormed(f"elements nest too deep: {message}{where}", code="too_deep", details=[finding])
    return NotWellFormed(f"the document is not well-formed XML: {message}{where}", details=[finding])


_ENCODING_DECLARATION = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")


def declared_encoding(data: bytes) -> str:
    """The encoding the parser will use, lower-cased: the BOM's, else the XML declaration's, else UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00?\x00", b"\x00<\x00?")):
        return "utf-16"
    match = _ENCODING_DECLARATION.match(data[:_XML_DECLARATION_BYTES])
    return match.group(1).decode("ascii").lower() if match else "utf-8"


def iterparse(source: bytes, tags: tuple[str, ...] | None = None) -> Iterator[etree._Element]:
    """Stream each element (or each of `tags`) as its end tag is read, with the hardened parser settings.

    End events only: a start event per element would cost as much Python again. Nesting is bounded by
    libxml2 itself (256 levels without huge_tree); that, like any syntax error, raises NotWellFormed with
    line and column.
    """
    encoding = declared_encoding(source)
    etree.clear_error_log()  # libxml2's log is per thread: keep only this document's errors in it
    elements = etree.iterparse(
        BytesIO(source),
        events=("end",),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _, element in elements:
            yield element
    except etree.XMLSyntaxError as error:
        raise not_well_formed(error, encoding) from error


def root_name(source: bytes) -> str | None:
    """The root element's local name, from the start of the document only; None when that much does not
    parse (iterparse then reports why)."""
    head = etree.iterparse(
        BytesIO(source), events=("start",), resolve_entities=False, no_network=True, load_dtd=False
    )
    try:
        return local_name(next(head)[1])
    except (etree.XMLSyntaxError, StopIteration):
        return None


def local_name(element: etree._Element) -> str:
    # Not etree.QName: it refuses names libxml2 accepted without namespaces (`a:`), which must not crash us.
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""
