"""Cold start: importing each function's handler module in a fresh interpreter, against the floor of any
Python function that talks to AWS, `python -c "import boto3; boto3.client('s3')"` (issue 14 item 8).

    .venv/bin/python -m bench.cold_start                  # every function: medians of 7 alternating pairs
    .venv/bin/python -m bench.cold_start --importtime ApiFunction   # what its import spends, -X importtime

Each function's module is loaded as Lambda's init phase loads it (local.runtime.load_handler: the layer on
sys.path, the handler file by path) with the environment the template and the runtime give it
(LAMBDA_TASK_ROOT among them), tracing as deployed (Tracing: Active, so Powertools' Tracer loads the X-Ray
SDK and patches botocore; locally the stack turns it off). Pairs alternate, floor then function, so a
neighbour's load falls on both. Two times per start: the init, timed inside the interpreter around the
floor's code or the handler's load (what a Lambda cold start spends beyond starting the runtime), and the
whole process (`python -c`, start and exit included, as the issue first measured it). Each ratio is the
median of the function's times over the median of the floor's, in the same run. Only the init is
measured: what a handler loads on its first event (lxml and the readers on an import, the writers on a
run) is that path's cost, not the cold start's. A ratio, never a test: the goal is ≤ 1.2 for the init
(docs/PERFORMANCE.md, "Cold start").
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from bench import REPO_ROOT
from local.provision import Resources, function_environment
from local.template import load_template

FLOOR = "import boto3; boto3.client('s3')"
GOAL = 1.2
# What Lambda's runtime does at init (local.runtime.load_handler does the same, after parsing the template:
# that parse is the harness's cost, not the function's, so it is done here, outside the timing).
LOAD = """
import importlib.util, sys
sys.path[:0] = {layers!r}
sys.path.append({folder!r})
spec = importlib.util.spec_from_file_location("app", {file!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
module.{attribute}
"""


def environment(function_id: str) -> dict[str, str]:
    """The function's variables as Lambda sets them, with tracing on as the template deploys it."""
    app = load_template()
    resources = Resources(
        app.bucket_name,
        {q: app.queue_url(q) for q in app.queues},
        {q: app.queues[q].arn for q in app.queues},
    )
    env = dict(os.environ) | function_environment(app, function_id, resources)
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # the local stack's choice, not the deployment's
    # What Lambda's runtime sets besides: without LAMBDA_TASK_ROOT, Powertools' Tracer turns itself off
    # (no boto patching) and the X-Ray SDK's recorder builds its centralized sampler, an `xray` botocore
    # client that a recorder inside Lambda never creates (it samples locally).
    env |= {
        "LAMBDA_TASK_ROOT": str(app.functions[function_id].code_uri),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "_HANDLER": app.functions[function_id].handler,
    }
    return env


def handler_file(function_id: str) -> tuple[Path, str]:
    function = load_template().functions[function_id]
    module, _, attribute = function.handler.rpartition(".")
    return function.code_uri / (module.replace(".", "/") + ".py"), attribute


def loader(function_id: str) -> str:
    file, attribute = handler_file(function_id)
    layers = [str(layer) for layer in load_template().layers]
    return LOAD.format(layers=layers, folder=str(file.parent), file=str(file), attribute=attribute)


# The child times its own init and writes the seconds, last, to stderr.
TIMED = """
import sys, time
began = time.perf_counter()
{code}
sys.stderr.write(repr(time.perf_counter() - began))
"""


def start(code: str, env: dict[str, str]) -> tuple[float, float]:
    """(init s, process s) of one fresh interpreter running code."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", TIMED.format(code=code)],
        env=env,
        check=True,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    ended = time.perf_counter()
    return float(done.stderr.splitlines()[-1]), ended - began


class Row(NamedTuple):
    function_id: str
    init: float  # median time of the handler's load, inside the interpreter
    floor_init: float  # the same for the floor's code, measured alternately
    process: float  # median time of the whole process (start, init, exit)
    floor_process: float


def measure(function_ids: list[str], pairs: int) -> list[Row]:
    """Medians per function, with the floor measured alternately with each function."""
    rows = []
    for function_id in function_ids:
        env = environment(function_id)
        start(loader(function_id), env)  # the first start reads files into the page cache
        floors, times = [], []
        for _ in range(pairs):
            floors.append(start(FLOOR, env))
            times.append(start(loader(function_id), env))
        rows.append(
            Row(
                function_id,
                statistics.median(t[0] for t in times),
                statistics.median(f[0] for f in floors),
                statistics.median(t[1] for t in times),
                statistics.median(f[1] for f in floors),
            )
        )
    return rows


def importtime(function_id: str, top: int) -> str:
    """The slowest imports (cumulative µs) of the function's module, from -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", loader(function_id)],
        env=environment(function_id),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.split(":", 1)[1].split("|")
        rows.append((int(cumulative), int(own), name.strip()))
    rows.sort(reverse=True)
    lines = [f"{'cumulative ms':>14} {'own ms':>8}  module"]
    lines += [f"{c / 1000:14.1f} {o / 1000:8.1f}  {n}" for c, o, n in rows[:top]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7, help="alternating pairs per function (default 7)")
    parser.add_argument("--functions", nargs="*", help="logical ids (default: every function)")
    parser.add_argument("--importtime", metavar="FUNCTION", help="print what importing it spends instead")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    if args.importtime:
        print(importtime(args.importtime, args.top))
        return 0
    app = load_template()
    functions = args.functions or sorted(app.functions)
    load = os.getloadavg()
    rows = measure(functions, args.pairs)
    print(
        f"### Cold start (`python -m bench.cold_start`; medians of {args.pairs} alternating pairs, "
        f"Python {sys.version.split()[0]}, load average {load[0]:.1f} at the start)\n"
    )
    print(f'Floor: `python -c "{FLOOR}"`. Goal: each function ≤ {GOAL:g}x the floor.\n')
    print(
        "| function | handler module | init s | floor init s | ratio | process s | floor process s | ratio | |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        module = handler_file(row.function_id)[0].relative_to(REPO_ROOT)
        ratio, process_ratio = row.init / row.floor_init, row.process / row.floor_process
        verdict = "met" if ratio <= GOAL else "**missed**"
        print(
            f"| {row.function_id} | {module} | {row.init:.3f} | {row.floor_init:.3f} | {ratio:.2f}x "
            f"| {row.process:.3f} | {row.floor_process:.3f} | {process_ratio:.2f}x | {verdict} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
