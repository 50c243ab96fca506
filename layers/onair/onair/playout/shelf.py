"""A listing's programmes as a run holds them: the few fields the engine reads, each programme's stored XML
in a temporary file (on Lambda, /tmp) until the guide copies it.

The XML is more than half of a loaded programme (640 of 1,200 bytes: docs/PERFORMANCE.md, "The run shelves
the programmes"), and only guide.xml reads it, once per slot. On the shelf a programme costs its times,
title and three small fields; the guide reads each element back with one pread, from the page cache.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from onair.models import Clump, XmltvProgramme

_SIZE_BITS = 32  # a shelved element's place: its offset above these bits, its size in them


@dataclass(slots=True)
class ShelvedProgramme:
    """An XmltvProgramme as the engine reads it, its `xml` the shelf's place for the element."""

    channel: str
    start: datetime
    stop: datetime | None
    title: str
    clump: Clump | None
    guide_form: bool
    xml: int


class ProgrammeShelf:
    """The run's programmes (`programmes`, in listing order) and their elements' text, in a temporary file
    removed when the shelf is closed."""

    def __init__(self) -> None:
        self.programmes: list[ShelvedProgramme] = []
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the shelf; closed with it)
        self._end = 0

    def add(self, programmes: list[XmltvProgramme]) -> None:
        """Shelve a chunk of programmes, in order (models.load_stored hands them over a line at a time)."""
        texts = []
        for programme in programmes:
            text = programme.xml.encode()
            texts.append(text)
            self.programmes.append(
                ShelvedProgramme(
                    programme.channel,
                    programme.start,
                    programme.stop,
                    programme.title,
                    programme.clump,
                    programme.guide_form,
                    self._end << _SIZE_BITS | len(text),
                )
            )
            self._end += len(text)
        self._file.write(b"".join(texts))
        self._file.flush()  # xml() reads the file descriptor, past the buffer

    def hand_over(self) -> list[ShelvedProgramme]:
        """The programmes, once: the engine takes them, and the slots it makes keep what the writers need
        (a run's peak is 7 MiB lower for the 50 MiB listing without them). Their XML stays on the shelf."""
        programmes, self.programmes = self.programmes, []
        return programmes

    def xml(self, place: int) -> str:
        """The element shelved at `place` (a ShelvedProgramme's, or a slot's source_xml taken from it)."""
        size = place & ((1 << _SIZE_BITS) - 1)
        return os.pread(self._file.fileno(), size, place >> _SIZE_BITS).decode()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ProgrammeShelf:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
