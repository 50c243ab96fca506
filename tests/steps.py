"""Operation counts for complexity tests: how many Python lines some modules execute, never how long.

A quadratic loop shows as a step count growing with the square of the input however fast or loaded the
machine is, so tests compare the counts at two sizes instead of timing anything (times are bench/'s job).
Work done in C (sorting, bisect, lxml) is not counted: these tests watch the Python-level algorithms.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any


def python_steps(modules: tuple[ModuleType, ...], call: Callable[[], object]) -> int:
    """Lines executed in `modules` (their functions, generators and comprehensions) while `call` runs."""
    files = {str(Path(module.__file__ or "").resolve()) for module in modules}
    watched: dict[str, bool] = {}  # co_filename -> in `modules`; resolved once per file
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def global_(frame: FrameType, event: str, arg: Any) -> Any:
        name = frame.f_code.co_filename
        if name not in watched:
            watched[name] = str(Path(name).resolve()) in files
        return local if event == "call" and watched[name] else None

    previous = sys.gettrace()
    sys.settrace(global_)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


def growth(modules: tuple[ModuleType, ...], run: Callable[[int], Callable[[], object]], small: int) -> float:
    """How much the step count grows when the input grows 4x: about 4 when linear, 16 when quadratic."""
    return python_steps(modules, run(4 * small)) / python_steps(modules, run(small))
