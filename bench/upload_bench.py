"""What storing a large object in pieces costs in memory: S3BlobStore.put_chunks against a moto server in a
process of its own (the local stack's emulator), so only the client's memory is counted.

    .venv/bin/python -m bench.upload_bench [--mb 100]

The pieces are 1 MB each, made as they are written (as a writer yields them); the figure is VmHWM after
the upload against VmRSS before it, in this fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from bench.emulator import moto_server
from bench.probe import status_kib

BUCKET = "bench-upload"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args(argv)
    with moto_server() as endpoint:
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
        )
        import boto3

        from onair.adapters.s3 import S3BlobStore

        boto3.client("s3").create_bucket(Bucket=BUCKET)
        store = S3BlobStore.from_bucket(BUCKET)
        store.put_bytes("warm-up", b"x")  # the client's own first-call allocations are not the upload's
        before = status_kib()
        started = time.perf_counter()
        store.put_chunks(
            "big", (bytes([n % 256]) * 1_000_000 for n in range(args.mb)), "application/octet-stream"
        )
        seconds = time.perf_counter() - started
        after = status_kib()
    growth = (after["VmHWM"] - before["VmRSS"]) / 1024
    print(json.dumps({"mb": args.mb, "seconds": round(seconds, 2), "peak_growth_mib": round(growth, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
