"""What the signature tests need around the real province simulator: a man in the middle that
can change what the hub sends, the bytes the hub put on the wire, and the trust list."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from hub.delivery.province_signing import MessageSigner


def trust(sim_url: str, *signers: MessageSigner, replay_window: float = 300, required: bool | None = None) -> dict:
    """Replace the simulator's trust list with these keys (through its admin API)."""
    doc = {"public_keys": [s.public_entry() for s in signers], "replay_window": replay_window}
    if required is not None:
        doc["required"] = required
    r = requests.post(f"{sim_url}/_admin/signatures", json=doc, timeout=10)
    r.raise_for_status()
    return r.json()


def signatures_state(sim_url: str) -> dict:
    return requests.get(f"{sim_url}/_admin/signatures", timeout=10).json()


def capture(dest) -> list[bytes]:
    """Every request body the destination client sends from now on, as sent."""
    sent: list[bytes] = []
    dest._session.hooks["response"].append(lambda r, *a, **k: sent.append(r.request.body) if r.request.body else None)
    return sent


def post_raw(sim_url: str, body: bytes) -> requests.Response:
    return requests.post(f"{sim_url}/ws/report", data=body, timeout=10,
                         headers={"Content-Type": "text/xml; charset=utf-8"})


class TamperingProxy:
    """An HTTP man in the middle in front of the simulator: ``tamper(body) -> body`` is applied
    to every POST on its way to the node. The WSDL it relays names the proxy's own address
    (the simulator writes the Host it was reached at), so a client follows it through."""

    def __init__(self, upstream: str, tamper=lambda body: body, basic_auth: str | None = None):
        # basic_auth: the "Basic ..." value a request must carry, else 401 (a node behind a gateway)
        self.upstream, self.tamper, self.tampered = upstream.rstrip("/"), tamper, 0
        self.basic_auth, self.unauthorised = basic_auth, 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _relay(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.basic_auth and self.headers.get("Authorization") != proxy.basic_auth:
                    proxy.unauthorised += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="province"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if method == "POST":
                    changed = proxy.tamper(body)
                    proxy.tampered += changed != body
                    body = changed
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
                r = requests.request(method, proxy.upstream + self.path, data=body or None, headers=headers,
                                     timeout=30)
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers.get("Content-Type", "text/xml"))
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def do_GET(self):
                self._relay("GET")

            def do_POST(self):
                self._relay("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "TamperingProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
