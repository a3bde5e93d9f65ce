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
from hub.runtime.supervisor import Supervisor
from hub.store import Store

log = logging.getLogger("tongban.run")


def enabled_adapters(settings: dict) -> dict[str, dict]:
    """name -> adapter settings (without the hub's own keys) for every enabled adapter."""
    return {name: {k: v for k, v in conf.items() if k not in ("enabled", "admin_url")}
            for name, conf in (settings.get("adapters") or {}).items() if conf.get("enabled", True)}


def bindings(settings: dict) -> list[bus.Binding]:
    northbound = [bus.Binding(r.destination, p) for r in load_routes(settings["routes_file"]) for p in r.patterns()]
    # Southbound: applications for a department go to its queue, delivered by its adapter's sink.
    southbound = [bus.Binding(name, f"{name}.application.*", bus.names.COMMANDS)
                  for name in enabled_adapters(settings) if registry.load(name).has_sink]
    return northbound + southbound


def declare_topology(settings: dict) -> list[str]:
    conn = bus.connect(settings["broker_url"])
    try:
        return bus.declare(conn, bindings(settings))
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
        # Post-mapping validation: the item must be in the synchronised provincial catalogue.
        self.check = CatalogueCheck(self.store, float((settings.get("catalogue") or {}).get("refresh_seconds", 30)))

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
            adapter = registry.create(name, conf)
            self._supervise(f"source:{name}", lambda a=adapter, n=name: SourceLoop(
                name=f"{n}:old", adapter=a, mappings=self.mappings, store=self.store, broker_url=url,
                page_size=a.config.get("page_size", 200), poll_interval=a.config.get("poll_interval", 1.0),
                check=self.check))
            sink = adapter.sink()
            if sink is not None:
                self.destinations[name] = sink
                self._supervise(f"deliver:{name}", lambda d=sink: ConsumerLoop(
                    queue=bus.names.destination_queue(d.name), handler_factory=delivery_factory(d, self.store),
                    broker_url=url, prefetch=prefetch, batch_size=batch))
        routed = {r.destination for r in load_routes(self.settings["routes_file"])}
        for name, conf in (self.settings.get("destinations") or {}).items():
            if name not in routed:
                continue
            dest = self.destinations[name] = delivery.create(name, conf)
            self._supervise(f"deliver:{name}", lambda d=dest: ConsumerLoop(
                queue=bus.names.destination_queue(d.name), handler_factory=delivery_factory(d, self.store),
                broker_url=url, prefetch=prefetch, batch_size=batch))
        for queue in (bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE):
            self._supervise(f"record:{queue}", lambda q=queue: ConsumerLoop(
                queue=q, handler_factory=recorder_factory(self.store, q), broker_url=url,
                prefetch=prefetch, batch_size=batch))
        for sup in self.supervisors:
            sup.start()
        log.info("hub running: %s", ", ".join(s.name for s in self.supervisors))
        return self

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
