"""The HTTP session every destination client sends through.

One session per destination per process, shared by the delivery loops of its partitions
(threads): its pool must keep a keep-alive connection for each of them, or urllib3
discards the extra ones ("connection pool is full") and every call past the tenth opens a
new TCP connection. trust_env off: a proxy set in the environment must not catch the
hub's calls to the city's own systems.

HTTPS: the destination's certificate is verified, always, against the system's CAs or
the destination's `ca_bundle` (a PEM file: the CA that signed the platform's or the
province's certificate); only `verify: false`, written out in the settings, turns it off,
and that is logged as a warning at every start."""
from __future__ import annotations

import logging
import ssl
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from hub.routing.partitions import MAX_PARTITIONS

log = logging.getLogger("tongban.delivery")


def tls_verify(name: str, ca_bundle: str | None = None, verify: bool = True) -> bool | str:
    """What requests' Session.verify gets for destination `name`."""
    if verify not in (True, False):
        raise ValueError(f"destinations.{name}.verify must be true or false, got {verify!r}")
    if verify is False:
        log.warning("%s: TLS certificate verification is OFF (destinations.%s.verify: false): "
                    "anyone on the path can pose as it", name, name)
        return False
    if ca_bundle:
        if not Path(ca_bundle).is_file():
            raise ValueError(f"destinations.{name}.ca_bundle: no such file {ca_bundle}")
        return str(ca_bundle)
    return True


def tls_failure(exc: BaseException, name: str) -> str | None:
    """A sentence for a failed TLS handshake with destination `name`, else None."""
    cause, seen = exc, 0
    while cause is not None and seen < 8:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (f"{name} TLS certificate not verified: {cause.verify_message} (set destinations.{name}."
                    "ca_bundle to the CA that signed it)")
        if isinstance(cause, ssl.SSLError):
            return f"{name} TLS handshake failed: {cause.reason or cause}"
        nxt = cause.__cause__ or cause.__context__
        if nxt is None and cause.args and isinstance(cause.args[0], BaseException):
            nxt = cause.args[0]   # urllib3 wraps the ssl error in its MaxRetryError's reason
        cause, seen = nxt, seen + 1
    if isinstance(exc, requests.exceptions.SSLError):
        return f"{name} TLS failed: {exc.__class__.__name__}"
    return None


def keepalive_session(pool: int = MAX_PARTITIONS, verify: bool | str = True) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = verify
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
