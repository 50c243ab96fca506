"""The BlobStore contract (onair.ports), checked against both implementations: the moto-backed S3 adapter
and the in-memory fake the use cases' unit tests run on. A behaviour the fake gets wrong fails here."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from botocore.exceptions import ResponseStreamingError

from onair.adapters import s3 as s3_adapter
from onair.adapters.s3 import S3BlobStore
from onair.errors import NotFound, Unavailable
from onair.ports import BlobStore, ObjectChanged, ObjectExists
from tests.fakes import FakeBlobStore


@dataclass
class Subject:
    store: BlobStore
    versions: Callable[[str], int]  # how many versions (and delete markers) of a key the store holds


@pytest.fixture(params=["s3", "fake"])
def subject(request) -> Subject:
    if request.param == "fake":
        fake = FakeBlobStore()
        return Subject(fake, lambda key: len(fake.versions(key)))
    stack = request.getfixturevalue("stack")
    s3, bucket = stack.s3, stack.resources.bucket

    def versions(key: str) -> int:
        listing = s3.list_object_versions(Bucket=bucket, Prefix=key)
        entries = [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
        return sum(1 for entry in entries if entry["Key"] == key)

    return Subject(S3BlobStore(s3, bucket), versions)


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def test_a_written_object_reads_back_with_the_etag_of_its_bytes(subject):
    store = subject.store
    # When bytes are written
    etag = store.put_bytes("a/one.bin", b"\x00bytes", "application/octet-stream")
    # Then they read back with that ETag, S3's for a single-part PUT: the same bytes, the same ETag
    assert store.get_bytes_and_etag("a/one.bin") == (b"\x00bytes", etag)
    assert etag == md5_etag(b"\x00bytes") == store.put_bytes("a/two.bin", b"\x00bytes")
    info = store.stat("a/one.bin")
    assert (info.size, info.etag) == (6, etag)
    assert info.modified.utcoffset() == timedelta(0) and info.modified.microsecond == 0


def test_json_is_written_with_sorted_keys_and_unescaped_text(subject):
    store = subject.store
    etag = store.put_json("a/doc.json", {"b": "café", "a": [1, None]})
    assert store.get_bytes("a/doc.json") == '{"a": [1, null], "b": "café"}'.encode()
    assert store.get_json_and_etag("a/doc.json") == ({"a": [1, None], "b": "café"}, etag)


@pytest.mark.parametrize("in_memory", [10**7, 250_000], ids=["one put from memory", "from a file"])
def test_a_large_object_written_in_pieces_reads_back_whole(subject, monkeypatch, in_memory):
    monkeypatch.setattr(s3_adapter, "IN_MEMORY_PUT_BYTES", in_memory)
    chunks = [bytes([n]) * 100_000 for n in range(30)]
    subject.store.put_chunks("a/big.json", iter(chunks), "application/json")
    assert subject.store.get_bytes("a/big.json") == b"".join(chunks)


def test_an_object_downloaded_into_a_file_is_its_bytes(subject, monkeypatch, tmp_path):
    monkeypatch.setattr(s3_adapter, "READ_BYTES", 1000)  # many reads
    data = bytes(range(256)) * 40
    subject.store.put_bytes("a/upload.xml", data)
    with (tmp_path / "upload").open("w+b") as file:
        subject.store.download("a/upload.xml", file)
        file.seek(0)
        assert file.read() == data
        with pytest.raises(NotFound):
            subject.store.download("a/missing.xml", file)


def test_a_copy_has_the_bytes_and_content_type_of_its_source(subject):
    store = subject.store
    etag = store.put_bytes("a/source.xml", b"<tv/>", "application/xml")
    store.copy("a/source.xml", "b/copy.xml")
    assert store.get_bytes_and_etag("b/copy.xml") == (b"<tv/>", etag)  # a single-part object's MD5 either way
    assert store.get_bytes("a/source.xml") == b"<tv/>"
    assert subject.versions("b/copy.xml") == 1
    with pytest.raises(NotFound):
        store.copy("a/missing.xml", "b/other.xml")


@pytest.mark.parametrize(
    "data", [b"", b"one line", b"a\n\nb\n", b"\n".join(bytes([65 + n]) * 700 * n for n in range(12))]
)
def test_an_object_read_by_lines_is_its_size_and_its_bytes_split_at_line_breaks(subject, monkeypatch, data):
    monkeypatch.setattr(s3_adapter, "READ_BYTES", 1000)  # lines longer than a read, and reads of many lines
    subject.store.put_bytes("a/lines.json", data)
    size, lines = subject.store.get_lines("a/lines.json")
    assert (size, list(lines)) == (len(data), data.split(b"\n"))


def test_a_body_cut_short_while_read_by_lines_is_unavailable():
    class CutShort:
        closed = False

        def iter_chunks(self, size: int) -> Iterator[bytes]:
            yield b"first\nsec"
            raise ResponseStreamingError(error="Connection broken: IncompleteRead")

        def close(self) -> None:
            self.closed = True

    body = CutShort()
    lines = s3_adapter._lines(body, "a/cut.json")
    assert next(lines) == b"first"
    with pytest.raises(Unavailable, match="a/cut"):
        next(lines)
    assert body.closed


@pytest.mark.parametrize(
    "read", ["get_bytes", "get_json", "get_bytes_and_etag", "get_json_and_etag", "get_lines", "stat"]
)
def test_reading_a_missing_object_is_not_found(subject, read):
    with pytest.raises(NotFound) as raised:
        getattr(subject.store, read)("a/missing.json")
    assert "a/missing.json" not in str(raised.value)  # the use case says what is missing, in its terms


def test_only_new_refuses_a_key_that_exists_and_keeps_its_object(subject):
    store = subject.store
    first = store.put_json("a/claim.json", {"n": 1}, only_new=True)
    with pytest.raises(ObjectExists):
        store.put_json("a/claim.json", {"n": 2}, only_new=True)
    assert store.get_json_and_etag("a/claim.json") == ({"n": 1}, first)
    assert subject.versions("a/claim.json") == 1


def test_if_match_writes_only_over_the_version_read(subject):
    store = subject.store
    first = store.put_json("a/status.json", {"s": "queued"})
    second = store.put_json("a/status.json", {"s": "running"}, if_match=first)
    # A second writer holding the first ETag is refused; so is an ETag of another object
    with pytest.raises(ObjectChanged):
        store.put_json("a/status.json", {"s": "succeeded"}, if_match=first)
    with pytest.raises(ObjectChanged):
        store.put_json("a/status.json", {"s": "failed"}, if_match=md5_etag(b"other"))
    assert store.get_json_and_etag("a/status.json") == ({"s": "running"}, second)


def test_if_match_on_a_missing_key_is_a_change_and_writes_nothing(subject):
    store = subject.store
    etag = store.put_json("a/x.json", {"n": 1})
    for only_new in (False, True):
        with pytest.raises(ObjectChanged):
            store.put_json("a/gone.json", {"n": 2}, if_match=etag, only_new=only_new)
    assert store.list_keys("a/gone") == []
    # Both conditions on a key that exists: the write is refused, as a change (it names an ETag)
    with pytest.raises(ObjectChanged):
        store.put_json("a/x.json", {"n": 3}, if_match=etag, only_new=True)
    assert store.get_json("a/x.json") == {"n": 1}


def test_keys_list_in_ascending_order_after_a_key_up_to_a_limit(subject):
    store = subject.store
    names = ["p/b", "p/a/2", "p/a/10", "p/é", "p/Z", "q/a", "p"]
    for name in names:
        store.put_bytes(name, b"x")
    under = sorted(n for n in names if n.startswith("p/"))  # code point order = UTF-8 byte order
    assert store.list_keys("p/") == under == ["p/Z", "p/a/10", "p/a/2", "p/b", "p/é"]
    assert store.list_keys("p/", start_after="p/a/10") == under[2:]
    assert store.list_keys("p/", start_after="p/a/10", limit=2) == under[2:4]
    assert store.list_keys("p/", start_after="p/a", limit=1) == ["p/a/10"]  # after a key that is no object
    assert store.list_keys("r/") == []


def test_delete_removes_every_version_of_one_key(subject):
    store = subject.store
    for n in range(3):
        store.put_json("a/k", {"n": n})
    store.put_json("a/kk", {"n": 0})
    store.delete("a/k")
    store.delete("a/never-written")  # no error
    assert subject.versions("a/k") == 0
    assert store.list_keys("a/") == ["a/kk"]  # a key the deleted one is a prefix of stays
    store.put_json("a/k", {"n": 9}, only_new=True)  # the key is new again


def test_delete_prefix_removes_every_version_under_it_and_counts_the_keys(subject):
    store = subject.store
    for key in ("s/1/a", "s/1/a", "s/1/b/c", "s/10/a"):
        store.put_bytes(key, b"x")
    assert store.delete_prefix("s/1/") == 2
    assert subject.versions("s/1/a") == subject.versions("s/1/b/c") == 0
    assert store.list_keys("s/") == ["s/10/a"]
    assert store.delete_prefix("s/1/") == 0


def test_presigned_urls_name_the_key(subject):
    put = subject.store.presigned_put("incoming/x y.xml", 900, "application/xml")
    get = subject.store.presigned_get("runs/r/out/guide.xml", 60)
    assert put.startswith("http") and "x%20y.xml" in put
    assert get.startswith("http") and "runs/r/out/guide.xml" in get
