"""/metrics in the Prometheus text format, for one process or for a parent of N workers.

render_metrics(settings) -> (body bytes, content type) is the whole interface: `tongban run`
serves it (server.py) and the console can serve it on its own route. In a multi-process run
(PROMETHEUS_MULTIPROC_DIR set) the counters and histograms are the sum over every worker
process's files, live or dead, so a restarted worker does not make a counter go back."""
from __future__ import annotations

import logging
import os
import threading

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from hub.observability import state

log = logging.getLogger("tongban.metrics")


class HubCollector:
    """The hub's own metrics (this process's, or every worker's) plus the state gauges."""

    def __init__(self, settings: dict | None, store=None):
        self.settings, self._store, self._lock = settings, store, threading.Lock()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess
            self.base = multiprocess.MultiProcessCollector(None)
        else:
            self.base = REGISTRY

    def store(self):
        with self._lock:
            if self._store is None:
                from hub.store import Store
                self._store = Store.open(self.settings["db_url"])
            return self._store

    def collect(self):
        families = list(self.base.collect())
        yield from families
        yield state.lag_family(state.caught_up_of(families))
        if not self.settings:
            return
        ok = GaugeMetricFamily("tongban_state_read_ok", "1 when the store and broker state gauges could be read")
        try:
            yield from state.store_families(self.store(), list(self.settings.get("destinations") or {}))
            from hub.bus import credentials
            yield from state.queue_families(credentials.url_for(self.settings, credentials.CONSOLE))
            ok.add_metric([], 1)
        except Exception as exc:   # a scrape must answer even when the store is down: /readyz says why
            log.debug("state gauges not read: %s", exc)
            ok.add_metric([], 0)
        yield ok


_registries: dict[int, CollectorRegistry] = {}


def registry_for(settings: dict | None, store=None) -> CollectorRegistry:
    key = id(settings)
    if key not in _registries:
        reg = CollectorRegistry(auto_describe=False)
        reg.register(HubCollector(settings, store))
        _registries[key] = reg
    return _registries[key]


def render_metrics(settings: dict | None = None, store=None) -> tuple[bytes, str]:
    """The /metrics body and its content type. settings: the hub's (for the state gauges);
    None gives the process's own counters and histograms only."""
    return generate_latest(registry_for(settings, store)), CONTENT_TYPE_LATEST
