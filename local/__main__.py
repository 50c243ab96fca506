"""`make run`: the Docker-free local stack, wired from template.yaml.

moto server (S3 + SQS) in a child process; the HTTP API in processes with ImportFunction's environment; one
process per concurrent execution of each SQS event source (MaximumConcurrency), so a slow job never delays
an HTTP answer and the run cap is the template's.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from local.provision import DUMMY_CREDENTIALS, Resources, function_environment, provision
from local.template import REGION, TEMPLATE, App, load_template

HOST = "127.0.0.1"
# Concurrent API invocations (Lambda execution environments). They mostly wait for the emulator, so more
# than the CPUs pays; docs/PERFORMANCE.md ("Load") has the measurements behind the number.
API_WORKERS = 8


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3000, help="HTTP API port (default 3000)")
    parser.add_argument("--moto-port", type=int, default=4566, help="moto server port (default 4566)")
    parser.add_argument(
        "--template", type=Path, default=TEMPLATE, help="SAM template (default template.yaml)"
    )
    parser.add_argument(
        "--api-workers",
        type=int,
        default=API_WORKERS,
        help=f"HTTP API processes sharing the port, each one invocation at a time (default {API_WORKERS})",
    )
    return parser.parse_args(argv)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        # as the servers bind: connections of a previous stack in TIME_WAIT do not make the port busy
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def start_moto(port: int, timeout: float = 15.0) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches us, and we stop moto after the workers, not before.
    process = subprocess.Popen(
        [sys.executable, "-m", "local.moto_server", "-H", HOST, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}")
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError(f"moto server did not listen on {HOST}:{port} within {timeout:.0f} s")


def clients(endpoint: str) -> tuple[Any, Any]:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return session.client("s3", endpoint_url=endpoint), session.client("sqs", endpoint_url=endpoint)


def banner(app: App, api: str, endpoint: str, resources: Resources) -> str:
    sources = ", ".join(f"{s.function}<-{s.queue} x{app.pollers(s)}" for s in app.sqs_sources)
    queues = "\n".join(f"  {q:<14}{url}" for q, url in resources.queue_urls.items())
    j = "python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]])'"
    return f"""
OnAir local stack ({app.path.name})
  API           {api}   (routes: {len(app.routes)}; try {api}/health)
  S3 + SQS      {endpoint}   (moto; any credentials; region {REGION})
  bucket        {resources.bucket}
{queues}
  pollers       {sources}

Walk-through (in another shell):
  API={api}; j() {{ {j} "$1"; }}
  SID=$(curl -s -X POST -H 'content-type: application/xml' --data-binary @events/schedule.xml $API/schedules | j id)
  RID=$(curl -s -X POST $API/schedules/$SID/runs -d '{{"from": "2026-12-01", "days": 1, "seed": 7}}' | j id)
  curl -s $API/runs/$RID                       # until "status": "succeeded"
  curl -s $API/runs/$RID/output/guide.xml
  UP=$(curl -s -X POST $API/uploads); UID_=$(echo "$UP" | j id)
  curl -s -T events/schedule.xml -H 'content-type: application/xml' "$(echo "$UP" | j url)"   # presigned PUT -> S3 -> ImportQueue
  curl -s $API/uploads/$UID_                   # until "imported", with its schedule_id
  aws --endpoint-url {endpoint} s3 ls s3://{resources.bucket} --recursive
  python -m local.invoke RunFunction events/sqs-run-job.json   # one handler, in-process
  .venv/bin/onair import events/schedule.xml      # the same with the CLI: import, run --wait, get, upload
Ctrl-C stops everything.
"""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app = load_template(args.template)
    http_functions = {route.function for route in app.routes}
    if len(http_functions) > 1:
        # One process holds one function's environment; several routed functions would need one each.
        raise SystemExit(f"routes target several functions ({sorted(http_functions)}): not supported locally")
    for port in (args.port, args.moto_port):
        if not port_free(port):
            raise SystemExit(f"port {HOST}:{port} is in use (choose another with --port / --moto-port)")

    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    started = time.monotonic()
    endpoint = f"http://{HOST}:{args.moto_port}"
    api = f"http://{HOST}:{args.port}"
    moto = start_moto(args.moto_port)
    ctx = multiprocessing.get_context("spawn")
    halt = ctx.Event()
    children: list[multiprocessing.process.BaseProcess] = []
    try:
        resources = provision(app, *clients(endpoint))

        def environment(function_id: str) -> dict[str, str]:
            return function_environment(app, function_id, resources) | {"AWS_ENDPOINT_URL": endpoint}

        from local.server import serve
        from local.sqs import poll_forever

        api_ready = [ctx.Event() for _ in range(max(1, args.api_workers) if http_functions else 0)]
        if http_functions:
            (function_id,) = http_functions
            children.extend(
                ctx.Process(
                    target=serve,
                    args=(str(app.path), args.port, environment(function_id), ready),
                    name=f"api#{index}",
                    daemon=True,
                )
                for index, ready in enumerate(api_ready)
            )
        for index, source in enumerate(app.sqs_sources):
            for worker in range(app.pollers(source)):
                children.append(
                    ctx.Process(
                        target=poll_forever,
                        args=(
                            str(app.path),
                            index,
                            worker,
                            environment(source.function),
                            resources.queue_urls[source.queue],
                            halt,
                        ),
                        name=f"{source.function}#{worker}",
                        daemon=True,
                    )
                )
        for child in children:
            child.start()
        while not all(ready.wait(0.1) for ready in api_ready):
            if stopping.is_set() or any(c.exitcode is not None for c in children):
                raise SystemExit("the local stack failed to start (see the log above)")
        print(banner(app, api, endpoint, resources), flush=True)
        print(f"ready: {api} in {time.monotonic() - started:.1f} s", flush=True)
        while not stopping.wait(0.5):
            dead = [c.name for c in children if c.exitcode is not None]
            if dead:
                print(f"stopping: {', '.join(dead)} exited", file=sys.stderr, flush=True)
                return 1
        return 0
    finally:
        print("stopping the local stack", file=sys.stderr, flush=True)
        halt.set()  # pollers finish their current invocation, then leave
        for child in children:
            if child.name.startswith("api#") and child.is_alive():
                child.terminate()
        deadline = time.monotonic() + 5
        for child in children:
            child.join(max(0.1, deadline - time.monotonic()))
            if child.is_alive():
                child.terminate()
                child.join(2)
        moto.terminate()
        try:
            moto.wait(5)
        except subprocess.TimeoutExpired:
            moto.kill()


if __name__ == "__main__":
    sys.exit(main())
