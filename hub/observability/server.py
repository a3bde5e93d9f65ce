"""/metrics, /healthz and /readyz as one WSGI app, and a thread serving it for `tongban run`.

make_app(settings) is what the console mounts (any WSGI server, or an ASGI framework's WSGI
adapter); serve() is the standard library's server in a daemon thread: three small routes
need no framework, and a scrape must not wait behind the hub's own work (its own thread)."""
from __future__ import annotations

import json
import logging
import socketserver
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from hub.observability.exposition import render_metrics
from hub.observability.health import Readiness, healthz

log = logging.getLogger("tongban.metrics")


def make_app(settings: dict, store=None):
    ready = Readiness(settings)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body, ctype = render_metrics(settings, store)
            status = "200 OK"
        elif path in ("/healthz", "/readyz"):
            ok, doc = (True, healthz()) if path == "/healthz" else ready()
            body, ctype = json.dumps(doc).encode(), "application/json"
            status = "200 OK" if ok else "503 Service Unavailable"
        else:
            body, ctype, status = b"not found: /metrics, /healthz, /readyz\n", "text/plain", "404 Not Found"
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]
    return app


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):   # one line per scrape every 15 s is noise
        pass


def serve(settings: dict, port: int | None = None, host: str | None = None, store=None):
    """Start serving in a daemon thread; returns the server (.server_port, .shutdown()) or None
    when the port is 0 (off) or taken (the hub runs on without metrics rather than not at all:
    several `tongban run` on one machine each need a port of their own)."""
    port = int(settings.get("metrics_port") or 0) if port is None else int(port)
    host = host or settings.get("metrics_host") or "127.0.0.1"
    if port <= 0:
        return None
    try:
        server = make_server(host, port, make_app(settings, store), server_class=_Server, handler_class=_QuietHandler)
    except OSError as exc:
        log.warning("metrics and health not served: %s:%s %s", host, port, exc.strerror or exc)
        return None
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    log.info("metrics on http://%s:%d/metrics (health: /healthz, /readyz)", host, server.server_port)
    return server
