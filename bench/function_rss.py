"""Peak memory of ImportFunction and RunFunction handling a large listing, as Lambda would see it: each
handler invoked in a fresh process of its own against a moto server in another (S3 and SQS), so that every
byte the function reads, parses, writes and uploads is counted, and neither the emulator's nor the other
function's.

    .venv/bin/python -m bench.function_rss [--listing-mb 50] [--days 7]

bench.xmltv_gen's listing is uploaded as a presigned PUT would (one PUT); a fresh process takes the
ImportQueue message S3 sent and invokes ImportFunction with it; the run is requested through the API's
handler, and another fresh process invokes RunFunction with the job (`--days` days of the listing, every
output, published). Each reports VmRSS before the invocation (the handler's module imported, as after
Lambda's init, and this harness) and VmHWM after it: the process's peak, what Lambda reports as "Max Memory
Used" (it counts the runtime's process too, a few MiB more).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import REPO_ROOT
from bench.calls import Harness, Recorder
from bench.emulator import moto_server
from bench.probe import status_kib
from bench.xmltv_gen import write_listing
from local.provision import DUMMY_CREDENTIALS, local_client, lookup, provision
from local.template import REGION, load_template

MIB = 1024 * 1024
QUEUES = {"ImportFunction": "ImportQueue", "RunFunction": "JobQueue"}


def harness(endpoint: str) -> Harness:
    os.environ.update(DUMMY_CREDENTIALS, AWS_DEFAULT_REGION=REGION)
    app = load_template()
    sqs = local_client("sqs", endpoint)
    endpoints = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ENDPOINT_URL_SQS": endpoint,
    }
    return Harness(app, lookup(app, sqs), sqs, Recorder(), endpoints)


def invoke(endpoint: str, function_id: str, wanted: str) -> dict[str, float]:
    """In this (fresh) process: the function's message whose body names `wanted`, delivered to it."""
    h = harness(endpoint)
    queue = QUEUES[function_id]
    message = h.next_message(queue, lambda m: wanted in m["Body"], timeout=60)
    h.handler(function_id)  # Lambda's init: the handler's module imported before the invocation
    before = status_kib()["VmRSS"]
    began = time.perf_counter()
    result = h.deliver(function_id, queue, message)
    seconds = time.perf_counter() - began
    assert not result.get("batchItemFailures"), result
    peak = status_kib()["VmHWM"]
    return {
        "rss_before_mib": round(before / 1024, 1),
        "peak_mib": round(peak / 1024, 1),
        "seconds": round(seconds, 2),
    }


def in_fresh_process(endpoint: str, function_id: str, wanted: str) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.function_rss", "--invoke", endpoint, function_id, wanted]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--listing-mb", type=float, default=50.0)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument(
        "--invoke", nargs=3, metavar=("ENDPOINT", "FUNCTION", "WANTED"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.invoke:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):  # the handlers' log lines
            measured = invoke(*args.invoke)
        print(json.dumps(measured), flush=True)
        return 0

    os.environ.update(DUMMY_CREDENTIALS, AWS_DEFAULT_REGION=REGION)
    with (
        moto_server() as endpoint,
        open(os.devnull, "w") as quiet,
        contextlib.redirect_stderr(quiet),  # the handlers' log lines
    ):
        app = load_template()
        s3 = local_client("s3", endpoint)
        provision(app, s3, local_client("sqs", endpoint))
        h = harness(endpoint)
        with tempfile.TemporaryDirectory() as folder:
            listing = Path(folder) / "listing.xml"
            size = write_listing(listing, int(args.listing_mb * MIB))["bytes"]
            grant = h.http("POST", "/uploads").json()
            s3.put_object(
                Bucket=h.resources.bucket, Key=f"incoming/{grant['id']}.xml", Body=listing.read_bytes()
            )
        # its message names the upload's id (the key is URL-encoded there)
        imported = in_fresh_process(endpoint, "ImportFunction", grant["id"])
        upload = h.http("GET", f"/uploads/{grant['id']}").json()
        assert upload["status"] == "imported", upload
        body = json.dumps({"from": "2026-06-01", "days": args.days}).encode()
        path = f"/schedules/{upload['schedule_id']}/runs"
        run_id = h.http("POST", path, body, {"content-type": "application/json"}).json()["id"]
        ran = in_fresh_process(endpoint, "RunFunction", run_id)
        status = h.http("GET", f"/runs/{run_id}").json()
        assert status["status"] == "succeeded", status
    memory = {function_id: function.memory_size for function_id, function in app.functions.items()}
    print(f"A {size / MIB:.1f} MiB listing; a {args.days}-day run ({status['report']['slots']:,} slots)\n")
    print("| function | before the invocation | peak (VmHWM) | x the listing | MemorySize | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, measured in (("ImportFunction", imported), ("RunFunction", ran)):
        print(
            f"| {name} | {measured['rss_before_mib']:.0f} MiB | {measured['peak_mib']:.0f} MiB | "
            f"{measured['peak_mib'] * MIB / size:.2f}x | {memory.get(name, '?')} MB | {measured['seconds']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
