"""Broker connections. The broker URL comes from TONGBAN_BROKER_URL (or the settings,
with a role's credentials: hub/bus/credentials.py); TLS options ride in its query
(hub/bus/tls.py)."""
from __future__ import annotations

import os

from kombu import Connection
from kombu.exceptions import KombuError

from . import tls

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672//"


def broker_url() -> str:
    return os.environ.get("TONGBAN_BROKER_URL", DEFAULT_URL)


def connect(url: str | None = None, heartbeat: int = 30) -> Connection:
    """A connected kombu Connection; raises the transport's connection error if the broker
    is down, and BrokerTLSError (a ConnectionError) naming the reason when TLS fails."""
    url = url or broker_url()
    plain, ssl_opts = tls.split(url)
    conn = Connection(plain, heartbeat=heartbeat, connect_timeout=5, ssl=ssl_opts,
                      transport_options={"client_properties": {"connection_name": "tongban-hub"}})
    # a failover list (';'-separated nodes): each node gets its try before this gives up, so a
    # stopped first node costs one timeout, not the start
    try:
        conn.ensure_connection(max_retries=max(1, url.count(";") + 1))
    except Exception as exc:
        explained = tls.explain(exc, plain, ssl_opts) if ssl_opts else None
        if explained is None:
            raise
        conn.release()
        raise explained from None
    return conn


# What connect() raises when the broker does not answer (refused, unreachable, timed out), for
# callers that must not import kombu.
UNREACHABLE = (KombuError, OSError)


def connection_errors(conn: Connection) -> tuple[type[BaseException], ...]:
    """What a lost broker looks like, for callers that must not import kombu."""
    return tuple(conn.connection_errors) + tuple(conn.channel_errors) + (OSError,)
