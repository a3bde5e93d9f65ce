"""/healthz: the process answers. /readyz: it can do its work: the broker and the store
answer, the store's schema is at the code's migration head (a hub started against an
older store migrates it on open; one that cannot is not ready), and every source it runs
can write its message log (one that cannot has stopped forwarding: no delivery without
evidence). /readyz's `message_log` names each source, department:track, true or false, for
`tongban status` and the console, which run in other processes."""
from __future__ import annotations

import os
import threading
import time

from hub.observability.metrics import LOG_WRITABLE


def healthz() -> dict:
    return {"status": "ok", "pid": os.getpid()}


def message_log_state() -> dict[str, bool]:
    """department:track -> whether that source's message-log rows are written, for the sources
    of this process, or with --workers of every live worker process (the gauge's minimum over
    them, prometheus-client's multiprocess files, as /metrics reads them)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        families = multiprocess.MultiProcessCollector(None).collect()
    else:
        families = LOG_WRITABLE.collect()
    state: dict[str, bool] = {}
    for fam in families:
        if fam.name != LOG_WRITABLE._name:
            continue
        for s in fam.samples:
            key = f"{s.labels.get('department', '')}:{s.labels.get('track', '')}"
            state[key] = state.get(key, True) and s.value >= 1
    return dict(sorted(state.items()))


def check_message_log(state: dict[str, bool]) -> list[str]:
    return [f"message log: source {source} cannot write its message log; forwarding from it is stopped "
            "until it can (no delivery without evidence)" for source, ok in state.items() if not ok]


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
        logs = message_log_state()
        problems = [p for p in (self.check_broker(), self.check_store()) if p] + check_message_log(logs)
        from hub.model.masking import mask_text
        return not problems, {"status": "ready" if not problems else "not ready",
                              "problems": [mask_text(p) for p in problems], "message_log": logs,
                              "seconds": round(time.monotonic() - started, 3)}
