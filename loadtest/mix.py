"""The load tests' mix: how often a user of loadtest/locustfile.py makes each request (Locust task weights),
shared with bench.emulator_floor so that both measure the same mix (stdlib only: Locust imports it)."""

from __future__ import annotations

# OnAirUser's tasks and their weights; bench.emulator_floor maps each to the request kind it sends.
WEIGHTS = {
    "import_schedule": 3,  # POST /schedules
    "request_run": 3,  # POST /schedules/{id}/runs
    "poll_run": 6,  # GET /runs/{id}
    "fetch_output": 3,  # GET /runs/{id}/output/{name}
    "queue_stats": 2,  # GET /queue-stats
    "import_malformed": 1,  # POST /schedules, refused with a 400
}
# The files a player (the FeedPoller user) polls, with If-None-Match.
FEED_FILES = ("guide.xml.gz", "channels.m3u")
