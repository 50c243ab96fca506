"""The API's one OpenAPI document, merged from every HTTP function's routes (ApiFunction's and
FeedFunction's resolvers), as committed in docs/openapi.json:

    python -m onair.http.openapi docs/openapi.json      (make openapi; a test checks it is current)
"""

from __future__ import annotations

import sys
from pathlib import Path

API_VERSION = "0.2.0"


def document() -> str:
    # Here, not at the top: Powertools' OpenAPI models cost ~70 ms of every cold start, and only
    # /swagger and `make openapi` build the document.
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    from onair.http import api, feeds

    merged = OpenAPIMerge(
        title="OnAir",
        version=API_VERSION,
        summary="Broadcast schedules in (XMLTV, OnAir), playouts, EPGs and feeds out",
        description="Errors are 4xx answers with the body `{error: {code, message, details}}`. "
        "See README.md and docs/FORMATS.md.",
        on_conflict="error",
    )
    for app in (api.app, feeds.app):
        merged.add_schema(app.get_openapi_schema())  # type: ignore[arg-type]  # annotated dict, takes models too
    return merged.get_openapi_json_schema() + "\n"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(document())
