"""Nothing is lost and nothing is done twice when SQS redelivers, handlers die, or AWS throttles.

Handlers run on moto's in-process AWS, fed by real ReceiveMessage calls, so receive counts, visibility and
the redrive policies are SQS's (moto's). A visibility timeout passing is simulated by setting the message's
visibility to 0, which is what the timeout does; names and limits come from template.yaml.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import IO, Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from local.redrive import redrive
from local.sqs import sqs_record
from local.template import REGION
from onair import keys
from onair.adapters.powertools import PowertoolsMetrics
from onair.adapters.s3 import S3BlobStore
from onair.adapters.sqs import SqsQueues
from onair.bootstrap import Services, services
from onair.config import Settings
from onair.errors import RunInProgress, Unavailable
from onair.usecases import feeds, jobs
from onair.usecases import uploads as imports
from tests.conftest import SAMPLE_ONAIR, SAMPLE_XMLTV

RUN = json.dumps({"from": "2026-12-01", "days": 2, "seed": 5})
LEASE = timedelta(seconds=120)  # a delivery called directly: as long as RunFunction's timeout


class Crash(BaseException):
    """The execution environment dies (killed, out of memory, timed out): Lambda returns no response, so
    the event source mapping deletes nothing. A BaseException, so the batch processor cannot catch it."""


# --- a tiny event source mapping over the real queues -----------------------------------------------------


def function_of(stack, queue_id: str) -> str:
    (source,) = [s for s in stack.app.sqs_sources if s.queue == queue_id]
    return source.function


def expire(stack, queue_id: str, messages: list[dict[str, Any]]) -> None:
    """The visibility timeout passes: the messages can be received again."""
    for message in messages:
        stack.sqs.change_message_visibility(
            QueueUrl=stack.resources.queue_urls[queue_id],
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=0,
        )


def poll(
    stack, queue_id: str, *, expire_failures: bool = True, timeout: int | None = None
) -> tuple[list[dict[str, Any]], set[str]]:
    """Receive what is visible, invoke the queue's function, delete the successes. Returns the messages
    and the ids that failed (left in flight, or made visible again with `expire_failures`). `timeout`: the
    invocation's own (0 when the test lets the visibility timeout pass after it: by then Lambda has ended
    the invocation, so the lease it took on a run has run out)."""
    messages = stack.receive(queue_id)
    if not messages:
        return [], set()
    arn = stack.resources.queue_arns[queue_id]
    try:
        result = stack.invoke(
            function_of(stack, queue_id), {"Records": [sqs_record(m, arn) for m in messages]}, timeout
        )
    except Crash:
        failed = {m["MessageId"] for m in messages}
    else:
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            stack.sqs.delete_message(
                QueueUrl=stack.resources.queue_urls[queue_id], ReceiptHandle=message["ReceiptHandle"]
            )
    if expire_failures:
        expire(stack, queue_id, [m for m in messages if m["MessageId"] in failed])
    return messages, failed


def receive_count(message: dict[str, Any]) -> int:
    return int(message["Attributes"]["ApproximateReceiveCount"])


def queue_stats(stack) -> dict[str, Any]:
    """The depths now (the route's answer may otherwise be the environment's last, up to 5 s old)."""
    reply = stack.api("GET", "/queue-stats", headers={"cache-control": "no-cache"})
    assert reply.status == 200, reply.body
    return reply.json()


IDLE = {"visible": 0, "in_flight": 0, "delayed": 0}  # a queue's stats with nothing waiting or in flight


def request_run(stack, document: bytes = SAMPLE_ONAIR, body: str = RUN) -> str:
    schedule = stack.api("POST", "/schedules", document)
    assert schedule.status == 201, schedule.body
    run = stack.api("POST", f"/schedules/{schedule.json()['id']}/runs", body)
    assert run.status == 202, run.body
    return run.json()["id"]


def run_status(stack, run_id: str) -> dict[str, Any]:
    return stack.api("GET", f"/runs/{run_id}").json()


def outputs(stack, run_id: str) -> dict[str, bytes]:
    prefix = f"runs/{run_id}/out/"
    return {
        key[len(prefix) :]: stack.s3.get_object(Bucket=stack.resources.bucket, Key=key)["Body"].read()
        for key in stack.keys(prefix)
    }


def clean_outputs(stack, document: bytes = SAMPLE_ONAIR, body: str = RUN) -> dict[str, bytes]:
    """The outputs of the same request run once, undisturbed, in a fresh run."""
    run_id = request_run(stack, document, body)
    poll(stack, "JobQueue")
    assert run_status(stack, run_id)["status"] == "succeeded"
    return outputs(stack, run_id)


def own_services() -> Services:
    """Another execution environment: its own clients, as a concurrent Lambda instance has."""
    config = Settings.from_env()
    return Services(
        config,
        S3BlobStore(boto3.client("s3", region_name=REGION), config.bucket),
        SqsQueues(boto3.client("sqs", region_name=REGION)),
        PowertoolsMetrics(),
    )


def at_once(count: int, work: Callable[[], Any]) -> list[Any]:
    """`work` in `count` threads released together; their results (or the first error, raised)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def body(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


def upload(stack, body: bytes) -> str:
    created = stack.api("POST", "/uploads")
    assert created.status == 201, created.body
    upload_id = created.json()["id"]
    # the client's PUT; moto sends the S3 event to ImportQueue as S3 would
    stack.s3.put_object(Bucket=stack.resources.bucket, Key=f"incoming/{upload_id}.xml", Body=body)
    return upload_id


def import_messages(stack, upload_id: str) -> list[dict[str, Any]]:
    """The ImportQueue messages that name this upload (S3's s3:TestEvent is consumed and dropped)."""
    found: list[dict[str, Any]] = []
    while not found and (messages := stack.receive("ImportQueue")):
        for message in messages:
            if upload_id in message["Body"]:  # the key is URL-encoded in S3 events
                found.append(message)
            else:
                stack.sqs.delete_message(
                    QueueUrl=stack.resources.queue_urls["ImportQueue"], ReceiptHandle=message["ReceiptHandle"]
                )
    return found


def stored_schedule(stack, schedule_id: str) -> dict[str, bytes]:
    """The record and version 1's files, by name."""
    return {
        key.rsplit("/", 1)[1]: stack.s3.get_object(Bucket=stack.resources.bucket, Key=key)["Body"].read()
        for key in stack.keys(keys.schedule_prefix(schedule_id))
    }


# --- duplicate delivery -------------------------------------------------------------------------------


def test_a_job_delivered_twice_in_sequence_runs_once_with_identical_outputs(stack):
    expected = clean_outputs(stack)
    # Given a queued run whose message SQS delivers twice (at-least-once delivery)
    run_id = request_run(stack)
    [message] = stack.receive("JobQueue")
    event = {"Records": [sqs_record(message, stack.resources.queue_arns["JobQueue"])]}
    # When both deliveries are handled one after the other
    assert stack.invoke("RunFunction", event) == {"batchItemFailures": []}
    first = run_status(stack, run_id)
    assert stack.invoke("RunFunction", event) == {"batchItemFailures": []}
    # Then the run succeeded once: the second delivery changed nothing, bytes equal a clean run's
    assert first["status"] == "succeeded" and first["attempts"] == 1
    assert run_status(stack, run_id) == first
    assert outputs(stack, run_id) == expected


def test_a_job_delivered_to_four_environments_at_once_runs_once(stack, monkeypatch):
    expected = clean_outputs(stack)
    # Given one job message handled by four execution environments at the same moment
    run_id = request_run(stack)
    [message] = stack.receive("JobQueue")
    job = json.loads(message["Body"])
    generated: list[str] = []
    real_generate = jobs.generate

    def counted(*args: Any, **kwargs: Any) -> Any:
        generated.append(threading.current_thread().name)
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(jobs, "generate", counted)

    def deliver() -> str:
        try:
            final = jobs.execute_run(own_services(), job, lease=LEASE)
        except RunInProgress:
            return "wait"  # the record fails: SQS redelivers it once the visibility timeout passed
        assert final is not None
        return final.status

    finals = at_once(4, deliver)
    # Then the playout was generated once: the others waited (the run was taken) or found it finished
    assert len(generated) == 1, generated
    assert "succeeded" in finals and set(finals) <= {"succeeded", "wait"}
    status = run_status(stack, run_id)
    assert status["status"] == "succeeded" and "error" not in status and status["attempts"] == 1
    assert set(feeds.feed_names(status["outputs"])) == set(expected)  # the guide's gzip too: it publishes
    assert status["started_at"] <= status["finished_at"]
    assert outputs(stack, run_id) == expected


def test_a_late_duplicate_delivery_never_turns_a_succeeded_run_back_into_running(stack, monkeypatch):
    expected = clean_outputs(stack)
    run_id = request_run(stack)
    [message] = stack.receive("JobQueue")
    job = json.loads(message["Body"])
    generated: list[int] = []
    real_generate, real_load = jobs.generate, jobs.load_status_and_etag

    def counted(*args: Any, **kwargs: Any) -> Any:
        generated.append(1)
        return real_generate(*args, **kwargs)

    # Given delivery A, which reads the queued run, then stalls while delivery B runs it to the end
    def stalled_read(services: Services, rid: str) -> Any:
        read = real_load(services, rid)
        if not generated:  # A's first read: B runs the whole job before A goes on
            monkeypatch.setattr(jobs, "load_status_and_etag", real_load)
            assert jobs.execute_run(own_services(), job, lease=LEASE).status == "succeeded"
        return read

    monkeypatch.setattr(jobs, "generate", counted)
    monkeypatch.setattr(jobs, "load_status_and_etag", stalled_read)
    # When A goes on with what it read (queued)
    late = jobs.execute_run(own_services(), job, lease=LEASE)
    # Then its conditional write was refused, it looked again and left the finished run alone
    assert late is not None and late.status == "succeeded"
    assert len(generated) == 1
    status = run_status(stack, run_id)
    assert (status["status"], status["attempts"]) == ("succeeded", 1)
    assert outputs(stack, run_id) == expected


def test_a_duplicate_delivery_while_the_first_is_alive_waits_and_does_not_run(stack, monkeypatch):
    run_id = request_run(stack)
    [message] = stack.receive("JobQueue")
    event = {"Records": [sqs_record(message, stack.resources.queue_arns["JobQueue"])]}
    # Given a first delivery that holds the run (it has started; its invocation can live on)
    real_generate = jobs.generate
    duplicates: list[str] = []

    def hold(*args: Any, **kwargs: Any) -> Any:
        # meanwhile, SQS hands a duplicate of the message to another execution environment
        try:
            jobs.execute_run(own_services(), json.loads(message["Body"]), lease=LEASE)
            duplicates.append("ran")
        except RunInProgress:
            duplicates.append("waits")  # its record fails: it comes back after the visibility timeout
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(jobs, "generate", hold)
    first = stack.invoke("RunFunction", event)
    # Then the duplicate did not run the job, and the first one completed it
    assert duplicates == ["waits"] and first == {"batchItemFailures": []}
    status = run_status(stack, run_id)
    assert (status["status"], status["attempts"]) == ("succeeded", 1)
    # And when the duplicate comes back, the run is finished: nothing changes
    monkeypatch.setattr(jobs, "generate", real_generate)
    assert stack.invoke("RunFunction", event) == {"batchItemFailures": []}
    assert run_status(stack, run_id) == status


def test_an_upload_notified_twice_in_sequence_imports_once(stack):
    upload_id = upload(stack, SAMPLE_XMLTV)
    [message] = import_messages(stack, upload_id)
    event = {"Records": [sqs_record(message, stack.resources.queue_arns["ImportQueue"])] * 2}
    # When the same notification arrives twice in one batch, then once more
    assert stack.invoke("ImportFunction", event) == {"batchItemFailures": []}
    first = (stack.api("GET", f"/uploads/{upload_id}").json(), stored_schedule(stack, upload_id))
    assert stack.invoke("ImportFunction", {"Records": event["Records"][:1]}) == {"batchItemFailures": []}
    # Then one schedule, named by the upload, with the document's bytes, and an unchanged status
    status = stack.api("GET", f"/uploads/{upload_id}").json()
    assert status["status"] == "imported" and status["schedule_id"] == upload_id
    assert (status, stored_schedule(stack, upload_id)) == first
    assert first[1]["source.xml"] == SAMPLE_XMLTV
    assert {key.split("/")[1] for key in stack.keys("schedules/")} == {upload_id}
    assert stack.receive("ImportDLQ") == []


def test_an_upload_notified_to_three_environments_at_once_imports_one_consistent_schedule(stack):
    upload_id = upload(stack, SAMPLE_XMLTV)
    key = f"incoming/{upload_id}.xml"
    # When three execution environments import the same notification at the same moment
    finals = at_once(3, lambda: imports.import_upload(own_services(), key))
    # Then all report it imported, and one schedule is stored whose files agree with each other
    assert {final["status"] for final in finals} == {"imported"}
    assert {key.split("/")[1] for key in stack.keys("schedules/")} == {upload_id}
    files = stored_schedule(stack, upload_id)
    assert files["source.xml"] == SAMPLE_XMLTV
    info, model, record = (json.loads(files[name]) for name in ("info.json", "schedule.json", "record.json"))
    status = json.loads(
        stack.s3.get_object(Bucket=stack.resources.bucket, Key=f"uploads/{upload_id}.json")["Body"].read()
    )
    assert status["status"] == "imported" and status["schedule_id"] == upload_id
    assert record["current"] == info and record["created_at"] == info["created_at"]
    assert info["created_at"] == model["created_at"]
    schedule = stack.api("GET", f"/schedules/{upload_id}").json()
    assert (schedule["version"], schedule["created_at"]) == (1, info["created_at"])


# --- a handler that dies mid-job ------------------------------------------------------------------------


def test_a_run_that_dies_after_its_first_output_is_redelivered_and_completes_once(stack, monkeypatch):
    expected = clean_outputs(stack)
    run_id = request_run(stack)
    # Given a storage writer that kills the environment right after the run's first output is written
    real_put = S3BlobStore.put_chunks  # how the run stores its outputs
    written: list[str] = []

    def put_then_die(self, key: str, *args: Any, **kwargs: Any) -> None:
        real_put(self, key, *args, **kwargs)
        if key.startswith(f"runs/{run_id}/out/"):
            written.append(key)
            raise Crash(f"killed after writing {key}")

    monkeypatch.setattr(S3BlobStore, "put_chunks", put_then_die)
    messages, failed = poll(stack, "JobQueue", expire_failures=False, timeout=0)
    # Then the first delivery left one output, the run `running`, and the message in flight
    assert len(written) == 1 and set(outputs(stack, run_id)) == {written[0].rsplit("/", 1)[1]}
    assert run_status(stack, run_id)["status"] == "running"
    assert queue_stats(stack)["jobs"] == {"visible": 0, "in_flight": 1, "delayed": 0}
    assert stack.receive("JobQueue") == []  # invisible until the timeout passes
    # When the visibility timeout passes and a healthy environment receives it again
    monkeypatch.setattr(S3BlobStore, "put_chunks", real_put)
    expire(stack, "JobQueue", messages)
    again, failed = poll(stack, "JobQueue")
    # Then it is the same message, received a second time, and the run completes exactly once
    assert [m["MessageId"] for m in again] == [m["MessageId"] for m in messages] and failed == set()
    assert receive_count(again[0]) == 2
    status = run_status(stack, run_id)
    assert (status["status"], status["attempts"]) == ("succeeded", 2)
    assert outputs(stack, run_id) == expected
    assert poll(stack, "JobQueue") == ([], set())
    stats = queue_stats(stack)
    assert stats["jobs"] == IDLE and stats["dead_letters"]["jobs"] == 0


# --- a poison job ---------------------------------------------------------------------------------------


def make_poison(monkeypatch, reason: str = "disk on fire") -> None:
    """Every delivery of a job fails transiently (the only failures retried): storage is unavailable."""

    def crash(*args: Any, **kwargs: Any) -> None:
        raise Unavailable(reason)

    monkeypatch.setattr(jobs, "_generate", crash)


def deliver_until_dead(stack, queue_id: str) -> list[int]:
    """Poll until the queue is empty, the visibility timeout passing after each delivery; the receive
    counts seen, in order."""
    counts = []
    for _ in range(50):
        messages, _ = poll(stack, queue_id, timeout=0)
        if not messages:
            return counts
        counts.extend(receive_count(m) for m in messages)
    raise AssertionError(f"{queue_id} never emptied: {counts}")


def test_a_poison_job_is_retried_max_receive_count_times_then_dead_lettered_and_failed(stack, monkeypatch):
    max_receive = stack.app.queues["JobQueue"].max_receive_count
    dlq = stack.app.queues["JobQueue"].dlq
    assert max_receive and dlq
    run_id = request_run(stack)
    # Given a job that crashes on every delivery
    make_poison(monkeypatch)
    # When SQS delivers it until its redrive policy gives up
    counts = deliver_until_dead(stack, "JobQueue")
    # Then it was delivered exactly maxReceiveCount times and now waits in the DLQ
    assert counts == list(range(1, max_receive + 1))
    [dead] = stack.receive(dlq)
    assert json.loads(dead["Body"])["run_id"] == run_id
    # And the run is failed with the reason, after as many attempts
    status = run_status(stack, run_id)
    assert status["status"] == "failed" and status["attempts"] == max_receive
    assert status["error"] == {"code": "job_failed", "message": "Unavailable: disk on fire", "details": []}
    expire(stack, dlq, [dead])
    stats = queue_stats(stack)
    assert stats["jobs"] == IDLE and stats["dead_letters"] == {"jobs": 1, "imports": 0}


# --- DLQ redrive ---------------------------------------------------------------------------------------


def test_redriven_jobs_run_once_the_cause_is_fixed(stack, monkeypatch):
    dlq = stack.app.queues["JobQueue"].dlq
    run_id = request_run(stack)
    make_poison(monkeypatch)
    deliver_until_dead(stack, "JobQueue")
    assert queue_stats(stack)["dead_letters"]["jobs"] == 1
    # Given the cause fixed, when the DLQ is redriven
    monkeypatch.undo()
    moved = redrive(stack.sqs, stack.resources.queue_urls[dlq], stack.resources.queue_urls["JobQueue"])
    assert moved == 1
    stats = queue_stats(stack)
    assert stats["dead_letters"]["jobs"] == 0 and stats["jobs"]["visible"] == 1
    # Then the job runs and the run succeeds with the outputs of a clean run
    messages, failed = poll(stack, "JobQueue")
    assert len(messages) == 1 and failed == set()
    status = run_status(stack, run_id)
    assert status["status"] == "succeeded" and "error" not in status, status
    assert outputs(stack, run_id) == clean_outputs(stack)
    assert queue_stats(stack)["jobs"] == IDLE


def test_redriven_uploads_are_imported_once_the_cause_is_fixed_and_rejections_stay(stack, monkeypatch):
    import_dlq = stack.app.queues["ImportQueue"].dlq
    max_receive = stack.app.queues["ImportQueue"].max_receive_count
    # Given a malformed upload (rejected: forwarded to the DLQ by the handler with its reason)
    rejected = upload(stack, b"<tv><programme></tv>")
    deliver_until_dead(stack, "ImportQueue")
    # And a valid upload whose object cannot be read for a while (every delivery fails)
    good = upload(stack, SAMPLE_XMLTV)
    real_download = S3BlobStore.download

    def unreadable(self, key: str, file: IO[bytes]) -> None:
        if key == f"incoming/{good}.xml":
            raise ClientError({"Error": {"Code": "InternalError", "Message": "try again"}}, "GetObject")
        real_download(self, key, file)

    monkeypatch.setattr(S3BlobStore, "download", unreadable)
    counts = deliver_until_dead(stack, "ImportQueue")
    assert counts[-max_receive:] == list(range(1, max_receive + 1))
    assert stack.api("GET", f"/uploads/{good}").json()["status"] == "pending"
    assert queue_stats(stack)["dead_letters"]["imports"] == 2
    # When the cause is fixed and the DLQ redriven
    monkeypatch.undo()
    moved = redrive(
        stack.sqs, stack.resources.queue_urls[import_dlq], stack.resources.queue_urls["ImportQueue"]
    )
    # Then the notification is moved back and imported; the rejection (permanent) stays in the DLQ
    assert moved == 1
    deliver_until_dead(stack, "ImportQueue")
    assert stack.api("GET", f"/uploads/{good}").json()["status"] == "imported"
    assert stack.api("GET", f"/uploads/{rejected}").json()["status"] == "rejected"
    stats = queue_stats(stack)
    assert stats["imports"] == IDLE and stats["dead_letters"]["imports"] == 1
    [left] = stack.receive(import_dlq)
    assert left["MessageAttributes"]["upload_id"]["StringValue"] == rejected


# --- transient AWS errors -------------------------------------------------------------------------------


def throttle_once(status: int, code: str) -> Callable[..., AWSResponse | None]:
    """A before-send hook answering an operation's first request with a throttling error.

    botocore calls every before-send handler, so moto still executes that request: this is the harder
    fault, where the request took effect and its answer was lost, and the SDK's retry repeats it."""
    calls = {"n": 0}

    def hook(request: Any, **kwargs: Any) -> AWSResponse | None:
        calls["n"] += 1
        if calls["n"] > 1:
            return None
        body = f"<Error><Code>{code}</Code><Message>Please reduce your request rate.</Message></Error>"
        headers = {"content-type": "application/xml", "x-amzn-query-error": f"{code};Sender"}
        return AWSResponse(request.url, status, headers, _Raw(body.encode()))

    hook.calls = calls  # type: ignore[attr-defined]
    return hook


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs: Any) -> Any:
        yield self.data


@pytest.fixture
def aws_events():
    """Registers before-send hooks on boto3's default session: every client created afterwards (a fresh
    execution environment's) copies them."""
    emitter = boto3._get_default_session()._session.get_component("event_emitter")
    registered: list[tuple[str, Any]] = []

    def first(event: str, hook: Any) -> None:
        emitter.register_first(event, hook)
        registered.append((event, hook))

    yield first
    for event, hook in registered:
        emitter.unregister(event, hook)


def test_a_throttled_s3_write_is_retried_and_the_run_completes(stack, aws_events):
    expected = clean_outputs(stack)
    run_id = request_run(stack)
    # Given S3 answering the next PutObject with 503 SlowDown
    hook = throttle_once(503, "SlowDown")
    aws_events("before-send.s3.PutObject", hook)
    # When the job runs in a fresh environment
    jobs.execute_run(own_services(), json.loads(stack.receive("JobQueue")[0]["Body"]), lease=LEASE)
    # Then the SDK retried the write, and the run succeeded with every output
    assert hook.calls["n"] > 1
    assert run_status(stack, run_id)["status"] == "succeeded"
    assert outputs(stack, run_id) == expected


def test_a_throttled_job_send_is_retried_and_its_duplicate_runs_once(stack, aws_events):
    expected = clean_outputs(stack)
    schedule = stack.api("POST", "/schedules", SAMPLE_ONAIR).json()
    # Given SQS answering the next SendMessage with a throttling error (after taking the message)
    services.cache_clear()  # a fresh environment, whose clients see the hook
    hook = throttle_once(400, "ThrottlingException")
    aws_events("before-send.sqs.SendMessage", hook)
    # When a run is requested
    reply = stack.api("POST", f"/schedules/{schedule['id']}/runs", RUN)
    # Then the request succeeded after the SDK's retry; the job may be queued twice (at-least-once)
    assert reply.status == 202, reply.body
    assert hook.calls["n"] == 2
    assert queue_stats(stack)["jobs"]["visible"] == 2
    # And both copies together run it once, with a clean run's outputs
    while poll(stack, "JobQueue")[0]:
        pass
    status = run_status(stack, reply.json()["id"])
    assert (status["status"], status["attempts"]) == ("succeeded", 1)
    assert outputs(stack, reply.json()["id"]) == expected
    assert queue_stats(stack)["jobs"] == IDLE


def test_a_run_request_retried_after_a_failed_send_is_queued(stack, monkeypatch):
    schedule = stack.api("POST", "/schedules", SAMPLE_ONAIR).json()
    path, key = f"/schedules/{schedule['id']}/runs", {"Idempotency-Key": "retry-me"}
    # Given SQS refusing the next send past the SDK's retries
    real_send = SqsQueues.send
    failures = {"left": 1}

    def flaky(self, *args: Any, **kwargs: Any) -> str:
        if failures["left"]:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "SendMessage")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(SqsQueues, "send", flaky)
    # When the request fails and the client retries it with its Idempotency-Key
    assert stack.api("POST", path, RUN, headers=key).status >= 500
    retried = stack.api("POST", path, RUN, headers=key)
    assert retried.status == 202
    # Then the job is on the queue and the run completes
    poll(stack, "JobQueue")
    assert run_status(stack, retried.json()["id"])["status"] == "succeeded"


def test_an_import_that_fails_transiently_is_redelivered_and_nothing_is_lost(stack, monkeypatch):
    uploads = [upload(stack, SAMPLE_XMLTV), upload(stack, SAMPLE_ONAIR)]
    # Given S3 failing one read of the first upload (past the SDK's retries)
    real_download = S3BlobStore.download
    failures = {"left": 1}

    def flaky(self, key: str, file: IO[bytes]) -> None:
        if key == f"incoming/{uploads[0]}.xml" and failures["left"]:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "reduce"}}, "GetObject")
        real_download(self, key, file)

    monkeypatch.setattr(S3BlobStore, "download", flaky)
    # When the batch is delivered: only that record fails and comes back
    messages, failed = poll(stack, "ImportQueue", expire_failures=False)
    assert len(failed) == 1
    assert queue_stats(stack)["imports"]["in_flight"] == 1
    expire(stack, "ImportQueue", [m for m in messages if m["MessageId"] in failed])
    again, failed = poll(stack, "ImportQueue")
    # Then on redelivery it is imported: both uploads are, nothing in the DLQ, the queue idle
    assert failed == set() and [receive_count(m) for m in again] == [2]
    assert [stack.api("GET", f"/uploads/{u}").json()["status"] for u in uploads] == ["imported"] * 2
    stats = queue_stats(stack)
    assert stats["imports"] == IDLE and stats["dead_letters"] == {"jobs": 0, "imports": 0}
