"""Replays to the provincial node (issue 13, items 2 and 6): a signed message captured on the
wire and sent again is refused by the real province simulator, at once for its nonce and,
after the replay window, for its time; a genuine re-send by the hub (a retry) is signed
afresh and answered as the duplicate it is."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from hub.delivery.base import ACCEPTED, DUPLICATE, MessageMeta
from hub.delivery.province_soap import ProvinceSoap
from sims.province import ProvinceSim
from tests.conftest import wait_until
from tests.security.province_wire import capture, post_raw, signatures_state, trust
from tests.security.test_province_signatures import PAYLOAD, fault_text

WINDOW = 2.0


@pytest.fixture
def node(tmp_path):
    with ProvinceSim(port=0) as sim:
        dest = ProvinceSoap("province", f"{sim.url}/ws/report?wsdl",
                            signing={"algorithm": "ed25519", "key_file": str(tmp_path / "k.key")})
        trust(sim.url, dest.signer, replay_window=WINDOW)
        yield sim, dest
        dest.close()


def _received(sim) -> int:
    return requests.get(f"{sim.url}/_admin/stats", timeout=10).json()["accepted"]


def test_a_captured_message_replayed_is_refused_for_its_nonce_then_after_the_window_for_its_time(node):
    sim, dest = node
    sent = capture(dest)
    m = MessageMeta(str(uuid.uuid4()), "case_event", "SCJG202600310001", 4, "commerce")
    assert dest.send(PAYLOAD.encode(), m) == ACCEPTED
    captured = sent[0]

    text = fault_text(post_raw(sim.url, captured))
    assert text.startswith("replay: nonce") and "already used" in text, text
    assert dest.send(PAYLOAD.encode(), m) == DUPLICATE     # the hub's own re-send: a new nonce and time

    # After the window the nonce is forgotten: the signed time alone refuses the capture.
    text = wait_until(lambda: (t := fault_text(post_raw(sim.url, captured))).startswith("replay: signed at")
                      and t, timeout=30, interval=0.3, what="the replay window to pass")
    assert f"outside the replay window of {WINDOW:g} s" in text
    state = signatures_state(sim.url)
    assert state["refused"]["replay"] >= 2 and state["refused"]["signature"] == 0
    assert _received(sim) == 1


def test_a_message_held_back_past_the_window_is_refused_and_spends_no_nonce(node):
    sim, dest = node
    p = dest._prepare()
    values = {"messageId": str(uuid.uuid4()), "kind": "case_event", "caseNo": "C1", "sequence": 1,
              "department": "commerce", "payload": PAYLOAD}
    # Signed by the hub's own key, a minute ago: what an attacker who held a capture back would send.
    header = dest.signer.header(values, now=datetime.now(timezone.utc) - timedelta(minutes=1))
    text = fault_text(post_raw(sim.url, p.envelope(values, header)))
    assert text.startswith("replay: signed at") and "outside the replay window" in text
    ahead = dest.signer.header(values, now=datetime.now(timezone.utc) + timedelta(minutes=1))
    assert "outside the replay window" in fault_text(post_raw(sim.url, p.envelope(values, ahead)))
    assert signatures_state(sim.url)["nonces_kept"] == 0
    assert _received(sim) == 0
    fresh = dest.signer.header(values)
    assert post_raw(sim.url, p.envelope(values, fresh)).status_code == 200
    assert _received(sim) == 1
