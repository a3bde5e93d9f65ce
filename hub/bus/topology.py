"""Declares exchanges, queues and bindings. Idempotent: every start declares the same thing.

Routes become topic bindings, so content-based routing happens in the broker; an
alternate exchange catches what no route matches (invariant 3: no silent drop)."""
from __future__ import annotations

from dataclasses import dataclass

from kombu import Connection, Exchange, Queue

from . import names


@dataclass(frozen=True)
class Binding:
    destination: str
    pattern: str                    # topic pattern, e.g. "*.case_event.*"
    exchange: str = names.EVENTS    # tongban.commands for the southbound queues of departments


def _destination_queue(destination: str, channel) -> Queue:
    # One consumer at a time, in order (invariant 5, per-case order). The delivery loops
    # see to it with a lock (take_lock below; hub/runtime/loops.py says why not by
    # registering standby consumers); single active consumer stays as a second guard for
    # any other consumer, and because a queue's arguments cannot change once declared.
    return Queue(
        names.destination_queue(destination),
        exchange=Exchange(names.EVENTS, type="topic", durable=True, channel=channel, no_declare=True),
        durable=True,
        queue_arguments={
            "x-single-active-consumer": True,
            "x-dead-letter-exchange": names.DLX,
            "x-dead-letter-routing-key": f"deliver.{destination}",
        },
        channel=channel,
    )


# Delayed redelivery (invariant 7): a message that failed transiently waits in a queue
# with a per-queue TTL and no consumer; when it expires the broker dead-letters it back to
# its destination queue. One queue per destination and delay rather than one per delay
# shared by all destinations: the default exchange reaches it by its own name, the way
# back is fixed in its arguments (no routing-key tricks), and `tongban status` shows how
# much of each destination's traffic is waiting to be retried. Per-queue (not
# per-message) TTL keeps expiry in FIFO order, so nothing is stuck behind a longer wait.
DEFAULT_RETRY_DELAYS_MS = (5_000, 30_000, 300_000)


def _retry_queue(destination: str, delay_ms: int, channel) -> str:
    name = names.retry_queue(destination, delay_ms)
    channel.queue_declare(name, durable=True, auto_delete=False, arguments={
        "x-message-ttl": int(delay_ms),
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": names.destination_queue(destination),
    })
    return name


def declare_retry_queues(conn: Connection, destination: str, delays_ms) -> list[str]:
    """A delivery worker declares its own retry queues before it starts: publishing to a
    queue that does not exist through the default exchange would drop the message."""
    channel = conn.channel()
    try:
        return [_retry_queue(destination, delay, channel) for delay in delays_ms]
    finally:
        channel.close()


def declare(conn: Connection, bindings: list[Binding],
            retry_delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS) -> list[str]:
    """Declare everything; returns the destination queue names, then their retry queues."""
    channel = conn.channel()
    try:
        unrouted = Exchange(names.UNROUTED, type="fanout", durable=True, channel=channel)
        unrouted.declare()
        for name in (names.EVENTS, names.COMMANDS):
            Exchange(name, type="topic", durable=True, channel=channel,
                     arguments={"alternate-exchange": names.UNROUTED}).declare()
        dlx = Exchange(names.DLX, type="topic", durable=True, channel=channel)
        dlx.declare()
        Queue(names.DEAD_QUEUE, exchange=dlx, routing_key="#", durable=True, channel=channel).declare()
        Queue(names.UNROUTED_QUEUE, exchange=unrouted, durable=True, channel=channel).declare()
        compare = Exchange(names.COMPARE, type="fanout", durable=True, channel=channel)
        compare.declare()
        Queue(names.COMPARE_QUEUE, exchange=compare, durable=True, channel=channel).declare()

        declared, retries = [], []
        for destination in sorted({b.destination for b in bindings}):
            q = _destination_queue(destination, channel)
            q.declare()
            declared.append(q.name)
            for delay in retry_delays_ms:
                retries.append(_retry_queue(destination, delay, channel))
        for b in bindings:
            channel.queue_bind(names.destination_queue(b.destination), exchange=b.exchange, routing_key=b.pattern)
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


def queue_depth(conn: Connection, queue: str) -> tuple[int, int]:
    """(messages ready, consumers) by a passive declare; raises if the queue does not exist."""
    channel = conn.channel()
    try:
        _, count, consumers = channel.queue_declare(queue, passive=True)
        return count, consumers
    finally:
        channel.close()


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
