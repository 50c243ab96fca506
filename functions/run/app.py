"""RunFunction: one run job per JobQueue message; failed records are reported for redelivery."""

from __future__ import annotations

from onair.collector import cold_start

with cold_start():  # the init without cyclic collections (onair/collector.py)
    import json
    from datetime import timedelta
    from typing import Any

    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from onair.adapters.powertools import logger, metrics, tracer
    from onair.bootstrap import services
    from onair.config import RunSettings
    from onair.usecases.jobs import execute_run

    RunSettings.from_env()  # cold start: a variable the template forgot fails the init, by name
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def run_job(record: SQSRecord, lambda_context: LambdaContext) -> None:
    message = json.loads(record.body)
    run_id = message.get("run_id")
    logger.set_correlation_id(run_id)  # the correlation id of every record this job logs
    logger.append_keys(run_id=run_id)
    status = execute_run(
        services(RunSettings),
        message,
        # the run is this delivery's until Lambda ends the invocation; after that another may take it over
        lease=timedelta(milliseconds=lambda_context.get_remaining_time_in_millis()),
        receive_count=int(record.attributes.approximate_receive_count),
    )
    if status is None:
        logger.warning("no such run: the job is dropped")
    else:
        logger.info("run finished", extra={"status": status.status})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event, run_job, processor, context)
