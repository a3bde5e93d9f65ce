"""Broker connections. The broker URL comes from TONGBAN_BROKER_URL."""
from __future__ import annotations

import os

from kombu import Connection

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672//"


def broker_url() -> str:
    return os.environ.get("TONGBAN_BROKER_URL", DEFAULT_URL)


def connect(url: str | None = None, heartbeat: int = 30) -> Connection:
    """A connected kombu Connection; raises the transport's connection error if the broker is down."""
    url = url or broker_url()
    conn = Connection(url, heartbeat=heartbeat, connect_timeout=5,
                      transport_options={"client_properties": {"connection_name": "tongban-hub"}})
    # a failover list (';'-separated nodes): each node gets its try before this gives up, so a
    # stopped first node costs one timeout, not the start
    conn.ensure_connection(max_retries=max(1, url.count(";") + 1))
    return conn


def connection_errors(conn: Connection) -> tuple[type[BaseException], ...]:
    """What a lost broker looks like, for callers that must not import kombu."""
    return tuple(conn.connection_errors) + tuple(conn.channel_errors) + (OSError,)
