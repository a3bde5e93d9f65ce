"""The three kinds of loop the hub runs, each owning its own broker connection."""
from __future__ import annotations

import logging
import socket
import time

from hub import bus
from hub.observability import metrics
from hub.routing import load_routes
from hub.routing.partitions import partition_of
from hub.runtime.allotment import Solo
from hub.runtime.breaker import HALF_OPEN, OPEN, CircuitBreaker
from hub.runtime.deadletters import DeadLetterRecorder
from hub.runtime.delivery_worker import BreakerOpen, DeliveryWorker
from hub.runtime.retry import RetryPolicy
from hub.runtime.layouts import ACTIVE, DRAINING, GONE, WAITING
from hub.runtime.source_worker import SourceWorker
from hub.runtime.supervisor import Finished, Yield
from hub.runtime.tracks import twin_departments

log = logging.getLogger("tongban.loops")


# How often a process standing by tries for a unit someone else holds. A dead holder's
# units are free at once (its locks go with its connections); the allotment takes a free
# unit over its share on the second sighting (hub/runtime/allotment.py), so a takeover
# takes about two of these plus a heartbeat. Each try is one queue declare at the broker.
STANDBY_SECONDS = 0.5


def keep_alive(conn, last: float) -> float:
    """Read a connection that is otherwise read only while waiting for confirms, and send
    heartbeats: a quiet one would be closed by the broker (missed heartbeats) under the
    next publish. Every few seconds; returns when it last ran."""
    if time.monotonic() - last < 5:
        return last
    try:
        conn.drain_events(timeout=0.01)
    except socket.timeout:
        pass
    conn.heartbeat_check()
    return time.monotonic()


class SourceLoop:
    """Reads one source. Like a delivery queue, a source is read by one process at a time
    (a broker-kept lock, see ConsumerLoop): two processes reading one cursor would publish
    every record twice and dead-letter every bad one twice; the other process stands by
    and takes over within a second of the holder's death."""

    def __init__(self, *, name, adapter, mappings, store, broker_url, page_size, poll_interval, track="old",
                 check=None, mode_of=None, change_of=None, allot=None, page_memory=None):
        self.name = name
        self.allot = allot or Solo()
        self.unit = f"tongban.source.{name}"
        self.allot.register("sources", self.unit)
        self.conn = bus.connect(broker_url)
        self.publisher = bus.ConfirmingPublisher(self.conn)
        self.source = adapter.source()
        self.poll_interval = poll_interval
        self.worker = SourceWorker(name=name, department=adapter.department, system=adapter.system, track=track,
                                   source=self.source, mappings=mappings, publisher=self.publisher, store=store,
                                   page_size=page_size, check=check, mode_of=mode_of,
                                   max_record_bytes=adapter.config.get("max_record_bytes"), change_of=change_of,
                                   unreadable_attempts=adapter.config.get("unreadable_attempts"),
                                   page_memory=page_memory)
        self.holds_source = False
        self._ticked = time.monotonic()

    def step(self) -> float:
        self._ticked = keep_alive(self.conn, self._ticked)
        if not self.holds_source:
            if not self.allot.may_try(self.unit):
                return STANDBY_SECONDS
            if not bus.take_lock(self.conn, self.unit):
                self.allot.taken_elsewhere(self.unit)
                return STANDBY_SECONDS
            if not self.allot.keep("sources", self.unit):
                bus.drop_lock(self.conn, self.unit)
                return STANDBY_SECONDS
            self.holds_source = True
            log.info("source %s: reading (this process holds it)", self.name)
        elif self.allot.must_yield("sources", self.unit):
            raise Yield(self.unit)
        # SourceUnavailable propagates: the supervisor backs off and resumes from the checkpoint.
        result = self.worker.poll_once()
        return 0 if result.has_more else self.poll_interval

    def close(self) -> None:
        self.source.close()
        self.publisher.close()
        self.conn.release()   # the source's lock goes with the connection
        if self.holds_source:
            self.allot.released("sources", self.unit)
            self.holds_source = False
            metrics.message_log_released(self.worker.department, self.worker.track)


class ConsumerLoop:
    """Runs a handler over a queue; DeliveryWorker or DeadLetterRecorder.

    A delivery queue (a destination's partition) is consumed by one process at a time
    (invariant 5). Several hub processes compete for it through a lock the broker keeps
    (bus.take_lock: an exclusive queue owned by this loop's connection): the holder
    consumes, the others wait and try again every second, and when the holder stops or
    dies its connection, lock and consumer go together, so another takes over within
    about a second. Which process *tries* for which partition is the allotment's business
    (hub/runtime/allotment.py: the partitions spread evenly over the live processes). The
    queue's own x-single-active-consumer stays as a second guard, but no process waits
    as a registered standby consumer: on RabbitMQ 3.10 a classic queue whose active
    consumer leaves while another waits stops delivering and crashes at the next
    publish (rabbitmq-server#5460; reproduced here by tests/reliability/).

    A partition of a layout that is being replaced (hub/runtime/layouts.py) is *draining*:
    worked until empty, then deleted; a partition of the new layout *waits* meanwhile.

    A handler with a circuit breaker (a DeliveryWorker) is consumed only while the breaker
    lets it: open, the loop holds no consumer (messages wait in the queue); half-open,
    it consumes with prefetch 1, so the probe is one message and a failed probe returns
    only that one to the head of the queue."""

    def __init__(self, *, queue, handler_factory, broker_url, prefetch, batch_size, allot=None, group=None,
                 role=None, drain_first=(), on_drained=None):
        self.queue, self.prefetch, self.batch_size = queue, prefetch, batch_size
        self.allot, self.group = allot or Solo(), group or queue
        self.role = role or (lambda: ACTIVE)
        self.drain_first, self.on_drained = list(drain_first), on_drained
        self.conn = bus.connect(broker_url)
        self.pub_conn = bus.connect(broker_url)
        self.dead_letters = bus.ConfirmingPublisher(self.pub_conn)
        self.handler = handler_factory(self.dead_letters)
        prepare = getattr(self.handler, "prepare", None)
        if prepare is not None:
            prepare(self.pub_conn)
        self.breaker = getattr(self.handler, "breaker", None)
        self.exclusive = self.breaker is not None   # delivery queues: one process at a time
        self.holds_queue = False
        self.consumer = None
        self._ticked = time.monotonic()
        self.allot.register(self.group, self.queue)

    def _may_consume(self) -> bool:
        if not self.exclusive or self.holds_queue:
            return True
        if not self.allot.may_try(self.queue):
            return False
        if self.role() == DRAINING and not bus.exists(self.conn, self.queue):
            self._drained()                  # another process finished it
        if not bus.take_lock(self.conn, self.queue):
            self.allot.taken_elsewhere(self.queue)
            return False
        if not self.allot.keep(self.group, self.queue):
            bus.drop_lock(self.conn, self.queue)   # this process has its share; leave it to another
            return False
        # The previous holder's consumer leaves with its connection; wait until it has.
        if bus.queue_depth(self.conn, self.queue)[1] > 0:
            log.info("%s: lock taken, waiting for the previous consumer to go", self.queue)
            return False
        self.holds_queue = True
        log.info("%s: consuming (this process holds the queue)", self.queue)
        return True

    def _consume(self, prefetch: int):
        return bus.BatchConsumer(self.conn, self.queue, self.handler.handle, prefetch=prefetch,
                                 batch_size=self.batch_size)

    def _pause(self) -> None:
        if self.consumer is not None:
            self.consumer.cancel()   # closes its channel: what it held goes back to the queue, in order
            self.consumer = None

    def step(self) -> float:
        self._ticked = keep_alive(self.pub_conn, self._ticked)
        role = self.role() if self.exclusive else ACTIVE
        if role == GONE:
            self._finish(f"{self.queue} belongs to no live layout")
        if role == WAITING:
            self._idle(1.0)          # an older layout of this destination still drains
            return 0
        if not self._may_consume():
            self._idle(STANDBY_SECONDS)   # another process holds the queue: stand by
            return 0
        if self.exclusive and self.allot.must_yield(self.group, self.queue):
            raise Yield(self.queue)
        if self.breaker is not None:
            mode = self.breaker.mode()
            if mode == OPEN:
                self._pause()
                self._idle(min(max(self.breaker.seconds_to_probe(), 0.05), 1.0))
                return 0
            if mode == HALF_OPEN and not self.breaker.may_probe(self.queue):
                self._pause()        # another partition of the destination sends the probe
                self._idle(0.2)
                return 0
            want = 1 if mode == HALF_OPEN else self.prefetch
            if self.consumer is not None and self.consumer.prefetch != want:
                self._pause()
        if self.consumer is None:
            self.consumer = self._consume(self.prefetch if self.breaker is None else want)
        try:
            got = self.consumer.poll(timeout=1.0)
        except BreakerOpen:
            self._pause()
            return 0
        if got == 0 and self.breaker is not None:
            self.breaker.give_back_probe(self.queue)   # nothing here to probe with
        tick = getattr(self.handler, "tick", None)
        if tick is not None:
            tick(self._owns)
        if role == DRAINING and got == 0:
            self._try_delete()
        return 0

    def _owns(self, case_no: str) -> bool:
        """Whether a case's messages come to this queue (its partition of the destination)."""
        where = bus.names.partition_of_queue(self.queue)
        return where is None or partition_of(case_no, where[1]) == where[0]

    def _try_delete(self) -> None:
        """A draining queue that is empty: delete what expires into it first (the retry
        queues of the single-queue layout), then it; the last queue of its layout to go
        tells the store the layout is gone."""
        for q in list(self.drain_first):
            if not bus.delete_if_empty(self.conn, q):
                return
            self.drain_first.remove(q)
        self._pause()
        if bus.delete_if_empty(self.conn, self.queue):
            log.info("%s: drained and deleted", self.queue)
            self._drained()
        else:
            self.consumer = None     # a message came in after all; consume again next step

    def _drained(self):
        if self.on_drained is not None:
            self.on_drained(self.conn)
        self._finish(f"{self.queue} drained")

    def _finish(self, why: str):
        # A queue that is gone counts no more in its group's share (ceil(U/W)): the new
        # layout's partitions then spread as if the old ones had never been.
        self.allot.unregister(self.group, self.queue)
        raise Finished(why)

    def _idle(self, seconds: float) -> None:
        # Reading the socket while waiting keeps the connection's heartbeats going.
        try:
            self.conn.drain_events(timeout=seconds)
        except socket.timeout:
            self.conn.heartbeat_check()

    def close(self) -> None:
        self._pause()
        self.dead_letters.close()
        for c in (self.conn, self.pub_conn):
            c.release()   # the queue's lock goes with the connection
        if self.holds_queue:
            self.allot.released(self.group, self.queue)
            self.holds_queue = False


def delivery_factory(destination, store, settings: dict | None = None, breaker: CircuitBreaker | None = None):
    """settings: the hub's, for the retry tiers and limit and the breaker (defaults without).
    breaker: the destination's, shared by the loops of its partitions in this process."""
    policy = RetryPolicy.from_settings(settings)
    twins = twin_departments(settings or {})
    queue_type = ((settings or {}).get("queues") or {}).get("type", "classic")
    routes = load_routes(settings["routes_file"]) if (settings or {}).get("routes_file") else None
    return lambda dead_letters: DeliveryWorker(
        destination, store, dead_letters, policy=policy, queue_type=queue_type, twin_departments=twins,
        breaker=breaker or CircuitBreaker.from_settings(destination.name, store, settings), routes=routes,
        settings=settings)


def recorder_factory(store, queue):
    return lambda _dead_letters: DeadLetterRecorder(store, queue)
