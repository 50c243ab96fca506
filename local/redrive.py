"""Moves dead letters back to their source queue, once the cause of the failures is fixed.

    python -m local.redrive jobs|imports [--endpoint http://127.0.0.1:4567] [--include-rejections]
    make redrive QUEUE=jobs

The queues and their dead-letter queues come from template.yaml's redrive policies. On AWS the same is one
call, `aws sqs start-message-move-task --source-arn <DLQ arn>` (SQS moves the messages back to the queue
they came from); moto has no StartMessageMoveTask, so this receives, sends and deletes instead.

ImportDLQ also holds the rejections the import handler forwards (a document that will never import, with
the reason as `error_code` attributes): they are left in the DLQ unless --include-rejections, because
redriving them would only drop them (they are no S3 events).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from local.template import TEMPLATE, App, load_template

REJECTION_ATTRIBUTE = "error_code"
HIDE_SECONDS = 60  # skipped messages stay invisible while the DLQ is drained, then are made visible again


def aliases(app: App) -> dict[str, str]:
    """'jobs' -> 'JobQueue', 'imports' -> 'ImportQueue': every queue that has a dead-letter queue."""
    names = {}
    for queue_id, queue in app.queues.items():
        if queue.dlq:
            names[queue_id.removesuffix("Queue").lower() + "s"] = queue_id
            names[queue_id] = queue_id
    return names


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        attribute = {"DataType": value["DataType"]}
        for field in ("StringValue", "BinaryValue"):
            if field in value:
                attribute[field] = value[field]
        kept[name] = attribute
    return kept


def redrive(sqs: Any, dlq_url: str, target_url: str, *, include_rejections: bool = False) -> int:
    """Moves every message of `dlq_url` to `target_url` (send, then delete: a crash in between duplicates,
    never loses). Returns how many moved; rejections stay unless `include_rejections`."""
    moved = 0
    skipped: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=HIDE_SECONDS,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            attributes = _attributes(message)
            if REJECTION_ATTRIBUTE in attributes and not include_rejections:
                skipped.append(message["ReceiptHandle"])
                continue
            sqs.send_message(QueueUrl=target_url, MessageBody=message["Body"], MessageAttributes=attributes)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    for handle in skipped:
        sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.redrive", description=__doc__.splitlines()[0])
    parser.add_argument("queue", help="jobs or imports (or a queue's logical id in template.yaml)")
    parser.add_argument(
        "--endpoint", default="http://127.0.0.1:4567", help="the local stack's SQS emulator (--sqs-port)"
    )
    parser.add_argument("--template", default=str(TEMPLATE))
    parser.add_argument("--include-rejections", action="store_true", help="move rejected uploads too")
    args = parser.parse_args(argv)
    app = load_template(args.template)
    names = aliases(app)
    if args.queue not in names:
        parser.error(f"unknown queue {args.queue!r}: choose from {', '.join(sorted(names))}")
    queue_id = names[args.queue]
    dlq_id = app.queues[queue_id].dlq
    assert dlq_id is not None

    from local.__main__ import clients

    _, sqs = clients(args.endpoint)
    moved = redrive(
        sqs,
        app.queue_url(dlq_id, args.endpoint),
        app.queue_url(queue_id, args.endpoint),
        include_rejections=args.include_rejections,
    )
    left = sqs.get_queue_attributes(
        QueueUrl=app.queue_url(dlq_id, args.endpoint), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    print(f"moved {moved} message(s) from {dlq_id} to {queue_id}; {left} left in {dlq_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
