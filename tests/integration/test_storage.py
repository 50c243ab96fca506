"""The adapters on moto: S3 conditional writes (compare-and-swap on the ETag) and AWS errors as Unavailable."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config

from local.template import REGION
from onair.adapters.s3 import ObjectChanged, ObjectExists, S3BlobStore
from onair.adapters.sqs import SqsQueues
from onair.errors import Unavailable


@pytest.fixture
def storage(stack) -> S3BlobStore:
    return S3BlobStore(stack.s3, stack.resources.bucket)


def test_a_write_conditional_on_the_etag_read_succeeds_once_and_a_stale_one_is_refused(storage):
    # Given an object read with its ETag
    first = storage.put_json("runs/x/status.json", {"status": "queued"})
    value, etag = storage.get_json_and_etag("runs/x/status.json")
    assert (value, etag) == ({"status": "queued"}, first)
    # When one writer swaps it on that ETag, then another tries with the same (now stale) ETag
    second = storage.put_json("runs/x/status.json", {"status": "running"}, if_match=etag)
    with pytest.raises(ObjectChanged):
        storage.put_json("runs/x/status.json", {"status": "succeeded"}, if_match=etag)
    # Then only the first swap happened, and the new ETag is the one a reader sees
    assert storage.get_json_and_etag("runs/x/status.json") == ({"status": "running"}, second)
    assert second != first


def test_a_write_conditional_on_an_etag_of_a_missing_object_is_refused(storage):
    etag = storage.put_json("runs/y/status.json", {"n": 1})
    with pytest.raises(ObjectChanged):
        storage.put_json("runs/z/status.json", {"n": 2}, if_match=etag)
    assert storage.list_keys("runs/z/") == []


def test_a_write_only_if_new_refuses_an_existing_key(storage):
    storage.put_json("idempotency/a.json", {"n": 1}, only_new=True)
    with pytest.raises(ObjectExists):
        storage.put_json("idempotency/a.json", {"n": 2}, only_new=True)
    assert storage.get_json("idempotency/a.json") == {"n": 1}


def test_aws_errors_the_adapters_do_not_translate_are_unavailable(stack):
    # Given adapters whose bucket and queue do not exist (S3 and SQS answer with client errors)
    storage = S3BlobStore(stack.s3, "no-such-bucket-here")
    queues = SqsQueues(stack.sqs)
    missing_queue = stack.resources.queue_urls["JobQueue"] + "-missing"
    # Then every call raises Unavailable, with the AWS error as its cause
    for call in (
        lambda: storage.get_bytes("k"),
        lambda: storage.get_lines("k"),
        lambda: storage.put_bytes("k", b"x"),
        lambda: storage.put_chunks("k", [b"x"], "text/plain"),
        lambda: storage.stat("k"),
        lambda: queues.send(missing_queue, {"x": 1}),
        lambda: queues.depth(missing_queue),
    ):
        with pytest.raises(Unavailable) as raised:
            call()
        assert raised.value.__cause__ is not None


def test_a_connection_failure_is_unavailable(stack):
    # Given a client whose endpoint refuses connections (nothing listens on port 9 of this host)
    client = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(Unavailable):
        S3BlobStore(client, stack.resources.bucket).get_bytes("k")


def test_presigned_urls_name_the_buckets_regional_host_outside_us_east_1(monkeypatch):
    # Given the adapter built as the functions build it, in eu-west-1 without an endpoint override
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # presigning is local: any key signs
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    storage = S3BlobStore.from_bucket("onair-data")
    # Then its presigned URLs go to the regional virtual host, never the global one (a 307 for new buckets)
    for url in (
        storage.presigned_get("a/b.xml", 60),
        storage.presigned_put("a/b.xml", 60, "application/xml"),
    ):
        assert url.startswith("https://onair-data.s3.eu-west-1.amazonaws.com/a/b.xml?"), url


def test_of_writers_racing_on_one_etag_exactly_one_wins(storage, monkeypatch):
    # Given an object, and eight writers that all read its ETag; moto's check and write made slow, so a
    # check of one writer falls between another's check and write
    from moto.s3.models import S3Backend

    etag = storage.put_json("runs/r/status.json", {"status": "queued"})
    real_get = S3Backend.get_object

    def slow_get(self, *args, **kwargs):
        found = real_get(self, *args, **kwargs)
        time.sleep(0.02)
        return found

    monkeypatch.setattr(S3Backend, "get_object", slow_get)

    def write(n: int) -> str:
        try:
            storage.put_json("runs/r/status.json", {"status": "running", "by": n}, if_match=etag)
            return "won"
        except ObjectChanged:
            return "lost"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(write, range(8)))
    # Then one swap happened and the seven others were refused, as S3's conditional writes do
    assert sorted(results) == ["lost"] * 7 + ["won"]
