"""The bounded fetcher against a loopback HTTP server: limits, redirects, schemes, addresses, ETags."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler

import pytest

from onair.adapters.urls import UrlFetcher
from onair.live.fetch import MemoryCache
from onair.live.media import resolve
from onair.ports import FetchError
from tests.live_support import answer, loopback, vod_text

PLAYLIST = vod_text([2, 2, 1.5]).encode()


def fetcher(**limits) -> UrlFetcher:
    return UrlFetcher(allow_private=True, **limits)  # the loopback server is a private address


def failure(fetch, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch.fetch(url)
    return caught.value


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    (folder / "show").mkdir()
    (folder / "show" / "index.m3u8").write_bytes(PLAYLIST)
    requests: list[tuple[str, str | None]] = []

    def redirect(to: str):
        return lambda h: answer(h, 302, Location=to)

    def chunked(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(50):
            handler.wfile.write(b"400\r\n" + b"#" * 1024 + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"#")
            handler.wfile.flush()
            time.sleep(0.05)

    def logged(handler: BaseHTTPRequestHandler) -> None:
        requests.append((handler.path, handler.headers.get("If-None-Match")))
        if handler.headers.get("If-None-Match") == '"v1"':
            answer(handler, 304, ETag='"v1"')
        else:
            answer(handler, 200, PLAYLIST, ETag='"v1"')

    routes = {
        "/hop1": redirect("/hop2"),
        "/hop2": redirect("/show/index.m3u8"),
        "/loop": redirect("/loop"),
        "/to-file": redirect("file:///etc/passwd"),
        "/to-ftp": redirect("ftp://127.0.0.1/x.m3u8"),
        "/huge": lambda h: answer(h, 200, b"#EXTM3U\n", Content_Length="999999999"),
        "/chunked": chunked,
        "/trickle": trickle,
        "/error": lambda h: answer(h, 500, b"no"),
        "/logged/index.m3u8": logged,
    }
    with loopback(folder, routes) as base:
        yield base, requests


def test_fetch_returns_the_body_and_its_etag_then_304_with_it(server):
    base, _ = server
    fetch = fetcher()
    got = fetch.fetch(base + "/show/index.m3u8")
    assert got.body == PLAYLIST and got.etag and got.url == base + "/show/index.m3u8"
    again = fetch.fetch(base + "/show/index.m3u8", etag=got.etag)
    assert again.body is None and again.etag == got.etag


def test_redirects_are_followed_within_the_limit_and_report_where_they_ended(server):
    base, _ = server
    got = fetcher(max_redirects=2).fetch(base + "/hop1")
    assert got.url == base + "/show/index.m3u8" and got.body == PLAYLIST
    assert "redirects" in failure(fetcher(max_redirects=1), base + "/hop1").message


def test_a_redirect_loop_is_unreachable(server):
    base, _ = server
    error = failure(fetcher(), base + "/loop")
    assert error.code == "unreachable" and "more than 3 redirects" in error.message


@pytest.mark.parametrize("path", ["/to-file", "/to-ftp"])
def test_a_redirect_to_another_scheme_is_refused(server, path):
    base, _ = server
    assert failure(fetcher(), base + path).code == "bad_scheme"


def test_non_http_urls_are_refused_before_any_request():
    for url in ("file:///etc/passwd", "ftp://example.com/x", "data:,#EXTM3U", "s3://bucket/key.m3u8"):
        assert failure(fetcher(), url).code == "bad_scheme"


def test_bodies_beyond_the_limit_are_too_large_declared_or_not(server):
    base, _ = server
    assert failure(fetcher(max_bytes=10_000), base + "/huge").code == "too_large"
    assert failure(fetcher(max_bytes=10_000), base + "/chunked").code == "too_large"
    assert len(fetcher(max_bytes=100_000).fetch(base + "/chunked").body) == 50 * 1024


def test_a_trickling_server_is_cut_off_at_the_deadline(server):
    base, _ = server
    error = failure(fetcher(deadline=1.0), base + "/trickle")
    assert error.code == "unreachable" and "within 1.0 s" in error.message


def test_errors_and_dead_servers_are_unreachable(server):
    base, _ = server
    assert failure(fetcher(), base + "/error").message.endswith("HTTP 500")
    assert failure(fetcher(), base + "/nothing-here").code == "unreachable"
    assert failure(fetcher(timeout=1.0), "http://127.0.0.1:9/x.m3u8").code == "unreachable"  # discard port


def test_private_addresses_are_blocked_by_default(server):
    # The Lambda runtime API and a VPC's services listen on such addresses: a schedule must not reach them
    base, _ = server
    error = failure(UrlFetcher(), base + "/show/index.m3u8")
    assert error.code == "blocked_address" and "127.0.0.1" in error.message


def test_resolve_over_http_with_a_cache_sends_the_etag_and_downloads_nothing_new(server):
    base, requests = server
    cache = MemoryCache()
    first = resolve(base + "/logged/index.m3u8", fetcher(), cache)
    second = resolve(base + "/logged/index.m3u8", fetcher(), cache)
    assert first.findings == [] and second.index == first.index
    assert first.index.renditions[0].segments[0] == base + "/logged/s0.ts"
    assert requests[-2:] == [("/logged/index.m3u8", None), ("/logged/index.m3u8", '"v1"')]


def test_resolve_turns_fetch_failures_into_findings(server):
    base, _ = server
    assert [f.code for f in resolve(base + "/loop", fetcher()).findings] == ["unreachable"]
    assert [f.code for f in resolve(base + "/to-file", fetcher()).findings] == ["bad_scheme"]
    assert [f.code for f in resolve(base + "/huge", fetcher()).findings] == ["too_large"]
