"""The console's browser-test harness: headless Debian Chromium (Playwright) on the console the local stack
serves itself (ApiFunction's /console/), so the console and the API share one origin as on AWS.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.template import ROOT
from tests.e2e.conftest import LocalStack

CONSOLE = ROOT / "functions" / "api" / "console"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# The network is closed and the profile is new: nothing may phone home or wait for it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def console_origin(local_stack: LocalStack) -> str:
    """Where the browser finds /console/ and the API: the local stack itself."""
    return local_stack.api


def chromium_missing() -> str | None:
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium): the console's browser tests need it"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    return None


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, never a downloaded build. Playwright gives every launch a fresh --user-data-dir."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@dataclass(frozen=True)
class Sent:
    """A request the page sent: to the API (same origin, outside /console/) or elsewhere (S3)."""

    method: str
    url: str
    path: str
    headers: dict[str, str]


@dataclass
class ConsolePage:
    """A browser page on the console, what its console said, and the requests it sent."""

    page: Any
    origin: str
    errors: list[str] = field(default_factory=list)
    uncaught: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.uncaught.append(str(error)))
        self.page.on("request", self._record)

    def _record(self, request: Any) -> None:
        parts = urlsplit(request.url)
        self.sent.append(Sent(request.method, request.url, parts.path, dict(request.headers)))

    def api_calls(self) -> list[Sent]:
        """What the page asked the API (not the console's own files, not S3)."""
        return [
            s for s in self.sent if s.url.startswith(self.origin + "/") and not s.path.startswith("/console")
        ]

    def open(self, path: str = "") -> Any:
        self.page.goto(f"{self.origin}/console/{path}")
        return self.page


def until(page: Any, function: str, timeout: float = 30.0, what: str | None = None) -> Any:
    """Polls `function` (JavaScript, a function) in the page until it returns something truthy. Not
    page.wait_for_function: that evals a string in the page, which the console's CSP forbids (no
    'unsafe-eval'), while page.evaluate goes through the DevTools protocol."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(function)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or function}")
        page.wait_for_timeout(100)


def new_console(browser: Any, origin: str, **options: Any) -> tuple[Any, ConsolePage]:
    """A fresh context (its own storage) and a page on it."""
    context = browser.new_context(
        **({"viewport": {"width": 1400, "height": 900}, "locale": "en-GB"} | options)
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, ConsolePage(page, origin)


@pytest.fixture
def console(browser: Any, console_origin: str) -> Iterator[ConsolePage]:
    context, opened = new_console(browser, console_origin)
    yield opened
    context.close()
