"""Live viewers (Locust): each polls its channel's live playlist every target duration, as an HLS player
does (RFC 8216 6.3.4), and checks what a player would: a 200 media playlist whose EXT-X-MEDIA-SEQUENCE
never goes back. Registered in loadtest/locustfile.py; in the mix when LOAD_LIVE_URL names a live
playlist (a path under --host, or a URL), left out otherwise.

    python -m loadtest.viewers --api http://127.0.0.1:3000 --endpoint http://127.0.0.1:4566
        # prepares a live channel on a local stack (`make run`): playlists under library/load/ in its S3,
        # an OnAir schedule of them imported, run and published; prints its live path
    LOAD_LIVE_URL=/feeds/<token>/live/tv1.m3u8 .venv/bin/locust -f loadtest/locustfile.py ViewerUser \\
        --headless -u 1000 -r 100 -t 90s -H http://127.0.0.1:3000 --reset-stats

A multivariant answer is followed to its first rendition, as a player picks one. LOAD_VIEWER_WEIGHT
(default 1) is the viewers' share of the mix beside the API users.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from locust import FastHttpUser, task

LIVE_URL = os.environ.get("LOAD_LIVE_URL", "")
NAME = "live GET /feeds/{token}/live/{channel}.m3u8"
_SEQUENCE = re.compile(r"^#EXT-X-MEDIA-SEQUENCE:(\d+)", re.M)
_TARGET = re.compile(r"^#EXT-X-TARGETDURATION:(\d+)", re.M)


class ViewerUser(FastHttpUser):
    abstract = not LIVE_URL  # no live channel named: not in the mix
    weight = int(os.environ.get("LOAD_VIEWER_WEIGHT", "1"))
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.url = LIVE_URL
        self.target = 2.0
        self.sequence = -1
        # Players do not all start at one instant: the first poll somewhere in the first target duration
        time.sleep(random.uniform(0, self.target))

    def wait_time(self) -> float:
        return self.target  # a player reloads a live playlist every target duration (RFC 8216 6.3.4)

    @task
    def poll(self) -> None:
        with self.client.get(self.url, name=NAME, catch_response=True) as reply:
            text = reply.text or ""
            if reply.status_code != 200 or not text.startswith("#EXTM3U"):
                return reply.failure(f"{reply.status_code} {text[:200]}")
            if "#EXT-X-STREAM-INF" in text:  # multivariant: play its first rendition from now on
                rendition = next(line for line in text.splitlines() if line and not line.startswith("#"))
                self.url = urljoin(self.url, rendition)
                return reply.success()
            sequence, target = _SEQUENCE.search(text), _TARGET.search(text)
            if sequence is None or target is None:
                return reply.failure("a media playlist without EXT-X-MEDIA-SEQUENCE or EXT-X-TARGETDURATION")
            if int(sequence[1]) < self.sequence:
                return reply.failure(f"EXT-X-MEDIA-SEQUENCE went back: {self.sequence} -> {sequence[1]}")
            self.sequence, self.target = int(sequence[1]), float(target[1])
            return reply.success()


# --- preparing a live channel on a local stack ------------------------------------------------------------

SHOWS = 10


def _playlist(name: str) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:VOD"]
    for n in range(30):
        lines += ["#EXTINF:2.000,", f"{name}_{n:03d}.ts"]
    return "\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n"


def _request(method: str, url: str, body: bytes | None = None, kind: str = "application/json") -> Any:
    request = urllib.request.Request(url, data=body, method=method, headers={"content-type": kind})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def prepare(api: str, endpoint: str) -> str:
    """A channel of ten 60-second shows (playlists only: viewers read playlists, not segments) published
    on the local stack at `api` (S3 at `endpoint`) from today for two days; answers its live path."""
    from local.__main__ import clients
    from local.template import load_template

    s3, _ = clients(endpoint)
    bucket = load_template().bucket_name
    items = []
    for n in range(SHOWS):
        key = f"library/load/show{n}.m3u8"
        s3.put_object(Bucket=bucket, Key=key, Body=_playlist(f"show{n}").encode())
        items.append(
            f'<item id="show{n}" title="Show {n}" duration="PT60S" category="show" uri="s3://{bucket}/{key}"/>'
        )
    days = "mon tue wed thu fri sat sun"
    document = f"""<?xml version="1.0" encoding="UTF-8"?>
<schedule xmlns="urn:onair:schedule:1" timezone="Europe/Paris">
  <channels><channel id="tv1" name="Load TV"/></channels>
  <library>{"".join(items)}</library>
  <pools><pool id="shows" order="sequential"><category ref="show"/></pool></pools>
  <blocks><block channel="tv1" days="{days}" start="00:00" end="24:00" pool="shows"/></blocks>
</schedule>""".encode()
    schedule = _request("POST", f"{api}/schedules", document, "application/xml")
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    run = _request(
        "POST", f"{api}/schedules/{schedule['id']}/runs", json.dumps({"from": today, "days": 2}).encode()
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = _request("GET", f"{api}/runs/{run['id']}")
        if status["status"] == "failed":
            raise SystemExit(f"the run failed: {status.get('error')}")
        if status.get("published"):
            return str(_request("GET", f"{api}/schedules/{schedule['id']}")["feed"]["live"]["tv1"])
        time.sleep(0.5)
    raise SystemExit("the run was not published within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description="Prepare a live channel on a local stack for ViewerUser")
    parser.add_argument("--api", default="http://127.0.0.1:3000")
    parser.add_argument("--endpoint", default="http://127.0.0.1:4566", help="the local stack's moto")
    args = parser.parse_args()
    print(prepare(args.api.rstrip("/"), args.endpoint))


if __name__ == "__main__":
    main()
