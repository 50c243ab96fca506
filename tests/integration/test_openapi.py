"""The OpenAPI document Powertools generates: committed as docs/openapi.json, and served by /swagger."""

from __future__ import annotations

import base64
import gzip
import json

from local.apigw import http_event
from local.template import ROOT

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
