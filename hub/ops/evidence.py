"""Whether each source's message log is being written, for `tongban status` and the console.

Only the hub's processes know: a source that cannot write its log rows stops forwarding and
sets tongban_message_log_writable to 0, and the store, the usual place status reads, may be
the very thing that fails. So this asks the hub's own /readyz (metrics_host:metrics_port, the
parent of `--workers N` speaking for every worker), which lists each source it runs. When
no hub answers there, status says the state is unknown and where it asked, never "written"."""
from __future__ import annotations

import requests


def readyz_url(settings: dict) -> str | None:
    port = int(settings.get("metrics_port") or 0)
    if port <= 0:
        return None
    host = settings.get("metrics_host") or "127.0.0.1"
    host = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    return f"http://{host}:{port}/readyz"


def message_log_health(settings: dict, timeout: float = 3.0) -> dict:
    """{"known": bool, "url": str | None, "sources": {department:track: writable}, "why": str}."""
    url = readyz_url(settings)
    if url is None:
        return {"known": False, "url": None, "sources": {}, "why": "metrics_port is 0: the hub serves no /readyz"}
    try:
        resp = requests.get(url, timeout=timeout)
        doc = resp.json()
    except (requests.RequestException, ValueError) as exc:
        return {"known": False, "url": url, "sources": {}, "why": f"no hub answered ({type(exc).__name__})"}
    sources = doc.get("message_log")
    if not isinstance(sources, dict):
        return {"known": False, "url": url, "sources": {}, "why": "its /readyz does not report the message log"}
    return {"known": True, "url": url, "sources": {str(k): bool(v) for k, v in sources.items()}, "why": ""}


def render(health: dict) -> list[str]:
    if not health["known"]:
        where = f" at {health['url']}" if health.get("url") else ""
        return [f"message log (evidence): unknown, {health['why']}{where}"]
    if not health["sources"]:
        return [f"message log (evidence): the hub at {health['url']} runs no source"]
    lines = [f"message log (evidence), from {health['url']}:"]
    for source, ok in health["sources"].items():
        lines.append(f"  {source:<24}" + ("written" if ok else
                                           "NOT WRITABLE: forwarding from this source is stopped until it is"))
    return lines
