"""`make run`: the Docker-free local stack, wired from template.yaml.

moto servers in child processes (S3 and SQS in one each, or both in one with --sqs-port 0); the HTTP API
served here, each request invoked in an execution
environment (a process) of its route's function, up to --api-workers per function; one process per
concurrent execution of each SQS event source (MaximumConcurrency), so a slow job never delays an HTTP
answer and the run cap is the template's.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from local.environments import InvocationFailed, Pool
from local.provision import Resources, function_environment, local_client, provision
from local.server import ApiServer, http_server
from local.template import REGION, TEMPLATE, App, ScheduleTick, load_template

HOST = "127.0.0.1"
# Concurrent invocations of each HTTP function (Lambda execution environments, started as needed). They
# mostly wait for the emulator, so more than the CPUs pays; docs/PERFORMANCE.md ("Load") has the figures.
API_WORKERS = 8
# A worker that dies is started again, as Lambda starts a new execution environment; one that keeps dying
# within QUICK_DEATH_SECONDS of its start waits longer each time (up to MAX_RESTART_DELAY) so a crash loop
# does not spin.
QUICK_DEATH_SECONDS = 10.0
MAX_RESTART_DELAY = 30.0


@dataclass
class Worker:
    """One SQS poller process and how to start it again."""

    name: str
    target: Callable[..., None]
    args: tuple[Any, ...]
    process: multiprocessing.process.BaseProcess | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None

    def start(self, ctx: Any) -> None:
        self.process = ctx.Process(target=self.target, args=self.args, name=self.name, daemon=True)
        self.process.start()
        self.started = time.monotonic()

    def revive(self, ctx: Any, now: float) -> None:
        """Start the process again if it died (after a delay if it dies quickly, again and again)."""
        if self.process is None or self.process.exitcode is None:
            return
        if self.restart_at is None:
            lived = now - self.started
            self.quick_deaths = self.quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
            delay = min(MAX_RESTART_DELAY, 2.0 ** (self.quick_deaths - 1)) if self.quick_deaths > 1 else 0.0
            self.restart_at = now + delay
            print(
                f"{self.name} (pid {self.process.pid}) exited with {self.process.exitcode}"
                f" after {lived:.1f} s; starting a new one{f' in {delay:.0f} s' if delay else ''}",
                file=sys.stderr,
                flush=True,
            )
        if now >= self.restart_at:
            self.restart_at = None
            self.start(ctx)
            print(f"{self.name} restarted: pid {self.process.pid}", file=sys.stderr, flush=True)


def _tick_forever(tick: ScheduleTick, pool: Pool, stopping: threading.Event) -> None:
    """Invoke the scheduled function every tick.seconds (`python -m local.invoke` ticks it on demand)."""
    while not stopping.wait(tick.seconds):
        try:
            pool.invoke({})
        except InvocationFailed as error:  # the scheduler retries; so does the next tick
            print(f"[{tick.function}] scheduled invocation failed: {error}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3000, help="HTTP API port (default 3000)")
    parser.add_argument("--moto-port", type=int, default=4566, help="moto server port for S3 (default 4566)")
    parser.add_argument(
        "--sqs-port",
        type=int,
        default=4567,
        help="moto server port for SQS (default 4567); 0: SQS in the S3 server's process",
    )
    parser.add_argument(
        "--template", type=Path, default=TEMPLATE, help="SAM template (default template.yaml)"
    )
    parser.add_argument(
        "--api-workers",
        type=int,
        default=API_WORKERS,
        help=f"execution environments per HTTP function, each one invocation at a time (default {API_WORKERS})",
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


def start_moto(port: int, sqs_endpoint: str = "", timeout: float = 15.0) -> subprocess.Popen[bytes]:
    """A moto server on `port`; with `sqs_endpoint`, S3's notifications go to the SQS server there."""
    command = [sys.executable, "-m", "local.moto_server", "-H", HOST, "-p", str(port)]
    if sqs_endpoint:
        command += ["--sqs-endpoint", sqs_endpoint]
    # A session of its own: Ctrl-C reaches us, and we stop moto after the workers, not before.
    process = subprocess.Popen(
        command,
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


def clients(endpoint: str, sqs_endpoint: str | None = None) -> tuple[Any, Any]:
    """S3 and SQS clients of the local stack's emulators (SQS at `endpoint` too unless given)."""
    return local_client("s3", endpoint), local_client("sqs", sqs_endpoint or endpoint)


def banner(app: App, api: str, endpoint: str, sqs_endpoint: str, resources: Resources) -> str:
    sources = ", ".join(f"{s.function}<-{s.queue} x{app.pollers(s)}" for s in app.sqs_sources)
    queues = "\n".join(f"  {q:<14}{url}" for q, url in resources.queue_urls.items())
    j = "python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]])'"
    return f"""
OnAir local stack ({app.path.name})
  API           {api}   (routes: {len(app.routes)}; try {api}/health)
  S3            {endpoint}   (moto; any credentials; region {REGION})
  SQS           {sqs_endpoint}
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
  export AWS_ENDPOINT_URL={endpoint} AWS_ENDPOINT_URL_S3={endpoint} AWS_ENDPOINT_URL_SQS={sqs_endpoint}
  python -m local.invoke RunFunction events/sqs-run-job.json   # one handler, in-process, on this stack
  .venv/bin/onair import events/schedule.xml      # the same with the CLI: import, run --wait, get, upload
Ctrl-C stops everything.
"""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app = load_template(args.template)
    http_functions = sorted({route.function for route in app.routes})
    ports = (args.port, args.moto_port, args.sqs_port) if args.sqs_port else (args.port, args.moto_port)
    for port in ports:
        if not port_free(port):
            raise SystemExit(
                f"port {HOST}:{port} is in use (choose another with --port / --moto-port / --sqs-port)"
            )

    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    started = time.monotonic()
    endpoint = f"http://{HOST}:{args.moto_port}"
    sqs_endpoint = f"http://{HOST}:{args.sqs_port}" if args.sqs_port else endpoint
    api = f"http://{HOST}:{args.port}"
    ctx = multiprocessing.get_context("spawn")
    emulators: list[subprocess.Popen[bytes]] = []
    workers: list[Worker] = []
    pools: dict[str, Pool] = {}
    server: ApiServer | None = None
    try:
        # Two emulators, each with a GIL of its own (docs/PERFORMANCE.md, "Load"); SQS first, since S3
        # sends it its notifications.
        if args.sqs_port:
            emulators.append(start_moto(args.sqs_port))
        emulators.append(start_moto(args.moto_port, sqs_endpoint if args.sqs_port else ""))
        resources = provision(app, *clients(endpoint, sqs_endpoint), api_url=api)
        # botocore's service-specific endpoint variables; the general one keeps any other service local.
        endpoints = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ENDPOINT_URL_SQS": sqs_endpoint,
        }

        def environment(function_id: str) -> dict[str, str]:
            return function_environment(app, function_id, resources) | endpoints

        from local.sqs import poll_forever

        for function_id in http_functions:
            pools[function_id] = Pool(
                app, function_id, environment(function_id), max(1, args.api_workers), ctx
            )
        for index, source in enumerate(app.sqs_sources):
            for worker in range(app.pollers(source)):
                workers.append(
                    Worker(
                        f"{source.function}#{worker}",
                        poll_forever,
                        (
                            str(app.path),
                            index,
                            worker,
                            environment(source.function),
                            resources.queue_urls[source.queue],
                        ),
                    )
                )
        for worker_ in workers:
            worker_.start(ctx)
        print(
            "processes: " + ", ".join(f"{w.name} pid {w.process and w.process.pid}" for w in workers),
            flush=True,
        )
        try:
            for pool in pools.values():
                pool.warm()  # one environment per function before the first request: its init errors show now
        except InvocationFailed as error:
            raise SystemExit(f"the local stack failed to start: {error} (see the log above)") from error
        server = http_server(app, args.port, pools)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        for tick in app.schedules:  # EventBridge Scheduler: the function, at the template's rate
            pool = Pool(app, tick.function, environment(tick.function), 1, ctx)
            pools[f"schedule:{tick.function}"] = pool
            threading.Thread(target=_tick_forever, args=(tick, pool, stopping), daemon=True).start()
        print(banner(app, api, endpoint, sqs_endpoint, resources), flush=True)
        print(f"ready: {api} in {time.monotonic() - started:.1f} s", flush=True)
        while not stopping.wait(0.5):
            dead = [moto for moto in emulators if moto.poll() is not None]
            if dead:
                # Its state (every object and message) died with it: nothing to go on with.
                print(
                    f"stopping: an S3/SQS emulator exited with {dead[0].returncode}",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
            for worker_ in workers:
                worker_.revive(ctx, time.monotonic())
            for pool in pools.values():
                pool.revive()
        return 0
    finally:
        print("stopping the local stack", file=sys.stderr, flush=True)
        if server is not None:
            server.shutdown()
            server.server_close()
        for pool in pools.values():
            pool.stop()
        children = [w.process for w in workers if w.process is not None]
        for child in children:
            if child.is_alive():
                child.terminate()  # pollers finish their invocation first
        deadline = time.monotonic() + 5
        for child in children:
            child.join(max(0.1, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()  # a poller still in a long invocation: SIGTERM only asked it to finish
                child.join(2)
        for moto in emulators:
            moto.terminate()
        for moto in emulators:
            try:
                moto.wait(5)
            except subprocess.TimeoutExpired:
                moto.kill()


if __name__ == "__main__":
    sys.exit(main())
