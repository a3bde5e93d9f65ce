"""Shared machinery for the simulators: a threaded HTTP/1.1 server, routing, JSON
helpers and the fault injector.

A simulator subclasses `SimServer`, registers routes in `setup_routes()` and keeps
its state under `self.lock`. Routes under `/_admin/` are the test harness's back door:
faults never touch them, so a test can always turn a fault off again."""
from __future__ import annotations

import json
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 8 * 1024 * 1024


class HttpError(Exception):
    """Raised by a route to answer with an error; `body` is JSON-serialisable."""

    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **extra}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else None
        except (UnicodeDecodeError, ValueError) as exc:
            raise HttpError(400, f"invalid JSON body: {exc}") from None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj, status: int = 200) -> Response:
    # ensure_ascii=False: the legacy systems speak UTF-8 Chinese, not \\u escapes
    return Response(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"))


class Faults:
    """What goes wrong, and how often. One lock guards both the settings and the
    random stream, so a seeded run draws the same sequence whatever the threads do."""

    KEYS = ("latency_ms", "error_rate", "down", "malformed_rate")

    def __init__(self, seed: int | None = None):
        self._lock = threading.Lock()
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.latency_ms = 0
            self.error_rate = 0.0
            self.down = False
            self.malformed_rate = 0.0
            self._rng = random.Random(self._seed)

    def update(self, settings: dict) -> dict:
        if not isinstance(settings, dict):
            raise HttpError(400, "faults must be a JSON object")
        unknown = set(settings) - set(self.KEYS) - {"seed"}
        if unknown:
            raise HttpError(400, f"unknown fault keys: {sorted(unknown)}", allowed=list(self.KEYS))
        clean = {}
        for key in ("error_rate", "malformed_rate"):
            if key in settings:
                value = settings[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                    raise HttpError(400, f"{key} must be a number between 0 and 1", field=key)
                clean[key] = float(value)
        if "latency_ms" in settings:
            value = settings["latency_ms"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise HttpError(400, "latency_ms must be a non-negative number", field="latency_ms")
            clean["latency_ms"] = value
        if "down" in settings:
            if not isinstance(settings["down"], bool):
                raise HttpError(400, "down must be true or false", field="down")
            clean["down"] = settings["down"]
        with self._lock:
            for key, value in clean.items():
                setattr(self, key, value)
            if "seed" in settings:
                self._rng = random.Random(settings["seed"])
        return self.to_dict()

    def to_dict(self) -> dict:
        with self._lock:
            return {k: getattr(self, k) for k in self.KEYS}

    def draw(self) -> tuple[bool, float, bool, bool]:
        """One request's fate: (down, latency seconds, error, malformed)."""
        with self._lock:
            error = self.error_rate > 0 and self._rng.random() < self.error_rate
            malformed = self.malformed_rate > 0 and self._rng.random() < self.malformed_rate
            return self.down, self.latency_ms / 1000.0, error, malformed


Handler = Callable[[Request], Response]


class SimServer:
    """One simulated external system on its own port."""

    name = "sim"
    tls = None   # an ssl.SSLContext (server side) set before start(): the simulator answers HTTPS

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None):
        self.host, self._want_port, self.seed = host, port, seed
        self.lock = threading.RLock()
        self.faults = Faults(seed)
        self._routes: dict[tuple[str, str], tuple[Handler, bool]] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self.route("POST", "/_admin/faults", self._admin_faults)
        self.route("GET", "/_admin/health", self._admin_health)
        self.route("POST", "/_admin/reset", self._admin_reset)
        self.route("GET", "/_admin/concurrency", self._admin_concurrency)
        self._flight_lock = threading.Lock()
        self._in_flight = self._max_in_flight = self._connections_seen = 0
        self.setup_routes()
        self.reset_state()

    # --- what subclasses fill in -------------------------------------------------
    def setup_routes(self) -> None:
        pass

    def reset_state(self) -> None:
        """Forget everything received or generated (called at start and by /_admin/reset)."""

    def error_response(self) -> Response:
        return json_response({"error": "service unavailable (injected fault)"}, 503)

    def malform(self, response: Response) -> Response:
        # A body cut mid-way is what a proxy timeout or a crashed worker really produces.
        body = response.body[: max(1, len(response.body) // 2)] or b"{"
        return Response(response.status, body, response.content_type, response.headers)

    # --- routing -------------------------------------------------------------------
    def route(self, method: str, path: str, handler: Handler, faulty: bool | None = None) -> None:
        """`faulty` defaults to True for everything outside /_admin/."""
        if faulty is None:
            faulty = not path.startswith("/_admin/")
        self._routes[(method, path)] = (handler, faulty)

    # --- lifecycle -----------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError(f"{self.name} simulator is not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls is not None else 'http'}://{host}:{self.port}"

    def start(self) -> "SimServer":
        handler = type(f"{type(self).__name__}Handler", (_RequestHandler,), {"sim": self})
        httpd = ThreadingHTTPServer((self.host, self._want_port), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        if self.tls is not None:
            httpd.socket = self.tls.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"sim-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        # Keep-alive connections outlive shutdown(); cut them so a stopped sim is really gone.
        with self._conns_lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- admin routes --------------------------------------------------------------
    def _admin_faults(self, req: Request) -> Response:
        return json_response(self.faults.update(req.json() or {}))

    def _admin_health(self, req: Request) -> Response:
        return json_response({"status": "ok", "name": self.name, "faults": self.faults.to_dict()})

    def _admin_concurrency(self, req: Request) -> Response:
        """How many requests (outside /_admin/) were being answered at once, at most, and how
        many TCP connections were opened: a client with keep-alive sessions opens few."""
        with self._flight_lock:
            return json_response({"in_flight": self._in_flight, "max_in_flight": self._max_in_flight,
                                  "connections": self._connections_seen})

    def _admin_reset(self, req: Request) -> Response:
        with self._flight_lock:
            self._max_in_flight = self._connections_seen = 0
        self.faults.reset()
        with self.lock:
            self.reset_state()
        return json_response({"status": "reset"})

    # --- dispatch (called from handler threads) -------------------------------------
    def dispatch(self, h: "_RequestHandler") -> Response | None:
        """Answer one request; None means: drop the connection without a word."""
        parts = urlsplit(h.path)
        entry = self._routes.get((h.command, parts.path))
        faulty = entry[1] if entry else not parts.path.startswith("/_admin/")
        try:
            body = h.read_body()
        except HttpError as exc:
            return json_response(exc.body, exc.status)
        if not faulty:
            return self._answer(h, parts, entry, body, faulty)
        with self._flight_lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            return self._answer(h, parts, entry, body, faulty)
        finally:
            with self._flight_lock:
                self._in_flight -= 1

    def _answer(self, h, parts, entry, body, faulty: bool) -> Response | None:
        if faulty:
            down, latency, error, malformed = self.faults.draw()
            if down:
                return None
            if latency:
                time.sleep(latency)
            if error:
                return self.error_response()
        if entry is None:
            known = any(path == parts.path for _, path in self._routes)
            return json_response({"error": "method not allowed" if known else "not found"},
                                 405 if known else 404)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        req = Request(h.command, parts.path, query, {k.lower(): v for k, v in h.headers.items()}, body)
        try:
            response = entry[0](req)
        except HttpError as exc:
            response = json_response(exc.body, exc.status)
        except Exception as exc:  # a sim bug must show as a 500, not a hung client
            response = json_response({"error": f"internal error: {type(exc).__name__}: {exc}"}, 500)
        # Malformed comes after the work is done: the destination applied it, the reply got lost.
        return self.malform(response) if faulty and malformed else response


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TongbanSim/1"
    timeout = 120  # idle keep-alive threads eventually go away
    sim: SimServer

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, Nagle plus the client's
        # delayed ACK costs ~40 ms per keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.sim._conns_lock:
            self.sim._conns.add(self.connection)
        with self.sim._flight_lock:
            self.sim._connections_seen += 1

    def finish(self):
        try:
            super().finish()
        finally:
            with self.sim._conns_lock:
                self.sim._conns.discard(self.connection)

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise HttpError(411, "chunked bodies are not supported; send Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise HttpError(400, "bad Content-Length") from None
        if length > MAX_BODY:
            self.close_connection = True
            raise HttpError(413, "body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self):
        response = self.sim.dispatch(self)
        if response is None:
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


def load_request(req: Request, max_load: int) -> tuple[dict, int, int]:
    """The body of every simulator's POST /_admin/load: {"cases": N, "bad": K, ...}.
    Returns (body, cases, bad); the rest of the body is the simulator's own options."""
    body = req.json() or {}
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object")
    counts = []
    for key, default in (("cases", None), ("bad", 0)):
        value = body.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= max_load:
            raise HttpError(400, f"{key} must be an integer between 0 and {max_load}", field=key)
        counts.append(value)
    return body, counts[0], counts[1]


def list_response(items: list) -> Response:
    """The shape of every /_admin/ listing."""
    return json_response({"count": len(items), "items": items})
