"""Signed delivery through the whole hub (real RabbitMQ, the real province simulator trusting the
hub's key): every message reaches the node signed and verified; one the node refuses (changed
on the way, not signed, signed by a key it does not know) is dead-lettered at once with the
node's reason, its case held, and the others flow on."""
from __future__ import annotations

import requests

from hub.mapping import MappingSet
from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import wait_until
from tests.security.province_wire import TamperingProxy, signatures_state


def _load(sims, cases: int) -> list[str]:
    return requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": cases}, timeout=60).json()["applyNos"]


def _run_until_refused(settings, refused_cases: int):
    """Run the hub until the province has all it will take: the platform has everything, the
    refused cases' first province messages are dead letters, the rest of them held."""
    store = Store.open(settings["db_url"])
    mappings = MappingSet.load(settings["mappings_dir"])
    hub = Hub(settings, store=store).start()

    def settled():
        dead = store.list_dead_letters(destination="province")
        r = verify(settings, store, mappings)
        p = r["destinations"]["province"]
        done = (len(dead) == refused_cases and r["destinations"]["platform"]["missing"] == 0
                and p["missing"] == refused_cases and p["delivered"] + p["held"] + p["missing"] == p["expected"])
        return done and (dead, p)
    try:
        dead, province = wait_until(settled, timeout=120, interval=0.5, what="province deliveries settled")
    finally:
        hub.shutdown()
        store.close()
    return dead, province


def test_signed_messages_are_verified_and_one_changed_in_transit_is_dead_lettered(settings, sims):
    cases = _load(sims, 3)
    target = cases[0]

    def tamper(body: bytes) -> bytes:   # the man in the middle edits this case's payloads only
        if f">{target}</ns0:caseNo>".encode() not in body:
            return body
        return body.replace(b"<ns0:payload>{", b"<ns0:payload>{ ", 1)
    with TamperingProxy(sims.urls["province"], tamper) as proxy:
        settings["destinations"]["province"]["wsdl"] = f"{proxy.url}/ws/report?wsdl"
        dead, province = _run_until_refused(settings, 1)
    assert province["delivered"] >= 4            # the two other cases
    assert proxy.tampered == 1                   # refused once, not retried: its case is held behind it
    d = dead[0]
    assert d["case_no"] == target and d["stage"] == "deliver" and d["attempts"] == 1
    assert "signature: does not verify" in d["reason"], d["reason"]
    state = signatures_state(sims.urls["province"])
    assert state["required"] and state["refused"] == {"signature": 1, "replay": 0}
    assert state["nonces_kept"] == province["delivered"]    # every accepted message was signed and checked
    items = requests.get(sims.urls["province"] + "/_admin/received", timeout=10).json()["items"]
    assert target not in {i["case_no"] for i in items}


def test_unsigned_and_unknown_key_messages_are_dead_lettered_with_the_reason(settings, sims, tmp_path):
    cases = _load(sims, 2)
    settings["destinations"]["province"].pop("signing")
    dead, _ = _run_until_refused(settings, 2)
    assert {d["case_no"] for d in dead} == set(cases)
    assert all("signature: missing" in d["reason"] and d["attempts"] == 1 for d in dead)

    # The same hub with a key of its own the node was never given: refused by key id.
    settings["destinations"]["province"]["signing"] = {"algorithm": "sm2", "key_file": str(tmp_path / "new.key")}
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 1}, timeout=60)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        rows = wait_until(lambda: [d for d in store.list_dead_letters(destination="province")
                                   if "unknown key id" in d["reason"]], timeout=120, what="an unknown-key dead letter")
    finally:
        hub.shutdown()
        store.close()
    assert all(d["attempts"] == 1 for d in rows)
    assert signatures_state(sims.urls["province"])["nonces_kept"] == 0
