"""Personal data at rest, end to end (issue 13, item 5): a hub with payload encryption on stores
its dead letter and the messages parked behind it sealed (the raw columns hold no ID number),
and an operator's replay, from another store opened on the same settings, opens them and
puts the case through in order. A replay on a store whose ring lacks the key skips the letter
naming the key, and changes nothing."""
from __future__ import annotations

import base64
import json
import os

import pytest
import requests
import sqlalchemy as sa

from hub.ops.replay import replay
from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from hub.store.protection import protect
from tests.conftest import wait_until, empty_queues
from tests.reliability import flaky

KEY_ENV = "TONGBAN_TEST_PAYLOAD_KEY"


@pytest.fixture
def sealed_settings(settings, monkeypatch):
    settings["retry"] = {"tiers": [0.5, 1.0], "max_attempts": 4}
    monkeypatch.setenv(KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    settings["payload_encryption"] = {"current": "k1", "keys": {"k1": {"algorithm": "aes-gcm", "key_env": KEY_ENV}}}
    empty_queues(settings)
    return settings


def _received(sims) -> list[dict]:
    return requests.get(sims.urls["platform"] + "/_admin/received", timeout=10).json()["items"]


def test_a_dead_letter_stored_sealed_is_replayed_end_to_end(sealed_settings, sims, monkeypatch):
    settings = sealed_settings
    dest = flaky.install(monkeypatch, settings)
    cases = requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 4}, timeout=60).json()["applyNos"]
    refused = cases[1]
    dest.refuse.add(refused)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        dead = wait_until(lambda: store.list_dead_letters(stage="deliver"), timeout=30, what="the dead letter")
        wait_until(lambda: len(store.parked("platform", refused)) == 2, timeout=30, what="the case parked")
        letter = dead[0]
        id_number = json.loads(letter["payload"])["payload"]["applicant"]["id_number"]
        engine = sa.create_engine(settings["db_url"])
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT payload FROM dead_letters WHERE id = :i"), {"i": letter["id"]}).scalar()
            bodies = [r[0] for r in conn.execute(sa.text("SELECT body FROM parked_messages"))]
        engine.dispose()
        assert stored.startswith("enc:v1:k1:") and id_number not in stored
        assert bodies and all(b.startswith("enc:v1:k1:") and id_number not in b for b in bodies)

        # a store without the key: the letter is skipped, naming the key; nothing changes
        keyless = Store.open(settings["db_url"])
        try:
            done = replay(settings, keyless, ids=[letter["id"]], actor="tester", reason="try without the key")
        finally:
            keyless.close()
        assert done["replayed"] == 0 and "'k1'" in done["skipped"][0]["why"]
        assert store.get_dead_letter(letter["id"])["status"] == "dead"

        dest.heal(refused)
        operator = protect(Store.open(settings["db_url"]), settings)   # as `tongban dlq replay` opens it
        try:
            done = replay(settings, operator, ids=[letter["id"]], actor="tester", reason="platform fixed")
        finally:
            operator.close()
        assert done["replayed"] == 1, done
        wait_until(lambda: verify(settings, store, hub.mappings)["destinations"]["platform"]["delivered"] == 12,
                   timeout=90, interval=0.5, what="every platform delivery, the replayed case included")
    finally:
        hub.shutdown()
    assert [i["sequence"] for i in _received(sims) if i["case_no"] == refused] == [1, 2, 3]
    assert store.get_dead_letter(letter["id"])["status"] == "replayed"
    assert store.parked("platform", refused) == []
