"""What queues a vhost holds: from the RabbitMQ management API when the plugin answers, or
by passive declares of the names asked about (AMQP cannot list queues)."""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import requests

from . import names
from .topology import exists

MANAGEMENT_PORT = 15672
_PARTITION = re.compile(r"^tongban\.to\.(?P<dest>.+)\.(?P<i>\d+)of(?P<p>\d+)$")


def management_url(broker_url: str) -> tuple[str, tuple[str, str], str]:
    """(base URL, credentials, quoted vhost) of the management API next to the first broker
    of `broker_url` (a failover list separates brokers by ';')."""
    parts = urlsplit(broker_url.split(";")[0])
    vhost = parts.path[1:] if parts.path not in ("", "/") else "/"
    return (f"http://{parts.hostname or '127.0.0.1'}:{MANAGEMENT_PORT}",
            (parts.username or "guest", parts.password or "guest"), quote(vhost, safe=""))


def management_queues(broker_url: str) -> list[dict] | None:
    """Every queue of the vhost as the management API reports it; None when it does not answer."""
    base, auth, vhost = management_url(broker_url)
    try:
        resp = requests.get(f"{base}/api/queues/{vhost}", auth=auth, timeout=3)
    except requests.RequestException:
        return None
    return resp.json() if resp.status_code == 200 else None


def partition_layouts_found(conn, broker_url: str, destination: str, listed: list[dict] | None) -> set[int]:
    """The partition counts of `destination` whose queues exist on the broker (`listed` is
    management_queues' answer, or None to probe each count's first queue)."""
    if listed is not None:
        found = set()
        for q in listed:
            m = _PARTITION.match(q["name"])
            if m and m["dest"] == destination:
                found.add(int(m["p"]))
        return found
    from hub.routing.partitions import SLOTS
    return {p for p in range(1, SLOTS + 1) if exists(conn, names.partition_queue(destination, 0, p))}
