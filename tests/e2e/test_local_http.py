"""The local HTTP API over raw sockets: request framing as API Gateway answers it (chunked bodies read,
an unreadable Content-Length a 400, too much a 413), never a hang or a dropped connection."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

from local.server import MAX_BODY
from tests.conftest import SAMPLE_XMLTV

READ_TIMEOUT = 30  # a failure to answer shows as a timeout, not as a hung test run


def connect(local_stack) -> socket.socket:
    parts = urlsplit(local_stack.api)
    return socket.create_connection((parts.hostname, parts.port), timeout=READ_TIMEOUT)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response (status, lower-cased headers, body framed by Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the server closed the connection without an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (li.partition(":") for li in lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body[:length]


def exchange(local_stack, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with connect(local_stack) as sock:
        sock.sendall(request)
        return read_response(sock)


def chunked(body: bytes, size: int) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def post(path: str, headers: str, body: bytes = b"") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: local\r\n{headers}\r\n".encode() + body


def test_a_chunked_body_is_read_and_the_connection_stays_usable(local_stack):
    with connect(local_stack) as sock:
        # Given a listing sent chunked (Transfer-Encoding: chunked, no Content-Length), chunk extension and
        # trailer included
        body = chunked(SAMPLE_XMLTV, 100).replace(b"\r\n", b";ext=1\r\n", 1)
        body = body[: -len(b"\r\n")] + b"X-Trailer: 1\r\n\r\n"
        sock.sendall(
            post("/schedules", "Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\n", body)
        )
        # Then it is imported whole
        status, _, answer = read_response(sock)
        assert status == 201, answer
        assert json.loads(answer)["programmes"] == 3
        # And the next request on the connection is read from where the body ended
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: local\r\n\r\n")
        assert read_response(sock)[0] == 200


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Length: -1\r\n",
        "Content-Length: abc\r\n",
        "Content-Length: 1e3\r\n",
        "Content-Length: 5\r\nContent-Length: 6\r\n",
        "Content-Length: 5, 6\r\n",
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
    ],
    ids=[
        "negative",
        "not a number",
        "exponent",
        "two lengths",
        "a list",
        "length and chunked",
        "gzip coding",
    ],
)
def test_a_body_whose_framing_cannot_be_read_is_a_400(local_stack, headers):
    # Given a request whose Content-Length (or Transfer-Encoding) does not say where its body ends
    status, answer_headers, _ = exchange(local_stack, post("/schedules", headers, b"<tv/>"))
    # Then it is answered with a 400 and the connection closed, rather than hung or dropped
    assert status == 400
    assert answer_headers["connection"] == "close"


@pytest.mark.parametrize(
    "body", [b"zz\r\n<tv/>\r\n0\r\n\r\n", b"5\r\n<tv/>XX0\r\n\r\n", b"5;" + b"x" * 5000 + b"\r\n"]
)
def test_a_chunked_body_that_is_not_chunked_is_a_400(local_stack, body):
    status, _, _ = exchange(local_stack, post("/schedules", "Transfer-Encoding: chunked\r\n", body))
    assert status == 400


def test_a_chunked_body_past_the_limit_is_a_413(local_stack):
    # Given chunks that together pass the API's limit (a chunk announcing it is enough)
    first = b"%x\r\n%s\r\n" % (1024, b" " * 1024)
    body = first + b"%x\r\n" % MAX_BODY
    status, headers, _ = exchange(local_stack, post("/schedules", "Transfer-Encoding: chunked\r\n", body))
    assert (status, headers["connection"]) == (413, "close")


def test_a_body_past_the_limit_is_refused_before_it_is_sent_when_the_client_asks(local_stack):
    # Given a client that asks before sending its body (curl does past 1 MB)
    headers = f"Content-Length: {MAX_BODY + 1}\r\nExpect: 100-continue\r\n"
    # Then it gets the 413 at once, not a 100 Continue
    status, _, _ = exchange(local_stack, post("/schedules", headers))
    assert status == 413
