"""What every HTTP function shares: a resolver with the one error mapping, request decoding, and the
`responses=` helpers of the OpenAPI document.

Errors: a domain error (onair.errors.OnAirError) answers its status and `{"error": {code, message,
details}}`; request validation a 400 `invalid_request`; a transient failure a 503 `unavailable` with
Retry-After; anything else a 500 `internal` with the request id (and a log entry). Never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from onair.adapters.powertools import logger
from onair.errors import BadRequest, Finding, OnAirError, Transient
from onair.http.answer import ErrorBody

if TYPE_CHECKING:
    # Powertools' OpenAPI models cost ~70 ms to import; only /swagger and `make openapi` build the document.
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

ERROR_MEANINGS = {
    304: "not modified: the If-None-Match / If-Modified-Since copy is current",
    400: "invalid request or document (error.code says which)",
    404: "no such resource",
    409: "conflict",
    412: "If-Match names a version that is not the current one",
    413: "document too large",
    415: "unsupported media type or encoding",
    422: "well-formed but not processable: not a valid schedule, or a run too large (error.code says which)",
    503: "storage or a queue failed for a moment: repeat the request (with its Idempotency-Key)",
}


_Handler = TypeVar("_Handler", bound=Callable[..., Any])


class Resolver(APIGatewayHttpResolver):
    """Powertools documents a 422 for request validation and a 500 for response validation on every route;
    this API answers the first with a 400 `invalid_request` and the second with its ErrorBody 500, so the
    generated document leaves both out."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        schema = super().get_openapi_schema(**kwargs)
        for item in (schema.paths or {}).values():
            for operation in (item.get, item.post, item.put, item.delete, item.head):
                if operation and operation.responses:
                    default = operation.responses.get(422)
                    if getattr(default, "description", None) == "Validation Error":
                        del operation.responses[422]
                    default = operation.responses.get(500)
                    if getattr(default, "description", None) == "Response Validation Error":
                        del operation.responses[500]
        if schema.components and schema.components.schemas:
            for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
                schema.components.schemas.pop(name, None)
        return schema

    def on_error(self, exc_class: type[Exception] | list[type[Exception]]) -> Callable[[_Handler], _Handler]:
        """`exception_handler`, typed (Powertools' is not): it registers the handler and returns it as is."""
        register: Callable[[_Handler], _Handler] = self.exception_handler(exc_class)
        return register


FINDINGS = frozenset({"details", "warnings"})  # findings always show all five fields, null or not


def without_nulls(value: Any) -> Any:
    """Optional fields without a value are left out of answers rather than written as null."""
    if isinstance(value, dict):
        return {
            key: item if key in FINDINGS else without_nulls(item)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def _serialize(value: Any) -> str:
    return json.dumps(without_nulls(value), separators=(",", ":"))


def new_resolver() -> Resolver:
    app = Resolver(
        enable_validation=True,
        # An answer that does not match its route's model is our bug: a 500, never a client's 400.
        response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
        serializer=_serialize,
    )

    @app.on_error(OnAirError)
    def _domain_error(error: OnAirError) -> Response[Any]:
        return json_response(error.status, error.to_dict())

    @app.on_error([RequestValidationError, ValidationError])
    def _invalid_request(error: RequestValidationError | ValidationError) -> Response[Any]:
        details = [
            Finding(problem["type"], problem["msg"], path=".".join(map(str, problem["loc"]))).to_dict()
            for problem in error.errors()
        ]
        return error_response(HTTPStatus.BAD_REQUEST, "invalid_request", "the request is not valid", details)

    @app.on_error(Transient)
    def _unavailable(error: Transient) -> Response[Any]:
        logger.warning("transient error", exc_info=error)
        body = {"error": {"code": "unavailable", "message": "try again: " + str(error)[:200], "details": []}}
        return json_response(HTTPStatus.SERVICE_UNAVAILABLE, body, {"Retry-After": "1"})

    @app.on_error(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        logger.exception("unexpected error")
        request_id = app.current_event.request_context.request_id
        message = f"unexpected error; request id {request_id}"
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", message)

    @app.on_error(RouteNotFound)
    def _no_route(error: RouteNotFound) -> Response[Any]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")

    return app


def binary_response(
    status: int, content_type: str, data: bytes, headers: dict[str, str] | None = None
) -> Response[Any]:
    """An answer of arbitrary bytes (gzip, images). Powertools' response validation serializes a body as
    JSON-able text, which turns bytes into UTF-8 text and fails on any other byte (a 500): the body goes
    out already base64-encoded, as API Gateway expects binary bodies, and passes validation as text."""
    response: Response[Any] = Response(status, content_type, base64.b64encode(data).decode("ascii"), headers)
    response.base64_encoded = True
    return response


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body), headers)


def error_response(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> Response[Any]:
    return json_response(status, {"error": {"code": code, "message": message, "details": details or []}})


def request_body(app: APIGatewayHttpResolver) -> bytes:
    """The request body as sent, whatever it holds: the one place it is decoded. API Gateway base64-encodes
    binary bodies and passes text ones as a string; no route reads Powertools' `decoded_body`, which decodes
    to text and fails on bytes that are not UTF-8."""
    event = app.current_event
    raw = event.body or ""
    if not event.is_base64_encoded:
        return raw.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error as error:
        raise BadRequest("the body is not valid base64", code="invalid_request") from error


def query_flag(app: APIGatewayHttpResolver, name: str) -> bool:
    value = (app.current_event.get_query_string_value(name) or "false").lower()
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false, not '{value[:80]}'", code="invalid_request")
    return value == "true"


def query_int(app: APIGatewayHttpResolver, name: str, default: int) -> int:
    text = app.current_event.get_query_string_value(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise BadRequest(f"{name} must be a whole number, not '{text[:80]}'", code="invalid_request")
    return int(text)


def answers(status: int, model: type[Any] | None, description: str, *errors: int) -> dict[int, Any]:
    """The `responses` of a route for the OpenAPI document: its success and the errors it can answer."""
    success: dict[str, Any] = {"description": description}
    if model is not None:
        success["content"] = {content_types.APPLICATION_JSON: {"model": model}}
    failures = {
        code: {
            "description": ERROR_MEANINGS[code],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
        for code in (*errors, 503)  # every route that reads or writes storage can meet a transient error
    }
    return {status: success, **failures}


def query(
    name: str, description: str, values: list[str] | None = None, kind: str = "string"
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if values:
        schema["enum"] = values
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


STRICT = query("strict", "every finding is an error (lenient by default)", ["true", "false"])
