"""OnAir under load (Locust): the mix a broadcaster's tools produce, against the local stack or a deployment.

    make load                                   # headless, the ramp 100 -> 500 -> 1000 users, local stack
    make load URL=https://abc.execute-api.eu-west-1.amazonaws.com   # a deployed stack (AuthMode=none)
    .venv/bin/locust -f loadtest/locustfile.py --headless -u 100 -r 50 -t 60s -H http://127.0.0.1:3000

Each user (closed model: a user waits for each answer, then thinks LOAD_THINK_MIN..LOAD_THINK_MAX seconds)
imports small XMLTV and OnAir documents, requests runs, polls its runs' status, fetches outputs, reads the
queue stats and now and then sends a malformed document, whose expected 4xx counts as a success (anything
else, including another 4xx, as a failure). Request names start with `submit` (POST) or `read` (GET).

One user in LOAD_FEED_SHARE (default 5) is a player instead (FeedPoller): it polls a feed's guide.xml.gz
and channels.m3u every LOAD_FEED_POLL_MIN..MAX seconds (2-5) with If-None-Match, as a player does; a 304 is
a success. The feed is one of LOAD_FEEDS (a JSON file loadtest.run writes: feeds published before the test)
or, without it, one the player makes first (it imports a schedule and runs it with publish). Their request
names start with `feed`.

LOAD_SHAPE=ramp uses the stages below (LOAD_STAGE_SECONDS each). At the end `--summary FILE` gets a JSON
summary: p50/p95/p99 of submit and read answers per user count, errors, and, from the status of every run
the test created, how many finished, runs per minute and the highest number that ran at once (the cap).
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, events, task
from viewers import ViewerUser  # noqa: F401  (live viewers: in the mix when LOAD_LIVE_URL is set)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # Locust puts only this file's folder on the path
    sys.path.insert(0, str(ROOT))

from loadtest.mix import FEED_FILES, WEIGHTS  # noqa: E402
from loadtest.runs import run_summary  # noqa: E402

DOCUMENTS = [
    (path.name, path.read_bytes())
    for path in [ROOT / "events" / "schedule.xml", *sorted((ROOT / "samples").glob("*.xml"))]
]
# Documents the API must refuse, with the answer it must give.
MALFORMED = [
    ("not_well_formed", b"<tv>\n  <channel id='a'>\n</tv>\n", 400),
    ("dtd_not_allowed", b'<!DOCTYPE tv [<!ENTITY x "y">]><tv>&x;</tv>', 400),
    ("not_a_schedule", b"<html><body>hello</body></html>", 400),
    ("not_well_formed", b"this is not XML", 400),
]
OUTPUTS = ("guide.xml", "channels.m3u", "playlist.m3u8", "asrun.csv", "playout.json")
XML = {"content-type": "application/xml"}
JSON = {"content-type": "application/json"}
THINK = (float(os.environ.get("LOAD_THINK_MIN", "5")), float(os.environ.get("LOAD_THINK_MAX", "15")))
FEED_POLL = (
    float(os.environ.get("LOAD_FEED_POLL_MIN", "2")),
    float(os.environ.get("LOAD_FEED_POLL_MAX", "5")),
)
FEED_SHARE = int(os.environ.get("LOAD_FEED_SHARE", "5"))  # one user in this many is a player; 0: none
# Feeds published before the test (loadtest.run writes them): a player polls one. Without them, each player
# makes its own first (a schedule and a published run), as against a deployed stack without --feeds.
FEEDS: list[dict[str, str]] = (
    json.loads(Path(os.environ["LOAD_FEEDS"]).read_text()) if os.environ.get("LOAD_FEEDS") else []
)

# What the summary needs: every answer's time by kind and user count, and every run created.
_lock = threading.Lock()
_samples: dict[tuple[str, int], list[float]] = defaultdict(list)
_errors: dict[str, int] = defaultdict(int)
_runs: list[str] = []
_started = time.time()


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--summary", default="", help="write a JSON summary of the test to this file")


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any, context: Any, **kwargs: Any) -> None:
    kind = name.split(" ", 1)[0]
    runner = _environment.runner if _environment else None
    users = getattr(runner, "target_user_count", None) or (runner.user_count if runner else 0)
    with _lock:
        _samples[(kind, users)].append(response_time)
        if exception is not None:
            _errors[name] += 1


_environment: Any = None


@events.init.add_listener
def _init(environment: Any, **kwargs: Any) -> None:
    global _environment
    _environment = environment


@events.spawning_complete.add_listener
def _spawned(user_count: int, **kwargs: Any) -> None:
    """With --reset-stats, the figures are those of the steady state, as Locust's own."""
    if _environment and _environment.parsed_options and _environment.parsed_options.reset_stats:
        with _lock:
            _samples.clear()
            _errors.clear()


def _run_status(client: Any, run_id: str) -> dict[str, Any] | None:
    """GET /runs/{id} as the mix counts it: a failure, and None, unless a run that has not failed answers."""
    with client.get(f"/runs/{run_id}", name="read GET /runs/{id}", catch_response=True) as reply:
        if reply.status_code != 200:
            reply.failure(f"{reply.status_code} {_text(reply)}")
            return None
        status: dict[str, Any] = reply.json()
        if status["status"] == "failed":
            reply.failure(f"run failed: {status.get('error')}")
            return None
        reply.success()
        return status


def _text(reply: Any) -> str:
    """The start of an answer's body for a failure message (none when the connection failed)."""
    return (reply.text or "")[:200]


class OnAirUser(FastHttpUser):
    weight = max(1, FEED_SHARE - 1) if FEED_SHARE else 1
    wait_time = between(*THINK)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.schedules: list[str] = []
        self.runs: list[str] = []
        self.finished: list[dict[str, Any]] = []
        # A user thinks before its first action too: users started together do not all send at one instant
        # (the closed model's users are independent; a synchronized first burst measures the spawn, not OnAir).
        self.wait()

    @task(WEIGHTS["import_schedule"])
    def import_schedule(self) -> None:
        name, body = random.choice(DOCUMENTS)
        with self.client.post(
            "/schedules", data=body, headers=XML, name="submit POST /schedules", catch_response=True
        ) as reply:
            if reply.status_code == 201:
                self.schedules.append(reply.json()["id"])
                reply.success()
            else:
                reply.failure(f"{name}: {reply.status_code} {_text(reply)}")

    @task(WEIGHTS["request_run"])
    def request_run(self) -> None:
        if not self.schedules:
            return self.import_schedule()
        schedule = random.choice(self.schedules[-5:])
        body = json.dumps({"from": "2026-12-01", "days": 1, "seed": random.randrange(1000)})
        with self.client.post(
            f"/schedules/{schedule}/runs",
            data=body,
            headers=JSON,
            name="submit POST /schedules/{id}/runs",
            catch_response=True,
        ) as reply:
            if reply.status_code == 202 and reply.json()["status"] == "queued":
                self.runs.append(reply.json()["id"])
                with _lock:
                    _runs.append(reply.json()["id"])
                reply.success()
            else:
                reply.failure(f"{reply.status_code} {_text(reply)}")

    @task(WEIGHTS["poll_run"])
    def poll_run(self) -> None:
        if not self.runs:
            return None
        run_id = self.runs[-1]
        status = _run_status(self.client, run_id)
        if status is not None and status["status"] == "succeeded":
            self.finished.append(status)
            self.runs.remove(run_id)
        return None

    @task(WEIGHTS["fetch_output"])
    def fetch_output(self) -> None:
        if not self.finished:
            return
        run = random.choice(self.finished[-5:])
        name = random.choice([n for n in OUTPUTS if n in run["outputs"]])
        with self.client.get(
            run["outputs"][name], name="read GET /runs/{id}/output/{name}", catch_response=True
        ) as reply:
            if reply.status_code == 200 and reply.content:
                reply.success()
            else:
                reply.failure(f"{name}: {reply.status_code}")

    @task(WEIGHTS["queue_stats"])
    def queue_stats(self) -> None:
        with self.client.get("/queue-stats", name="read GET /queue-stats", catch_response=True) as reply:
            if reply.status_code == 200 and "run_concurrency_limit" in reply.json():
                reply.success()
            else:
                reply.failure(f"{reply.status_code} {_text(reply)}")

    @task(WEIGHTS["import_malformed"])
    def import_malformed(self) -> None:
        code, body, expected = random.choice(MALFORMED)
        with self.client.post(
            "/schedules",
            data=body,
            headers=XML,
            name="submit POST /schedules (malformed)",
            catch_response=True,
        ) as reply:
            answer = reply.json() if reply.status_code == expected else {}
            if answer.get("error", {}).get("code") == code:
                reply.success()  # the refusal is the right answer
            else:
                reply.failure(f"{code}: expected {expected}, got {reply.status_code} {_text(reply)}")


class FeedPoller(FastHttpUser):
    """A player: one schedule imported and run with publish, then its feed polled with If-None-Match."""

    weight = 1 if FEED_SHARE else 0
    wait_time = between(*FEED_POLL)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.feeds: dict[str, str] = {}  # name -> path
        self.etags: dict[str, str] = {}
        self.wait()
        if FEEDS:
            self.feeds = random.choice(FEEDS)
            return None
        name, body = random.choice(DOCUMENTS)
        with self.client.post(
            "/schedules", data=body, headers=XML, name="submit POST /schedules", catch_response=True
        ) as reply:
            if reply.status_code != 201:
                return reply.failure(f"{name}: {reply.status_code} {_text(reply)}")
            schedule = reply.json()
        with self.client.post(
            f"/schedules/{schedule['id']}/runs",
            data=json.dumps({"from": "2026-12-01", "days": 1, "publish": True}),
            headers=JSON,
            name="submit POST /schedules/{id}/runs",
            catch_response=True,
        ) as reply:
            if reply.status_code != 202:
                return reply.failure(f"{reply.status_code} {_text(reply)}")
            run_id = reply.json()["id"]
            with _lock:
                _runs.append(run_id)
        for _ in range(120):  # until its outputs are the feed (the job queue may be long under load)
            status = _run_status(self.client, run_id)
            if status is None:
                return None
            if status.get("published"):
                self.feeds = {name: schedule["feed"]["urls"][name] for name in FEED_FILES}
                return None
            self.wait()
        return None

    @task
    def poll_feed(self) -> None:
        if not self.feeds:
            return
        name = random.choice(FEED_FILES)
        headers = {"if-none-match": self.etags[name]} if name in self.etags else {}
        with self.client.get(
            self.feeds[name], headers=headers, name=f"feed GET /feeds/{{token}}/{name}", catch_response=True
        ) as reply:
            if reply.status_code == 200 and reply.content:
                self.etags[name] = reply.headers.get("etag") or ""
                reply.success()
            elif reply.status_code == 304 and name in self.etags:
                reply.success()  # not modified: what a player polling with its ETag expects
            else:
                reply.failure(f"{name}: {reply.status_code} {_text(reply)}")


if os.environ.get("LOAD_SHAPE") == "ramp":

    class RampShape(LoadTestShape):
        """100 -> 500 -> 1000 users, LOAD_STAGE_SECONDS at each (after the ramp to it)."""

        stages = tuple(int(u) for u in os.environ.get("LOAD_STAGES", "100,500,1000").split(","))
        seconds = int(os.environ.get("LOAD_STAGE_SECONDS", "60"))
        spawn_rate = float(os.environ.get("LOAD_SPAWN_RATE", "100"))

        def tick(self) -> tuple[int, float] | None:
            elapsed = self.get_run_time()
            for index, users in enumerate(self.stages):
                if elapsed < (index + 1) * self.seconds:
                    return users, self.spawn_rate
            return None


# --- the summary ----------------------------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1) if ordered else 0.0


def run_report(host: str, run_ids: list[str]) -> dict[str, Any]:
    def status(run_id: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"{host}/runs/{run_id}", timeout=30) as reply:
            return json.loads(reply.read())

    with ThreadPoolExecutor(8) as pool:
        return run_summary(list(pool.map(status, run_ids)))


@events.quitting.add_listener
def _summary(environment: Any, **kwargs: Any) -> None:
    path = environment.parsed_options.summary if environment.parsed_options else ""
    if not path:
        return
    stats = environment.stats.total
    levels: dict[str, Any] = {}
    for (kind, users), values in sorted(_samples.items(), key=lambda item: (item[0][1], item[0][0])):
        levels.setdefault(str(users), {})[kind] = {
            "requests": len(values),
            "p50": _percentile(values, 0.50),
            "p95": _percentile(values, 0.95),
            "p99": _percentile(values, 0.99),
        }
    summary = {
        "host": environment.host,
        "seconds": round(time.time() - _started, 1),
        "requests": stats.num_requests,
        "failures": stats.num_failures,
        "error_rate": round(stats.num_failures / stats.num_requests, 5) if stats.num_requests else 0,
        "requests_per_second": round(stats.total_rps, 1),
        "errors": dict(_errors),
        "by_users": levels,
        "runs": run_report(environment.host, list(_runs)) if _runs else {},
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(summary, indent=2))
