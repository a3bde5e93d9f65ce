"""A hub started before its broker waits for it, saying so (the password masked), and
delivers once it answers: a host's boot order, or a broker restarting, does not need an
operator to start the hub again."""
from __future__ import annotations

import logging
import socket
import threading
from urllib.parse import urlsplit, urlunsplit

import requests

from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import wait_until
from tests.ports import free_port


class Forwarder:
    """A TCP relay from a loopback port to the real broker, switched on when the test says:
    until then nothing listens there, as for a broker not yet started."""

    def __init__(self, port: int, target: tuple[str, int]):
        self.port, self.target = port, target
        self.server: socket.socket | None = None

    def open(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        if self.server:
            self.server.close()


def test_a_hub_started_before_its_broker_waits_then_delivers(settings, sims, caplog):
    real = urlsplit(settings["broker_url"])
    port = free_port()
    relay = Forwarder(port, (real.hostname, real.port or 5672))
    settings["broker_url"] = urlunsplit(real._replace(netloc=f"{real.username}:{real.password}@127.0.0.1:{port}"))
    for name, conf in settings["adapters"].items():
        conf["enabled"] = name == "commerce"
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 5}, timeout=60).raise_for_status()
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store)
    caplog.set_level(logging.WARNING, logger="tongban.run")
    starting = threading.Thread(target=hub.start, daemon=True)
    starting.start()
    try:
        waits = wait_until(lambda: [r.getMessage() for r in caplog.records if "does not answer" in r.getMessage()],
                           timeout=30, what="the hub saying the broker does not answer")
        assert f"127.0.0.1:{port}" in waits[0] and ":***@" in waits[0]
        assert f":{real.password}@" not in " ".join(waits)
        assert starting.is_alive()          # waiting, not dead
        relay.open()
        starting.join(timeout=60)
        assert not starting.is_alive()
        wait_until(lambda: store.counts()["deliveries"].get("platform", 0) == 15, timeout=90,
                   what="the five cases delivered once the broker answered")
    finally:
        hub.shutdown()
        relay.close()
        store.close()
