"""Batch consumer with manual acks (invariant 2: ack only after the work).

Messages are collected up to `batch_size` or until the queue is quiet for
`linger` seconds, handed to the handler together (so the ledger can be written in
one transaction), and settled only after the handler returns. A crash before
settling leaves them unacked: the broker redelivers them, in order."""
from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Callable

from kombu import Connection, Consumer, Queue


@dataclass
class Delivery:
    body: bytes
    headers: dict
    routing_key: str
    message_id: str | None
    redelivered: bool
    _message: object = field(repr=False, default=None)

    def ack(self) -> None:
        self._message.ack()

    def requeue(self) -> None:
        self._message.requeue()

    def reject(self) -> None:
        """Reject without requeue: the queue's own dead-letter exchange takes it."""
        self._message.reject(requeue=False)


Handler = Callable[[list[Delivery]], None]


class BatchConsumer:
    def __init__(self, conn: Connection, queue: str, handler: Handler, *, prefetch: int = 200,
                 batch_size: int = 100, linger: float = 0.05):
        self.conn = conn
        self.queue = queue
        self.handler = handler
        self.prefetch = prefetch
        self.batch_size = min(batch_size, prefetch)
        self.linger = linger
        self._buffer: list[Delivery] = []
        self.channel = conn.channel()
        self.channel.basic_qos(prefetch_size=0, prefetch_count=prefetch, a_global=False)
        self._consumer = Consumer(self.channel, queues=[Queue(queue, no_declare=True, channel=self.channel)],
                                  on_message=self._on_message, auto_declare=False)
        self._consumer.consume()

    def _on_message(self, message) -> None:
        # on_message, not callbacks: the body is never decoded by kombu, so a malformed
        # payload reaches our handler (and a dead letter) instead of raising in the consumer.
        raw = message.body if isinstance(message.body, bytes) else str(message.body).encode("utf-8")
        props = message.properties or {}
        self._buffer.append(Delivery(
            body=raw, headers=dict(message.headers or {}),
            routing_key=message.delivery_info.get("routing_key", ""),
            message_id=props.get("message_id"),
            redelivered=bool(message.delivery_info.get("redelivered")),
            _message=message,
        ))

    def poll(self, timeout: float = 1.0) -> int:
        """Wait up to `timeout` for messages, hand one batch to the handler; returns its size."""
        try:
            self.conn.drain_events(timeout=timeout)
        except socket.timeout:
            self.conn.heartbeat_check()
            if not self._buffer:
                return 0
        while len(self._buffer) < self.batch_size:
            try:
                self.conn.drain_events(timeout=self.linger)
            except socket.timeout:
                break
        batch, self._buffer = self._buffer[: self.batch_size], self._buffer[self.batch_size:]
        if batch:
            self.handler(batch)
        return len(batch)

    def cancel(self) -> None:
        try:
            self._consumer.cancel()
            self.channel.close()
        except Exception:  # the connection may already be gone; the broker requeues unacked work
            pass
