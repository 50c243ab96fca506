"""One entry point for every schedule document: hardened parse, then the reader for its root element."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import IO

from onair import collector
from onair.errors import Finding, NotASchedule, NotWellFormed
from onair.models import (
    OnAirSchedule,
    ProgrammeSpool,
    StoredSchedule,
    XmltvListing,
    findings_to_dicts,
    load_stored,
    stored_json_chunks,
)
from onair.readers.onair import read_onair
from onair.readers.xml import (
    is_blank,
    iterparse,
    local_name,
    read_body,
    refuse_internal_subset,
    root_name,
)
from onair.readers.xmltv import READ_TAGS, read_xmltv

SCHEDULE_ROOTS = frozenset({"tv", "schedule"})


@dataclass(frozen=True)
class ParsedSchedule:
    source: IO[bytes]  # the document as received, after gunzip: a file, at its start
    source_bytes: int
    head: XmltvListing | OnAirSchedule  # the schedule; a spooled listing's without its programmes
    warnings: list[Finding]
    spool: ProgrammeSpool | None = None  # a large listing's programmes, as schedule.json's lines

    def counts(self) -> dict[str, int]:
        counts = self.head.counts()
        if self.spool is not None:
            counts["programmes"] = self.spool.count
        return counts

    def stored_json(self, schedule_id: str, created_at: datetime) -> Iterator[bytes]:
        """schedule.json, in pieces (models.stored_json_chunks): the spool's programmes are copied, never
        held whole."""
        warnings = findings_to_dicts(self.warnings)
        stored = StoredSchedule(id=schedule_id, created_at=created_at, warnings=warnings, schedule=self.head)
        return stored_json_chunks(stored, self.spool)

    @property
    def schedule(self) -> XmltvListing | OnAirSchedule:
        """The whole schedule, a spooled listing's programmes read back (as a run loads them)."""
        if self.spool is None:
            return self.head
        lines = (line.removesuffix(b"\n") for line in self.stored_json("parsed", datetime.now(UTC)))
        return load_stored(lines).schedule


@collector.paused()  # what the import keeps of each programme or item lives as long as the import
def parse_schedule(document: bytes | IO[bytes], *, max_bytes: int, strict: bool = False) -> ParsedSchedule:
    """Validate and normalize an XMLTV or OnAir document, or raise a DocumentRejected with findings. The
    document is read a chunk at a time when it is a (seekable) file: an upload is never held whole."""
    source = read_body(BytesIO(document) if isinstance(document, bytes) else document, max_bytes)
    if is_blank(source):
        raise NotWellFormed("the document is empty", details=[Finding("notwell", "no content", 1, 1, None)])
    refuse_internal_subset(source, SCHEDULE_ROOTS)
    elements = iterparse(source, READ_TAGS if root_name(source) == "tv" else None)
    first = next(elements, None)
    if first is None:  # a <tv> without channels or programmes: read every element instead
        elements = iterparse(source)
        first = next(elements)  # a document without an element is a syntax error, raised by iterparse
    root = first.getroottree().getroot()
    elements = itertools.chain([first], elements)
    name = local_name(root)
    if root.tag == "tv":  # XMLTV has no namespace: <tv xmlns="urn:x"> is some other vocabulary's <tv>
        listing, spool, warnings = read_xmltv(root, elements, strict=strict)
        return ParsedSchedule(source, _size(source), listing, warnings, spool)
    if name == "schedule":  # its reader answers a wrong or missing namespace with a finding of its own
        schedule, warnings = read_onair(root, elements, strict=strict)
        return ParsedSchedule(source, _size(source), schedule, warnings)
    for _ in elements:  # a document that is not even well-formed says so before "not a schedule"
        pass
    if name == "tv":
        namespace = str(root.tag)[1:].partition("}")[0]  # a parsed element's tag is a str
        raise NotASchedule(
            f"<tv> in namespace '{namespace}' is not an XMLTV listing: XMLTV elements have no namespace",
            details=[
                Finding(
                    "not_a_schedule",
                    f"root element <tv> in namespace '{namespace}'",
                    root.sourceline,
                    None,
                    "/tv",
                )
            ],
        )
    raise NotASchedule(
        f"<{name}> is not a schedule document: expected an XMLTV <tv> or an OnAir <schedule> root",
        details=[Finding("not_a_schedule", f"root element <{name}>", root.sourceline, None, f"/{name}")],
    )


def _size(source: IO[bytes]) -> int:
    """The file's size; it is left at its start, for whoever stores it."""
    size = source.seek(0, os.SEEK_END)
    source.seek(0)
    return size
