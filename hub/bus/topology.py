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
    # Single active consumer: several hub processes may run; one consumes a queue at a
    # time, in order, and another takes over when it dies (invariant 5, per-case order).
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


def declare(conn: Connection, bindings: list[Binding]) -> list[str]:
    """Declare everything; returns the destination queue names."""
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

        declared = []
        for destination in sorted({b.destination for b in bindings}):
            q = _destination_queue(destination, channel)
            q.declare()
            declared.append(q.name)
        for b in bindings:
            channel.queue_bind(names.destination_queue(b.destination), exchange=b.exchange, routing_key=b.pattern)
        return declared
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
