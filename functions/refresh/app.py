"""RefreshFunction: the EventBridge Scheduler tick (template.yaml's RefreshSchedule) queues the day's
refresh runs of every schedule with a refresh policy (onair.usecases.refresh)."""

from __future__ import annotations

from onair.collector import cold_start

with cold_start():  # the init without cyclic collections (onair/collector.py)
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from onair.adapters.powertools import logger, metrics, tracer
    from onair.bootstrap import services
    from onair.config import RefreshSettings
    from onair.usecases.refresh import tick

    RefreshSettings.from_env()  # cold start: a variable the template forgot fails the init, by name


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = tick(services(RefreshSettings))
    logger.info("refresh tick", extra={"queued": len(result.queued), "skipped": result.skipped})
    return {"queued": result.queued, "skipped": result.skipped}
