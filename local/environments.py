"""Lambda execution environments in miniature: one process per environment, holding one function's
environment variables and its handler (loaded once: the init phase), one invocation at a time.

A `Pool` per function is what Lambda's scaling is: an invocation takes an idle environment, or starts a new
one (a cold start) while fewer than the pool's limit exist, or waits for one to come free. An environment
that dies (a crash, an out-of-memory kill, SIGKILL) answers its invocation with an error and is started
again, as Lambda starts a new one; the function itself never stops.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.template import App, load_template

START_TIMEOUT = 60.0  # the init phase of a cold start (imports, settings), generous for a loaded machine


class InvocationFailed(Exception):
    """The handler raised, or its environment died or ran past the function's timeout."""


def _serve_invocations(template: str, function_id: str, env: dict[str, str], conn: Any) -> None:
    """The environment's process: init once, then one event at a time from the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops us
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    os.environ.update(env)
    from local.runtime import load_handler, new_context

    app = load_template(template)
    handler = load_handler(app, function_id)
    conn.send(("ready", None))
    while True:
        try:
            event = conn.recv()
        except EOFError:
            return  # the supervisor went away
        try:
            result = handler(event, new_context(app, function_id))
        except Exception:
            print(f"[{function_id}] invocation failed:", file=sys.stderr, flush=True)
            traceback.print_exc()
            conn.send(("error", traceback.format_exc(limit=3)))
        else:
            conn.send(("ok", result))


@dataclass
class Environment:
    name: str  # "ApiFunction#http0": the name the supervisor's log gives it, with its pid
    function_id: str
    template: str
    env: dict[str, str]
    timeout: float  # the function's Timeout, in seconds
    ctx: Any
    process: Any = None
    conn: Any = None

    def start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.process = self.ctx.Process(
            target=_serve_invocations,
            args=(self.template, self.function_id, self.env, child),
            name=self.name,
            daemon=True,
        )
        self.process.start()
        child.close()
        self.conn = parent
        if not parent.poll(START_TIMEOUT) or self._receive()[0] != "ready":
            self.stop()
            raise InvocationFailed(f"{self.name} did not start within {START_TIMEOUT:.0f} s")

    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def invoke(self, event: dict[str, Any]) -> Any:
        try:
            self.conn.send(event)
            if not self.conn.poll(self.timeout):
                self.stop()  # Lambda ends an invocation at its timeout, environment and all
                raise InvocationFailed(f"{self.name} timed out after {self.timeout:.0f} s")
            kind, value = self._receive()
        except (EOFError, OSError, BrokenPipeError) as error:
            raise InvocationFailed(f"{self.name} (pid {self.process.pid}) died: {error!r}") from error
        if kind != "ok":
            raise InvocationFailed(value)
        return value

    def _receive(self) -> tuple[str, Any]:
        try:
            return self.conn.recv()  # type: ignore[no-any-return]
        except EOFError:
            return ("died", None)

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        if self.conn is not None:
            self.conn.close()


@dataclass
class Pool:
    """At most `limit` environments of one function; `invoke` is thread-safe."""

    app: App
    function_id: str
    env: dict[str, str]
    limit: int
    ctx: Any
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    _idle: queue.SimpleQueue[Environment] = field(default_factory=queue.SimpleQueue)
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def warm(self, count: int = 1) -> None:
        """Start `count` environments ahead of the first invocation (as provisioned concurrency would)."""
        for _ in range(min(count, self.limit)):
            environment = self._new()
            if environment is not None:
                self._idle.put(environment)

    def invoke(self, event: dict[str, Any]) -> Any:
        environment = self._acquire()
        try:
            if not environment.alive():
                self._restart(environment, "was found dead")
            return environment.invoke(event)
        except InvocationFailed:
            if not environment.alive():
                self._restart(environment, "died during an invocation")
            raise
        finally:
            self._idle.put(environment)

    def revive(self) -> None:
        """Start again the idle environments that died (the supervisor calls this now and then)."""
        for _ in range(self._idle.qsize()):
            try:
                environment = self._idle.get_nowait()
            except queue.Empty:
                return
            try:
                if not environment.alive():
                    self._restart(environment, "died while idle")
            finally:
                self._idle.put(environment)

    def stop(self) -> None:
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return

    def _acquire(self) -> Environment:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        environment = self._new()  # every environment is busy: a cold start, if the limit allows one
        return environment if environment is not None else self._idle.get()

    def _new(self) -> Environment | None:
        with self._lock:
            if self._count >= self.limit:
                return None
            index = self._count
            self._count += 1
        function = self.app.functions[self.function_id]
        environment = Environment(
            f"{self.function_id}#http{index}",
            self.function_id,
            str(self.app.path),
            self.env,
            float(function.timeout),
            self.ctx,
        )
        environment.start()
        self.log(f"{environment.name} pid {environment.process.pid}")
        return environment

    def _restart(self, environment: Environment, why: str) -> None:
        old = environment.process
        self.log(f"{environment.name} (pid {old.pid}) exited with {old.exitcode} ({why}); starting a new one")
        environment.stop()
        started = time.monotonic()
        environment.start()
        self.log(
            f"{environment.name} restarted: pid {environment.process.pid} "
            f"(cold start {time.monotonic() - started:.1f} s)"
        )
