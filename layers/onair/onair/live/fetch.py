"""The resolution's seams that need no network: an in-memory PlaylistCache and a fetcher by scheme.

The Protocols (`Fetcher`, `PlaylistCache`) and their values (`Fetched`, `FetchError`) are onair.ports';
the implementations that reach the outside are adapters (onair.adapters.urls.UrlFetcher for http and
https) or work over the BlobStore port (onair.usecases.live: S3Fetcher, StoredPlaylistCache).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from onair.ports import Fetched, Fetcher, FetchError, PlaylistCache

__all__ = ["FetchError", "Fetched", "Fetcher", "MemoryCache", "PlaylistCache", "SchemeFetcher", "scheme_of"]


def scheme_of(uri: str) -> str:
    return urlsplit(uri).scheme.lower()


class MemoryCache:
    """A PlaylistCache in a dict: for tests, and for one run (several items sharing a URI)."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def get(self, uri: str) -> dict[str, Any] | None:
        return self.entries.get(uri)

    def put(self, uri: str, entry: dict[str, Any]) -> None:
        self.entries[uri] = entry


class SchemeFetcher:
    """One Fetcher per URI scheme (http and https to the bounded HTTP fetcher, s3 to the bucket's); any
    other scheme is refused, as the HTTP fetcher refuses it."""

    def __init__(self, by_scheme: Mapping[str, Fetcher]) -> None:
        self._by_scheme = dict(by_scheme)

    def fetch(self, url: str, etag: str | None = None) -> Fetched:
        fetcher = self._by_scheme.get(scheme_of(url))
        if fetcher is None:
            raise FetchError(
                "bad_scheme", f"{url[:200]}: only {', '.join(sorted(self._by_scheme))} are fetched"
            )
        return fetcher.fetch(url, etag)
