"""The S3 adapter (the BlobStore port of onair.ports): the only module that talks to S3. The client is
injected (moto in tests)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from onair.adapters.aws import infrastructure
from onair.errors import NotFound, Unavailable
from onair.ports import ObjectChanged, ObjectExists, ObjectInfo

READ_BYTES = 1024 * 1024  # what get_lines and download read at a time
IN_MEMORY_PUT_BYTES = 8 * 1024 * 1024  # put_chunks: s3transfer's multipart threshold
# Keys are the bucket's business, not the client's: the use case that asked names what is missing (the
# ClientError chained to this one keeps the key for the logs).
MISSING = "the requested object does not exist"


_CONDITION_CODES = ("PreconditionFailed", "ConditionalRequestConflict")


class S3BlobStore:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        self._s3 = s3_client
        self.bucket = bucket

    @classmethod
    def from_bucket(cls, bucket: str) -> S3BlobStore:
        import boto3  # created lazily so moto (mock_aws or a server via AWS_ENDPOINT_URL) is in place first
        from botocore.config import Config

        # SigV4: botocore still presigns S3 URLs with SigV2 by default, which S3 refuses for newer buckets
        # and regions; SigV4 also signs the headers the URL requires (Content-Type). Virtual-hosted style
        # names the bucket's regional host (bucket.s3.<region>.amazonaws.com): the global one answers a 307
        # outside us-east-1 while a new bucket's DNS propagates, which a presigned PUT from a browser cannot
        # follow. botocore keeps path style for an endpoint override (moto's 127.0.0.1).
        config = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
        return cls(boto3.client("s3", config=config), bucket)

    def get_bytes(self, key: str) -> bytes:
        return self.get_bytes_and_etag(key)[0]

    @infrastructure
    def get_bytes_and_etag(self, key: str) -> tuple[bytes, str]:
        """The object and its ETag, the version a later `put_bytes(..., if_match=etag)` must find."""
        with _missing_is_not_found():
            answer = self._s3.get_object(Bucket=self.bucket, Key=key)
            return answer["Body"].read(), answer["ETag"]

    @infrastructure
    def get_lines(self, key: str) -> tuple[int, Iterator[bytes]]:
        with _missing_is_not_found():
            answer = self._s3.get_object(Bucket=self.bucket, Key=key)
        return int(answer["ContentLength"]), _lines(answer["Body"], key)

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def get_json_and_etag(self, key: str) -> tuple[Any, str]:
        data, etag = self.get_bytes_and_etag(key)
        return json.loads(data), etag

    @infrastructure
    def stat(self, key: str) -> ObjectInfo:
        with _missing_is_not_found():
            head = self._s3.head_object(Bucket=self.bucket, Key=key)
        return ObjectInfo(int(head["ContentLength"]), head["LastModified"], str(head["ETag"]))

    @infrastructure
    def put_bytes(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        only_new: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write `data` at `key` and answer its ETag. Conditional (S3 compare-and-swap): with `only_new`
        the write fails with ObjectExists instead of clobbering; with `if_match` (an ETag read before) it
        fails with ObjectChanged unless that version is still the current one."""
        extra = {"IfNoneMatch": "*"} if only_new else {}
        if if_match is not None:
            extra["IfMatch"] = if_match
        try:
            answer = self._s3.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **extra
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if if_match is not None and code in (*_CONDITION_CODES, "NoSuchKey", "404"):
                raise ObjectChanged(key) from error
            if code in _CONDITION_CODES:
                raise ObjectExists(key) from error
            raise
        return str(answer["ETag"])

    @infrastructure
    def put_chunks(self, key: str, chunks: Iterable[bytes], content_type: str) -> None:
        """Write an object from pieces. Up to 8 MiB (s3transfer's multipart threshold) it is one PutObject
        from memory. A larger one is written to a temporary file (/tmp), then uploaded from it, in parts,
        so memory never holds the whole object: from a file's name, s3transfer reads each part as it sends
        it; from a file object it would read up to ten 8 MiB parts ahead into memory (+112 MiB for a 100 MB
        object, +21 MiB this way: docs/PERFORMANCE.md, "The run streams")."""
        from boto3.exceptions import S3UploadFailedError  # upload_file's, with the ClientError in its text
        from s3transfer.exceptions import RetriesExceededError

        pieces = iter(chunks)
        held: list[bytes] = []
        held_bytes = 0
        for chunk in pieces:
            held.append(chunk)
            held_bytes += len(chunk)
            if held_bytes > IN_MEMORY_PUT_BYTES:
                break
        else:
            self.put_bytes(key, b"".join(held), content_type)
            return
        with tempfile.NamedTemporaryFile() as spool:
            spool.writelines(held)
            del held
            for chunk in pieces:
                spool.write(chunk)
            spool.flush()
            try:
                self._s3.upload_file(spool.name, self.bucket, key, ExtraArgs={"ContentType": content_type})
            except (RetriesExceededError, S3UploadFailedError) as error:  # a part's upload gave up
                raise Unavailable(f"upload of {key}: {error}") from error

    @infrastructure
    def download(self, key: str, file: IO[bytes]) -> None:
        with _missing_is_not_found():
            answer = self._s3.get_object(Bucket=self.bucket, Key=key)
        for chunk in answer["Body"].iter_chunks(READ_BYTES):
            file.write(chunk)

    @infrastructure
    def copy(self, source: str, key: str) -> None:
        with _missing_is_not_found():
            self._s3.copy_object(
                Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source}
            )

    def put_json(self, key: str, value: Any, *, only_new: bool = False, if_match: str | None = None) -> str:
        data = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
        return self.put_bytes(key, data, "application/json", only_new=only_new, if_match=if_match)

    @infrastructure
    def list_keys(self, prefix: str, *, start_after: str | None = None, limit: int = 1000) -> list[str]:
        found: list[str] = []
        extra = {"StartAfter": start_after} if start_after else {}
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": min(limit, 1000)}, **extra
        )
        for page in pages:
            found.extend(item["Key"] for item in page.get("Contents", []))
            if len(found) >= limit:
                break
        return found[:limit]

    @infrastructure
    def delete(self, key: str) -> None:
        self._delete_versions(prefix=key, exact=True)

    @infrastructure
    def delete_prefix(self, prefix: str) -> int:
        return self._delete_versions(prefix=prefix, exact=False)

    def _delete_versions(self, *, prefix: str, exact: bool) -> int:
        """Every version and delete marker under `prefix` (the bucket is versioned: a plain delete would
        only hide the object behind a marker, and its data would stay for the noncurrent-version days)."""
        deleted: set[str] = set()
        pages = self._s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            entries = [
                {"Key": entry["Key"], "VersionId": entry["VersionId"]}
                for group in ("Versions", "DeleteMarkers")
                for entry in page.get(group, [])
                if not exact or entry["Key"] == prefix
            ]
            for start in range(0, len(entries), 1000):  # DeleteObjects takes 1,000 keys at most
                self._s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": entries[start : start + 1000], "Quiet": True}
                )
            deleted.update(entry["Key"] for entry in entries)
        return len(deleted)

    @infrastructure
    def presigned_put(self, key: str, seconds: int, content_type: str) -> str:
        """A PUT URL for `key` whose signature covers the Content-Type header: the client must send it."""
        url: str = self._s3.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=seconds,
            HttpMethod="PUT",
        )
        return url

    @infrastructure
    def presigned_get(self, key: str, seconds: int) -> str:
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )
        return url


@contextmanager
def _missing_is_not_found() -> Iterator[None]:
    """A missing key's ClientError as NotFound (the use case says what is missing, in its terms)."""
    try:
        yield
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise NotFound(MISSING) from error
        raise


def _lines(body: Any, key: str) -> Iterator[bytes]:
    """A response body's lines as it arrives; a body cut short is Unavailable, as every other AWS error."""
    pending = b""
    try:
        for chunk in body.iter_chunks(READ_BYTES):
            *lines, pending = (pending + chunk).split(b"\n")
            yield from lines
    except BotoCoreError as error:  # the connection dropped, timed out or ended early
        raise Unavailable(f"reading {key}: {error}") from error
    finally:
        body.close()
    yield pending
