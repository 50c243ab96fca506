"""RunFunction: one run job per JobQueue message; failed records are reported for redelivery."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from onair.jobs import execute_run
from onair.observability import logger, metrics, tracer
from onair.services import default_services

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def run_job(record: SQSRecord) -> None:
    message = json.loads(record.body)
    run_id = message.get("run_id")
    logger.set_correlation_id(run_id)  # the correlation id of every record this job logs
    logger.append_keys(run_id=run_id)
    status = execute_run(
        default_services(), message, receive_count=int(record.attributes.approximate_receive_count)
    )
    logger.info("run finished", extra={"status": status.status})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event, run_job, processor, context)
