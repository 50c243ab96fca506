"""onair: import schedules, upload large ones, request runs, wait for them and fetch their outputs.

The API is the local stack (`make run`, http://127.0.0.1:3000) unless --url or ONAIR_URL says otherwise;
requests to any other host are signed with SigV4 (service execute-api) from the default AWS credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from onair_cli.http import LOCAL_URL, Api, ApiError, get_plain, put_file, signs_by_default

FINAL_RUN = ("succeeded", "failed")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="onair", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("ONAIR_URL") or LOCAL_URL,
        help=f"the API (default: $ONAIR_URL, else the local stack {LOCAL_URL})",
    )
    signing = parser.add_mutually_exclusive_group()
    signing.add_argument("--sigv4", action="store_true", default=None, help="sign requests (SigV4)")
    signing.add_argument("--no-sigv4", dest="sigv4", action="store_false", help="never sign requests")
    parser.add_argument("--region", help="region for SigV4 (default: from the URL, else AWS_REGION)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds `wait` and `upload` wait at most")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser("import", help="import a schedule (XML or .gz) through POST /schedules")
    command.add_argument("file", type=Path)
    command.add_argument("--strict", action="store_true", help="every finding is an error")

    command = commands.add_parser("upload", help="import a large file through a presigned S3 upload")
    command.add_argument("file", type=Path)
    command.add_argument("--strict", action="store_true", help="every finding is an error")
    command.add_argument("--no-wait", dest="wait", action="store_false", help="do not wait for the import")

    command = commands.add_parser("run", help="request a run of a schedule")
    command.add_argument("schedule_id")
    command.add_argument("--from", dest="from_", metavar="YYYY-MM-DD", help="first day (schedule's time)")
    command.add_argument("--days", type=int, help="number of days (default 1)")
    command.add_argument("--seed", type=int, help="shuffle seed (default 0)")
    command.add_argument("--formats", help="comma-separated outputs (default: all)")
    command.add_argument("--idempotency-key", help="the same key and request give the same run")
    command.add_argument("--wait", action="store_true", help="then wait for it, as `onair wait`")

    command = commands.add_parser("wait", help="wait for a run to finish; exit 1 if it failed")
    command.add_argument("run_id")
    command.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")

    command = commands.add_parser("get", help="download an output of a run")
    command.add_argument("run_id")
    command.add_argument("output", help="guide.xml, channels.m3u, playlist.m3u8, asrun.csv or playout.json")
    command.add_argument("-o", "--output-file", type=Path, help="write here (default: standard output)")

    commands.add_parser("queue-stats", help="queue depths and dead letters")
    return parser.parse_args(argv)


def media_type(file: Path) -> str:
    return "application/gzip" if file.suffix.lower() in (".gz", ".gzip") else "application/xml"


def strict_query(strict: bool) -> dict[str, str]:
    return {"strict": "true"} if strict else {}


class Cli:
    def __init__(
        self, api: Api, out: TextIO, err: TextIO, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.api, self.out, self.err, self.sleep = api, out, err, sleep

    def show(self, value: Any) -> None:
        self.out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")

    def import_(self, args: argparse.Namespace) -> int:
        reply = self.api.request(
            "POST",
            "/schedules",
            body=args.file.read_bytes(),
            headers={"Content-Type": media_type(args.file)},
            query=strict_query(args.strict),
        )
        self.show(reply.json())
        return 0

    def upload(self, args: argparse.Namespace) -> int:
        size = args.file.stat().st_size
        query = strict_query(args.strict) | {"content_type": media_type(args.file)}
        grant = self.api.request("POST", "/uploads", query=query).json()
        with args.file.open("rb") as file:
            put_file(grant["url"], file, size, grant["headers"], self.api.timeout)
        self.err.write(f"uploaded {size} bytes as {grant['id']}\n")
        if not args.wait:
            self.show(grant)
            return 0
        status = self.poll(f"/uploads/{grant['id']}", lambda s: s["status"] != "pending", args.timeout, 1.0)
        self.show(status)
        return 0 if status["status"] == "imported" else 1

    def run(self, args: argparse.Namespace) -> int:
        request: dict[str, Any] = {"from": args.from_, "days": args.days, "seed": args.seed}
        if args.formats:
            request["formats"] = [name.strip() for name in args.formats.split(",") if name.strip()]
        headers = {"Content-Type": "application/json"}
        if args.idempotency_key:
            headers["Idempotency-Key"] = args.idempotency_key
        body = json.dumps({k: v for k, v in request.items() if v is not None}).encode()
        run = self.api.request(
            "POST", f"/schedules/{args.schedule_id}/runs", body=body, headers=headers
        ).json()
        if not args.wait:
            self.show(run)
            return 0
        self.err.write(f"run {run['id']} queued\n")
        return self.wait_run(run["id"], args.timeout, 1.0)

    def wait(self, args: argparse.Namespace) -> int:
        return self.wait_run(args.run_id, args.timeout, args.interval)

    def wait_run(self, run_id: str, timeout: float, interval: float) -> int:
        run = self.poll(f"/runs/{run_id}", lambda s: s["status"] in FINAL_RUN, timeout, interval)
        self.show(run)
        return 0 if run["status"] == "succeeded" else 1

    def poll(self, path: str, done: Callable[[dict[str, Any]], bool], timeout: float, interval: float) -> Any:
        """GET `path` until `done`, showing the status as it changes (in place on a terminal)."""
        began = time.monotonic()
        tty = self.err.isatty()
        last = None
        while True:
            state = self.api.request("GET", path).json()
            elapsed = time.monotonic() - began
            line = f"{path.rsplit('/', 1)[-1]}: {state.get('status')} ({elapsed:.0f} s)"
            if tty:
                self.err.write(f"\r{line}\x1b[K")
            elif state.get("status") != last:
                self.err.write(line + "\n")
            last = state.get("status")
            if done(state):
                if tty:
                    self.err.write("\n")
                return state
            if elapsed >= timeout:
                if tty:
                    self.err.write("\n")
                raise ApiError(f"still {last} after {timeout:.0f} s")
            self.sleep(interval)

    def get(self, args: argparse.Namespace) -> int:
        reply = self.api.request("GET", f"/runs/{args.run_id}/output/{args.output}")
        if reply.status in (301, 302, 303, 307, 308):
            reply = get_plain(reply.headers["location"], self.api.timeout)  # presigned: no API signature
        if args.output_file:
            args.output_file.write_bytes(reply.body)
            self.err.write(f"wrote {len(reply.body)} bytes to {args.output_file}\n")
        else:
            self.write_bytes(reply.body)
        return 0

    def write_bytes(self, data: bytes) -> None:
        buffer = getattr(self.out, "buffer", None)
        if buffer is None:  # a text-only stream (tests)
            self.out.write(data.decode("utf-8", "replace"))
            return
        self.out.flush()
        buffer.write(data)
        buffer.flush()

    def queue_stats(self, _args: argparse.Namespace) -> int:
        self.show(self.api.request("GET", "/queue-stats").json())
        return 0


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    args = parse_args(argv)
    out, err = out or sys.stdout, err or sys.stderr
    sigv4 = signs_by_default(args.url) if args.sigv4 is None else args.sigv4
    cli = Cli(Api(args.url, sigv4=sigv4, region=args.region), out, err, sleep)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "import": cli.import_,
        "upload": cli.upload,
        "run": cli.run,
        "wait": cli.wait,
        "get": cli.get,
        "queue-stats": cli.queue_stats,
    }
    try:
        return handlers[args.command](args)
    except ApiError as error:
        err.write(f"onair: {error}\n")
        if isinstance(error.body, dict) and error.body.get("error", {}).get("details"):
            err.write(json.dumps(error.body["error"]["details"], indent=2, ensure_ascii=False) + "\n")
        return 1
    except OSError as error:
        err.write(f"onair: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
