"""`tongban run`: every worker the settings ask for, supervised, in one process.

SIGTERM and SIGINT set one stop event; each loop finishes the batch in hand (delivers,
records, acks) and closes. A SIGKILL loses nothing either: unacked messages return to
their queue and an unsaved checkpoint makes the source read its last page again."""
from __future__ import annotations

import logging
import signal
import threading

from hub import bus, delivery
from hub.bus import credentials as roles
from hub.adapter import registry
from hub.adapter.settings import SETTINGS_KEYS
from hub.mapping import MappingSet
from hub.catalog import CatalogueCheck
from hub.bus.inventory import management_queues
from hub.routing import load_routes
from hub.routing.partitions import configured_partitions
from hub.runtime.allotment import Allotment
from hub.runtime.breaker import CircuitBreaker
from hub.runtime.layouts import LayoutCache
from hub.runtime.loops import ConsumerLoop, SourceLoop, delivery_factory, recorder_factory
from hub.runtime.retry import retry_delays_ms
from hub.runtime.supervisor import Supervisor
from hub.runtime.tracks import ModeCache, TrackSink, new_track_overrides
from hub.runtime.unreadable import PageMemory
from hub.dualtrack import current_mode, mode_info
from hub.adapter.departments import names as departments
from hub.audit.checkpoints import CheckpointLoop
from hub.audit.settings import audit_settings, signer as log_signer
from hub.store import Store
from hub.store.protection import protect

log = logging.getLogger("tongban.run")


HUB_KEYS = SETTINGS_KEYS   # the hub's keys under adapters.<name>, never handed to the adapter


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
            dept = registry.load(name).department   # applications are routed by department, queued by adapter
            southbound.append(bus.Binding(name, f"{dept}.application.*", bus.names.COMMANDS))
            if new_track(settings, name):   # write mirror: the new track gets every application too
                southbound.append(bus.Binding(f"{name}.new", f"{dept}.application.*", bus.names.COMMANDS))
    return northbound + southbound


def declare_topology(settings: dict, store: Store | None = None) -> list[str]:
    """Exchanges, every destination's active partition layout (recorded in the store on
    the first start, from `partitions:` in the settings), retry queues; a destination
    still on the single queue of before partitions gets that queue unbound and marked
    draining. Returns the partition queues, then the retry queues."""
    own = store is None
    store = store or Store.open(settings["db_url"])
    url = roles.url_for(settings, roles.OPERATOR)   # the one role that may declare
    conn = bus.connect(url)
    try:
        binds = bindings(settings)
        known = store.layouts()
        listed = None if all(d in known for d in {b.destination for b in binds}) else \
            management_queues(url)
        layouts = {}
        for dest in sorted({b.destination for b in binds}):
            layouts[dest] = store.init_layout(dest, configured_partitions(settings, dest), "config",
                                              "first start: partitions from the settings")
            _adopt_single_queue(conn, store, settings, dest, [b for b in binds if b.destination == dest])
            if dest not in known:
                _adopt_unknown_layouts(conn, store, settings, dest, layouts[dest], listed)
        return bus.declare(conn, binds, retry_delays_ms(settings), layouts=layouts,
                           queue_type=queue_type(settings))
    finally:
        conn.release()
        if own:
            store.close()


def _adopt_single_queue(conn, store: Store, settings: dict, dest: str, binds: list[bus.Binding]) -> None:
    """Upgrading from one queue per destination: stop routing to it and let it drain as a
    layout of 0 partitions (its old retry queues expire into it, so they drain first)."""
    legacy = bus.names.destination_queue(dest)
    if not bus.exists(conn, legacy):
        return
    channel = conn.channel()
    try:
        for b in binds:
            channel.queue_unbind(legacy, exchange=b.exchange, routing_key=b.pattern)
    finally:
        channel.close()
    if 0 not in store.layouts().get(dest, {}).get("draining", []):
        store.add_draining(dest, 0, "upgrade", "the single queue of before partitions drains first")
        log.info("%s: the single queue %s drains before the partitions start", dest, legacy)


def _adopt_unknown_layouts(conn, store: Store, settings: dict, dest: str, active: int, listed) -> None:
    """A store that is new to a broker which already has other layouts of `dest` (the store
    was moved, say from SQLite to PostgreSQL, after a `tongban partitions set`): those
    layouts would stay bound, each message copied into queues nobody works. They are
    unbound and drain first, as after a change of P; their messages are not lost."""
    stale = sorted(bus.inventory.partition_layouts_found(conn, roles.url_for(settings, roles.OPERATOR), dest,
                                                         listed) - {active})
    if not stale:
        return
    channel = conn.channel()
    try:
        for p in stale:
            bus.unbind_partitions(channel, dest, p)
            store.add_draining(dest, p, "adopted", "found on the broker, unknown to this store: drains first")
            log.warning("%s: a layout of %d partition(s) found on the broker drains before the %d start",
                        dest, p, active)
    finally:
        channel.close()


def queue_type(settings: dict) -> str:
    return ((settings.get("queues") or {}).get("type") or "classic")


def layout_queues(dest: str, partitions: int, settings: dict) -> list[tuple[str, list[str]]]:
    """(queue, queues to drain before it) of a layout; 0 is the single queue of before."""
    if partitions == 0:
        retries = [bus.names.legacy_retry_queue(dest, ms) for ms in retry_delays_ms(settings)]
        return [(bus.names.destination_queue(dest), retries)]
    return [(q, []) for q in bus.names.partition_queues(dest, partitions)]


class Hub:
    def __init__(self, settings: dict, store: Store | None = None, allot=None):
        self.settings = settings
        self.stop = threading.Event()
        self.store = store or Store.open(settings["db_url"])
        self.mappings = MappingSet.load(settings["mappings_dir"])
        self.supervisors: list[Supervisor] = []
        self.destinations = {}
        self.breakers: dict[str, CircuitBreaker] = {}
        self.layouts = LayoutCache(self.store)
        self._laid: set[tuple[str, int]] = set()     # (destination, P) whose loops run here
        self._urls: dict[str, str] = {}
        self.allot = allot or Allotment(self.store)
        # department -> dual-track mode, re-read from the store so cutovers apply without a restart
        # (the platform's own feed is no department: it has one track)
        self.mode_of = ModeCache(lambda dept: current_mode(self.store, settings, dept)
                                 if dept in departments() else "off")
        # Post-mapping validation: the item must be in the synchronised provincial catalogue.
        self.check = CatalogueCheck(self.store, float((settings.get("catalogue") or {}).get("refresh_seconds", 30)))

    def _change_of(self, department: str) -> str | None:
        """When the department's stored mode last changed (None: never; the file's mode holds)."""
        changed = mode_info(self.store, self.settings, department).get("changed_at")
        return changed.isoformat() if changed is not None else None

    def _supervise(self, name, build, start: bool = False):
        c = self.settings.get("consumer", {})
        sup = Supervisor(name, build, self.stop, c.get("backoff_initial", 0.5), c.get("backoff_max", 15))
        self.supervisors.append(sup)
        if start:
            sup.start()

    def _declare_when_the_broker_answers(self) -> None:
        """A hub started before its broker (a host's boot, a broker restarting) waits for it,
        saying so, instead of dying with a traceback; stopping it meanwhile ends the wait."""
        c = self.settings.get("consumer", {})
        delay, most = float(c.get("backoff_initial", 0.5)), float(c.get("backoff_max", 15))
        while True:
            try:
                declare_topology(self.settings, self.store)
                return
            except bus.UNREACHABLE as exc:
                if self.stop.is_set():
                    raise
                log.warning("broker %s does not answer (%s: %s): trying again in %.1f s",
                            roles.masked(self.settings["broker_url"]), type(exc).__name__, exc, delay)
                if self.stop.wait(delay):
                    raise
                delay = min(delay * 2, most)

    def _role_url(self, role: str) -> str:
        """The broker URL of a role (hub/bus/credentials.py), read once per process."""
        if role not in self._urls:
            self._urls[role] = roles.url_for(self.settings, role)
        return self._urls[role]

    def _consumer_settings(self) -> tuple[str, int, int]:
        c = self.settings.get("consumer", {})
        return self.settings["broker_url"], int(c.get("prefetch", 200)), int(c.get("batch_size", 100))

    def start(self) -> "Hub":
        self._declare_when_the_broker_answers()
        if hasattr(self.allot, "start"):
            self.allot.start()
        _url, prefetch, batch = self._consumer_settings()
        audit = audit_settings(self.settings)
        self.store.chain_algorithm = audit["hash"]
        protect(self.store, self.settings)   # payloads sealed at rest (payload_encryption:); refuses a missing current key
        if audit["checkpoint_seconds"]:
            sign = log_signer(self.settings)   # made (or found wanting) before anything is forwarded
            self._supervise("log-checkpoints", lambda: CheckpointLoop(self.store, sign, audit["checkpoint_seconds"]))
        for name, conf in enabled_adapters(self.settings).items():
            tracks = {"old": conf}
            if new_track(self.settings, name):
                tracks["new"] = new_track(self.settings, name)
            for track, track_conf in tracks.items():
                self._adapter_track(name, track, registry.create(name, track_conf),
                                    self._role_url(roles.source(name)))
        if any(new_track(self.settings, n) for n in enabled_adapters(self.settings)):
            from hub.runtime.compare_loop import CompareLoop
            self._supervise("compare", lambda u=self._role_url(roles.COMPARE): CompareLoop(
                store=self.store, settings=self.settings, broker_url=u, prefetch=prefetch, batch_size=batch))
        routed = {r.destination for r in load_routes(self.settings["routes_file"])}
        for name, conf in (self.settings.get("destinations") or {}).items():
            if name in routed:
                self.destinations[name] = delivery.create(name, conf)
        for dest in list(self.destinations.values()):
            self.breakers[dest.name] = CircuitBreaker.from_settings(dest.name, self.store, self.settings)
        self._lay_out(start=False)
        for queue in (bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE):
            self._supervise(f"record:{queue}", lambda q=queue, u=self._role_url(roles.RECORDER): ConsumerLoop(
                queue=q, handler_factory=recorder_factory(self.store, q), broker_url=u,
                prefetch=prefetch, batch_size=batch))
        for sup in list(self.supervisors):
            sup.start()
        self._supervise("layouts", lambda: _LayoutWatch(self), start=True)
        log.info("hub running: %d loops (%s)", len(self.supervisors),
                 ", ".join(sorted({s.name.rsplit(".", 1)[0] for s in self.supervisors})))
        return self

    def _adapter_track(self, name, track, adapter, url) -> None:
        # The supervisor builds the loop afresh after every failure; this outlives them all.
        pages = PageMemory()
        self._supervise(f"source:{name}:{track}", lambda: SourceLoop(
            name=f"{name}:{track}", adapter=adapter, mappings=self.mappings, store=self.store, broker_url=url,
            page_size=adapter.config.get("page_size", 200), poll_interval=adapter.config.get("poll_interval", 1.0),
            check=self.check, track=track, mode_of=self.mode_of, allot=self.allot, page_memory=pages,
            change_of=self._change_of if new_track(self.settings, name) else None))
        self.allot.register("sources", f"tongban.source.{name}:{track}")
        sink = adapter.sink()
        if sink is None:
            return
        if track == "new":
            sink.name = f"{name}.new"   # its own queue and its own ledger entries
        self.destinations[sink.name] = TrackSink(sink, name, track, self.mode_of)

    def _lay_out(self, start: bool) -> None:
        """A delivery loop for every partition of every layout of each destination (the
        active one, and older ones still draining) not yet laid out in this process."""
        _url, prefetch, batch = self._consumer_settings()
        layouts = self.layouts.all()
        for name, dest in self.destinations.items():
            url = self._role_url(roles.deliver(name))   # this destination's user
            entry = layouts.get(name) or {}
            for partitions in [entry.get("active")] + list(entry.get("draining", [])):
                if partitions is None or (name, partitions) in self._laid:
                    continue
                self._laid.add((name, partitions))
                group = name if partitions == entry.get("active") else f"{name}:drain:{partitions}"
                queues = layout_queues(name, partitions, self.settings)
                for queue, first in queues:
                    self.allot.register(group, queue)
                for queue, first in queues:
                    self._supervise(f"deliver:{queue}", lambda d=dest, q=queue, f=first, p=partitions, g=group,
                                    u=url: ConsumerLoop(queue=q, broker_url=u, prefetch=prefetch, batch_size=batch,
                                                 handler_factory=delivery_factory(d, self.store, self.settings,
                                                                                  self.breakers.get(d.name)),
                                                 allot=self.allot, group=g, drain_first=f,
                                                 role=lambda n=d.name, p=p: self.layouts.role(n, p),
                                                 on_drained=lambda conn, n=d.name, p=p: self._drained(conn, n, p)),
                                    start=start)

    def _drained(self, conn, dest: str, partitions: int) -> None:
        if not any(bus.exists(conn, q) for q, _ in layout_queues(dest, partitions, self.settings)):
            self.store.drained(dest, partitions)
            self.layouts.forget()
            log.info("%s: the layout of %d partition(s) is drained and gone", dest, partitions)

    def shutdown(self, timeout: float = 30.0) -> None:
        self.stop.set()
        for sup in self.supervisors:
            sup.join(timeout)
        for dest in self.destinations.values():
            dest.close()
        if hasattr(self.allot, "stop"):
            self.allot.stop()

    def wait(self) -> None:
        while not self.stop.is_set():
            self.stop.wait(1.0)


class _LayoutWatch:
    """Lays out the loops of a layout made active while the hub runs (`tongban partitions set`)."""

    def __init__(self, hub: Hub):
        self.hub = hub

    def step(self) -> float:
        self.hub._lay_out(start=True)
        return 1.0

    def close(self) -> None:
        pass


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
