"""ImportFunction: presigned uploads S3 reports on ImportQueue, imported one record at a time; a failed
record (storage or queue trouble) is reported for redelivery, a rejected document is not (it is final)."""

from __future__ import annotations

from onair.collector import cold_start

with cold_start():  # the init without cyclic collections (onair/collector.py)
    import json
    from typing import Any
    from urllib.parse import unquote_plus

    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from onair.adapters.powertools import logger, metrics, tracer
    from onair.bootstrap import services
    from onair.config import ImportSettings
    from onair.errors import Transient
    from onair.usecases.uploads import Put, import_upload

    ImportSettings.from_env()  # cold start: a variable the template forgot fails the init, by name
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def import_record(record: SQSRecord) -> None:
    """One ImportQueue message: an S3 event (or S3's s3:TestEvent, which has no Records and is ignored)."""
    notification = json.loads(record.body)
    for s3_record in notification.get("Records", []):
        s3_object = s3_record["s3"]["object"]
        key = unquote_plus(s3_object["key"])  # S3 URL-encodes keys in events
        put = Put(s3_object.get("eTag"), s3_object.get("size"), s3_record.get("eventTime"))
        try:
            outcome = import_upload(services(ImportSettings), key, put)
        except Transient:
            deliveries = int(record.attributes.approximate_receive_count)
            if deliveries >= services(ImportSettings).settings.max_receive_count:
                # SQS moves it to ImportDLQ next: an unexpected dead letter (ImportDeadLettersAlarm)
                metrics.add_metric(name="UploadsDeadLettered", unit=MetricUnit.Count, value=1)
            raise
        logger.info(
            "upload processed", extra={"key": key, "status": (outcome or {}).get("status", "ignored")}
        )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event, import_record, processor, context)
