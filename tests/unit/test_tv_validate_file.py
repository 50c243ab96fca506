"""XMLTV's own referee on the guides OnAir writes: `tv_validate_file` (Debian xmltv-util) reports no error on
the guide.xml of an OnAir schedule, and on the guide of an imported XMLTV listing no kind of error the
listing itself lacks. xmltv.dtd (../shared/reference, given as XMLTV_SUPPLEMENT, since tv_validate_file
would otherwise fetch it) validates every one of them with lxml too.

The kinds are the error keywords of XMLTV::ValidateFile, the module tv_validate_file runs: the listings are
judged by it in one perl process (tv_validate_file prints messages, not keywords, and starts perl per
file). A listing that fails the DTD stops the module before its other checks, so what the listing "has"
is what the module reports on it plus the importer's findings (their codes are the module's keywords)."""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from onair.errors import DocumentRejected
from onair.models import Channel, Item, OnAirSchedule, XmltvListing
from onair.playout.engine import generate
from onair.playout.types import RunRange
from onair.readers.schedule import parse_schedule
from onair.writers.guide import guide_xml
from tests.conftest import ROOT, shared_path

TV_VALIDATE_FILE = shutil.which("tv_validate_file")
pytestmark = pytest.mark.skipif(
    TV_VALIDATE_FILE is None, reason="tv_validate_file is absent: apt-get install xmltv-util (.ci/run does)"
)
LIMIT = 50 * 10**6
MARK = "==== OnAir: "
# For each file: ValidateFile's keywords, one line, after a mark (its messages go to the same stdout)
VALIDATE_EACH = (
    "use XMLTV::ValidateFile qw/ValidateFile/; $| = 1; "
    f'for my $file (@ARGV) {{ my @kinds = ValidateFile($file); print "\\n{MARK}@kinds\\n" }}'
)


def referee() -> dict[str, str]:
    return dict(os.environ, XMLTV_SUPPLEMENT=str(shared_path("reference")))


def tv_validate_file(path: Path) -> tuple[int, str]:
    """tv_validate_file's exit status and what it printed."""
    assert TV_VALIDATE_FILE is not None
    done = subprocess.run(
        [TV_VALIDATE_FILE, str(path)], capture_output=True, text=True, env=referee(), timeout=300, check=False
    )
    return done.returncode, done.stdout + done.stderr


def validate_kinds(paths: list[Path]) -> list[set[str]]:
    """The error keywords XMLTV::ValidateFile gives each file."""
    done = subprocess.run(
        ["perl", "-e", VALIDATE_EACH, *map(str, paths)],
        capture_output=True,
        text=True,
        env=referee(),
        timeout=600,
        check=True,
    )
    kinds = [set(line[len(MARK) :].split()) for line in done.stdout.splitlines() if line.startswith(MARK)]
    assert len(kinds) == len(paths), done.stdout[-2000:]
    return kinds


def dtd_errors(guide: bytes) -> list[str]:
    dtd = etree.DTD(str(shared_path("reference", "xmltv.dtd")))
    valid = dtd.validate(etree.fromstring(guide))
    return [] if valid else [str(error) for error in dtd.error_log.filter_from_errors()[:3]]


def every_attribute_schedule() -> OnAirSchedule:
    """Channels of every guide-id form with every player attribute, items with every guide attribute, and
    text XML and tv_validate_file are touchy about: entities, quotes, C1 controls, the replacement char."""
    text = 'Tom & Jerry; "live" <now> \x85 \ufffd \u00ef\u00bf\u00bd &amp;'
    return OnAirSchedule(
        timezone="Europe/London",
        channels=[
            Channel(id="radio1", name=text, number="7", logo="https://img.example/l.png?a=1&b=2", group=text,
                    stream="https://live.example/r1.m3u8"),
            Channel(id="bbc1.bbc.co.uk", name="BBC", number="7.1", stream="udp://@239.0.0.1:1234"),
            Channel(id="Ünï code", name="Ü", slate="https://img.example/slate.m3u8"),
        ],
        items=[
            Item(id="a", title=text, series=text, duration=1500, category="x&y", description=text, season=1,
                 episode=2, image="https://img.example/a.jpg?x=1&y=2", rating=text, kind="episode"),
            Item(id="b", title="Film", duration=5400, kind="movie", season=99_999),
            Item(id="c", title="Kids", duration=600, kind="kids", episode=99_999, rating="TV-Y"),
        ],
    )  # fmt: skip


def onair_guides(tmp_path: Path) -> list[tuple[str, Path, bytes]]:
    cases: list[tuple[str, OnAirSchedule]] = []
    for path in sorted((ROOT / "samples").glob("*.xml")):
        schedule = parse_schedule(path.read_bytes(), max_bytes=LIMIT).schedule
        assert isinstance(schedule, OnAirSchedule)
        cases.append((path.name, schedule))
    cases.append(("every attribute", every_attribute_schedule()))
    written = []
    for name, schedule in cases:
        # A Friday and a Saturday: the radio sample's weekday blocks, and its weekend
        guide = b"".join(guide_xml(schedule, generate(schedule, RunRange(date(2026, 12, 4), 2), 7)))
        target = tmp_path / f"{name}.guide.xml"
        target.write_bytes(guide)
        written.append((name, target, guide))
    return written


def test_tv_validate_file_reports_no_error_on_the_guide_of_an_onair_schedule(tmp_path):
    # Given the guide.xml of every sample and of a schedule with every attribute and awkward text
    guides = onair_guides(tmp_path)
    # When XMLTV's tv_validate_file judges each
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(pool.map(tv_validate_file, [path for _, path, _ in guides]))
    # Then it validates every one ("Validated ok.", exit 0), and so does xmltv.dtd
    for (name, _, guide), (status, printed) in zip(guides, verdicts, strict=True):
        assert (status, printed.strip()) == (0, "Validated ok."), (name, printed)
        assert dtd_errors(guide) == [], name


def test_tv_validate_file_refuses_the_guide_with_the_schedules_own_channel_ids(tmp_path):
    # Given the every-attribute guide with "radio1" written as it is in the schedule (as OnAir used to)
    schedule = every_attribute_schedule()
    guide = b"".join(guide_xml(schedule, generate(schedule, RunRange(date(2026, 12, 4), 1), 7)))
    target = tmp_path / "raw.xml"
    target.write_bytes(guide.replace(b'"radio1.onair"', b'"radio1"'))
    # Then the referee is not idle: it refuses it
    status, printed = tv_validate_file(target)
    assert status == 1 and "Invalid channel-id 'radio1'" in printed
    assert validate_kinds([target]) == [{"invalidid"}]


def listings() -> list[Path]:
    corpus = sorted(p for p in shared_path("corpus", "xmltv").rglob("*.xml"))
    return [ROOT / "events" / "schedule.xml", *corpus]


def test_tv_validate_file_finds_no_kind_of_error_in_a_listings_guide_that_the_listing_lacks(tmp_path):
    # Given every XMLTV listing of the corpus the importer accepts, and the sample event's
    cases = []
    for path in listings():
        try:
            parsed = parse_schedule(path.read_bytes(), max_bytes=LIMIT)
        except DocumentRejected:
            continue
        listing = parsed.schedule
        assert isinstance(listing, XmltvListing)
        # When its guide is written for the whole listing
        guide = b"".join(guide_xml(listing, generate(listing, RunRange(None, 1), 0)))
        target = tmp_path / f"{path.parent.name}-{path.name}"
        target.write_bytes(guide)
        cases.append((path, target, guide, {finding.code for finding in parsed.warnings}))
    assert len(cases) >= 20
    judged = validate_kinds([path for path, *_ in cases] + [target for _, target, *_ in cases])
    sources, guides = judged[: len(cases)], judged[len(cases) :]
    # Then the guide's kinds of error are among the listing's own, and xmltv.dtd validates the guide
    for (path, _, guide, found), had, kinds in zip(cases, sources, guides, strict=True):
        assert kinds <= had | found, (path.name, sorted(kinds - had - found))
        assert dtd_errors(guide) == [], path.name
    # And the referee judged the listings (most of the corpus has errors of its own)
    assert sum(1 for had in sources if had) >= 15
