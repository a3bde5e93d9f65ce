"""What an adapter's simulator offers the conformance kit (hub/kit/conformance) and `tongban sims
up` (sims/installed.py): a stand-in for its legacy system that can be started, filled, spoilt and
read back, the same way for a REST feed, a SOAP service, a 前置库 or a file drop. An adapter names
its own with ``Adapter.simulator()``.

Nothing reaches into a simulator otherwise, so an integrator's package ships one class of this
shape beside its adapter and passes ``tongban adapters check NAME --conformance`` unchanged.

The admin routes (``admin()``) are what `tongban verify`, `tongban load` and a test read over
HTTP: a rest or soap simulator answers them on its own server beside the system's API, a db or
file simulator (whose system is a database or folders) on a small server of their own
(``serve_admin``)."""
from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Simulator:
    """Subclass it; every member but touch(), applications(), records() and faults() must be written."""

    # Set before start() by whoever runs it (`tongban sims up`, a test); the kit leaves the defaults.
    host: str = "127.0.0.1"
    port: int = 0              # where its HTTP listens (0: a free port): the system's own (rest, soap),
    #                            or the admin routes' (db, file)
    home: str | None = None    # the folder for its database or files (None: a fresh temporary one)
    track: str = "old"         # "new": the department's second instance (dual-track), with its own drift
    admin_url: str | None = None   # after start(): where admin() answers over HTTP

    def start(self) -> dict:
        """Start the stand-in (on ``port``, in ``home``) and return the adapter settings that reach
        it, e.g. {"url": "http://127.0.0.1:40123"}; set ``admin_url``."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop it; afterwards the adapter's check() must answer ok=False (nothing there)."""
        raise NotImplementedError

    def load(self, cases: int) -> int:
        """Make ``cases`` new good cases; return how many records the source will read for them."""
        raise NotImplementedError

    def load_bad(self) -> Counter:
        """Add records the hub must dead-letter; return how many are due per stage (decode, map,
        validate): e.g. Counter(decode=1, map=1, validate=1). Good records written after them must
        still flow."""
        raise NotImplementedError

    def touch(self) -> str | None:
        """Change the content of one record already read, as the system does when it corrects one,
        and return that record's key; None when the system never changes a record it has served."""
        return None

    def applications(self) -> list[dict]:
        """What the sink delivered, one entry per effect in the system (an application kept twice
        is two entries). Only for an adapter with a sink."""
        return []

    def records(self) -> list[dict]:
        """Every record the system holds, as the mappings read them (`tongban verify` maps these
        to know what the destinations must have received)."""
        return []

    def faults(self, settings: dict) -> dict:
        """Set faults, e.g. {"down": true} (the system unreachable) or {"fail": 3} (its next three
        calls answer an error); returns the faults now set. Unknown keys raise ValueError."""
        raise ValueError("this simulator injects no faults")

    def admin(self, method: str, path: str, body: bytes = b"") -> tuple[int, object] | None:
        """Answer an admin route, or None when ``path`` is not one:
        GET /_admin/health, /_admin/events, /_admin/applications;
        POST /_admin/load {"cases": N, "bad": K}, /_admin/faults {...}."""
        if not path.startswith("/_admin/"):
            return None
        listing = {"/_admin/events": self.records, "/_admin/applications": self.applications}
        try:
            if method == "GET" and path == "/_admin/health":
                return 200, {"status": "ok", "track": self.track}
            if method == "GET" and path in listing:
                items = listing[path]()
                return 200, {"count": len(items), "items": items}
            request = json.loads(body or b"{}") if method == "POST" else None
            if method == "POST" and path == "/_admin/load":
                cases, bad = int(request.get("cases", 0)), int(request.get("bad", 0))
                made = self.load(cases) if cases else 0
                due = sum((self.load_bad() for _ in range(bad)), Counter())
                return 200, {"created": cases, "records": made, "bad": dict(due)}
            if method == "POST" and path == "/_admin/faults":
                return 200, self.faults(request)
        except (ValueError, TypeError, AttributeError) as exc:
            return 400, {"error": f"{path}: {exc}"}
        return 404, {"error": f"no admin route {method} {path}"}


def serve_admin(simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A small HTTP server answering ``simulator.admin()`` only, in a thread of its own: for a
    simulator whose system is not reached over HTTP. Sets ``admin_url``; stop with shutdown()."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):   # quiet in tests
            pass

        def _handle(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got = simulator.admin(self.command, self.path.split("?", 1)[0], body)
            status, answer = got or (404, {"error": "not found"})
            data = json.dumps(answer, ensure_ascii=False, default=str).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    simulator.admin_url = f"http://{host}:{server.server_address[1]}"
    return server
