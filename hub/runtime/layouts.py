"""Which partition layout of each destination is live, read from the store.

A change of P (`tongban partitions set`, hub/ops/partitions.py) makes a new layout active
and the former one *draining*: its queues get nothing new and are worked until empty,
then deleted. The new layout's queues fill meanwhile but are not consumed until every
older layout of the destination is gone: everything in an old queue was routed before
anything that only the new one holds, so per-case order survives the change whichever
partition a case moves to. Processes read this every second; a change reaches them
without a restart."""
from __future__ import annotations

import threading
import time

ACTIVE, WAITING, DRAINING, GONE = "active", "waiting", "draining", "gone"


class LayoutCache:
    def __init__(self, store, refresh_seconds: float = 1.0):
        self.store, self.refresh_seconds = store, refresh_seconds
        self._lock = threading.Lock()
        self._layouts: dict[str, dict] = {}
        self._read_at = 0.0

    def all(self) -> dict[str, dict]:
        with self._lock:
            if time.monotonic() - self._read_at >= self.refresh_seconds:
                self._layouts = self.store.layouts()
                self._read_at = time.monotonic()
            return self._layouts

    def forget(self) -> None:
        with self._lock:
            self._read_at = 0.0

    def role(self, destination: str, partitions: int) -> str:
        entry = self.all().get(destination) or {}
        if partitions == entry.get("active"):
            return WAITING if entry.get("draining") else ACTIVE
        if partitions in entry.get("draining", ()):
            return DRAINING
        return GONE
