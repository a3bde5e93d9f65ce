"""Spreading the work over the hub's processes (`tongban run --workers N`, on any number of
machines): which process works which source and which partition.

Each unit of work (a source, a partition of a destination) is worked by one process at a
time: a broker-held lock (bus.take_lock) decides that, as before. This module decides which
units a process *tries* to hold, so that they spread: with U units in a group (the
partitions of one destination, or the sources) and W live processes, a process keeps no
more than ceil(U/W) of the group. W is the count of processes whose heartbeat row in the
store is fresh; each writes its row every second and removes it when it stops.

Two rules keep that from costing availability:
- a unit seen free on `patience` tries in a row is taken even over the cap: when a process
  dies, its locks go with its connection at once, and the others take its units within
  about two seconds, before its heartbeat has gone stale;
- a process over its cap (a new process joined) yields one unit of the group at a time,
  only after W has been steady for a few seconds, and does not try that unit again for a
  second (two of the newcomer's tries, hub/runtime/loops.STANDBY_SECONDS), so the newcomer
  gets it instead of the same process winning it back; short, because if the newcomer dies
  just then, that unit waits out the cooldown before anyone takes it over."""
from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from datetime import datetime, timezone

log = logging.getLogger("tongban.allotment")


class Allotment:
    def __init__(self, store, *, beat_seconds: float = 1.0, fresh_seconds: float = 3.0, patience: int = 2,
                 steady_seconds: float = 3.0, cooldown_seconds: float = 1.0, worker: str | None = None):
        self.store = store
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{int(time.time() * 1000)}"
        self.started_at = datetime.now(timezone.utc)
        self.beat_seconds, self.fresh_seconds = beat_seconds, fresh_seconds
        self.patience, self.steady_seconds, self.cooldown_seconds = patience, steady_seconds, cooldown_seconds
        self._lock = threading.Lock()
        self._units: dict[str, set[str]] = {}     # group -> every unit this process knows of
        self._held: dict[str, list[str]] = {}     # group -> units held, in the order taken
        self._free_seen: dict[str, int] = {}
        self._cooldown: dict[str, float] = {}
        self._last_yield: dict[str, float] = {}
        self._workers = 1
        self._workers_since = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- membership -------------------------------------------------------------------
    def start(self) -> "Allotment":
        self.beat()
        self._thread = threading.Thread(target=self._run, name="allotment", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.beat_seconds):
            try:
                self.beat()
            except Exception as exc:  # the store is away: keep the last count, say so
                log.warning("heartbeat failed (%s); keeping W=%d", exc, self._workers)

    def beat(self) -> None:
        with self._lock:
            holds = {u: g for g, units in self._held.items() for u in units}
        self.store.beat(self.worker, self.started_at, holds)
        count = max(1, len(self.store.live_workers(self.fresh_seconds)))
        with self._lock:
            if count != self._workers:
                log.info("%d hub worker process(es) live (was %d)", count, self._workers)
                self._workers, self._workers_since = count, time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            self.store.leave(self.worker)
        except Exception:  # the row goes stale by itself
            pass

    @property
    def workers(self) -> int:
        return self._workers

    # --- units --------------------------------------------------------------------------
    def register(self, group: str, unit: str) -> None:
        with self._lock:
            self._units.setdefault(group, set()).add(unit)

    def unregister(self, group: str, unit: str) -> None:
        with self._lock:
            self._units.get(group, set()).discard(unit)
            self._drop(group, unit)

    def cap(self, group: str) -> int:
        return math.ceil(len(self._units.get(group, ())) / self._workers) or 1

    def may_try(self, unit: str) -> bool:
        """Not while cooling down after this process yielded the unit."""
        return time.monotonic() >= self._cooldown.get(unit, 0.0)

    def keep(self, group: str, unit: str) -> bool:
        """This process just took the unit's lock: keep it (True), or give it back (False:
        at its cap, and the unit has not yet been free long enough to take anyway)."""
        with self._lock:
            held = self._held.setdefault(group, [])
            if unit in held:
                return True
            seen = self._free_seen.get(unit, 0) + 1
            if len(held) < self.cap(group) or seen >= self.patience:
                held.append(unit)
                self._free_seen.pop(unit, None)
                return True
            self._free_seen[unit] = seen
            return False

    def taken_elsewhere(self, unit: str) -> None:
        self._free_seen.pop(unit, None)

    def must_yield(self, group: str, unit: str) -> bool:
        """Over the cap with W steady: the newest unit of the group goes, one per interval."""
        now = time.monotonic()
        with self._lock:
            held = self._held.get(group, [])
            if len(held) <= self.cap(group) or not held or held[-1] != unit:
                return False
            if now - self._workers_since < self.steady_seconds:
                return False
            if now - self._last_yield.get(group, 0.0) < self.steady_seconds:
                return False
            self._last_yield[group] = now
            self._cooldown[unit] = now + self.cooldown_seconds
            log.info("yielding %s: %d of %s held, %d is this process's share of %d worker(s)", unit, len(held),
                     group, self.cap(group), self._workers)
            return True

    def released(self, group: str, unit: str) -> None:
        with self._lock:
            self._drop(group, unit)

    def _drop(self, group: str, unit: str) -> None:
        held = self._held.get(group, [])
        if unit in held:
            held.remove(unit)

    def held(self, group: str | None = None) -> dict[str, list[str]]:
        with self._lock:
            return {g: list(u) for g, u in self._held.items() if group is None or g == group}


class Solo:
    """The allotment of a hub that shares with no one (tests, the bench): keep everything."""
    workers = 1

    def register(self, group, unit): pass
    def unregister(self, group, unit): pass
    def may_try(self, unit): return True
    def keep(self, group, unit): return True
    def taken_elsewhere(self, unit): pass
    def must_yield(self, group, unit): return False
    def released(self, group, unit): pass
