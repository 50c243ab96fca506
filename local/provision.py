"""Creates what template.yaml declares (bucket, queues, notification) through injected boto3 clients, so the
same code provisions a moto server (the local stack) and moto's in-process `mock_aws` (tests)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from local.template import ACCOUNT_ID, REGION, App

# Credentials moto accepts; real ones must never reach the local stack.
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def local_client(service: Literal["s3", "sqs"], endpoint: str | None = None, config: Any = None) -> Any:
    """A boto3 client with the dummy credentials, for moto: the local stack's server at `endpoint`, or
    moto's in-process `mock_aws` without one. Explicit keys, so a real credential in the environment or a
    profile never reaches it; a session of its own, as boto3's default one is not safe across threads."""
    import boto3  # the template tools above work without boto3

    session = boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return session.client(service, endpoint_url=endpoint, config=config)


@dataclass(frozen=True)
class Resources:
    bucket: str
    queue_urls: Mapping[str, str]  # logical id -> URL
    queue_arns: Mapping[str, str]


def _queue_order(app: App) -> list[str]:
    """Dead-letter queues before the queues that redrive to them (SQS checks the target exists)."""
    order: list[str] = []

    def visit(queue_id: str) -> None:
        if queue_id in order:
            return
        dlq = app.queues[queue_id].dlq
        if dlq:
            visit(dlq)
        order.append(queue_id)

    for queue_id in app.queues:
        visit(queue_id)
    return order


def bucket_cors(app: App, api_url: str | None = None) -> list[dict[str, Any]]:
    """The bucket's CORS rules (template.yaml) in S3's terms. An origin that is the API's own
    (https://{api}.execute-api...) becomes the local API's, `api_url`, under both of its host names."""
    local: list[str] = []
    if api_url:
        parts = urlsplit(api_url)
        local = [api_url.rstrip("/")]
        if parts.hostname in ("127.0.0.1", "localhost"):
            other = "localhost" if parts.hostname == "127.0.0.1" else "127.0.0.1"
            local.append(
                f"{parts.scheme}://{other}:{parts.port}" if parts.port else f"{parts.scheme}://{other}"
            )
    rules = []
    for rule in app.bucket_cors:
        origins: list[str] = []
        for origin in rule.origins:
            origins.extend(local if local and origin in app.api_origins else [origin])
        entry: dict[str, Any] = {"AllowedOrigins": origins, "AllowedMethods": list(rule.methods)}
        if rule.headers:
            entry["AllowedHeaders"] = list(rule.headers)
        if rule.expose:
            entry["ExposeHeaders"] = list(rule.expose)
        if rule.max_age is not None:
            entry["MaxAgeSeconds"] = rule.max_age
        if rule.rule_id:
            entry["ID"] = rule.rule_id
        rules.append(entry)
    return rules


def provision(app: App, s3_client: Any, sqs_client: Any, api_url: str | None = None) -> Resources:
    """`api_url`: where the local API listens, the origin the bucket's CORS rules allow for the API's own."""
    s3_client.create_bucket(Bucket=app.bucket_name)  # us-east-1 takes no LocationConstraint
    s3_client.put_bucket_versioning(Bucket=app.bucket_name, VersioningConfiguration={"Status": "Enabled"})
    cors = bucket_cors(app, api_url)
    if cors:
        s3_client.put_bucket_cors(Bucket=app.bucket_name, CORSConfiguration={"CORSRules": cors})

    urls: dict[str, str] = {}
    for queue_id in _queue_order(app):
        queue = app.queues[queue_id]
        attributes: dict[str, str] = {}
        if queue.visibility_timeout is not None:
            attributes["VisibilityTimeout"] = str(queue.visibility_timeout)
        if queue.message_retention_period is not None:
            attributes["MessageRetentionPeriod"] = str(queue.message_retention_period)
        if queue.dlq:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": app.queues[queue.dlq].arn, "maxReceiveCount": queue.max_receive_count}
            )
        urls[queue_id] = sqs_client.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]

    configurations = []
    for notification in app.notifications:
        rules = [
            {"Name": name, "Value": value}
            for name, value in (("prefix", notification.prefix), ("suffix", notification.suffix))
            if value
        ]
        configuration: dict[str, Any] = {
            "QueueArn": app.queues[notification.queue].arn,
            "Events": [notification.event],
        }
        if rules:
            configuration["Filter"] = {"Key": {"FilterRules": rules}}
        configurations.append(configuration)
    if configurations:
        s3_client.put_bucket_notification_configuration(
            Bucket=app.bucket_name, NotificationConfiguration={"QueueConfigurations": configurations}
        )
    return Resources(app.bucket_name, urls, {q: app.queues[q].arn for q in urls})


def lookup(app: App, sqs_client: Any) -> Resources:
    """The resources of an already provisioned stack (e.g. a running `make run`)."""
    urls = {q: sqs_client.get_queue_url(QueueName=app.queues[q].name)["QueueUrl"] for q in app.queues}
    return Resources(app.bucket_name, urls, {q: app.queues[q].arn for q in urls})


def function_environment(app: App, function_id: str, resources: Resources) -> dict[str, str]:
    """The environment Lambda would give the function: the template's variables, resolved, plus the
    variables the runtime sets (region, function name) and credentials moto accepts."""
    function = app.functions[function_id]
    env = {
        name: str(app.resolve(value, resources.queue_urls)) for name, value in function.environment.items()
    }
    env.update(DUMMY_CREDENTIALS)
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": function_id,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return env


def function_arn(function_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_id}"
