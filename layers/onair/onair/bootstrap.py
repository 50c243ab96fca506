"""Wiring: the use cases' ports bound to the real adapters, once per execution environment.

The one module that knows both sides; the handlers call `services(SettingsModel)` at cold start, and tests
build `Services` from fakes (tests/fakes.py) or from moto-backed adapters.
"""

from __future__ import annotations

from functools import cache

from onair.config import Settings
from onair.ports import Fetched, Fetcher, Services

__all__ = ["Services", "services"]


class HttpFetcher:
    """The bounded HTTP(S) fetcher (onair.adapters.urls.UrlFetcher), created on first use: only runs with
    HLS items need it, and the other functions never import urllib.request."""

    def __init__(self) -> None:
        self._fetcher: Fetcher | None = None

    def fetch(self, url: str, etag: str | None = None) -> Fetched:
        if self._fetcher is None:
            self._fetcher = web_fetcher()
        return self._fetcher.fetch(url, etag)


def web_fetcher() -> Fetcher:
    """The production HTTP fetcher: public addresses only (tests replace this to reach a loopback server)."""
    from onair.adapters.powertools import tracer
    from onair.adapters.urls import UrlFetcher

    # X-Ray subsegments for the media fetches: patching http.client imports urllib3 (~25 ms), so it is
    # done here, on a run's first HLS item, not in every function's init.
    tracer.patch(["httplib"])
    return UrlFetcher()


@cache
def services(settings_model: type[Settings]) -> Services:
    """Real AWS clients (or moto, through AWS_ENDPOINT_URL), created on first use, with the settings of
    the function: its model validates the environment (a missing variable fails here, by name)."""
    from onair.adapters.powertools import PowertoolsMetrics
    from onair.adapters.s3 import S3BlobStore
    from onair.adapters.sqs import SqsQueues

    config = settings_model.from_env()
    return Services(
        config,
        S3BlobStore.from_bucket(config.bucket),
        SqsQueues.default(),
        PowertoolsMetrics(),
        http=HttpFetcher(),
    )
