"""Keeps one worker loop alive: build it, step it, and on failure close it, back off and rebuild.

Reconnecting to the broker (a restart or a lost connection fails every loop; each backs
off and comes back by itself, tests/integration/test_broker_restart.py) and backing off a
legacy system that is down (its checkpoint was not moved, so the source reads again from
there) are this one loop. A dead destination is not: its delivery loop stays up and its
circuit breaker (hub/runtime/breaker.py) decides when to consume again."""
from __future__ import annotations

import logging
import threading
from typing import Callable, Protocol

log = logging.getLogger("tongban.supervisor")


class Yield(Exception):
    """The loop gives its unit of work to another process (hub/runtime/allotment.py):
    close it and build it again after a pause, without counting a failure."""


class Finished(Exception):
    """The loop's work is over for good (its queue drained and deleted): stop supervising it."""


class Loop(Protocol):
    def step(self) -> float:
        """Do one unit of work; return seconds to idle before the next (0 for none)."""

    def close(self) -> None: ...


class Supervisor(threading.Thread):
    def __init__(self, name: str, build: Callable[[], Loop], stop: threading.Event,
                 backoff_initial: float = 0.5, backoff_max: float = 15.0):
        super().__init__(name=name, daemon=True)
        self.build, self.stop_event = build, stop
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.failures = 0
        self.last_error: str | None = None

    def run(self) -> None:
        backoff = self.backoff_initial
        while not self.stop_event.is_set():
            loop = None
            try:
                loop = self.build()
                while not self.stop_event.is_set():
                    idle = loop.step()
                    backoff = self.backoff_initial
                    if idle:
                        self.stop_event.wait(idle)
            except Finished as done:
                log.info("%s: %s", self.name, done)
                return
            except Yield:
                self.stop_event.wait(1.0)
            except Exception as exc:  # any failure: log it, back off, rebuild; the hub never dies of one
                self.failures += 1
                self.last_error = f"{exc.__class__.__name__}: {exc}"
                log.warning("%s failed (%s); retrying in %.1fs", self.name, self.last_error, backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, self.backoff_max)
            finally:
                if loop is not None:
                    try:
                        loop.close()
                    except Exception:  # closing after a failure may fail too; nothing to save
                        pass
