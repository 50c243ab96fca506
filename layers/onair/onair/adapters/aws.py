"""What the adapters (s3.py, sqs.py) share: AWS exceptions become `Unavailable`, so no use case
needs to know botocore to tell "try again later" from "this job cannot succeed"."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from onair.errors import Unavailable

P = ParamSpec("P")
R = TypeVar("R")


def infrastructure(method: Callable[P, R]) -> Callable[P, R]:
    """An adapter method whose AWS errors (any ClientError it does not translate itself, and every
    BotoCoreError: connections, timeouts, credentials, truncated bodies) are raised as Unavailable."""

    @functools.wraps(method)
    def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (ClientError, BotoCoreError) as error:
            raise Unavailable(f"{method.__qualname__}: {error}") from error

    return translated
