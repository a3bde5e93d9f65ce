"""`tongban run`: every worker the settings ask for, supervised, in one process.

SIGTERM and SIGINT set one stop event; each loop finishes the batch in hand (delivers,
records, acks) and closes. A SIGKILL loses nothing either: unacked messages return to
their queue and an unsaved checkpoint makes the source read its last page again."""
from __future__ import annotations

import logging
import signal
import threading

from hub import bus, delivery
from hub.adapter import registry
from hub.mapping import MappingSet
from hub.ops.catalog import CatalogueCheck
from hub.routing import load_routes
from hub.runtime.loops import ConsumerLoop, SourceLoop, delivery_factory, recorder_factory
from hub.runtime.retry import retry_delays_ms
from hub.runtime.supervisor import Supervisor
from hub.runtime.tracks import ModeCache, TrackSink, new_track_overrides
from hub.dualtrack import current_mode, mode_info
from hub.model import DEPARTMENT_LABELS
from hub.store import Store

log = logging.getLogger("tongban.run")


HUB_KEYS = ("enabled", "admin_url", "tracks")


def enabled_adapters(settings: dict) -> dict[str, dict]:
    """name -> adapter settings (without the hub's own keys) for every enabled adapter."""
    return {name: {k: v for k, v in conf.items() if k not in HUB_KEYS}
            for name, conf in (settings.get("adapters") or {}).items() if conf.get("enabled", True)}


def new_track(settings: dict, name: str) -> dict | None:
    """Settings of the adapter's "new" track (the department's cloud copy), if configured:
    the old track's settings with the overrides under adapters.<name>.tracks.new."""
    overrides = new_track_overrides(settings, name)
    if not overrides:
        return None
    conf = settings["adapters"][name]
    merged = {k: v for k, v in conf.items() if k not in HUB_KEYS}
    merged.update({k: v for k, v in overrides.items() if k not in HUB_KEYS})
    return merged


def bindings(settings: dict) -> list[bus.Binding]:
    northbound = [bus.Binding(r.destination, p) for r in load_routes(settings["routes_file"]) for p in r.patterns()]
    # Southbound: applications for a department go to its queue, delivered by its adapter's sink.
    southbound = []
    for name in enabled_adapters(settings):
        if registry.load(name).has_sink:
            southbound.append(bus.Binding(name, f"{name}.application.*", bus.names.COMMANDS))
            if new_track(settings, name):   # write mirror: the new track gets every application too
                southbound.append(bus.Binding(f"{name}.new", f"{name}.application.*", bus.names.COMMANDS))
    return northbound + southbound


def declare_topology(settings: dict) -> list[str]:
    conn = bus.connect(settings["broker_url"])
    try:
        return bus.declare(conn, bindings(settings), retry_delays_ms(settings))  # retry queues (issue 4)
    finally:
        conn.release()


class Hub:
    def __init__(self, settings: dict, store: Store | None = None):
        self.settings = settings
        self.stop = threading.Event()
        self.store = store or Store.open(settings["db_url"])
        self.mappings = MappingSet.load(settings["mappings_dir"])
        self.supervisors: list[Supervisor] = []
        self.destinations = {}
        # department -> dual-track mode, re-read from the store so cutovers apply without a restart
        # (the platform's own feed is no department: it has one track)
        self.mode_of = ModeCache(lambda dept: current_mode(self.store, settings, dept)
                                 if dept in DEPARTMENT_LABELS else "off")
        # Post-mapping validation: the item must be in the synchronised provincial catalogue.
        self.check = CatalogueCheck(self.store, float((settings.get("catalogue") or {}).get("refresh_seconds", 30)))

    def _change_of(self, department: str) -> str | None:
        """When the department's stored mode last changed (None: never; the file's mode holds)."""
        changed = mode_info(self.store, self.settings, department).get("changed_at")
        return changed.isoformat() if changed is not None else None

    def _supervise(self, name, build):
        c = self.settings.get("consumer", {})
        sup = Supervisor(name, build, self.stop, c.get("backoff_initial", 0.5), c.get("backoff_max", 15))
        self.supervisors.append(sup)

    def start(self) -> "Hub":
        declare_topology(self.settings)
        url = self.settings["broker_url"]
        c = self.settings.get("consumer", {})
        prefetch, batch = int(c.get("prefetch", 200)), int(c.get("batch_size", 100))
        for name, conf in enabled_adapters(self.settings).items():
            tracks = {"old": conf}
            if new_track(self.settings, name):
                tracks["new"] = new_track(self.settings, name)
            for track, track_conf in tracks.items():
                self._adapter_track(name, track, registry.create(name, track_conf), url, prefetch, batch)
        if any(new_track(self.settings, n) for n in enabled_adapters(self.settings)):
            from hub.runtime.compare_loop import CompareLoop
            self._supervise("compare", lambda: CompareLoop(store=self.store, settings=self.settings,
                                                           broker_url=url, prefetch=prefetch, batch_size=batch))
        routed = {r.destination for r in load_routes(self.settings["routes_file"])}
        for name, conf in (self.settings.get("destinations") or {}).items():
            if name not in routed:
                continue
            dest = self.destinations[name] = delivery.create(name, conf)
            self._supervise(f"deliver:{name}", lambda d=dest: ConsumerLoop(
                queue=bus.names.destination_queue(d.name),
                handler_factory=delivery_factory(d, self.store, self.settings),
                broker_url=url, prefetch=prefetch, batch_size=batch))
        for queue in (bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE):
            self._supervise(f"record:{queue}", lambda q=queue: ConsumerLoop(
                queue=q, handler_factory=recorder_factory(self.store, q), broker_url=url,
                prefetch=prefetch, batch_size=batch))
        for sup in self.supervisors:
            sup.start()
        log.info("hub running: %s", ", ".join(s.name for s in self.supervisors))
        return self

    def _adapter_track(self, name, track, adapter, url, prefetch, batch) -> None:
        self._supervise(f"source:{name}:{track}", lambda: SourceLoop(
            name=f"{name}:{track}", adapter=adapter, mappings=self.mappings, store=self.store, broker_url=url,
            page_size=adapter.config.get("page_size", 200), poll_interval=adapter.config.get("poll_interval", 1.0),
            check=self.check, track=track, mode_of=self.mode_of,
            change_of=self._change_of if new_track(self.settings, name) else None))
        sink = adapter.sink()
        if sink is None:
            return
        if track == "new":
            sink.name = f"{name}.new"   # its own queue and its own ledger entries
        sink = TrackSink(sink, name, track, self.mode_of)
        self.destinations[sink.name] = sink
        self._supervise(f"deliver:{sink.name}", lambda: ConsumerLoop(
            queue=bus.names.destination_queue(sink.name),
            handler_factory=delivery_factory(sink, self.store, self.settings),
            broker_url=url, prefetch=prefetch, batch_size=batch))

    def shutdown(self, timeout: float = 30.0) -> None:
        self.stop.set()
        for sup in self.supervisors:
            sup.join(timeout)
        for dest in self.destinations.values():
            dest.close()

    def wait(self) -> None:
        while not self.stop.is_set():
            self.stop.wait(1.0)


def run_forever(settings: dict) -> int:
    hub = Hub(settings).start()

    def _stop(signum, _frame):
        log.info("signal %s: finishing in-flight work", signum)
        hub.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    hub.wait()
    hub.shutdown()
    log.info("hub stopped")
    return 0
