"""Conformance against ../shared/corpus through the real handler: every document that is not a schedule,
not well-formed or hostile gets a 4xx with a specific code, never a 5xx, and nothing is stored.
Skips with the reason when ../shared is absent; tests/corpus.py prints the counts per code at the end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpus import REPORT, corpus_files, xmlconf_cases

XML = {"content-type": "application/xml"}
# The codes a rejected document may carry; anything else (or a 5xx) is a bug.
REJECTION_CODES = {"not_well_formed", "not_a_schedule", "dtd_not_allowed", "too_deep", "unsupported_encoding"}


@pytest.fixture(scope="module")
def xmlconf(tmp_path_factory: pytest.TempPathFactory):
    return xmlconf_cases(tmp_path_factory.mktemp("xmlconf"))


def post(stack, corpus: str, document: bytes) -> tuple[int, str]:
    reply = stack.api("POST", "/schedules", document, headers=XML)
    if not 400 <= reply.status < 500:
        REPORT[corpus][str(reply.status)] += 1
        return reply.status, ""
    error = reply.json()["error"]
    findings = "+".join(dict.fromkeys(finding["code"] for finding in error["details"])) or "-"
    REPORT[corpus][f"{reply.status} {error['code']}/{findings}"] += 1
    return reply.status, error["code"]


def test_xmlconf_catalogue_is_complete(xmlconf):
    counts = {
        kind: sum(1 for case in xmlconf if case.type == kind) for kind in ("not-wf", "valid", "invalid")
    }
    assert counts == {"not-wf": 1498, "valid": 812, "invalid": 242}


def test_every_not_well_formed_document_is_a_4xx_with_a_code(stack, xmlconf):
    # Given the 1,498 not-wf cases of the W3C suite
    cases = [case for case in xmlconf if case.type == "not-wf"]
    # When each is posted, then each is refused with a 4xx and a known code
    wrong = {}
    for case in cases:
        status, code = post(stack, "xmlconf not-wf", case.read())
        if not (400 <= status < 500 and code in REJECTION_CODES):
            wrong[case.id] = (status, code)
    assert wrong == {}
    assert stack.keys("schedules/") == []


def test_valid_xml_that_is_no_schedule_is_refused_as_not_a_schedule(stack, xmlconf):
    # Given well-formed, valid documents whose root is neither <tv> nor <schedule>
    wrong = {}
    for case in (c for c in xmlconf if c.type in ("valid", "invalid")):
        status, code = post(stack, f"xmlconf {case.type} (XML {case.xml_version})", case.read())
        # Then XML 1.0 ones are "not a schedule"; XML 1.1 ones (which libxml2, an XML 1.0 parser, may
        # find not well-formed) are refused with a 4xx either way
        expected = code == "not_a_schedule" if case.xml_version == "1.0" else code in REJECTION_CODES
        refused = 400 <= status < 500 and (expected or case.type == "invalid")
        if not refused:
            wrong[case.id] = (status, code)
    assert wrong == {}
    assert stack.keys("schedules/") == []


@pytest.mark.parametrize("corpus", ["malformed", "attacks"])
def test_malformed_and_attack_files_are_refused_without_side_effects(stack, corpus):
    wrong = {}
    for path in corpus_files(corpus):
        status, code = post(stack, corpus, path.read_bytes())
        if not (400 <= status < 500 and code in REJECTION_CODES):
            wrong[path.name] = (status, code)
    assert wrong == {}
    assert stack.keys() == []  # not even an upload record: the API path stores nothing on rejection


def test_attack_files_uploaded_to_s3_land_in_the_dlq_with_their_reason(stack):
    # Given each attack and malformed file uploaded through a presigned URL (moto raises the S3 event)
    files: list[Path] = [*corpus_files("attacks"), *corpus_files("malformed")]
    rejected = {}
    for path in files:
        grant = stack.api("POST", "/uploads").json()
        stack.s3.put_object(
            Bucket=stack.resources.bucket, Key=f"incoming/{grant['id']}.xml", Body=path.read_bytes()
        )
        # When ImportFunction processes the notification
        assert stack.deliver("ImportQueue", "ImportFunction") == {"batchItemFailures": []}
        rejected[grant["id"]] = stack.api("GET", f"/uploads/{grant['id']}").json()
    # Then every upload is rejected with the same codes as the API gives, reported in S3 and in the DLQ
    assert {upload["status"] for upload in rejected.values()} == {"rejected"}
    assert {upload["error"]["code"] for upload in rejected.values()} <= REJECTION_CODES
    assert len(stack.keys("rejected/")) == len(files)
    dead_letters = {}
    while messages := stack.receive("ImportDLQ"):
        for message in messages:
            attributes = message["MessageAttributes"]
            dead_letters[attributes["upload_id"]["StringValue"]] = attributes["error_code"]["StringValue"]
            stack.sqs.delete_message(
                QueueUrl=stack.resources.queue_urls["ImportDLQ"], ReceiptHandle=message["ReceiptHandle"]
            )
    assert dead_letters == {upload_id: upload["error"]["code"] for upload_id, upload in rejected.items()}
    assert stack.keys("schedules/") == []
    assert json.loads(
        stack.s3.get_object(Bucket=stack.resources.bucket, Key=f"rejected/{next(iter(rejected))}.json")[
            "Body"
        ].read()
    )["error"]["details"]
