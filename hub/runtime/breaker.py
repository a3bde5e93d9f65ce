"""Circuit breaker per destination (closed -> open -> half-open -> closed).

After `threshold` transient failures in a row the destination, not the message, is taken
to be at fault: the delivery loop stops consuming (messages wait in their queue, nothing
is attempted, nothing burns attempts), and after a cool-down lets one message through as
a probe. A probe that fails reopens the breaker with a doubled cool-down and goes back to
the head of the queue uncounted: a destination down for an afternoon must not
dead-letter a quiet queue. A probe that succeeds closes it.

The state is kept in the store, not only in memory: a hub process that takes the queue
over (hub/runtime/loops.py: one process at a time holds it) starts from it, so it
respects an open breaker instead of finding the outage out with failures of its own, and
`tongban status` shows one state per destination."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

log = logging.getLogger("tongban.breaker")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class CircuitBreaker:
    def __init__(self, destination: str, store, *, threshold: int = 5, cooldown: float = 5.0,
                 cooldown_max: float = 60.0):
        self.destination = destination
        self.store = store
        self.threshold = max(1, int(threshold))
        self.base_ms = int(cooldown * 1000)
        self.max_ms = max(self.base_ms, int(cooldown_max * 1000))
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.state = CLOSED
        self.failures = 0
        self.cooldown_ms = self.base_ms
        self.probe_at: datetime | None = None
        self._refreshed = 0.0
        # The partitions of a destination share its breaker: half-open, one of them at a
        # time sends the probe (an empty partition gives the turn back).
        self._probe_lock = threading.Lock()
        self._prober: str | None = None

    @classmethod
    def from_settings(cls, destination: str, store, settings: dict | None) -> "CircuitBreaker":
        conf = (settings or {}).get("breaker") or {}
        return cls(destination, store, threshold=int(conf.get("failures", 5)),
                   cooldown=float(conf.get("cooldown", 5.0)), cooldown_max=float(conf.get("cooldown_max", 60.0)))

    # --- what the delivery loop asks --------------------------------------------------
    def mode(self) -> str:
        """closed (consume), open (do not), or half_open (consume one message, as a probe).
        Reads the shared state (at most once a second: only the process that holds the
        queue changes it), so a process taking the queue over starts from it."""
        self.refresh(min_interval=1.0)
        if self.state == OPEN and self.probe_at is not None and _now() >= self.probe_at:
            self.state = HALF_OPEN
            self._save(reason=None)
            log.info("breaker %s half-open: probing", self.destination)
        return self.state

    def seconds_to_probe(self) -> float:
        if self.state != OPEN or self.probe_at is None:
            return 0.0
        return max(0.0, (self.probe_at - _now()).total_seconds())

    @property
    def is_open(self) -> bool:
        return self.state == OPEN

    @property
    def probing(self) -> bool:
        return self.state == HALF_OPEN

    def refresh(self, min_interval: float = 0.0) -> None:
        if time.monotonic() - self._refreshed < min_interval:
            return
        self._refreshed = time.monotonic()
        row = self.store.get_breaker(self.destination)
        if row is None:
            return
        if row["state"] == CLOSED and self.state != CLOSED:
            self.failures = 0
        self.state, self.cooldown_ms = row["state"], row["cooldown_ms"]
        self.probe_at = row["probe_at"]

    def may_probe(self, who: str) -> bool:
        if self.state != HALF_OPEN:
            return True
        with self._probe_lock:
            if self._prober in (None, who):
                self._prober = who
                return True
            return False

    def give_back_probe(self, who: str) -> None:
        with self._probe_lock:
            if self._prober == who:
                self._prober = None

    # --- what the delivery worker reports --------------------------------------------
    def success(self) -> None:
        self.failures = 0
        if self.state != CLOSED:
            self.state, self.cooldown_ms, self.probe_at = CLOSED, self.base_ms, None
            self._save(reason=None)
            log.info("breaker %s closed: the destination answers again", self.destination)

    def failure(self, reason: str) -> None:
        self.failures += 1
        if self.state == HALF_OPEN:
            self._open(min(self.cooldown_ms * 2, self.max_ms), reason)
        elif self.state == CLOSED and self.failures >= self.threshold:
            self._open(self.base_ms, reason)

    def _open(self, cooldown_ms: int, reason: str) -> None:
        # "open since" is the start of the outage: a failed probe reopens without moving it
        since_now = self.state == CLOSED
        self.state, self.cooldown_ms = OPEN, cooldown_ms
        self.probe_at = _now() + timedelta(milliseconds=cooldown_ms)
        self._save(reason=reason, opened=since_now)
        log.warning("breaker %s open after %d failure(s) (%s); probing in %.1fs", self.destination,
                    self.failures, reason, cooldown_ms / 1000)

    def _save(self, reason: str | None, opened: bool = False) -> None:
        with self._probe_lock:
            self._prober = None
        prior = self.store.get_breaker(self.destination) or {}
        self.store.save_breaker(
            self.destination, state=self.state, failures=self.failures, cooldown_ms=self.cooldown_ms,
            opened_at=_now() if opened else prior.get("opened_at"), probe_at=self.probe_at,
            reason=(reason or prior.get("reason")) if self.state != CLOSED else prior.get("reason"),
            worker=self.worker)
