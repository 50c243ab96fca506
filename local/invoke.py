"""`python -m local.invoke FunctionLogicalId events/x.json`: one handler, in-process, like `sam local invoke`.

Talks to a running local stack when AWS_ENDPOINT_URL is set (with AWS_ENDPOINT_URL_S3 and _SQS for its two
emulators: `make run` prints the line to export); otherwise provisions the template in moto's in-process
`mock_aws`, so it works on its own (the resources then live only for this invocation).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from local.provision import (
    DUMMY_CREDENTIALS,
    Resources,
    function_environment,
    local_client,
    lookup,
    provision,
)
from local.template import TEMPLATE, App, load_template


def run(app: App, function_id: str, event: dict[str, Any], resources: Resources) -> Any:
    from local.runtime import load_handler, new_context

    os.environ.update(function_environment(app, function_id, resources))
    # Logs go to stderr, as with `sam local invoke`, so stdout holds only the result.
    with contextlib.redirect_stdout(sys.stderr):
        return load_handler(app, function_id)(event, new_context(app, function_id))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__.splitlines()[0])
    parser.add_argument("function", help="logical id in the template, e.g. ApiFunction")
    parser.add_argument("event", type=Path, help="event JSON file, e.g. events/api-get-health.json")
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    args = parser.parse_args(argv)
    app = load_template(args.template)
    if args.function not in app.functions:
        parser.error(f"{args.function} is not a function of {app.path.name}: {', '.join(app.functions)}")
    event = json.loads(args.event.read_text(encoding="utf-8"))

    # A running stack's emulators: SQS has one of its own (AWS_ENDPOINT_URL_SQS) unless --sqs-port 0.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        result = run(app, args.function, event, lookup(app, local_client("sqs", endpoint)))
    else:
        from moto import mock_aws

        os.environ.update(DUMMY_CREDENTIALS)  # never let a stray real credential near the mock
        with mock_aws():
            resources = provision(app, local_client("s3"), local_client("sqs"))
            result = run(app, args.function, event, resources)
    json.dump(result, sys.stdout, indent=2, default=str)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
