"""FeedFunction: the public feed routes players poll (/feeds/{token}/…). Routes: onair.http.feeds."""

from __future__ import annotations

from onair.collector import cold_start

with cold_start():  # the init without cyclic collections (onair/collector.py)
    from typing import Any

    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from onair.adapters.powertools import logger, metrics, tracer
    from onair.config import FeedSettings
    from onair.http.feeds import app

    FeedSettings.from_env()  # cold start: a variable the template forgot fails the init, by name


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
