"""Publisher with pipelined confirms.

Waiting for each confirm caps publishing near 1,400 msg/s on this kind of machine;
keeping many publishes in flight and waiting once for the batch reaches ~12,000+.
`flush()` returns only when the broker confirmed every message published so far,
which is what lets a source advance its cursor (invariant 1).

Every message carries the AMQP properties of the wire contract (docs/wire.md,
docs/asyncapi.yaml): content_type with its charset (or the true type of a raw
payload), no content_encoding (AMQP means a compression there, and the hub compresses
nothing), message_id, timestamp (POSIX seconds), type (`tongban.<kind>.v<version>`),
app_id and correlation_id (the id of the canonical message it is about). What can be
is worked out once: the type of each kind is computed on first use and kept."""
from __future__ import annotations

import socket
import time

from kombu import Connection

from . import names

JSON = "application/json; charset=utf-8"   # the content type of every envelope, receipt and fence
APP_ID = "tongban-hub"
_TYPES: dict[str, str] = {}
SAME = object()   # correlation_id: the message's own id (the default)


def message_type(kind: str | None) -> str | None:
    """The AMQP `type` of a message of this kind: "tongban.case_event.v1" (schema name and version)."""
    if not kind:
        return None
    t = _TYPES.get(kind)
    if t is None:
        t = _TYPES[kind] = f"tongban.{kind}.v{names.SCHEMA_VERSION}"
    return t


class PublishError(RuntimeError):
    """The broker refused (nack) or did not confirm in time; the batch must be published again."""


class ConfirmingPublisher:
    def __init__(self, conn: Connection, max_in_flight: int = 2000, app_id: str = APP_ID):
        self.conn = conn
        self.app_id = app_id
        self.max_in_flight = max_in_flight
        self.channel = conn.channel()
        self.channel.confirm_select()
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self._next_tag = 1
        self._confirmed_upto = 0   # every tag <= this is settled
        self._settled: set[int] = set()
        self._nacked = 0

    # py-amqp calls these from drain_events with (delivery_tag, multiple)
    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._nacked += 1 if not multiple else max(1, tag - self._confirmed_upto)
        self._settle(tag, multiple)

    def _settle(self, tag: int, multiple: bool) -> None:
        if multiple:
            self._confirmed_upto = max(self._confirmed_upto, tag)
            self._settled = {t for t in self._settled if t > tag}
        else:
            self._settled.add(tag)
        while self._confirmed_upto + 1 in self._settled:
            self._confirmed_upto += 1
            self._settled.discard(self._confirmed_upto)

    @property
    def in_flight(self) -> int:
        return self._next_tag - 1 - self._confirmed_upto

    def publish(self, body: bytes, exchange: str, routing_key: str, *, message_id: str | None = None,
                headers: dict | None = None, content_type: str = JSON, type: str | None = None,
                correlation_id=SAME) -> None:
        """type: by default the type of the message's kind (its x-tongban-kind header);
        correlation_id: by default its own message id (an original is about itself; a retry
        copy keeps the id, so it links to its original as well); None: none. None values are left out."""
        if self.in_flight >= self.max_in_flight:
            self._wait(lambda: self.in_flight < self.max_in_flight // 2, timeout=30)
        headers = headers or {}
        msg = self.channel.prepare_message(
            body, content_type=content_type, headers=headers,
            properties={"delivery_mode": 2, "message_id": message_id, "timestamp": int(time.time()),
                        "type": type or message_type(headers.get(names.H_KIND)), "app_id": self.app_id,
                        "correlation_id": message_id if correlation_id is SAME else correlation_id},
        )
        self.channel.basic_publish(msg, exchange=exchange, routing_key=routing_key)
        self._next_tag += 1

    def flush(self, timeout: float = 30.0) -> None:
        """Block until every message published so far is confirmed; raise PublishError on a nack or time-out."""
        self._wait(lambda: self.in_flight == 0, timeout)
        if self._nacked:
            count, self._nacked = self._nacked, 0
            raise PublishError(f"broker refused {count} message(s) (basic.nack)")

    def _wait(self, done, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise PublishError(f"{self.in_flight} message(s) not confirmed within {timeout:.0f}s")
            try:
                self.conn.drain_events(timeout=min(left, 1.0))
            except socket.timeout:
                self.conn.heartbeat_check()

    def close(self) -> None:
        try:
            self.channel.close()
        except Exception:  # closing a channel on a dead connection is not an error worth raising
            pass
