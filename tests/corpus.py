"""The ../shared corpora as test cases: the W3C XML conformance suite (unpacked once into a temporary
folder: ../shared is read-only) and the malformed and attack files. Counts per outcome are collected in
REPORT and printed at the end of the run (tests/conftest.py), so a run shows what each corpus produced."""

from __future__ import annotations

import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from tests.conftest import shared_path

# corpus name -> outcome ("400 not_well_formed") -> count
REPORT: defaultdict[str, Counter[str]] = defaultdict(Counter)


@dataclass(frozen=True)
class ConformanceCase:
    id: str
    type: str  # not-wf | valid | invalid | error
    path: Path
    xml_version: str  # "1.0" or "1.1": libxml2 implements XML 1.0 only

    def read(self) -> bytes:
        return self.path.read_bytes()


def xmlconf_cases(workdir: Path) -> list[ConformanceCase]:
    """Every TEST of xmlconf/xmlconf.xml. Its sub-catalogs are included through external entities, so
    they are read one by one (URIs are relative to each sub-catalog) rather than by expanding them."""
    archive = shared_path("corpus", "xmlconf", "xmlts20130923.zip")
    root = workdir / "xmlconf"
    if not (root / "xmlconf.xml").exists():
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(workdir)
    catalog = (root / "xmlconf.xml").read_text(encoding="utf-8")
    cases = []
    for relative in re.findall(r'<!ENTITY\s+\S+\s+SYSTEM\s+"([^"]+)"', catalog):
        sub_catalog = root / relative
        text = re.sub(r"<\?xml[^>]*\?>", "", sub_catalog.read_text(encoding="utf-8"))
        for test in etree.fromstring(f"<catalog>{text}</catalog>").iter("TEST"):
            recommendation = test.get("RECOMMENDATION", "")
            cases.append(
                ConformanceCase(
                    id=test.get("ID", ""),
                    type=test.get("TYPE", ""),
                    path=sub_catalog.parent / test.get("URI", ""),
                    xml_version="1.1" if "1.1" in (test.get("VERSION", "") + recommendation) else "1.0",
                )
            )
    return cases


def corpus_files(*parts: str) -> Iterator[Path]:
    """Every file under ../shared/corpus/<parts> (DTDs, entity files and stylesheets included)."""
    yield from sorted(p for p in shared_path("corpus", *parts).rglob("*") if p.is_file())
