"""Lambda's SQS event source mapping in miniature: receive a batch, invoke, delete what succeeded."""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

from local.template import REGION, App, SqsSource, load_template

POLLER_NICENESS = 10


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One Records[] entry exactly as Lambda shapes a ReceiveMessage result."""
    attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        attribute: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        if "StringValue" in value:
            attribute["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        attributes[name] = attribute
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def succeeded(records: list[dict[str, Any]], result: Any, source: SqsSource) -> list[dict[str, Any]]:
    """The records to delete after an invocation returned `result` (Lambda's partial batch response rules)."""
    if not source.report_batch_item_failures or not isinstance(result, dict):
        return records
    failures = result.get("batchItemFailures") or []
    ids = {r["messageId"] for r in records}
    failed = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    if not failed <= ids:
        return []  # an empty or unknown itemIdentifier fails the whole batch, as in Lambda
    return [r for r in records if r["messageId"] not in failed]


def log(prefix: str, message: str) -> None:
    print(f"[{prefix}] {message}", file=sys.stderr, flush=True)


def poll_forever(template: str, source_index: int, worker: int, env: dict[str, str], queue_url: str) -> None:
    """One execution environment (a process): one invocation at a time, so the number of these processes
    is the mapping's MaximumConcurrency.

    SIGTERM (the supervisor stopping) lets the current invocation finish, then the loop ends. The flag is
    this process's own: a stop event shared between processes holds a lock, and a poller killed while
    holding it (SIGKILL, out of memory) would leave every other one blocked on it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # In AWS, functions run on their own hardware; here they share this machine's CPUs with the API and the
    # emulator. A lower priority keeps a backlog of jobs from slowing the API's answers (jobs still get all
    # the CPU the API leaves).
    os.nice(POLLER_NICENESS)
    os.environ.update(env)
    import boto3  # after the environment is in place: the client reads AWS_ENDPOINT_URL

    from local.runtime import load_handler, new_context

    app: App = load_template(template)
    source = app.sqs_sources[source_index]
    prefix = f"{source.function}#{worker}"
    sqs = boto3.client("sqs")
    handler = load_handler(app, source.function)
    while not stop.is_set():
        try:
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=source.batch_size,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception as error:  # moto going away on shutdown, or a hiccup: retry like the poller
            if stop.is_set():
                break
            log(prefix, f"receive failed: {error!r}")
            time.sleep(1)
            continue
        if messages:
            invoke(app, source, handler, new_context(app, source.function), messages, sqs, queue_url, prefix)


def invoke(
    app: App,
    source: SqsSource,
    handler: Any,
    context: Any,
    messages: list[dict[str, Any]],
    sqs: Any,
    queue_url: str,
    prefix: str,
) -> None:
    records = [sqs_record(m, app.queues[source.queue].arn) for m in messages]
    log(prefix, f"START RequestId: {context.aws_request_id} Version: $LATEST ({len(records)} records)")
    started = time.monotonic()
    try:
        result = handler({"Records": records}, context)
    except Exception:
        # The whole batch becomes visible again after the visibility timeout.
        log(prefix, f"invocation failed, nothing deleted:\n{traceback.format_exc()}")
        result, done = None, []
    else:
        done = succeeded(records, result, source)
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)],
        )
    duration = (time.monotonic() - started) * 1000
    failed = len(records) - len(done)
    log(prefix, f"REPORT RequestId: {context.aws_request_id} Duration: {duration:.1f} ms Failed: {failed}")
    if failed and result is not None:
        log(prefix, f"batch response: {json.dumps(result)[:500]}")
