"""ApiFunction's console routes (/console/, config.json) and the guide's bounded playout read
(GET /schedules/{id}/playout), through the template's routes with moto."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from local.apigw import http_event, match_route
from local.template import ROOT
from onair import keys
from onair.bootstrap import services
from onair.http.models import ConsoleConfig, PlayoutWindow
from onair.usecases import guide
from onair.writers import WRITERS
from tests.conftest import SAMPLE_XMLTV

CONSOLE = ROOT / "functions" / "api" / "console"
RADIO = (ROOT / "samples" / "radio-rotation.xml").read_bytes()
DAY = "2026-06-01"


@pytest.fixture(autouse=True)
def fresh_guide_cache():
    guide.CACHE.clear()
    yield
    guide.CACHE.clear()


# --- files -------------------------------------------------------------------------------------------------


def test_console_without_slash_redirects_to_the_console_keeping_the_query(stack):
    reply = stack.api("GET", "/console")
    assert (reply.status, reply.headers["location"]) == (302, "/console/")
    reply = stack.api("GET", "/console", query="day=2026-06-01")
    assert reply.headers["location"] == "/console/?day=2026-06-01"


def test_console_index_is_html_with_a_policy_that_allows_scripts_from_the_console_only(stack):
    reply = stack.api("GET", "/console/")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.body == (CONSOLE / "index.html").read_bytes()
    assert reply.headers["cache-control"] == "no-cache" and reply.headers["etag"].startswith('W/"')
    assert reply.headers["x-content-type-options"] == "nosniff"
    policy = dict(part.strip().split(" ", 1) for part in reply.headers["content-security-policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    # The presigned upload PUT goes to the bucket's endpoint: the policy lets the console connect there
    grant = stack.api("POST", "/uploads").json()
    bucket = "/".join(grant["url"].split("/")[:3])
    assert policy["connect-src"].split() == ["'self'", bucket]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("js/main.js", "text/javascript; charset=utf-8"),
        ("js/pages/guide.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ],
)
def test_console_files_answer_with_their_type(stack, path, content_type):
    reply = stack.api("GET", f"/console/{path}")
    assert (reply.status, reply.headers["content-type"]) == (200, content_type)
    assert reply.body == (CONSOLE / path).read_bytes()


@pytest.mark.parametrize("path", ["/console/js/epg.js", "/console/config.json", "/console/"])
def test_a_matching_etag_is_a_304_without_a_body(stack, path):
    first = stack.api("GET", path)
    # With gzip accepted too: a 304 carries no body (a gzipped "null" once broke the browser's connection)
    headers = {"if-none-match": first.headers["etag"], "accept-encoding": "gzip"}
    again = stack.api("GET", path, headers=headers)
    assert (again.status, again.body, again.headers["etag"]) == (304, b"", first.headers["etag"])
    assert "content-encoding" not in again.headers
    other = stack.api("GET", path, headers={"if-none-match": 'W/"something-else"'})
    assert other.status == 200


def test_files_are_gzipped_when_the_request_accepts_it(stack):
    reply = stack.api("GET", "/console/js/epg.js", headers={"accept-encoding": "gzip, deflate, br"})
    assert reply.headers["content-encoding"] == "gzip" and reply.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(reply.body) == (CONSOLE / "js" / "epg.js").read_bytes()
    assert "content-encoding" not in stack.api("GET", "/console/js/epg.js").headers


@pytest.mark.parametrize("page", ["schedules/abc", "schedules/abc/guide", "uploads/x", "import", "callback"])
def test_deep_links_answer_the_index_page(stack, page):
    reply = stack.api("GET", f"/console/{page}")
    assert reply.status == 200 and reply.body == (CONSOLE / "index.html").read_bytes()


@pytest.mark.parametrize(
    "path",
    ["/console/nope.js", "/console/js/../../app.py", "/console/../../template.yaml", "/console/x/.env"],
)
def test_files_outside_the_console_or_missing_are_404s(stack, path):
    reply = stack.api("GET", path)
    assert reply.status == 404 and reply.json()["error"]["code"] == "not_found"
    assert b"lambda_handler" not in reply.body and b"AWSTemplateFormatVersion" not in reply.body


def test_a_console_route_never_runs_a_management_route(stack):
    # Given a request that API Gateway matched to an open console route, whatever its raw path says
    (route,) = [r for r in stack.app.routes if r.route_key == "GET /console/{proxy+}"]
    event = http_event("GET", "/queue-stats", route=route, path_parameters={"proxy": "x"})
    # Then ApiFunction answers 404 instead of the (authorized) management route
    result = stack.invoke("ApiFunction", event)
    assert result["statusCode"] == 404
    assert json.loads(result["body"])["error"]["code"] == "not_found"
    # while the same path through its own route answers
    match = match_route(stack.app.routes, "GET", "/queue-stats")
    assert (
        stack.invoke("ApiFunction", http_event("GET", "/queue-stats", route=match.route))["statusCode"] == 200
    )


# --- config.json -------------------------------------------------------------------------------------------


def test_config_gives_the_import_limit_the_outputs_and_the_auth_mode_from_the_template(stack):
    reply = stack.api("GET", "/console/config.json")
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    config = ConsoleConfig.model_validate_json(reply.body)
    assert config.max_import_bytes == int(stack.app.parameters["MaxImportBytes"])
    assert config.max_upload_bytes == int(stack.app.parameters["MaxUploadBytes"])
    assert config.auth == stack.app.parameters["AuthMode"]
    assert config.formats == sorted(WRITERS)
    assert config.oidc is None


def test_config_with_jwt_names_the_issuer_and_the_first_audience_as_client(stack, monkeypatch):
    # Given ApiFunction deployed with AuthMode=jwt, JwtIssuer and JwtAudience "console-client,other"
    monkeypatch.setenv("AUTH_MODE", "jwt")
    monkeypatch.setenv("OIDC_ISSUER", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc")
    monkeypatch.setenv("OIDC_CLIENT_ID", "console-client")
    services.cache_clear()
    reply = stack.api("GET", "/console/config.json")
    config = ConsoleConfig.model_validate_json(reply.body)
    assert config.auth == "jwt"
    assert config.oidc is not None
    assert (config.oidc.issuer, config.oidc.client_id, config.oidc.scope) == (
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
        "console-client",
        "openid",
    )
    # And the console may connect to the issuer (discovery) and its token endpoint
    policy = reply.headers["content-security-policy"]
    assert "https://cognito-idp.eu-west-1.amazonaws.com" in policy and " https:" in policy


# --- the playout window ------------------------------------------------------------------------------------


def published(stack, document: bytes, request: dict[str, Any]) -> dict[str, Any]:
    schedule = stack.api("POST", "/schedules", document).json()
    reply = stack.api("POST", f"/schedules/{schedule['id']}/runs", json.dumps(request))
    assert reply.status == 202, reply.body
    assert stack.deliver("JobQueue", "RunFunction") == {"batchItemFailures": []}
    return stack.api("GET", f"/schedules/{schedule['id']}").json()


def playout(stack, schedule_id: str, **query: str) -> Any:
    text = "&".join(f"{k.rstrip('_')}={v}" for k, v in query.items()).replace("+", "%2B")
    return stack.api("GET", f"/schedules/{schedule_id}/playout", query=text)


def test_playout_before_a_run_is_published_is_404_not_published(stack):
    schedule = stack.api("POST", "/schedules", SAMPLE_XMLTV).json()
    reply = playout(stack, schedule["id"])
    assert (reply.status, reply.json()["error"]["code"]) == (404, "not_published")
    reply = playout(stack, "0b6f8c52-6d3e-4a4b-9a51-6f1c1d2e3f40")
    assert (reply.status, reply.json()["error"]["code"]) == (404, "not_found")


def test_playout_window_answers_the_slots_on_air_in_it_with_the_channels_names(stack):
    # Given the XMLTV sample published (One: Quiz 18-19, News 19-20 at +01:00; Two: Cartoons 18:00-18:30 UTC)
    schedule = published(stack, SAMPLE_XMLTV, {"from": "2026-12-01", "days": 1})
    # When the window 18:30-19:30 +01:00 is read
    reply = playout(stack, schedule["id"], from_="2026-12-01T18:30:00+01:00", to="2026-12-01T19:30:00+01:00")
    assert reply.status == 200, reply.body
    answer = PlayoutWindow.model_validate_json(reply.body)
    # Then it holds what is on air in it (a programme that began before it, one that ends after it), not
    # the cartoons (17:00-17:30 UTC+1... 18:00-18:30 UTC is 19:00-19:30 +01:00: on air too)
    titles = [(slot.channel, slot.title) for slot in answer.slots]
    assert titles == [("one.example", "Quiz"), ("one.example", "Evening News"), ("two.example", "Cartoons")]
    assert answer.run_id == schedule["published"]["run_id"]
    assert [(c.id, c.name) for c in answer.channels] == [("one.example", "One"), ("two.example", "Two")]
    assert answer.timezone is None  # XMLTV: times carry their own offsets
    # And a window that ends when a programme starts does not hold it
    reply = playout(stack, schedule["id"], from_="2026-12-01T18:00:00+01:00", to="2026-12-01T19:00:00+01:00")
    assert [s["title"] for s in reply.json()["slots"]] == ["Quiz"]


def test_playout_of_one_channel(stack):
    schedule = published(stack, SAMPLE_XMLTV, {"from": "2026-12-01", "days": 1})
    window = {"from_": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"}
    reply = playout(stack, schedule["id"], channel="two.example", **window)
    answer = reply.json()
    assert [c["id"] for c in answer["channels"]] == ["two.example"]
    assert {s["channel"] for s in answer["slots"]} == {"two.example"}
    reply = playout(stack, schedule["id"], channel="three.example", **window)
    assert (reply.status, reply.json()["error"]["code"]) == (404, "not_found")


def test_playout_of_an_onair_run_has_its_zone_blocks_pools_and_rule_breaks(stack):
    schedule = published(stack, RADIO, {"from": DAY, "days": 1})
    reply = playout(stack, schedule["id"], from_=f"{DAY}T00:00:00+02:00", to="2026-06-02T00:00:00+02:00")
    answer = PlayoutWindow.model_validate_json(reply.body)
    assert answer.timezone == "Europe/Paris"
    assert {slot.kind for slot in answer.slots} >= {"block"}
    assert any(slot.pool and slot.block for slot in answer.slots)
    stored = json.loads(stack.api("GET", f"/runs/{answer.run_id}/output/playout.json").body)
    expected = [b for b in stored["report"]["rule_breaks"]]
    assert expected, "the radio sample breaks rules on its small library"
    assert [(b.rule, b.channel, b.item_id) for b in answer.rule_breaks] == [
        (b["rule"], b["channel"], b["item_id"]) for b in sorted(expected, key=lambda b: b["at"])
    ]
    # Every slot of the day, each channel's in time order
    day = [e for e in stored["playout"] if e["start"] < "2026-06-02T00:00:00+02:00"]
    assert len(answer.slots) == len(day)
    for channel in {s.channel for s in answer.slots}:
        starts = [s.start for s in answer.slots if s.channel == channel]
        assert starts == sorted(starts)


def test_playout_defaults_to_the_next_24_hours(stack):
    schedule = published(stack, RADIO, {"days": 2})
    reply = playout(stack, schedule["id"])
    assert reply.status == 200
    slots = reply.json()["slots"]
    now = datetime.now().astimezone()
    assert slots
    assert all(datetime.fromisoformat(s["stop"]) > now - timedelta(minutes=1) for s in slots)
    assert all(datetime.fromisoformat(s["start"]) < now + timedelta(hours=24, minutes=1) for s in slots)


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"from_": "2026-12-01T00:00:00Z", "to": "2026-12-03T00:00:01Z"}, "to"),  # over 48 h
        ({"from_": "2026-12-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),  # empty
        ({"from_": "2026-12-01T00:00:00"}, "from"),  # no offset
        ({"to": "tomorrow"}, "to"),
    ],
)
def test_bad_windows_are_400s(stack, query, path):
    schedule = published(stack, SAMPLE_XMLTV, {"from": "2026-12-01", "days": 1})
    reply = playout(stack, schedule["id"], **query)
    error = reply.json()["error"]
    assert (reply.status, error["code"], error["details"][0]["path"]) == (400, "invalid_request", path)


def test_playout_is_gzipped_when_accepted_and_read_from_memory_after_the_first_time(stack):
    schedule = published(stack, RADIO, {"from": DAY, "days": 1})
    window = f"from={DAY}T00:00:00Z&to={DAY}T12:00:00Z"
    path = f"/schedules/{schedule['id']}/playout"
    plain = stack.api("GET", path, query=window)
    packed = stack.api("GET", path, query=window, headers={"accept-encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed.body) == plain.body
    # Given the playout was read once, when its feed copy is gone, the same run's windows still answer
    run_id = schedule["published"]["run_id"]
    stack.s3.delete_object(
        Bucket=stack.resources.bucket, Key=keys.feed_file(schedule["id"], run_id, "playout.json")
    )
    again = stack.api("GET", path, query=window)
    assert (again.status, again.body) == (200, plain.body)


def test_a_window_too_large_for_one_answer_is_a_413(stack, monkeypatch):
    from onair.http import api

    schedule = published(stack, RADIO, {"from": DAY, "days": 1})
    monkeypatch.setattr(api, "PLAYOUT_ANSWER_BYTES", 2000)
    reply = playout(stack, schedule["id"], from_=f"{DAY}T00:00:00Z", to=f"{DAY}T12:00:00Z")
    assert (reply.status, reply.json()["error"]["code"]) == (413, "window_too_large")
    # one hour of one channel fits
    monkeypatch.setattr(api, "PLAYOUT_ANSWER_BYTES", 200_000)
    assert playout(stack, schedule["id"], from_=f"{DAY}T10:00:00Z", to=f"{DAY}T11:00:00Z").status == 200


def test_playout_of_a_run_without_playout_json_says_so(stack):
    schedule = published(stack, SAMPLE_XMLTV, {"from": "2026-12-01", "days": 1, "formats": ["guide.xml"]})
    reply = playout(stack, schedule["id"], from_="2026-12-01T00:00:00Z")
    assert (reply.status, reply.json()["error"]["code"]) == (404, "no_playout")


def test_paths_that_name_no_file_are_not_remembered(stack):
    # Given many deep links and missing files asked for (any path can be)
    from onair.http.console import ASSETS

    for n in range(50):
        stack.api("GET", f"/console/schedules/{n}/guide")
        stack.api("GET", f"/console/missing-{n}.js")
    # Then only real files are kept in memory
    assert set(ASSETS._files) <= {str(p.relative_to(CONSOLE)) for p in CONSOLE.rglob("*") if p.is_file()}
