"""Pauses of Python's cyclic garbage collector, where the objects made all outlive the code making them.

A collection walks every tracked object to find unreachable cycles. While a function's init imports its
modules (botocore's service models, pydantic's validators, Powertools, the routes), a reader builds a
listing's models (one per programme), a run loads them back or the engine builds a playout (a slot per
item placed), nearly everything allocated stays alive, and the full passes that the allocations trigger
walk all of it for nothing: ~60 ms of a ~380 ms init, 12-20 % of an import's parse, a run's load or a
year's playout on the benchmark's machine (docs/PERFORMANCE.md). Objects freed by reference counting, the
vast majority, are freed as usual during a pause.

Used as `with paused():` or as a decorator (`@paused()`): each call gets a pause of its own.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collections inside (nested pauses end with the outermost one)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def freeze() -> None:
    """Everything alive now leaves the collector's generations (gc.freeze): later collections no longer
    walk it. For what lives as long as the environment, or nearly: a function's modules, the timelines of
    a published run. Frozen objects are still freed when their last reference goes."""
    gc.freeze()


@contextmanager
def cold_start() -> Iterator[None]:
    """A handler module's imports (`with cold_start():` in functions/*/app.py). At the end the survivors
    are frozen (gc.freeze): moved out of the collector's generations, so the invocations' collections no
    longer walk them either. What cyclic garbage the init left (tens of thousands of small objects, under
    a megabyte) stays with them: the price of never walking the rest."""
    with paused():
        try:
            yield
        finally:
            freeze()
