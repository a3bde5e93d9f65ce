"""The HTTP session every destination client sends through.

One session per destination per process, shared by the delivery loops of its partitions
(threads): its pool must keep a keep-alive connection for each of them, or urllib3
discards the extra ones ("connection pool is full") and every call past the tenth opens a
new TCP connection. trust_env off: a proxy set in the environment must not catch the
hub's calls to the city's own systems."""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

from hub.routing.partitions import MAX_PARTITIONS


def keepalive_session(pool: int = MAX_PARTITIONS) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
