"""HTTPS to the destinations: the platform and province simulators serve TLS with a
certificate of a test CA; the hub's clients deliver with that CA as `ca_bundle`, and
without it (the system's CAs, which never signed it) fail with an error that says so."""
from __future__ import annotations

import ssl

import pytest
import requests

from hub.delivery import ACCEPTED, DeliveryError, MessageMeta, create
from hub.delivery.sessions import tls_verify
from sims.platform import PlatformSim
from sims.province import ProvinceSim
from tests.security.certs import make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def _serving(sim, pki):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    sim.tls = ctx
    return sim.start()


def _meta(i: int) -> MessageMeta:
    return MessageMeta(message_id=f"00000000-0000-5000-8000-{i:012d}", kind="case_event", case_no=f"C{i}",
                       sequence=1, department="commerce")


def _body(i: int) -> bytes:
    return (f'{{"message_id": "{_meta(i).message_id}", "kind": "case_event", "case_no": "C{i}", '
            f'"sequence": 1, "payload": {{"case_no": "C{i}", "sequence": 1}}}}').encode()


@pytest.mark.parametrize("kind", ["platform", "province"])
def test_delivery_over_https_needs_the_ca(kind, pki):
    sim = _serving(PlatformSim() if kind == "platform" else ProvinceSim(), pki)
    try:
        assert sim.url.startswith("https://")
        conf = ({"type": "platform_rest", "url": sim.url, "timeout": 5} if kind == "platform" else
                {"type": "province_soap", "wsdl": f"{sim.url}/ws/report?wsdl", "timeout": 5})
        with_ca = create(kind, {**conf, "ca_bundle": str(pki.ca)})
        try:
            assert with_ca.send(_body(1), _meta(1)) == ACCEPTED
        finally:
            with_ca.close()
        without = create(kind, conf)             # verification on, the system's CAs only
        try:
            with pytest.raises(DeliveryError) as info:
                without.send(_body(2), _meta(2))
        finally:
            without.close()
        text = str(info.value)
        assert "certificate not verified" in text and f"destinations.{kind}.ca_bundle" in text, text
        assert info.value.transient       # kept and retried, not dead-lettered, until it is set right
        received = requests.get(sim.url + "/_admin/received", verify=str(pki.ca), timeout=5).json()["items"]
        assert len(received) == 1        # the one sent with the CA, nothing from the refused client
    finally:
        sim.stop()


def test_verify_is_never_off_silently(tmp_path, caplog):
    assert tls_verify("platform") is True
    with pytest.raises(ValueError, match="destinations.platform.ca_bundle: no such file"):
        tls_verify("platform", str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="must be true or false"):
        tls_verify("platform", verify="no")
    with caplog.at_level("WARNING", logger="tongban.delivery"):
        assert tls_verify("province", verify=False) is False
    assert "verification is OFF" in caplog.text
