"""Handlers with moto's in-process AWS, provisioned from template.yaml exactly as the local stack does."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from local.apigw import http_event, match_route
from local.moto_server import atomic_conditional_writes
from local.provision import DUMMY_CREDENTIALS, Resources, function_environment, local_client, provision
from local.runtime import LambdaContext, load_handler, new_context
from local.sqs import sqs_record
from local.template import App, load_template
from onair.bootstrap import services
from tests.conftest import Reply

atomic_conditional_writes()  # as the local stack's emulator: S3's compare-and-swap holds between threads


@dataclass
class Stack:
    app: App
    resources: Resources
    s3: Any
    sqs: Any

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"Stack({self.resources.bucket})")  # hypothesis prints a failing example's arguments

    def api(self, method: str, path: str, body: bytes | str | None = None, **kwargs: Any) -> Reply:
        """Call the route's function with the API Gateway event the deployed HTTP API would send."""
        match = match_route(self.app.routes, method, path)
        assert match is not None, f"{method} {path} is not a route in template.yaml"
        data = body.encode() if isinstance(body, str) else body
        event = http_event(
            method, path, route=match.route, path_parameters=match.path_parameters, body=data, **kwargs
        )
        result = self.invoke(match.route.function, event)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        return Reply(result["statusCode"], headers, payload)

    def invoke(self, function_id: str, event: dict[str, Any], timeout: int | None = None) -> Any:
        """`timeout`: seconds the invocation may live instead of the template's (0: its deadline has
        passed by the time SQS could redeliver, as after the visibility timeout)."""
        context = new_context(self.app, function_id)
        if timeout is not None:
            context = LambdaContext(function_id, context.memory_limit_in_mb, timeout)
        return load_handler(self.app, function_id)(event, context)

    def receive(self, queue_id: str, wait: int = 0) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self.resources.queue_urls[queue_id],
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return answer.get("Messages", [])

    def deliver(self, queue_id: str, function_id: str) -> Any:
        """One event-source-mapping step: the queue's messages to the function, successes deleted."""
        messages = self.receive(queue_id)
        arn = self.resources.queue_arns[queue_id]
        result = self.invoke(function_id, {"Records": [sqs_record(m, arn) for m in messages]})
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.resources.queue_urls[queue_id], ReceiptHandle=message["ReceiptHandle"]
                )
        return result

    def deliver_all(self, queue_id: str, function_id: str) -> None:
        """Every queued message delivered until the queue is empty, each step without a failure."""
        while (
            self.sqs.get_queue_attributes(
                QueueUrl=self.resources.queue_urls[queue_id], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            != "0"
        ):
            assert self.deliver(queue_id, function_id) == {"batchItemFailures": []}

    def keys(self, prefix: str = "") -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=self.resources.bucket, Prefix=prefix)
        return [item["Key"] for item in listing.get("Contents", [])]


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        app = load_template()
        s3, sqs = local_client("s3"), local_client("sqs")
        resources = provision(app, s3, sqs)
        for function_id in app.functions:
            for name, value in function_environment(app, function_id, resources).items():
                monkeypatch.setenv(name, value)
        services.cache_clear()
        yield Stack(app, resources, s3, sqs)
        services.cache_clear()
