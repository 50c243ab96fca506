"""ApiFunction: the management API (schedules, runs, uploads, queue stats) and the operator console
(console/, served at /console/). Routes: onair.http.api and onair.http.console."""

from __future__ import annotations

from onair.collector import cold_start

with cold_start():  # the init without cyclic collections (onair/collector.py)
    from pathlib import Path
    from typing import Any

    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from onair.adapters.powertools import logger, metrics, tracer
    from onair.config import ApiSettings
    from onair.http import console
    from onair.http.api import app

    ApiSettings.from_env()  # cold start: a variable the template forgot fails the init, by name
    console.serve_from(Path(__file__).parent / "console")  # the console's files ship with this function


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
