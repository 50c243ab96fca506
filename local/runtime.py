"""Loads a handler the way the Lambda Python runtime does, without a container."""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from local.provision import function_arn
from local.template import App

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.invoked_function_arn = function_arn(self.function_name)
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def new_context(app: App, function_id: str) -> LambdaContext:
    function = app.functions[function_id]
    return LambdaContext(function_id, function.memory_size, function.timeout)


def load_handler(app: App, function_id: str) -> Handler:
    """Layers go on sys.path (Lambda mounts them at /opt/python); the handler file is loaded by path under
    a distinct module name because functions/import is no importable package (`import` is a keyword)."""
    for layer in reversed(app.layers):
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))
    function = app.functions[function_id]
    module_path, _, attribute = function.handler.rpartition(".")
    file = function.code_uri / (module_path.replace(".", "/") + ".py")
    handler: Handler = getattr(
        _load_module(file, f"_onair_{function_id}_{module_path.replace('.', '_')}"), attribute
    )
    return handler


@cache
def _load_module(file: Path, name: str) -> ModuleType:
    """Once per execution environment, like Lambda's init phase."""
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # Lambda puts the code's root on sys.path, so helpers beside app.py import as in Lambda.
    if str(file.parent) not in sys.path:
        sys.path.append(str(file.parent))
    spec.loader.exec_module(module)
    return module
