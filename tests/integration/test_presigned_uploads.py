"""Presigned upload URLs: SigV4, limited in time, bound to their key and to one content type.

moto (in-process or server) accepts any PUT to a presigned URL without checking its signature, so these
tests check the signature itself, the way S3 does: a request with another key or content type does not
match it.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import pytest

from onair.bootstrap import services


@pytest.fixture(autouse=True)
def environment_credentials(stack, monkeypatch):
    """The function signs with the credentials of its environment (as a Lambda role's): a fresh default
    session and clients, so the check below knows the secret."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    services.cache_clear()


def signature_matches(url: str, method: str, headers: dict[str, str]) -> bool:
    """S3's SigV4 query-string check of `url` for a request sending `headers` (the signed ones)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    given = query.pop("X-Amz-Signature")
    signed = query["X-Amz-SignedHeaders"].split(";")
    sent = {name.lower(): value.strip() for name, value in headers.items()} | {"host": parts.netloc}
    if any(name not in sent for name in signed):
        return False
    canonical = "\n".join(
        [
            method,
            quote(parts.path, safe="/~"),
            "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())),
            "".join(f"{name}:{sent[name]}\n" for name in signed),
            ";".join(signed),
            "UNSIGNED-PAYLOAD",
        ]
    )
    _key, day, region, service, terminator = query["X-Amz-Credential"].split("/")
    scope = f"{day}/{region}/{service}/{terminator}"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", query["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + boto3.Session().get_credentials().secret_key).encode()
    for part in (day, region, service, terminator):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), given)


def test_upload_url_is_signed_for_its_key_and_content_type_for_15_minutes(stack):
    # When a client asks for an upload URL
    reply = stack.api("POST", "/uploads")
    assert reply.status == 201, reply.body
    grant = reply.json()
    url, query = grant["url"], dict(parse_qsl(urlsplit(grant["url"]).query))
    # Then it is SigV4, valid 15 minutes, and the client is told the header the signature covers
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Expires"] == "900"
    assert query["X-Amz-SignedHeaders"] == "content-type;host"
    assert grant["headers"] == {"Content-Type": "application/xml"}
    # and S3 accepts the PUT with exactly those headers, to that key only
    assert signature_matches(url, "PUT", grant["headers"])
    assert not signature_matches(url, "PUT", {"Content-Type": "text/plain"})
    assert not signature_matches(url, "PUT", {})
    assert not signature_matches(url.replace(grant["id"], "someone-else"), "PUT", grant["headers"])
    assert not signature_matches(url, "GET", grant["headers"])


@pytest.mark.parametrize("content_type", ["text/xml", "application/gzip"])
def test_client_may_choose_another_allowed_content_type(stack, content_type):
    grant = stack.api("POST", "/uploads", query=f"content_type={quote(content_type)}").json()
    assert grant["headers"] == {"Content-Type": content_type}
    assert signature_matches(grant["url"], "PUT", grant["headers"])
    assert not signature_matches(grant["url"], "PUT", {"Content-Type": "application/xml"})


def test_content_type_outside_the_allow_list_is_refused(stack):
    reply = stack.api("POST", "/uploads", query="content_type=text%2Fhtml")
    assert reply.status == 400
    assert reply.json()["error"]["code"] == "invalid_request"
    assert stack.keys("uploads/") == []


def test_url_lifetime_comes_from_the_environment(stack, monkeypatch):
    monkeypatch.setenv("UPLOAD_URL_SECONDS", "120")
    services.cache_clear()
    grant = stack.api("POST", "/uploads").json()
    assert dict(parse_qsl(urlsplit(grant["url"]).query))["X-Amz-Expires"] == "120"
