"""Property: whatever a client sends to any route of template.yaml (bytes, encodings, JSON of any shape,
numbers of any size, headers, query strings, path parameters), the API answers it, and every 4xx is a coded
error body that changed nothing stored and names no internal S3 key. A 5xx is a bug.

The routes come from template.yaml, their query parameters and body media types from docs/openapi.json (a
test keeps it in step with the code), the header names a browser may send from the template's CORS rule.
"""

from __future__ import annotations

import gzip
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.template import Route, load_template
from onair import keys
from tests.conftest import ROOT, SAMPLE_ONAIR, SAMPLE_XMLTV

APP = load_template()
OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text())
EXAMPLES = 60  # per route; each example is one handler invocation on moto

ID = "[0-9a-f-]{36}"
# The shapes of the bucket's keys (onair/keys.py), with any id: an answer must never show one.
INTERNAL_KEY = re.compile(
    "|".join(
        re.escape(shape).replace("ID", ID).replace("NAME", r"[\w.]+")
        for shape in (
            keys.incoming("ID"),
            keys.upload_status("ID"),
            keys.rejected("ID"),
            keys.schedule_prefix("ID"),
            keys.run_status("ID"),
            keys.run_output("ID", "NAME"),
            keys.run_idempotency("ID", "x").rpartition("/")[0] + "/",
        )
    )
)


def cors_headers() -> list[str]:
    """The request headers the template's CORS rule lets a browser send (wherever the rule sits)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                if name == "AllowHeaders" and isinstance(value, list):
                    found.extend(str(v) for v in value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(APP.raw["Resources"])
    assert found, "template.yaml has no CORS AllowHeaders any more: derive the header names elsewhere"
    return found


def operation(route: Route) -> dict[str, Any]:
    """The route's operation in the OpenAPI document (none for /swagger, which serves the document)."""
    return OPENAPI["paths"].get(route.path, {}).get(route.method.lower(), {})


# --- strategies -----------------------------------------------------------------------------------------

# Integers past every limit (int64, Python's 4300-digit str->int limit), floats JSON cannot hold.
HUGE_NUMBERS = st.sampled_from(
    [
        "9" * 20,
        "-" + "9" * 20,
        "1" * 4301,
        "9" * 10000,
        "1e400",
        "-1e400",
        "1e-400",
        "0.0000000000000000000001",
        "1E+2",
        "NaN",
        "Infinity",
        "-0",
        str(2**63),
        str(2**64),
    ]
)
ENCODINGS = st.sampled_from(
    ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "latin-1", "cp500"]
)


def json_values(names: list[str]) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        st.sampled_from(["2026-12-01", "0001-01-01", "9999-12-31", "2026-02-30", "2026-12-01T00:00:00Z", ""]),
    )
    keys_ = st.one_of(st.sampled_from(names), st.text(max_size=10)) if names else st.text(max_size=10)
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(keys_, children, max_size=5),
        max_leaves=12,
    )


@st.composite
def json_bodies(draw: st.DrawFn, names: list[str]) -> bytes:
    """JSON texts: of any shape, with the route's field names, with numbers spelt past every limit, in
    encodings JSON does not allow, or cut short."""
    value = draw(json_values(names))
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    if names and draw(st.booleans()):
        field = draw(st.sampled_from(names))
        text = "{" + f'"{field}": {draw(HUGE_NUMBERS)}' + "}"
    data = text.encode(draw(ENCODINGS), errors="replace")
    if draw(st.integers(0, 5)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


DECLARED = st.sampled_from(
    ["UTF-8", "UTF-16", "UTF-32", "UCS-4", "UTF-7", "ISO-2022-JP", "IBM500", "rot13", "base64", "x-klingon"]
)


@st.composite
def xml_bodies(draw: st.DrawFn) -> bytes:
    """Our samples in some encoding, declaring that or another one, perhaps with an internal subset, a byte
    changed, gzipped (whole, cut, with bytes after the stream, or in two members)."""
    document = draw(st.sampled_from([SAMPLE_XMLTV, SAMPLE_ONAIR])).decode()
    codec = draw(ENCODINGS | st.just("utf-7"))
    declared = draw(st.just(codec) | DECLARED)
    document = document.replace('encoding="UTF-8"', f'encoding="{declared}"')
    if draw(st.booleans()):
        document = document.replace("<tv", '<!DOCTYPE tv [<!ENTITY e "e">]><tv', 1)
    data = document.encode(codec, errors="replace")
    if codec == "utf-7":
        data = data.replace(b"[", b"+AFs-")
    if draw(st.booleans()) and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if draw(st.booleans()):
        whole = gzip.compress(data)
        cut = draw(st.sampled_from(["whole", "cut", "garbage", "members"]))
        if cut == "whole":
            data = whole
        elif cut == "cut":
            data = whole[: draw(st.integers(0, len(whole) - 1))]
        elif cut == "garbage":
            data = whole + draw(st.binary(min_size=1, max_size=20))
        else:
            at = draw(st.integers(0, len(data)))
            data = gzip.compress(data[:at]) + gzip.compress(data[at:])
    return data


def bodies(route: Route) -> st.SearchStrategy[bytes | None]:
    body = operation(route).get("requestBody", {})
    names = [
        name
        for media in body.get("content", {}).values()
        for name in (media.get("schema") or {}).get("properties", {})
    ]
    return st.one_of(
        st.none(),
        st.binary(max_size=300),
        st.sampled_from([b"\xe9", b'{"x":"\xe9"}', b"\xff\xfe{\x00}\x00", b"\x00" * 10, b"\xef\xbb\xbf{}"]),
        json_bodies(names),
        xml_bodies(),
    )


SEGMENT_CHARS = st.characters(
    codec="utf-8", exclude_characters="/?#%", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")
)


@st.composite
def path_values(draw: st.DrawFn, known: list[str]) -> str:
    """A path segment: an id that exists, an id-like string, any text (percent-encoded as a client would
    send it), very long, or percent escapes of bytes that are not UTF-8."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(st.sampled_from(known))
    if kind == 1:
        return draw(st.uuids()).hex if draw(st.booleans()) else str(draw(st.uuids()))
    if kind == 2:
        return quote(draw(st.text(SEGMENT_CHARS, min_size=1, max_size=40)), safe="")
    if kind == 3:
        return draw(st.sampled_from(["a" * 5000, "%ff%fe", "%00", "..", "%2F", "%2e%2e", "9" * 400]))
    if kind == 4:
        return "".join(f"%{b:02X}" for b in draw(st.binary(min_size=1, max_size=12)))
    return draw(st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=40))


@st.composite
def query_strings(draw: st.DrawFn, route: Route) -> str:
    declared = {
        p["name"]: p.get("schema", {}).get("enum", [])
        for p in operation(route).get("parameters", [])
        if p["in"] == "query"
    }
    names = (
        st.one_of(st.sampled_from(sorted(declared)), st.text(max_size=8)) if declared else st.text(max_size=8)
    )
    pairs = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(names)
        values = declared.get(name) or ["true"]
        value = draw(
            st.one_of(
                st.sampled_from(values), st.text(max_size=30), st.sampled_from(["", "x" * 8000, "TRUE"])
            )
        )
        pairs.append((name, value))
    text = urlencode(pairs)
    if draw(st.integers(0, 4)) == 0:
        text += draw(st.sampled_from(["&%ff=%fe", "&strict", "&&&", "&=", "&strict=%00", "&a=%zz"]))
    return text


@st.composite
def header_sets(draw: st.DrawFn, route: Route) -> dict[str, str]:
    media = list(operation(route).get("requestBody", {}).get("content", {}))
    names = st.one_of(st.sampled_from(cors_headers()), st.sampled_from(["content-length", "x-forwarded-for"]))
    value = st.one_of(
        st.sampled_from(media or ["application/json"]),
        st.sampled_from(["", "x" * 300, "application/xml; charset=utf-32", "gzip", "*/*", "text/xml;;"]),
        st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=40),
    )
    return draw(st.dictionaries(names, value, max_size=4))


# --- the property ---------------------------------------------------------------------------------------


@pytest.fixture
def known(stack) -> list[str]:
    """Ids and names that exist: a schedule, a finished run, an upload, each output name."""
    schedule = stack.api("POST", "/schedules", SAMPLE_ONAIR).json()["id"]
    run = stack.api("POST", f"/schedules/{schedule}/runs", '{"from": "2026-12-01"}').json()["id"]
    stack.deliver("JobQueue", "RunFunction")
    assert stack.api("GET", f"/runs/{run}").json()["status"] == "succeeded"
    upload = stack.api("POST", "/uploads").json()["id"]
    outputs = list(stack.api("GET", f"/runs/{run}").json()["outputs"])
    return [schedule, run, upload, *outputs]


def stored(stack) -> set[tuple[str, str]]:
    """Every version of every object, and the depth of every queue: what a refused request must not change."""
    versions = stack.s3.list_object_versions(Bucket=stack.resources.bucket).get("Versions", [])
    depths = set()
    for queue, url in stack.resources.queue_urls.items():
        attributes = stack.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths.add((queue, json.dumps(attributes, sort_keys=True)))
    return {(v["Key"], v["VersionId"]) for v in versions} | depths


def assert_coded_error(body: bytes) -> None:
    error = json.loads(body)["error"]
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error
    for detail in error["details"]:
        assert set(detail) == {"code", "line", "column", "path", "message"}, detail
        assert isinstance(detail["code"], str) and detail["code"], detail


@pytest.mark.parametrize("route", APP.routes, ids=lambda route: route.route_key)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_request_to_any_route_gets_an_answer_or_a_coded_4xx_that_changes_nothing(
    stack, known, route, data
):
    # Given a route of template.yaml and a request of any bytes, headers, query and path parameters
    segments = []
    for segment in route.path.split("/"):
        is_parameter = segment.startswith("{")
        segments.append(data.draw(path_values(known), label=segment) if is_parameter else segment)
    path = "/".join(segments)
    query = data.draw(query_strings(route), label="query")
    headers = data.draw(header_sets(route), label="headers")
    body = data.draw(bodies(route), label="body")
    before = stored(stack)
    # When it is sent
    reply = stack.api(route.method, path, body, query=query, headers=headers)
    # Then it is answered: never a 5xx; a 4xx is a coded error that stored and queued nothing
    assert reply.status < 500, reply.body[:2000]
    if reply.status >= 400:
        assert_coded_error(reply.body)
        assert stored(stack) == before, "a refused request changed what is stored or queued"
        assert not INTERNAL_KEY.search(reply.body.decode("utf-8", "replace")), reply.body[:2000]
