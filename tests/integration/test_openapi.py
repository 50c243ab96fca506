"""The OpenAPI document Powertools generates: committed as docs/openapi.json, and served by /swagger."""

from __future__ import annotations

import base64
import functools
import gzip
import json

import jsonschema

from local.apigw import http_event, match_route
from local.template import ROOT
from tests.conftest import SAMPLE_ONAIR

COMMITTED = ROOT / "docs" / "openapi.json"


def generated_document() -> str:
    from onair.http.openapi import document

    return document()


def test_committed_openapi_document_is_current():
    # Given the routes as the handler declares them, when their document is generated
    current = generated_document()
    # Then it is the committed one
    stale = f"{COMMITTED.relative_to(ROOT)} is stale: refresh it with `make openapi` and commit it"
    assert COMMITTED.exists(), stale
    assert json.loads(COMMITTED.read_text()) == json.loads(current), stale
    assert COMMITTED.read_text() == current, stale


def test_openapi_document_covers_the_template_routes(stack):
    # Given the routes API Gateway sends to the functions
    document = json.loads(COMMITTED.read_text())
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    # (Swagger UI and the console are pages and files, not API: onair.http.console)
    routed = {
        route.route_key
        for route in stack.app.routes
        if route.path != "/swagger" and not route.path.startswith("/console")
    }
    # Then each is documented, and the document has no route API Gateway would not reach
    assert documented == routed
    # and every operation says what it answers, errors included, without Powertools' unused 422
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["summary"] and operation["operationId"], (method, path)
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_swagger_ui_is_served_with_its_assets_inline(stack):
    # When a browser asks for /swagger (API Gateway sends it to ImportFunction once routed)
    event = http_event("GET", "/swagger", headers={"accept-encoding": "gzip"})
    answer = stack.invoke("ApiFunction", event)
    # Then it gets the page, compressed, with Swagger UI's script and the API's document in it: no CDN
    assert answer["statusCode"] == 200
    headers = {name.lower(): value for name, value in answer["headers"].items()}
    assert headers["content-type"] == "text/html" and headers["content-encoding"] == "gzip"
    page = gzip.decompress(base64.b64decode(answer["body"])).decode()
    assert "SwaggerUIBundle" in page and '"title": "OnAir"' in page
    assert "<link rel='stylesheet'" not in page and "<script src=" not in page
    # and ?format=json answers the document itself
    as_json = stack.invoke("ApiFunction", http_event("GET", "/swagger", query="format=json"))
    assert json.loads(as_json["body"])["info"]["title"] == "OnAir"


def answered_as_documented(stack, method: str, path: str, body: bytes | str | None = None, **kwargs):
    """The API's answer, checked against docs/openapi.json: its status is documented for the route, and a
    JSON body validates against that status's schema (JSON Schema 2020-12, as OpenAPI 3.1 is)."""
    reply = stack.api(method, path, body, **kwargs)
    match = match_route(stack.app.routes, method, path)
    assert match is not None
    document = json.loads(COMMITTED.read_text())
    responses = document["paths"][match.route.path][method.lower()]["responses"]
    assert str(reply.status) in responses, (method, path, reply.status, reply.body[:300])
    content = responses[str(reply.status)].get("content", {}).get("application/json")
    if content is not None and reply.body:
        schema = {**content["schema"], "components": document["components"]}
        jsonschema.validate(json.loads(reply.body), schema, cls=jsonschema.Draft202012Validator)
    return reply


def test_real_answers_validate_against_the_documented_schemas(stack):
    # Given a schedule's life, a run and the reads an operator makes, each answer checked as it comes
    check = functools.partial(answered_as_documented, stack)
    check("GET", "/health")
    created = check("POST", "/schedules", SAMPLE_ONAIR).json()
    sid = created["id"]
    check("POST", "/schedules", b"<schedule><oops></schedule>")  # 400/422 with findings
    check("GET", f"/schedules/{sid}")
    check("PUT", f"/schedules/{sid}", SAMPLE_ONAIR, headers={"if-match": '"0"'})  # 412
    check("PUT", f"/schedules/{sid}", SAMPLE_ONAIR)
    check("GET", f"/schedules/{sid}/versions")
    check("GET", "/schedules", query="limit=5")
    check("GET", "/schedules", query="limit=0")  # 400
    run = check("POST", f"/schedules/{sid}/runs", json.dumps({"from": "2026-12-01"})).json()
    check("POST", f"/schedules/{sid}/runs", json.dumps({"from": "9999-12-31"}))  # 400/422
    stack.deliver_all("JobQueue", "RunFunction")
    assert check("GET", f"/runs/{run['id']}").json()["status"] == "succeeded"
    check("GET", "/runs", query=f"schedule_id={sid}")
    check("GET", f"/schedules/{sid}/playout", query="from=2026-12-01T00:00:00Z&to=2026-12-01T06:00:00Z")
    check("GET", "/queue-stats")
    upload = check("POST", "/uploads", json.dumps({"filename": "a.xml"})).json()
    check("GET", f"/uploads/{upload['id']}")
    check("POST", f"/schedules/{sid}/feed-token")
    check("GET", "/runs/0b6f8c52-6d3e-4a4b-9a51-6f1c1d2e3f40")  # 404
    check("DELETE", f"/schedules/{sid}")
    check("GET", f"/schedules/{sid}")  # 404
