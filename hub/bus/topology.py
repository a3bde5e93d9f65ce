"""Declares exchanges, queues and bindings. Idempotent: every start declares the same thing.

Routes become topic bindings, so content-based routing happens in the broker; an
alternate exchange catches what no route matches (invariant 3: no silent drop)."""
from __future__ import annotations

from dataclasses import dataclass

from kombu import Connection, Exchange, Queue

from hub.routing import partitions as partitions_mod

from . import names


@dataclass(frozen=True)
class Binding:
    destination: str
    pattern: str                    # topic pattern, e.g. "*.case_event.*"
    exchange: str = names.EVENTS    # tongban.commands for the southbound queues of departments


def queue_arguments(queue_type: str = "classic") -> dict:
    """Arguments every durable work queue shares: classic (the default) or quorum
    (replicated over the cluster's nodes, `queues: {type: quorum}` in config/hub.yaml)."""
    if queue_type not in ("classic", "quorum"):
        raise ValueError(f"queues.type must be classic or quorum, got {queue_type!r}")
    return {"x-queue-type": "quorum"} if queue_type == "quorum" else {}


def _partition_queue(channel, destination: str, index: int, partitions: int, queue_type: str) -> str:
    # One consumer at a time, in order (invariant 5). The delivery loops see to it with a
    # lock (take_lock below; hub/runtime/loops.py says why not by registering standby
    # consumers); single active consumer stays as a second guard for any other consumer.
    name = names.partition_queue(destination, index, partitions)
    channel.queue_declare(name, durable=True, auto_delete=False, arguments={
        **queue_arguments(queue_type),
        "x-single-active-consumer": True,
        "x-dead-letter-exchange": names.DLX,
        "x-dead-letter-routing-key": f"deliver.{destination}",
    })
    return name


def _slot_binding(slot: int) -> dict:
    return {"x-match": "all", names.H_SLOT: str(slot)}


def bind_partitions(channel, destination: str, partitions: int, queue_type: str = "classic") -> list[str]:
    """Declare a layout's partition queues and bind each its slots. Binding is idempotent;
    a message routed while an old layout is still bound too reaches both: the old copy is
    delivered first (the new layout waits for the old to drain) and the new one is then a
    ledger duplicate, skipped."""
    out = []
    for i in range(partitions):
        q = _partition_queue(channel, destination, i, partitions, queue_type)
        for slot in partitions_mod.slots_of(i, partitions):
            channel.queue_bind(q, exchange=names.destination_exchange(destination), routing_key="",
                               arguments=_slot_binding(slot))
        out.append(q)
    return out


def unbind_partitions(channel, destination: str, partitions: int) -> None:
    """Take an old layout off the destination's exchange: its queues get nothing new and drain."""
    for i in range(partitions):
        q = names.partition_queue(destination, i, partitions)
        for slot in partitions_mod.slots_of(i, partitions):
            channel.queue_unbind(q, exchange=names.destination_exchange(destination), routing_key="",
                                 arguments=_slot_binding(slot))


# Delayed redelivery (invariant 7): a message that failed transiently waits in a queue
# with a per-queue TTL and no consumer; when it expires the broker dead-letters it to its
# destination's exchange, which puts it in its case's partition by its slot header, the
# one the layout of that moment gives (so a retry that outlives a change of P is not sent
# to a drained queue). Retry copies reach their delay queue through one headers exchange,
# by the tongban-delay header, keeping their routing key. One queue per destination and delay:
# `tongban status` shows how much of each destination's traffic waits to be retried.
# Per-queue (not per-message) TTL keeps expiry in FIFO order.
DEFAULT_RETRY_DELAYS_MS = (5_000, 30_000, 300_000)


def _retry_queue(destination: str, delay_ms: int, channel, queue_type: str = "classic") -> str:
    name = names.retry_queue(destination, delay_ms)
    channel.queue_declare(name, durable=True, auto_delete=False, arguments={
        **queue_arguments(queue_type),
        "x-message-ttl": int(delay_ms),
        "x-dead-letter-exchange": names.destination_exchange(destination),
    })
    channel.queue_bind(name, exchange=names.DELAY, routing_key="",
                       arguments={"x-match": "all", names.H_DELAY: name})
    return name


def _exchanges(channel) -> None:
    Exchange(names.UNROUTED, type="fanout", durable=True, channel=channel).declare()
    for name in (names.EVENTS, names.COMMANDS):
        Exchange(name, type="topic", durable=True, channel=channel,
                 arguments={"alternate-exchange": names.UNROUTED}).declare()
    Exchange(names.DELAY, type="headers", durable=True, channel=channel,
             arguments={"alternate-exchange": names.UNROUTED}).declare()


def declare_retry_queues(conn: Connection, destination: str, delays_ms, queue_type: str = "classic") -> list[str]:
    """A delivery worker declares its own retry queues before it starts: a retry copy
    published before its queue is bound would go to tongban.unrouted. A delivery user of
    its own (hub/bus/roles.py) may not declare exchanges: then the operator declared them
    at the start, and this checks that the queues are there (a passive declare needs no
    permission)."""
    channel = conn.channel()
    try:
        _exchanges(channel)
        channel.exchange_declare(names.destination_exchange(destination), "headers", durable=True,
                                 arguments={"alternate-exchange": names.UNROUTED})
        return [_retry_queue(destination, delay, channel, queue_type) for delay in delays_ms]
    except conn.channel_errors as exc:
        if getattr(exc, "code", None) != 403:   # ACCESS_REFUSED: not this user's to declare
            raise
        wanted = [names.retry_queue(destination, delay) for delay in delays_ms]
        missing = [q for q in wanted if not exists(conn, q)]
        if missing:
            raise PermissionError(f"retry queue(s) {', '.join(missing)} do not exist and this broker user may "
                                  "not declare them: the operator role declares the topology "
                                  "(tongban run's start)") from None
        return wanted
    finally:
        try:
            channel.close()
        except Exception:  # closed by the broker after the refusal
            pass


def declare(conn: Connection, bindings: list[Binding],
            retry_delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS,
            layouts: dict[str, int] | None = None, queue_type: str = "classic") -> list[str]:
    """Declare everything; returns the partition queues of every destination (layouts:
    destination -> P, 1 where not given), then their retry queues. Routes bind the
    destination's exchange to tongban.events / tongban.commands (exchange-to-exchange)."""
    layouts = layouts or {}
    channel = conn.channel()
    try:
        _exchanges(channel)
        dlx = Exchange(names.DLX, type="topic", durable=True, channel=channel)
        dlx.declare()
        unrouted = Exchange(names.UNROUTED, type="fanout", durable=True, channel=channel, no_declare=True)
        # The queues that keep what could not be delivered are of the work queues' type: on
        # a cluster, a classic tongban.dead lives on one node, and while that node is down
        # the broker confirms a dead letter routed to it and drops it (invariant 3).
        kept = queue_arguments(queue_type)
        Queue(names.DEAD_QUEUE, exchange=dlx, routing_key="#", durable=True, channel=channel,
              queue_arguments=kept).declare()
        Queue(names.UNROUTED_QUEUE, exchange=unrouted, durable=True, channel=channel, queue_arguments=kept).declare()
        compare = Exchange(names.COMPARE, type="fanout", durable=True, channel=channel)
        compare.declare()
        Queue(names.COMPARE_QUEUE, exchange=compare, durable=True, channel=channel, queue_arguments=kept).declare()

        declared, retries = [], []
        for destination in sorted({b.destination for b in bindings}):
            # A message with no slot header (hand-published) matches no partition: the
            # alternate exchange keeps it as a dead letter instead of dropping it.
            channel.exchange_declare(names.destination_exchange(destination), "headers", durable=True,
                                     arguments={"alternate-exchange": names.UNROUTED})
            declared += bind_partitions(channel, destination, layouts.get(destination, 1), queue_type)
            for delay in retry_delays_ms:
                retries.append(_retry_queue(destination, delay, channel, queue_type))
        for b in bindings:
            channel.exchange_bind(names.destination_exchange(b.destination), b.exchange, routing_key=b.pattern)
        return declared + retries
    finally:
        channel.close()


def take_lock(conn: Connection, queue: str) -> bool:
    """Try to take the consume lock of `queue` for this connection: an exclusive queue,
    which the broker deletes when the connection that declared it closes (or dies), so a
    lock can never outlive its holder. False when another connection holds it."""
    channel = conn.channel()
    try:
        channel.queue_declare(names.lock_queue(queue), durable=False, exclusive=True, auto_delete=False)
        return True
    except conn.channel_errors as exc:
        if getattr(exc, "code", None) == 405:   # RESOURCE_LOCKED: held by another connection
            return False
        raise
    finally:
        try:
            channel.close()
        except Exception:  # the broker closed it already after the refusal
            pass


def drop_lock(conn: Connection, queue: str) -> None:
    """Give back a lock this connection took (its exclusive queue is deleted)."""
    channel = conn.channel()
    try:
        channel.queue_delete(names.lock_queue(queue))
    finally:
        channel.close()


def queue_depth(conn: Connection, queue: str) -> tuple[int, int]:
    """(messages ready, consumers) by a passive declare; raises if the queue does not exist."""
    channel = conn.channel()
    try:
        _, count, consumers = channel.queue_declare(queue, passive=True)
        return count, consumers
    finally:
        channel.close()


def delete_if_empty(conn: Connection, queue: str) -> bool:
    """Delete a drained queue; False while it still holds messages. A queue already gone
    counts as deleted."""
    channel = conn.channel()
    try:
        channel.queue_delete(queue, if_empty=True)
        return True
    except conn.channel_errors as exc:
        if getattr(exc, "code", None) == 404:
            return True
        if getattr(exc, "code", None) == 406:   # PRECONDITION_FAILED: not empty
            return False
        raise
    finally:
        try:
            channel.close()
        except Exception:  # closed by the broker after the refusal
            pass


def exists(conn: Connection, queue: str) -> bool:
    try:
        queue_depth(conn, queue)
        return True
    except conn.channel_errors as exc:
        if getattr(exc, "code", None) == 404:
            return False
        raise


def purge(conn: Connection, queues: list[str]) -> None:
    channel = conn.channel()
    try:
        for q in queues:
            try:
                channel.queue_purge(q)
            except conn.channel_errors:
                channel = conn.channel()  # the queue did not exist; the channel was closed
    finally:
        channel.close()
