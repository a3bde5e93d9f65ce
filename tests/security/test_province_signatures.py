"""Signatures on the messages to the provincial node (issue 13, item 2), checked by the real
province SOAP simulator: the hub's client (hub/delivery/province_soap.py) signs with Ed25519 or
SM2, the node accepts what a trusted key signed and refuses, as a permanent error naming the
signature, a changed message, a missing signature and a key it does not know. Rotation: two
keys trusted at once; once the old one is removed its messages are refused."""
from __future__ import annotations

import json
import re
import uuid

import pytest
import requests

from hub.cli.main import main
from hub.delivery.base import ACCEPTED, DUPLICATE, DeliveryError, MessageMeta
from hub.delivery.province_soap import ProvinceSoap
from sims.province import ProvinceSim
from tests.security.province_wire import TamperingProxy, capture, post_raw, signatures_state, trust

PAYLOAD = '{"case_no": "SCJG202600310001", "type": "decided", "opinion": "准予许可 <&>"}'


@pytest.fixture
def province():
    with ProvinceSim(port=0, seed=3) as sim:
        yield sim


def client(sim_url: str, key_file, algorithm: str = "ed25519", **signing) -> ProvinceSoap:
    return ProvinceSoap("province", f"{sim_url}/ws/report?wsdl", timeout=10,
                        signing={"algorithm": algorithm, "key_file": str(key_file), **signing})


def meta(sequence: int = 1) -> MessageMeta:
    return MessageMeta(str(uuid.uuid4()), "case_event", "SCJG202600310001", sequence, "commerce")


def received(sim) -> list[dict]:
    return requests.get(f"{sim.url}/_admin/received", timeout=10).json()["items"]


def refused(call) -> DeliveryError:
    with pytest.raises(DeliveryError) as info:
        call()
    assert info.value.transient is False          # the sender's fault: a dead letter, never retried
    return info.value


def fault_text(response) -> str:
    assert response.status_code == 500
    return re.search(rb"<faultstring>(.*?)</faultstring>", response.content, re.S).group(1).decode()


@pytest.mark.parametrize("algorithm", ["ed25519", "sm2"])
def test_signed_message_accepted_and_a_changed_one_refused(province, tmp_path, algorithm):
    dest = client(province.url, tmp_path / "k.key", algorithm)
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600       # made on first use
    trust(province.url, dest.signer)
    sent = capture(dest)
    m = meta()
    assert dest.send(PAYLOAD.encode(), m) == ACCEPTED
    assert [i["message_id"] for i in received(province)] == [m.message_id]
    assert b"<ns0:Signature" in sent[0] and f"<ns0:keyId>{dest.signer.key_id}</ns0:keyId>".encode() in sent[0]

    # Each signed field changed on the wire: the payload, the case, the time (to dodge the window).
    for old, new in (("准予".encode(), "不予".encode()),
                     (b">SCJG202600310001</ns0:caseNo>", b">SCJG202600310002</ns0:caseNo>"),
                     (b"<ns0:signedAt>2", b"<ns0:signedAt>3")):
        assert old in sent[0]
        text = fault_text(post_raw(province.url, sent[0].replace(old, new, 1)))
        assert text.startswith("signature: does not verify"), text
    assert len(received(province)) == 1
    assert signatures_state(province.url)["refused"]["signature"] == 3


def test_a_message_changed_in_transit_is_a_permanent_refusal_naming_the_signature(province, tmp_path):
    def tamper(body: bytes) -> bytes:
        return body.replace("准予许可".encode(), "不予许可".encode())
    with TamperingProxy(province.url, tamper) as proxy:
        dest = client(proxy.url, tmp_path / "k.key")
        trust(province.url, dest.signer)
        err = refused(lambda: dest.send(PAYLOAD.encode(), meta()))
    assert proxy.tampered == 1                     # refused at once: not sent three times
    assert "province fault soap:Client: signature: does not verify" in err.reason
    assert received(province) == []


def test_a_missing_or_incomplete_signature_is_refused(province, tmp_path):
    signed = client(province.url, tmp_path / "k.key")
    trust(province.url, signed.signer)
    unsigned = ProvinceSoap("province", f"{province.url}/ws/report?wsdl")
    assert unsigned.signer is None
    err = refused(lambda: unsigned.send(PAYLOAD.encode(), meta()))
    assert "signature: missing" in err.reason

    sent = capture(signed)
    signed.send(PAYLOAD.encode(), meta())
    stripped = re.sub(rb"<ns0:value>[^<]*</ns0:value>", b"<ns0:value></ns0:value>", sent[0])
    assert "signature: Signature header lacks value" in fault_text(post_raw(province.url, stripped))
    assert len(received(province)) == 1


def test_an_unknown_key_id_or_a_key_claiming_another_id_is_refused(province, tmp_path):
    known = client(province.url, tmp_path / "known.key")
    stranger = client(province.url, tmp_path / "stranger.key", "sm2")
    trust(province.url, known.signer)
    err = refused(lambda: stranger.send(PAYLOAD.encode(), meta()))
    assert f"signature: unknown key id '{stranger.signer.key_id}'" in err.reason

    # A stranger's key sending the trusted key's id: the id does not make the signature good.
    impostor = client(province.url, tmp_path / "impostor.key", key_id=known.signer.key_id)
    err = refused(lambda: impostor.send(PAYLOAD.encode(), meta()))
    assert f"signature: does not verify with key {known.signer.key_id}" in err.reason
    assert received(province) == []
    assert known.send(PAYLOAD.encode(), meta()) == ACCEPTED


def test_rotation_two_keys_valid_then_the_old_one_removed(province, tmp_path, monkeypatch):
    old = client(province.url, tmp_path / "old.key")
    trust(province.url, old.signer)
    assert old.send(PAYLOAD.encode(), meta(1)) == ACCEPTED

    # 1) a new key, by the command an operator runs; its public half is what the node is handed
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(json.dumps({"destinations": {"province": {"type": "province_soap", "wsdl": province.url,
                                                             "signing": {"key_file": str(tmp_path / "old.key")}}}}))
    assert main(["--config", str(cfg), "sign", "keygen", "province", "--path", str(tmp_path / "new.key")]) == 0
    assert (tmp_path / "new.key").stat().st_mode & 0o777 == 0o600
    handed = json.loads((tmp_path / "new.key.pub.json").read_text())
    # 2) the node trusts both (read from its trust files, as `tongban sims up` gives them)
    (tmp_path / "old.pub.json").write_text(json.dumps({"public_keys": [old.signer.public_entry()]}))
    monkeypatch.setenv("TONGBAN_SIM_PROVINCE_TRUST", f"{tmp_path / 'old.pub.json'}:{tmp_path / 'new.key.pub.json'}")
    with ProvinceSim(port=0) as node:
        old.wsdl = f"{node.url}/ws/report?wsdl"
        old._prepared = None
        new = client(node.url, tmp_path / "new.key")
        assert new.signer.key_id == handed["public_keys"][0]["key_id"]
        assert signatures_state(node.url)["key_ids"] == sorted([old.signer.key_id, new.signer.key_id])
        in_flight = meta(2)
        assert old.send(PAYLOAD.encode(), in_flight) == ACCEPTED     # still in flight under the old key
        assert new.send(PAYLOAD.encode(), meta(3)) == ACCEPTED
        assert new.send(PAYLOAD.encode(), in_flight) == DUPLICATE    # a re-send under the new key: same message
        # 3) the old key removed from the trust list
        requests.post(f"{node.url}/_admin/signatures", json=handed, timeout=10).raise_for_status()
        err = refused(lambda: old.send(PAYLOAD.encode(), meta(4)))
        assert f"signature: unknown key id '{old.signer.key_id}'" in err.reason
        assert new.send(PAYLOAD.encode(), meta(5)) == ACCEPTED
        assert len(received(node)) == 3


def test_bad_signing_settings_are_named_at_start(tmp_path):
    (tmp_path / "broken.key").write_text("not a key")
    with pytest.raises(ValueError, match=r"destinations.province.signing.key_file .*broken.key: not a readable"):
        client("http://127.0.0.1:9", tmp_path / "broken.key")
    client("http://127.0.0.1:9", tmp_path / "ed.key")          # made as Ed25519 on first use ...
    with pytest.raises(ValueError, match=r"ed.key holds an ed25519 key, the settings say sm2"):
        client("http://127.0.0.1:9", tmp_path / "ed.key", "sm2")   # ... and never taken for an SM2 one
    with pytest.raises(ValueError, match=r"signing.algorithm 'rsa': one of ed25519, sm2"):
        client("http://127.0.0.1:9", tmp_path / "x.key", "rsa")
