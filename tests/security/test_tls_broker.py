"""AMQP over TLS against a RabbitMQ node of its own with an ssl listener made with a test
CA on this machine (verify_peer, fail_if_no_peer_cert): publish and consume with confirms
over amqps, the refusals a wrong CA or a missing client certificate get, and the hub
delivering over it."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from hub import bus
from hub.bus.tls import BrokerTLSError
from tests.conftest import wait_until, wait_delivered
from tests.security.certs import make_pki
from tests.security.tls_node import tls_node


@pytest.fixture(scope="module")
def tls_broker():
    folder = Path(tempfile.mkdtemp(prefix="tongban-pki-"))
    folder.chmod(0o755)
    pki = make_pki(folder)
    try:
        with tls_node(pki) as (node, ssl_port, vhost):
            yield pki, ssl_port, vhost
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _url(port, vhost, **opts) -> str:
    query = "&".join(f"{k}={v}" for k, v in opts.items())
    return f"amqps://guest:guest@localhost:{port}/{vhost}" + (f"?{query}" if query else "")


def test_publish_and_consume_with_confirms_over_amqps(tls_broker):
    pki, port, vhost = tls_broker
    conn = bus.connect(_url(port, vhost, cafile=pki.ca, certfile=pki.client_cert, keyfile=pki.client_key))
    try:
        sock = conn.connection.transport.sock
        assert sock.version().startswith("TLS") and sock.getpeercert()["subject"]
        channel = conn.channel()
        channel.queue_declare("tls.test", durable=True, auto_delete=False)
        channel.close()
        pub = bus.ConfirmingPublisher(conn)
        for i in range(200):
            pub.publish(f'{{"n": {i}}}'.encode(), "", "tls.test", message_id=f"m{i}")
        pub.flush()                                   # every one confirmed by the broker
        pub.close()
        got = []
        consumer = bus.BatchConsumer(conn, "tls.test", lambda batch: (got.extend(d.message_id for d in batch),
                                                                      bus.ack_all(batch)), prefetch=100,
                                     batch_size=50)
        wait_until(lambda: consumer.poll(timeout=0.5) is not None and len(got) >= 200, timeout=30,
                   what="200 messages back over amqps")
        consumer.cancel()
        assert got == [f"m{i}" for i in range(200)]
    finally:
        conn.release()


def test_a_wrong_ca_fails_with_a_clear_error(tls_broker):
    pki, port, vhost = tls_broker
    with pytest.raises(BrokerTLSError) as info:
        bus.connect(_url(port, vhost, cafile=pki.other_ca, certfile=pki.client_cert, keyfile=pki.client_key))
    text = str(info.value)
    assert "TLS to the broker at" in text and "certificate verify failed" in text, text
    assert str(pki.other_ca) in text


def test_no_client_certificate_is_refused(tls_broker):
    pki, port, vhost = tls_broker
    with pytest.raises(BrokerTLSError) as info:     # the broker ends the handshake (fail_if_no_peer_cert)
        bus.connect(_url(port, vhost, cafile=pki.ca))
    text = str(info.value)
    # the alert (CERTIFICATE_REQUIRED) or, on a loaded machine, an EOF ending the handshake
    assert "may require a client certificate" in text and "client certificate=no" in text, text
    assert "guest" not in text                      # it names the options, never the credentials


def test_verify_option_is_checked():
    with pytest.raises(ValueError, match="verify must be one of peer, none"):
        bus.tls.split("amqps://h:5671/v?verify=maybe")
    with pytest.raises(ValueError, match="need the amqps:// scheme"):
        bus.tls.split("amqp://h:5672/v?cafile=/x.pem")
    plain, ssl = bus.tls.split("amqp://guest:guest@127.0.0.1:5672//")
    assert (plain, ssl) == ("amqp://guest:guest@127.0.0.1:5672//", False)


def test_the_hub_runs_over_amqps(tls_broker, sims, tmp_path):
    from hub.config import load_settings, with_endpoints
    from hub.runtime.runner import Hub
    from hub.store import Store
    pki, port, vhost = tls_broker
    s = with_endpoints(load_settings(), sims.endpoints)
    s["broker_url"] = f"amqps://guest:guest@localhost:{port}/{vhost}"
    s["broker"] = {"tls": {"cafile": str(pki.ca), "certfile": str(pki.client_cert), "keyfile": str(pki.client_key)}}
    s["db_url"] = f"sqlite:///{tmp_path / 'hub.db'}"
    s["adapters"]["commerce"]["poll_interval"] = 0.1
    s["metrics_port"] = 0
    requests.post(s["adapters"]["commerce"]["url"] + "/_admin/load", json={"cases": 10},
                  timeout=60).raise_for_status()
    store = Store.open(s["db_url"])
    hub = Hub(s, store=store).start()
    try:
        report = wait_delivered(s, store, hub.mappings, timeout=120, what="every expected message delivered over amqps")
    finally:
        hub.shutdown()
        store.close()
    assert report["destinations"]["platform"]["delivered"] == 30
    assert report["destinations"]["province"]["delivered"] == 20
