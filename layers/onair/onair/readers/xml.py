"""Hardened XML reading shared by every format: size caps, gzip, DTD refusal, streaming parse.

libxml2 is told never to load a DTD, resolve an entity, touch the network or build a huge tree; an internal
DTD subset (where every entity-expansion attack lives) is refused before the parser sees the document.
"""

from __future__ import annotations

import codecs
import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

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
_READ_BYTES = 1024 * 1024  # what is read of a document at a time (and the largest gzip feed)
_XML_DECLARATION_BYTES = 4096  # the XML declaration is read from this much


def read_body(document: IO[bytes], max_bytes: int) -> IO[bytes]:
    """The document (a seekable file, read from its start), gunzipped into a temporary file when it is gzip,
    refused past `max_bytes` either way; the file returned is at its start.

    A gzip body is one stream of one or more members (RFC 1952 2.2: concatenated members are one file, as
    `cat a.gz b.gz` or pigz write them), inflated together under the same cap. After the last member only
    zero bytes may follow (block padding, which gzip(1) ignores too); anything else is refused as bad_gzip
    rather than silently dropped.
    """
    size = document.seek(0, os.SEEK_END)
    if size > max_bytes:
        raise TooLarge(f"the document is {size} bytes; the limit is {max_bytes}")
    document.seek(0)
    if document.read(len(GZIP_MAGIC)) != GZIP_MAGIC:
        document.seek(0)
        return document
    inflated = tempfile.TemporaryFile()  # noqa: SIM115 (the caller's, as the document is)
    try:
        _gunzip(document, size, inflated, max_bytes)
    except BaseException:
        inflated.close()
        raise
    inflated.seek(0)
    return inflated


def _gunzip(document: IO[bytes], size: int, inflated: IO[bytes], max_bytes: int) -> None:
    inflated_bytes, offset, member = 0, 0, 0
    # Each member costs a fresh inflater: their number is bounded so that a body of empty members cannot
    # cost more than a large document (BGZF, the most member-happy writer, makes one per 64 KiB).
    max_members = 1024 + max_bytes // (16 * 1024)
    while True:
        document.seek(offset)
        if document.read(len(GZIP_MAGIC)) != GZIP_MAGIC:
            break
        member += 1
        if member > max_members:
            raise DocumentRejected(f"the gzip body has more than {max_members} members", code="bad_gzip")
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        position, chunk_size = document.seek(offset), 1024
        try:
            # Read in growing chunks from the member's start: what zlib copies past a member's end
            # (unused_data) stays small, so many small members cost linear time, and large ones few calls.
            while not inflater.eof and position < size:
                chunk = document.read(chunk_size)
                position, chunk_size = position + len(chunk), min(2 * chunk_size, _READ_BYTES)
                part = inflater.decompress(chunk, max_bytes - inflated_bytes + 1)
                inflated_bytes += len(part)
                if inflated_bytes > max_bytes or inflater.unconsumed_tail:
                    raise TooLarge(f"the document inflates past the limit of {max_bytes} bytes")
                inflated.write(part)
        except zlib.error as error:
            raise DocumentRejected(f"gzip member {member} is corrupt: {error}", code="bad_gzip") from error
        if not inflater.eof:
            raise DocumentRejected(f"gzip member {member} is truncated", code="bad_gzip")
        offset = position - len(inflater.unused_data)
    document.seek(offset)
    for chunk in iter(lambda: document.read(_READ_BYTES), b""):
        if chunk.count(b"\x00") != len(chunk):
            raise DocumentRejected(
                f"{size - offset} bytes after the gzip stream (at byte {offset}) are not a gzip member",
                code="bad_gzip",
            )


def is_blank(document: IO[bytes]) -> bool:
    """Empty, or whitespace only (the same test as `not data.strip()`, without reading it all at once)."""
    document.seek(0)
    try:
        return all(chunk.isspace() for chunk in iter(lambda: document.read(_READ_BYTES), b""))
    finally:
        document.seek(0)


def head(document: IO[bytes]) -> bytes:
    """The document's first bytes: what its encoding is read from (`document_encoding`)."""
    document.seek(0)
    try:
        return document.read(_XML_DECLARATION_BYTES)
    finally:
        document.seek(0)


@dataclass(frozen=True)
class Encoding:
    """How a document's bytes become characters. One decision serves both readers: libxml2 is told `name`
    (so a declaration it would otherwise follow cannot differ), and the prolog scan decodes with `codec`
    (so no encoding can hide a DTD subset from the scan that the parser would then read)."""

    name: str  # given to libxml2: the BOM's or the byte pattern's encoding, else the declared one, else UTF-8
    codec: str  # the same encoding in Python's codec registry


# XML 1.0 Appendix F: a byte order mark, else the first four bytes of "<?xml" (or of the root element for
# UTF-32, which libxml2 detects too). Longest first: FF FE 00 00 is UTF-32LE, not UTF-16LE.
_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32BE", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "UTF-32LE", "utf-32-le"),
    (b"\x00\x00\xff\xfe", None, "UCS-4 in the unusual octet order 2143"),
    (b"\xfe\xff\x00\x00", None, "UCS-4 in the unusual octet order 3412"),
    (b"\xef\xbb\xbf", "UTF-8", "utf-8"),
    (b"\xfe\xff", "UTF-16BE", "utf-16-be"),
    (b"\xff\xfe", "UTF-16LE", "utf-16-le"),
)
_PATTERNS = {
    b"\x00\x00\x00<": ("UTF-32BE", "utf-32-be"),
    b"<\x00\x00\x00": ("UTF-32LE", "utf-32-le"),
    b"\x00\x00<\x00": (None, "UCS-4 in the unusual octet order 2143"),
    b"\x00<\x00\x00": (None, "UCS-4 in the unusual octet order 3412"),
    b"\x00<\x00?": ("UTF-16BE", "utf-16-be"),
    b"<\x00?\x00": ("UTF-16LE", "utf-16-le"),
    b"\x4c\x6f\xa7\x94": (None, "EBCDIC"),
}
_ENCODING_DECLARATION = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")


def _unsupported(what: str) -> UnsupportedMediaType:
    message = f"the document's encoding is not supported: {what}; send UTF-8 (or UTF-16, UTF-32, ISO-8859-x)"
    return UnsupportedMediaType(
        message, code="unsupported_encoding", details=[Finding("badencoding", what, 1, 1, None)]
    )


def document_encoding(data: bytes) -> Encoding:
    """The encoding the document is read in: its BOM's, else its first bytes' (XML 1.0 Appendix F), else its
    XML declaration's, else UTF-8. Encodings libxml2 or Python cannot read are a 415 before any parsing."""
    for bom, name, codec in _BOMS:
        if data.startswith(bom):
            if name is None:
                raise _unsupported(codec)
            return Encoding(name, codec)
    if data[:4] in _PATTERNS:
        name, codec = _PATTERNS[data[:4]]
        if name is None:
            raise _unsupported(codec)
        return Encoding(name, codec)
    head = data[:4]
    if len(head) == 4 and (head[1] == head[3] == 0 or head[0] == head[2] == 0) and head.count(0) == 2:
        # XML 1.0 section 4.3.3: UTF-16 needs its BOM; without one or a declaration, nothing says so
        order = "LE" if head[1] == 0 else "BE"
        message = f"the document looks like UTF-16{order} without a byte order mark or an XML declaration"
        raise NotWellFormed(message, details=[Finding("badencoding", message, 1, 1, None)])
    match = _ENCODING_DECLARATION.match(data[:_XML_DECLARATION_BYTES])
    if not match:
        return Encoding("UTF-8", "utf-8")
    name = match.group(1).decode("ascii")
    try:
        info = codecs.lookup(name)
        etree.XMLParser(encoding=name)  # lxml raises LookupError when libxml2 has no such encoding
    except LookupError:
        raise _unsupported(f"unknown encoding '{name}'") from None
    if (
        not info._is_text_encoding
    ):  # base64, rot13, zlib...: codecs, no character encodings (str.encode asks this)
        raise _unsupported(f"unknown encoding '{name}'")
    if info.name.startswith(("utf-16", "utf-32")):
        # The first bytes are ASCII, not UTF-16 or UTF-32: the declaration does not describe the document
        message = f"the document declares {name} but its bytes are not {name} (XML 1.0 section 4.3.3)"
        raise NotWellFormed(message, details=[Finding("badencoding", message, 1, 1, None)])
    return Encoding(name, info.name)


_NAME_END = re.compile(rb"[\s\[>]")
_PROLOG_CHUNK = 64 * 1024


def refuse_internal_subset(document: IO[bytes], schedule_roots: frozenset[str]) -> None:
    """Reject `<!DOCTYPE x [ ... ]>` before libxml2 reads it: internal subsets declare the entities and
    attribute defaults that expansion attacks use. The whole prolog is scanned (comments and processing
    instructions skipped), so no amount of padding hides a subset from this check, and it is read in the
    encoding the parser is given (`document_encoding`), so no encoding does either.

    A DOCTYPE that only names an external DTD (`SYSTEM "xmltv.dtd"`, common in XMLTV files) is allowed and
    never fetched. A subset declared for a root that is no schedule is reported as "not a schedule": that is
    the more useful answer, and it does not depend on reading the subset.
    """
    codec = document_encoding(head(document)).codec
    # Read in doubling chunks until the prolog ends: it is scanned O(1) times over, however long its padding.
    # UTF-8 is scanned as it is (every markup byte is ASCII and no multi-byte sequence holds one); any other
    # encoding is decoded to UTF-8 first.
    decoder = None if codec == "utf-8" else codecs.getincrementaldecoder(codec)(errors="replace")
    document.seek(0)
    raw, text, chunk_size = b"", "", _PROLOG_CHUNK
    try:
        while True:
            chunk = document.read(chunk_size)
            final = len(chunk) < chunk_size  # a file reads short only at its end
            if decoder is None:
                raw += chunk
                scanned = raw.removeprefix(b"\xef\xbb\xbf")
            else:
                try:
                    text += decoder.decode(chunk, final=final)
                except (UnicodeError, TypeError, ValueError) as error:  # a codec that cannot even replace
                    raise _unsupported(f"{codec} cannot be read: {error}") from error
                scanned = text.removeprefix("\ufeff").encode("utf-8", "replace")
            if _scan_prolog(scanned, schedule_roots, final=final):
                return
            chunk_size *= 2
    finally:
        document.seek(0)


def _scan_prolog(text: bytes, schedule_roots: frozenset[str], *, final: bool) -> bool:
    """Scan the prolog of `text` (a prefix of the document when not `final`). True when the answer is
    known (no subset; a subset raises), False when `text` ends inside the prolog and more must be read."""
    position = 0
    while True:
        while position < len(text) and text[position] in b" \t\r\n":
            position += 1
        rest = text[position : position + 9]
        if text.startswith(b"<?", position):
            end = b"?>"
        elif text.startswith(b"<!--", position):
            end = b"-->"
        elif rest.upper() == b"<!DOCTYPE":
            return _check_doctype(text, position, schedule_roots) or final
        else:
            # The root element, or something the parser will reject with a precise error; unless the text
            # ends inside what may yet be a DOCTYPE or a comment.
            cut = len(rest) < 9 and any(m.startswith(rest.upper()) for m in (b"<!DOCTYPE", b"<!--"))
            return final or not cut
        position = text.find(end, position + 2)
        if position == -1:
            return final  # unterminated: read on, or, at the end, the parser reports it
        position += len(end)


def _check_doctype(text: bytes, start: int, schedule_roots: frozenset[str]) -> bool:
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
            return True
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
    return False  # the text ends inside the DOCTYPE


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


def iterparse(source: IO[bytes], tags: tuple[str, ...] | None = None) -> Iterator[etree._Element]:
    """Stream each element (or each of `tags`) as its end tag is read, with the hardened parser settings.

    End events only: a start event per element would cost as much Python again. Nesting is bounded by
    libxml2 itself (256 levels without huge_tree); that, like any syntax error, raises NotWellFormed with
    line and column. The parser is told the document's encoding (`document_encoding`), as the DTD scan was.
    The document is read from its start, a chunk at a time.
    """
    encoding = document_encoding(head(source))
    etree.clear_error_log()  # libxml2's log is per thread: keep only this document's errors in it
    elements = etree.iterparse(
        source,
        events=("end",),
        tag=tags,
        encoding=encoding.name,
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
        raise not_well_formed(error, encoding.codec) from error


def root_name(source: IO[bytes]) -> str | None:
    """The root element's local name, from the start of the document only; None when that much does not
    parse (iterparse then reports why)."""
    start = etree.iterparse(
        source,
        events=("start",),
        encoding=document_encoding(head(source)).name,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
    )
    try:
        return local_name(next(start)[1])
    except (etree.XMLSyntaxError, StopIteration):
        return None
    finally:
        source.seek(0)


def local_name(element: etree._Element) -> str:
    # Not etree.QName: it refuses names libxml2 accepted without namespaces (`a:`), which must not crash us.
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""
