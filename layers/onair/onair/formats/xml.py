"""Hardened XML reading shared by every format: size caps, gzip, DTD refusal, streaming parse.

libxml2 is told never to load a DTD, resolve an entity, touch the network or build a huge tree; an internal
DTD subset (where every entity-expansion attack lives) is refused before the parser sees the document.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from io import BytesIO
from typing import IO

from lxml import etree

from onair.errors import DocumentRejected, Finding, NotWellFormed, TooLarge

GZIP_MAGIC = b"\x1f\x8b"
MAX_DEPTH = 64
_PROLOG_BYTES = 64 * 1024


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


def _prolog_text(data: bytes) -> str:
    head = data[:_PROLOG_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return head.decode("utf-16", errors="replace")
    return head.decode("latin-1")


_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)


def refuse_internal_subset(data: bytes) -> None:
    """Reject `<!DOCTYPE x [ ... ]>`: internal subsets declare the entities that expansion attacks use.

    A DOCTYPE that only names an external DTD (`SYSTEM "xmltv.dtd"`, common in XMLTV files) is allowed;
    the DTD is never fetched.
    """
    text = _prolog_text(data)
    match = _DOCTYPE.search(text)
    if match is None or _inside_comment(text, match.start()):
        return
    quote = None
    for index in range(match.end(), len(text)):
        char = text[index]
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ">":
            return
        elif char == "[":
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            raise DocumentRejected(
                "the document declares an internal DTD subset; DTDs and entity declarations are not accepted",
                code="dtd_not_allowed",
                details=[Finding("dtd_not_allowed", "internal DTD subset", line, column, None)],
            )


def _inside_comment(text: str, position: int) -> bool:
    opened = text.rfind("<" + "!--", 0, position)
    return opened != -1 and text.find("-->", opened) > position


def not_well_formed(error: etree.XMLSyntaxError) -> NotWellFormed:
    line, column = error.position if error.position else (None, None)
    message = error.msg or str(error)
    return NotWellFormed(
        f"the document is not well-formed XML: {message}",
        details=[Finding("notwell", message, line, column, None)],
    )


def iterparse(source: bytes | IO[bytes]) -> Iterator[tuple[str, etree._Element]]:
    """Stream (event, element) pairs for start/end events with the hardened parser settings.

    Raises NotWellFormed (with line and column) for any syntax error, and for nesting deeper than MAX_DEPTH.
    """
    stream = BytesIO(source) if isinstance(source, bytes) else source
    events = etree.iterparse(
        stream,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    depth = 0
    try:
        for event, element in events:
            if event == "start":
                depth += 1
                if depth > MAX_DEPTH:
                    raise NotWellFormed(
                        f"elements nest deeper than {MAX_DEPTH} levels",
                        code="too_deep",
                        details=[Finding("too_deep", "nesting too deep", element.sourceline, None, None)],
                    )
            else:
                depth -= 1
            yield event, element
    except etree.XMLSyntaxError as error:
        raise not_well_formed(error) from error


def local_name(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""
