"""Shared test helpers: sample documents and the ../shared corpus location."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

SAMPLE_XMLTV = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tv SYSTEM "xmltv.dtd">
<tv generator-info-name="test">
  <channel id="one.example"><display-name>One</display-name></channel>
  <channel id="two.example"><display-name>Two</display-name></channel>
  <programme start="20261201190000 +0100" stop="20261201200000 +0100" channel="one.example">
    <title lang="en">Evening News</title><desc>Headlines.</desc>
  </programme>
  <programme start="20261201180000 +0100" stop="20261201190000 +0100" channel="one.example">
    <title lang="en">Quiz</title>
  </programme>
  <programme start="20261201180000 +0000" stop="20261201183000 +0000" channel="two.example">
    <title>Cartoons</title>
  </programme>
</tv>
"""

SAMPLE_ONAIR = b"""<?xml version="1.0" encoding="UTF-8"?>
<schedule xmlns="urn:onair:schedule:1" timezone="Europe/Paris">
  <channels><channel id="radio1" name="Radio One"/></channels>
  <library>
    <item id="a" title="Morning" artist="Band A" duration="PT3M30S" category="pop"/>
    <item id="b" title="Evening" artist="Band B" duration="PT4M" category="rock"/>
  </library>
</schedule>
"""


@dataclass
class Reply:
    """An HTTP answer, from a handler (integration) or over the wire (e2e)."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or a skip with the reason when this clone has no ../shared beside it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpus sits beside the clone in CI only")
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.corpus import REPORT

    if REPORT:
        terminalreporter.section("corpus outcomes (HTTP status and error code per corpus)")
        for corpus, outcomes in sorted(REPORT.items()):
            counts = ", ".join(f"{outcome}: {count}" for outcome, count in sorted(outcomes.items()))
            terminalreporter.write_line(f"{corpus} ({sum(outcomes.values())}): {counts}")
