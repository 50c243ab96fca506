"""The SQS adapter: the only module that talks to SQS. The client is injected (moto in tests)."""

from __future__ import annotations

import json
from typing import Any

from onair.adapters.aws import infrastructure


class SqsQueues:
    def __init__(self, sqs_client: Any) -> None:
        self._sqs = sqs_client

    @classmethod
    def default(cls) -> SqsQueues:
        import boto3  # created lazily so moto (mock_aws or a server via AWS_ENDPOINT_URL) is in place first

        return cls(boto3.client("sqs"))

    @infrastructure
    def send(self, queue_url: str, body: Any, attributes: dict[str, str] | None = None) -> str:
        """Send `body` (a JSON value, or a str sent as is) with optional String message attributes."""
        text = body if isinstance(body, str) else json.dumps(body, sort_keys=True)
        message_attributes = {
            name: {"DataType": "String", "StringValue": value[:1024] or "-"}
            for name, value in (attributes or {}).items()
        }
        answer = self._sqs.send_message(
            QueueUrl=queue_url, MessageBody=text, MessageAttributes=message_attributes
        )
        message_id: str = answer["MessageId"]
        return message_id

    @infrastructure
    def depth(self, queue_url: str) -> dict[str, int]:
        """Approximate counts: visible, in flight (received, not yet deleted) and delayed messages."""
        names = {
            "visible": "ApproximateNumberOfMessages",
            "in_flight": "ApproximateNumberOfMessagesNotVisible",
            "delayed": "ApproximateNumberOfMessagesDelayed",
        }
        attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(names.values()))
        return {field: int(attributes["Attributes"].get(name, 0)) for field, name in names.items()}
