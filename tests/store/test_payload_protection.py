"""Personal data at rest (issue 13, item 5): stored payloads sealed with a key ring, rotated,
re-sealed, and removed by retention while rows, digests and the log chains stay; on every
database the store supports."""
from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from hub.audit.verify import verify_store
from hub.store.keyring import Key, KeyRing, PayloadKeyError
from hub.store.protection import Retention
from hub.store.rekey import rekey
from hub.store.retention import purge_expired

ID_NUMBER = "330106199003071236"
PAYLOAD = f'{{"applicant": {{"name": "张三丰", "id_number": "{ID_NUMBER}"}}}}'
NOW = datetime.now(timezone.utc)
K1 = Key("k1", "aes-gcm", os.urandom(32))
K2 = Key("k2", "sm4-gcm", os.urandom(16))


def ring(*keys, current=None):
    return KeyRing(list(keys), current)


def raw(db, sql: str) -> list:
    with db.engine().connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def dead_letter(store, id, status="dead", days_ago=0, payload=PAYLOAD):
    store.add_dead_letter({"id": id, "stage": "validate", "reason": "bad id", "department": "commerce",
                           "case_no": "C-1", "attempts": 1, "payload": payload, "status": status,
                           "last_failed_at": NOW - timedelta(days=days_ago)})


def test_a_sealed_dead_letter_hides_the_id_number_and_reads_back(db, store):
    store.payload_keys = ring(K1, current="k1")
    dead_letter(store, "dl-1")
    [(stored, digest)] = raw(db, "SELECT payload, payload_digest FROM dead_letters")
    assert stored.startswith("enc:v1:k1:") and ID_NUMBER not in stored and "张三丰" not in stored
    assert len(digest) == 64
    assert store.get_dead_letter("dl-1")["payload"] == PAYLOAD
    assert [r["payload"] for r in store.list_dead_letters()] == [PAYLOAD]


def test_json_columns_and_parked_bodies_are_sealed_too(db, store):
    store.payload_keys = ring(K2, current="k2")   # SM4-GCM
    store.save_versions("commerce", [{"record_key": "r1", "kind": "case", "case_no": "C-1", "sequence": 1,
                                      "digest": "d" * 64, "message_id": "m1",
                                      "payload": {"applicant": {"id_number": ID_NUMBER}}}])
    store.commit_delivery_batch("platform", parks=[{"message_id": "m2", "case_no": "C-1", "position": 1,
                                                    "routing_key": "x", "body": PAYLOAD, "headers": {}}])
    with store.dualtrack_lock([("commerce", "C-1", "case", 1)], NOW) as batch:
        row = batch.rows[("commerce", "C-1", "case", 1)]
        row.update(old_message_id="m1", old_digest="d", old_at=NOW, old_envelope={"payload": {"id": ID_NUMBER}},
                   state="waiting")
        batch.touch(("commerce", "C-1", "case", 1))
    for sql in ("SELECT payload FROM content_versions", "SELECT body FROM parked_messages",
                "SELECT old_envelope FROM dualtrack_twins"):
        [(stored,)] = raw(db, sql)
        text = stored if isinstance(stored, str) else str(stored)
        assert "enc:v1:k2:" in text and ID_NUMBER not in text, sql
    assert store.versions_of("commerce", ["r1"], [])[0]["payload"] == {"applicant": {"id_number": ID_NUMBER}}
    assert store.parked("platform", "C-1")[0]["body"] == PAYLOAD
    assert store.dualtrack_waiting()[0]["old_envelope"] == {"payload": {"id": ID_NUMBER}}


def test_rotation_reads_old_keys_and_rekey_reseals_everything_with_the_current(db, store):
    store.payload_keys = ring(K1, current="k1")
    dead_letter(store, "dl-old")
    store.save_versions("commerce", [{"record_key": "r1", "kind": "case", "case_no": "C-1", "sequence": 1,
                                      "digest": "d" * 64, "message_id": "m1", "payload": {"n": ID_NUMBER}}])
    store.payload_keys = KeyRing([], None)   # a store from before encryption: plain rows
    dead_letter(store, "dl-plain")
    store.payload_keys = ring(K1, K2, current="k2")   # rotated: k2 seals, k1 still opens
    dead_letter(store, "dl-new")
    stored = dict(raw(db, "SELECT id, payload FROM dead_letters"))
    assert stored["dl-old"].startswith("enc:v1:k1:") and stored["dl-new"].startswith("enc:v1:k2:")
    assert stored["dl-plain"] == PAYLOAD
    assert {r["id"]: r["payload"] for r in store.list_dead_letters()} == dict.fromkeys(
        ["dl-old", "dl-plain", "dl-new"], PAYLOAD)

    assert rekey(store, dry_run=True)["dead_letters.payload"] == {"stale": 2}
    done = rekey(store, batch=1)   # a batch of one: the walk goes on past each page
    assert done["dead_letters.payload"] == {"resealed": 2, "unopened": {}}
    assert done["content_versions.payload"] == {"resealed": 1, "unopened": {}}
    assert all(v.startswith("enc:v1:k2:") for v in dict(raw(db, "SELECT id, payload FROM dead_letters")).values())
    assert rekey(store, dry_run=True)["dead_letters.payload"] == {"stale": 0}
    assert store.audit_log("store.rekey")[0]["details"]["dead_letters.payload"] == 2

    store.payload_keys = ring(K2)   # k1 dropped after the rekey: everything still opens
    assert all(r["payload"] == PAYLOAD for r in store.list_dead_letters())
    assert store.versions_of("commerce", ["r1"], [])[0]["payload"] == {"n": ID_NUMBER}


def test_a_missing_or_wrong_key_is_named_and_does_not_stop_other_rows(db, store):
    store.payload_keys = ring(K1, current="k1")
    dead_letter(store, "dl-k1")
    store.payload_keys = ring(K1, K2, current="k2")
    dead_letter(store, "dl-k2")
    store.payload_keys = ring(K1)   # k2 missing
    rows = {r["id"]: r for r in store.list_dead_letters()}
    assert rows["dl-k1"]["payload"] == PAYLOAD
    assert rows["dl-k2"]["payload"] is None and "'k2'" in rows["dl-k2"]["payload_error"]
    assert ID_NUMBER not in rows["dl-k2"]["payload_error"]
    store.payload_keys = ring(Key("k1", "aes-gcm", os.urandom(32)))   # another key under the same id
    assert "does not open" in store.get_dead_letter("dl-k1")["payload_error"]
    with pytest.raises(PayloadKeyError, match="'k1'"):
        store.payload_keys.open(raw(db, "SELECT payload FROM dead_letters WHERE id = 'dl-k1'")[0][0],
                                "dead_letters.payload")
    # the column is the associated data: a value moved to another column does not open there
    with pytest.raises(PayloadKeyError):
        ring(K1).open(ring(K1, current="k1").seal("x", "dead_letters.payload"), "parked_messages.body")


def test_purge_expired_counts_then_removes_payloads_and_the_chains_still_verify(db, store):
    store.log_messages([{"message_id": f"m{i}", "kind": "case", "department": "commerce", "system": "commerce",
                         "track": "old", "case_no": "C-1", "produced_at": NOW} for i in range(3)])
    store.payload_keys = ring(K1, current="k1")
    dead_letter(store, "dl-replayed-old", status="replayed", days_ago=40)
    dead_letter(store, "dl-purged-old", status="purged", days_ago=35)
    dead_letter(store, "dl-unresolved-old", status="dead", days_ago=60)
    dead_letter(store, "dl-replayed-new", status="replayed", days_ago=2)
    store.save_versions("commerce", [{"record_key": f"r{i}", "kind": "case", "case_no": "C-1", "sequence": i,
                                      "digest": "d" * 64, "message_id": f"m{i}", "payload": {"n": i}}
                                     for i in range(3)])
    with db.engine().begin() as conn:
        conn.execute(sa.text("UPDATE content_versions SET seen_at = :t WHERE record_key != 'r2'"),
                     {"t": (NOW - timedelta(days=31)).replace(tzinfo=None) if db.name != "postgresql"
                      else NOW - timedelta(days=31)})
    policy = Retention(payload_days=30, tables={"dualtrack_twins": 0}, batch_size=1)

    dry = purge_expired(store, policy, dry_run=True)
    assert dry["dead_letters"] == {"days": 30, "expired": 2, "kept_unresolved": 1}
    assert dry["content_versions"] == {"days": 30, "expired": 2, "kept_unresolved": 0}
    assert dry["dualtrack_twins"]["days"] == 0
    assert raw(db, "SELECT count(*) FROM dead_letters WHERE payload IS NULL") == [(0,)]   # a dry run changes nothing

    done = purge_expired(store, policy, actor="ops", reason="monthly retention")
    assert done["dead_letters"]["expired"] == 2 and done["content_versions"]["expired"] == 2
    rows = {r[0]: r[1:] for r in raw(db, "SELECT id, payload, payload_digest, payload_removed_at FROM dead_letters")}
    assert len(rows) == 4                                                   # the rows stay
    assert rows["dl-replayed-old"][0] is None and rows["dl-replayed-old"][2] is not None
    assert rows["dl-replayed-old"][1] is not None                           # its digest stays
    assert rows["dl-unresolved-old"][0] is not None                         # unresolved: kept for a replay
    assert rows["dl-replayed-new"][0] is not None
    versions = {r["record_key"]: r for r in store.versions_of("commerce", ["r0", "r1", "r2"], [])}
    assert versions["r0"]["payload"] is None and versions["r0"]["digest"] == "d" * 64
    assert versions["r2"]["payload"] == {"n": 2}
    assert store.get_dead_letter("dl-replayed-old")["payload"] is None
    assert purge_expired(store, policy, dry_run=True)["dead_letters"]["expired"] == 0
    [audit] = store.audit_log("store.purge_expired")
    assert (audit["actor"], audit["details"]["dead_letters"]["removed"]) == ("ops", 2)

    report = verify_store(store)
    assert report["ok"], report["findings"]
    assert report["logs"]["message_log"]["rows"] == 3


def test_retention_keeps_waiting_twins_and_strips_decided_ones(db, store):
    for seq, state in ((1, "paired"), (2, "waiting")):
        with store.dualtrack_lock([("commerce", "C-1", "case", seq)], NOW) as batch:
            row = batch.rows[("commerce", "C-1", "case", seq)]
            row.update(old_message_id=f"m{seq}", old_digest="d", old_at=NOW, old_envelope={"id": ID_NUMBER},
                       state=state)
            batch.touch(("commerce", "C-1", "case", seq))
    done = purge_expired(store, Retention(payload_days=10), now=NOW + timedelta(days=11))
    assert done["dualtrack_twins"] == {"days": 10, "expired": 1, "kept_unresolved": 1}
    got = dict(raw(db, "SELECT sequence, old_envelope FROM dualtrack_twins"))
    assert got[1] is None and got[2] is not None
