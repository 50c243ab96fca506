"""The playout engine: turns a schedule model into timed slots and a report. No AWS, no I/O.

`generate` and `lineup_notices` live in onair.playout.engine and load on first use of the name: the
records import this package's budget models (SlotFloor), and the functions that never run a playout
(ApiFunction, FeedFunction, ImportFunction) would otherwise load the whole engine at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onair.playout.engine import generate, lineup_notices

__all__ = ["generate", "lineup_notices"]


def __getattr__(name: str) -> Any:  # PEP 562: `from onair.playout import generate` imports the engine
    if name in __all__:
        from onair.playout import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
