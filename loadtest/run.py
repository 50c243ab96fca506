"""Runs a load test against the local stack (started here, on free ports) or a deployed URL.

    python -m loadtest.run locust                       # closed model: the ramp 100 -> 500 -> 1000 users
    python -m loadtest.run locust --users 500 --seconds 60
    python -m loadtest.run locust --think 1 3 --stages 100,250,500,750,1000   # the old app's pacing
    python -m loadtest.run artillery --rate 20 --seconds 60   # open model: 20 new users a second
    python -m loadtest.run locust --url https://abc.execute-api.eu-west-1.amazonaws.com

Results go to loadtest/results/<name>-<time>*: Locust's CSV and HTML, Artillery's JSON, and summary.json,
which for the local stack adds what S3 says about every run: how many finished, runs per minute and the
highest number that ran at once (the run cap of template.yaml must be exactly that). Before the measurement
--warmup requests (200) are sent, several at once, so that cold starts (each API process creating its AWS
clients, as each new Lambda execution environment does) are not what the percentiles show; the slowest
warm-up answer is in the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from loadtest.mix import FEED_FILES
from loadtest.runs import max_overlap, run_summary
from local.stack import StackFailed, running_stack

__all__ = ["main", "max_overlap"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
ARTILLERY = os.environ.get("ARTILLERY", "npx --yes artillery@2.0.34").split()


def runs_in_s3(endpoint: str) -> dict[str, Any]:
    """What every run did, from its status document in the local stack's bucket."""
    from local.__main__ import clients
    from local.template import load_template

    s3, _ = clients(endpoint)
    bucket = load_template().bucket_name
    statuses = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="runs/"):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/status.json"):
                statuses.append(json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()))
    return run_summary(statuses)


DOCUMENTS = [ROOT / "events" / "schedule.xml", *sorted((ROOT / "samples").glob("*.xml"))]


def _json(url: str, path: str, body: bytes | None = None, media: str = "application/json") -> Any:
    request = urllib.request.Request(
        f"{url}{path}",
        data=body,
        method="POST" if body is not None else "GET",
        headers={"content-type": media},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def published_feeds(url: str, count: int, timeout: float = 120) -> list[dict[str, str]]:
    """`count` schedules imported and run with publish, once their feeds answer: the feeds the Locust
    players poll (a player reads a feed that exists; it does not make one). Each: file name -> path."""
    feeds, runs = [], []
    for index in range(count):
        schedule = _json(url, "/schedules", DOCUMENTS[index % len(DOCUMENTS)].read_bytes(), "application/xml")
        run = _json(url, f"/schedules/{schedule['id']}/runs", b'{"days": 1, "publish": true}')
        runs.append(run["id"])
        feeds.append({name: schedule["feed"]["urls"][name] for name in FEED_FILES})
    deadline = time.monotonic() + timeout
    for run_id in runs:
        while not _json(url, f"/runs/{run_id}").get("published"):
            if time.monotonic() > deadline:
                raise SystemExit(f"run {run_id} was not published within {timeout:.0f} s")
            time.sleep(0.2)
    return feeds


def warm_up(url: str, requests: int, feeds: list[dict[str, str]] | None = None) -> float:
    """Requests of every kind from new connections, several at once, so that each execution environment
    the test will need (up to --api-workers per function) has started and created its clients before the
    measurement. Returns the slowest answer, s."""
    if requests <= 0:
        return 0.0
    documents = DOCUMENTS

    def one(index: int) -> float:
        started = time.monotonic()
        body = documents[index % len(documents)].read_bytes()
        request = urllib.request.Request(
            f"{url}/schedules", data=body, method="POST", headers={"content-type": "application/xml"}
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            schedule = json.loads(reply.read())["id"]
        request = urllib.request.Request(
            f"{url}/schedules/{schedule}/runs",
            data=b'{"days": 1}',
            method="POST",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            run = json.loads(reply.read())["id"]
        paths = [f"/runs/{run}", "/queue-stats"]
        if feeds:
            paths.append(feeds[index % len(feeds)][FEED_FILES[index % len(FEED_FILES)]])
        for path in paths:
            with urllib.request.urlopen(f"{url}{path}", timeout=60) as reply:
                reply.read()
        return time.monotonic() - started

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        return max(pool.map(one, range(requests // 4)))


def locust_command(args: argparse.Namespace, url: str, prefix: Path) -> tuple[list[str], dict[str, str]]:
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--host",
        url,
        "--csv",
        str(prefix),
        "--html",
        f"{prefix}.html",
        "--summary",
        f"{prefix}-locust.json",
        "--only-summary",
        "--stop-timeout",
        "10",
    ]
    env = dict(os.environ, LOAD_THINK_MIN=str(args.think[0]), LOAD_THINK_MAX=str(args.think[1]))
    if Path(f"{prefix}-feeds.json").exists():
        env["LOAD_FEEDS"] = f"{prefix}-feeds.json"
    if args.users:
        # the figures are those after every user has started (the ramp-up is not measured)
        length = args.seconds + round(args.users / args.spawn_rate)
        command += ["-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{length}s"]
        command += ["--reset-stats"]
    else:
        env |= {"LOAD_SHAPE": "ramp", "LOAD_STAGE_SECONDS": str(args.seconds), "LOAD_STAGES": args.stages}
        env["LOAD_SPAWN_RATE"] = str(args.spawn_rate)
    return command, env


def artillery_command(args: argparse.Namespace, url: str, prefix: Path) -> tuple[list[str], dict[str, str]]:
    phases = [{"duration": args.seconds, "arrivalRate": args.rate, "name": f"{args.rate}/s"}]
    command = [
        *ARTILLERY,
        "run",
        "--target",
        url,
        "--overrides",
        json.dumps({"config": {"phases": phases}}),
        "--output",
        f"{prefix}-artillery.json",
        str(HERE / "artillery.yml"),
    ]
    return command, dict(os.environ)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.run", description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=["locust", "artillery"])
    parser.add_argument("--url", default="", help="a deployed API; default: start the local stack")
    parser.add_argument("--users", type=int, default=0, help="locust: fixed users (default: the ramp)")
    parser.add_argument("--spawn-rate", type=float, default=100)
    parser.add_argument("--seconds", type=int, default=60, help="test length (each stage of the ramp)")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(5.0, 15.0),
        metavar=("MIN", "MAX"),
        help="locust think time, s (default 5 15; the old app's pacing: 1 3)",
    )
    parser.add_argument(
        "--stages", default="100,500,1000", help="locust ramp: the user counts, LOAD_SECONDS at each"
    )
    parser.add_argument("--rate", type=float, default=10, help="artillery: arrivals per second")
    parser.add_argument("--name", default="", help="results file prefix")
    parser.add_argument("--stack-args", default="", help="extra arguments for python -m local")
    parser.add_argument(
        "--warmup", type=int, default=200, help="requests sent before the measurement (cold starts), 0: none"
    )
    parser.add_argument(
        "--feeds", type=int, default=20, help="locust: published feeds made first for the players to poll"
    )
    args = parser.parse_args(argv)

    RESULTS.mkdir(exist_ok=True)
    label = args.name or (
        f"{args.tool}-{args.users or 'ramp'}" if args.tool == "locust" else f"artillery-{args.rate:g}"
    )
    prefix = RESULTS / f"{label}-{datetime.now():%Y%m%d-%H%M%S}"
    build = locust_command if args.tool == "locust" else artillery_command
    if args.tool == "artillery" and not shutil.which(ARTILLERY[0]):
        raise SystemExit(f"{ARTILLERY[0]} not found: Artillery needs Node.js and npm")

    summary: dict[str, Any] = {"tool": args.tool, "args": {k: v for k, v in vars(args).items()}}

    def prepare(url: str) -> None:
        feeds = published_feeds(url, args.feeds) if args.tool == "locust" and args.feeds else []
        if feeds:
            Path(f"{prefix}-feeds.json").write_text(json.dumps(feeds))
        summary["warmup_slowest_seconds"] = round(warm_up(url, args.warmup, feeds), 3)

    if args.url:
        prepare(args.url.rstrip("/"))
        command, env = build(args, args.url.rstrip("/"), prefix)
        code = subprocess.call(command, cwd=HERE, env=env)
    else:
        try:
            with running_stack(Path(f"{prefix}-stack.log"), extra=args.stack_args.split()) as stack:
                prepare(stack.api)
                command, env = build(args, stack.api, prefix)
                started = time.monotonic()
                code = subprocess.call(command, cwd=HERE, env=env)
                summary["load_seconds"] = round(time.monotonic() - started, 1)
                summary["runs"] = runs_in_s3(stack.s3)
        except StackFailed as error:
            raise SystemExit(str(error)) from error
    locust_summary = Path(f"{prefix}-locust.json")
    if locust_summary.exists():
        summary["locust"] = json.loads(locust_summary.read_text())
    summary["exit_code"] = code
    Path(f"{prefix}-summary.json").write_text(json.dumps(summary, indent=2, default=str))
    shown = ("warmup_slowest_seconds", "runs", "exit_code")
    print(json.dumps({k: summary[k] for k in shown if k in summary}, indent=2))
    print(f"results: {prefix}*")
    return code


if __name__ == "__main__":
    sys.exit(main())
