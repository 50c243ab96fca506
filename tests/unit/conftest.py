"""Fixtures of the use cases' unit tests."""

from __future__ import annotations

import pytest

from tests.fakes import World, world


@pytest.fixture
def w() -> World:
    """`Services` over fresh in-memory fakes (tests/fakes.py), the clock at fakes.START."""
    return world()
