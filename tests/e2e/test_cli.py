"""The `onair` command against the local stack: import, run, wait, get, upload, queue-stats."""

from __future__ import annotations

import gzip
import io
import json
import xml.etree.ElementTree as ET

import pytest

from local.template import ROOT
from onair_cli.__main__ import main

pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "events" / "schedule.xml"


def onair(stack, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--url", stack.api, *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_imports_runs_waits_and_gets_the_guide(local_stack, tmp_path):
    # Given a schedule imported with the CLI
    code, out, err = onair(local_stack, "import", str(SAMPLE))
    assert code == 0, err
    schedule = json.loads(out)
    assert schedule["format"] == "xmltv" and schedule["programmes"] == 4
    # When a run is requested, then waited for
    code, out, err = onair(
        local_stack, "run", schedule["id"], "--from", "2026-12-01", "--days", "1", "--seed", "3"
    )
    assert code == 0, err
    run_id = json.loads(out)["id"]
    code, out, err = onair(local_stack, "wait", run_id, "--interval", "0.2")
    # Then it succeeded, the progress was shown, and its guide downloads as XMLTV
    assert code == 0, err
    assert json.loads(out)["status"] == "succeeded"
    assert f"{run_id}: succeeded" in err
    guide = tmp_path / "guide.xml"
    code, _out, err = onair(local_stack, "get", run_id, "guide.xml", "-o", str(guide))
    assert code == 0, err
    assert ET.fromstring(guide.read_bytes()).tag == "tv"
    code, out, _err = onair(local_stack, "queue-stats")
    assert code == 0 and "jobs" in json.loads(out)


def test_cli_uploads_a_gzip_file_and_waits_for_its_import(local_stack, tmp_path):
    document = tmp_path / "schedule.xml.gz"
    document.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    code, out, err = onair(local_stack, "upload", str(document))
    assert code == 0, err
    status = json.loads(out)
    assert status["status"] == "imported" and status["schedule_id"] == status["id"]


def test_cli_reports_a_rejected_document_and_exits_non_zero(local_stack, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<tv><programme></tv>")
    code, out, err = onair(local_stack, "import", str(broken))
    assert code == 1 and out == ""
    assert "400 not_well_formed" in err and '"line": 1' in err
    code, out, _err = onair(local_stack, "upload", str(broken))
    assert code == 1
    assert json.loads(out)["error"]["code"] == "not_well_formed"


def test_cli_reports_an_invalid_run_request(local_stack):
    code, out, _err = onair(local_stack, "import", str(SAMPLE))
    code, out, err = onair(local_stack, "run", json.loads(out)["id"], "--formats", "nonsense")
    assert code == 1 and out == ""
    assert "400 invalid_request" in err and "nonsense" in err
