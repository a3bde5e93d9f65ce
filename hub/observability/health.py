"""/healthz: the process answers. /readyz: it can do its work: the broker and the store
answer and the store's schema is at the code's migration head (a hub started against an
older store migrates it on open; one that cannot is not ready)."""
from __future__ import annotations

import os
import threading
import time


def healthz() -> dict:
    return {"status": "ok", "pid": os.getpid()}


class Readiness:
    def __init__(self, settings: dict):
        self.settings = settings
        self._engine = None
        self._lock = threading.Lock()

    def _store_engine(self):
        from hub.store.engine import create_store_engine
        with self._lock:
            if self._engine is None:
                self._engine = create_store_engine(self.settings["db_url"])
            return self._engine

    def check_broker(self) -> str | None:
        from hub import bus
        try:
            bus.connect(bus.credentials.url_for(self.settings, bus.credentials.CONSOLE)).release()
        except Exception as exc:  # any failure is "not ready", said as it came
            return f"broker: {exc.__class__.__name__}: {exc}"
        return None

    def check_store(self) -> str | None:
        from hub.store import migrate
        try:
            current, head = migrate.current_revision(self._store_engine()), migrate.head_revision()
        except Exception as exc:
            return f"store: {exc.__class__.__name__}: {exc}"
        if current != head:
            return f"store: schema at {current}, the code needs {head}"
        return None

    def __call__(self) -> tuple[bool, dict]:
        started = time.monotonic()
        problems = [p for p in (self.check_broker(), self.check_store()) if p]
        from hub.model.masking import mask_text
        return not problems, {"status": "ready" if not problems else "not ready",
                              "problems": [mask_text(p) for p in problems],
                              "seconds": round(time.monotonic() - started, 3)}
