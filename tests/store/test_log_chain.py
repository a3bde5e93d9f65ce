"""The tamper-evident message log and audit trail (issue 13, item 1): rows edited, deleted,
inserted or reordered behind the hub's back, straight in the database, are each named by
verify, on every database the store supports."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from hub.audit import chain as hc
from hub.audit.checkpoints import make_checkpoints
from hub.audit.signing import Signer
from hub.audit.verify import verify_store

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
CHAIN = "commerce/commerce/old"


def message(i: int, dept="commerce", track="old") -> dict:
    return {"message_id": f"m{i:04d}", "kind": "case_event", "department": dept, "system": dept,
            "track": track, "case_no": f"C{i // 3}", "sequence": i % 3 + 1, "routing_key": "commerce.case.accepted",
            "mapping": "commerce@1", "record_key": f"r{i}", "produced_at": T0 + timedelta(seconds=i)}


def fill(store, n=12, page=4, heads=None):
    for start in range(0, n, page):
        store.log_messages([message(i) for i in range(start, start + page)], heads=heads)


def kinds(report, log="message_log"):
    return sorted((f["kind"], f["row"]) for f in report["findings"] if f["log"] == log)


def run(engine, *sql):
    with engine.begin() as conn:
        for s in sql:
            conn.execute(sa.text(s))


def test_an_untouched_log_verifies_and_links_across_pages(store):
    heads = {}
    fill(store, heads=heads)
    store.log_messages([message(i, dept="housing") for i in range(100, 103)])
    store.audit("li.wei", "dlq.replay", "dl-1", "fixed upstream", {"ids": ("a", "b")})
    store.audit("li.wei", "dlq.purge", "-", "test data")
    report = verify_store(store)
    assert report["ok"], report["findings"]
    assert report["logs"]["message_log"] == {"chains": 2, "rows": 15}
    assert report["logs"]["audit_log"] == {"chains": 1, "rows": 2}
    rows = list(store.chain_rows("message_log", CHAIN))
    assert [r["chain_seq"] for r in rows] == list(range(1, 13))
    assert all(b["prev_hash"] == a["row_hash"] for a, b in zip(rows, rows[1:]))   # one chain over 3 pages
    assert heads[CHAIN] == (12, rows[-1]["row_hash"])


def test_a_re_read_page_is_chained_without_gaps(store):
    fill(store, n=8)
    # a page re-read after a crash: half old ids, half new, with a stale cached head
    stale = {CHAIN: (4, "sm3:stale")}
    assert store.log_messages([message(i) for i in range(6, 12)], heads=stale) == 4
    assert stale[CHAIN][0] == 12
    assert verify_store(store)["ok"]
    # a cache behind the store (another writer moved the chain): the page is chained again
    assert store.log_messages([message(20)], heads={CHAIN: (3, "sm3:old")}) == 1
    assert verify_store(store)["ok"]
    assert [r["chain_seq"] for r in store.chain_rows("message_log", CHAIN)] == list(range(1, 14))


@pytest.mark.parametrize("alg", ["sm3", "sha256"])
def test_each_algorithm_and_a_change_mid_chain(store, alg):
    store.chain_algorithm = "sha256" if alg == "sm3" else "sm3"
    fill(store, n=4)
    store.chain_algorithm = alg
    fill(store, n=8)   # ids 0-3 again (skipped), 4-7 new
    rows = list(store.chain_rows("message_log", CHAIN))
    assert rows[-1]["row_hash"].startswith(alg + ":") and rows[0]["row_hash"] != rows[-1]["row_hash"][:3]
    assert verify_store(store)["ok"]


def test_an_edited_row_is_named(db, store):
    fill(store)
    run(db.engine(), "UPDATE message_log SET case_no = 'FORGED' WHERE message_id = 'm0005'")
    assert kinds(verify_store(store)) == [("edited", "m0005")]


def test_an_edited_row_whose_hash_was_recomputed_is_named(db, store):
    fill(store)
    row = next(r for r in store.chain_rows("message_log", CHAIN) if r["message_id"] == "m0005")
    row["case_no"] = "FORGED"
    forged = hc.row_hash("sm3", row["prev_hash"], row, hc.MESSAGE_FIELDS, CHAIN)
    run(db.engine(), f"UPDATE message_log SET case_no = 'FORGED', row_hash = '{forged}' WHERE message_id = 'm0005'")
    assert kinds(verify_store(store)) == [("edited", "m0005")]


def test_a_deleted_row_is_named_by_its_place(db, store):
    fill(store)
    run(db.engine(), "DELETE FROM message_log WHERE message_id IN ('m0004', 'm0005')")
    found = verify_store(store)["findings"]
    assert [(f["kind"], f["position"]) for f in found] == [("deleted", 5)]
    assert "2 row(s) missing between row m0003" in found[0]["detail"]


def test_the_first_rows_deleted(db, store):
    fill(store)
    run(db.engine(), "DELETE FROM message_log WHERE message_id = 'm0000'")
    assert [(f["kind"], f["position"]) for f in verify_store(store)["findings"]] == [("deleted", 1)]


def test_rows_deleted_from_the_end_are_caught_by_a_signed_checkpoint(db, store):
    signer = Signer.generate()
    fill(store)
    assert len(make_checkpoints(store, signer)) == 1
    assert make_checkpoints(store, signer) == []       # nothing moved: no new checkpoint
    run(db.engine(), "DELETE FROM message_log WHERE message_id IN ('m0010', 'm0011')")
    found = verify_store(store, keys={signer.key_id: signer.public})["findings"]
    assert [(f["kind"], f["position"]) for f in found] == [("deleted", 11)]


def test_swapped_rows_are_named_reordered(db, store):
    fill(store)
    # exchange the positions of rows 3 and 8 (through a free position: the pair is unique)
    run(db.engine(),
        "UPDATE message_log SET chain_seq = 1000 WHERE message_id = 'm0002'",
        "UPDATE message_log SET chain_seq = 3 WHERE message_id = 'm0007'",
        "UPDATE message_log SET chain_seq = 8 WHERE message_id = 'm0002'")
    assert kinds(verify_store(store)) == [("reordered", "m0002"), ("reordered", "m0007")]


def test_inserted_rows_are_named(db, store):
    fill(store)
    e = db.engine()
    # a row with no chain at all
    run(e, "INSERT INTO message_log (message_id, kind, produced_at, logged_at) "
           "VALUES ('x-nochain', 'case_event', '2026-12-01 08:00:00', '2026-12-01 08:00:00')")
    # a row with a made-up hash claiming a free position
    run(e, f"INSERT INTO message_log (message_id, kind, produced_at, logged_at, chain, chain_seq, prev_hash, row_hash) "
           f"VALUES ('x-forged', 'case_event', '2026-12-01 08:00:00', '2026-12-01 08:00:00', '{CHAIN}', 500, "
           f"'sm3:00', 'sm3:11')")
    assert kinds(verify_store(store)) == [("inserted", "x-forged"), ("inserted", "x-nochain")]


def test_a_well_hashed_row_slipped_into_the_middle_is_named_inserted(db, store):
    fill(store)
    rows = list(store.chain_rows("message_log", CHAIN))
    fake = {**message(999), "logged_at": rows[4]["logged_at"]}
    h = hc.row_hash("sm3", rows[4]["row_hash"], fake, hc.MESSAGE_FIELDS, CHAIN)
    e = db.engine()
    # make room after position 5 (from the top down, the positions are unique), then insert at 6
    run(e, *[f"UPDATE message_log SET chain_seq = {r['chain_seq'] + 1} WHERE message_id = '{r['message_id']}'"
             for r in reversed(rows[5:])])
    with e.begin() as conn:
        conn.execute(sa.insert(sa.table("message_log", *[sa.column(c) for c in
                     [*fake, "chain", "chain_seq", "prev_hash", "row_hash"]])),
                     {**{k: (v.replace(tzinfo=None) if db.name != "postgresql" and hasattr(v, "tzinfo") else v)
                         for k, v in fake.items()}, "chain": CHAIN, "chain_seq": 6,
                      "prev_hash": rows[4]["row_hash"], "row_hash": h})
    assert kinds(verify_store(store)) == [("inserted", "m0999")]


def test_audit_rows_edited_and_deleted_are_named(db, store):
    for i in range(5):
        store.audit("li.wei", "dlq.replay", f"dl-{i}", "fixed upstream", {"n": i})
    ids = [r["id"] for r in sorted(store.audit_log(limit=10), key=lambda r: r["id"])]
    run(db.engine(), f"UPDATE audit_log SET reason = 'nothing to see' WHERE id = {ids[1]}",
        f"DELETE FROM audit_log WHERE id = {ids[3]}")
    found = [(f["kind"], f["row"], f["position"]) for f in verify_store(store)["findings"]]
    assert found == [("edited", ids[1], 2), ("deleted", None, 4)]


def test_a_forged_or_foreign_checkpoint_is_named(db, store):
    signer, other = Signer.generate(), Signer.generate("sm2")
    fill(store, n=4)
    make_checkpoints(store, signer)
    fill(store, n=8)
    make_checkpoints(store, other)
    keys = {signer.key_id: signer.public, other.key_id: other.public}
    assert verify_store(store, keys=keys)["ok"]                 # both keys valid: a rotation
    assert [f["kind"] for f in verify_store(store, keys={signer.key_id: signer.public})["findings"]] == ["checkpoint"]
    run(db.engine(), "UPDATE log_checkpoints SET chain_seq = 3 WHERE chain_seq = 4")
    found = verify_store(store, keys=keys)["findings"]
    assert [(f["kind"], "signature does not verify" in f["detail"]) for f in found] == [("checkpoint", True)]


def test_since_walks_only_the_recent_rows_but_still_finds_an_edit(db, store):
    fill(store, n=8)
    run(db.engine(), "UPDATE message_log SET logged_at = '2026-01-01 00:00:00' WHERE chain_seq <= 4"
        if db.name != "postgresql" else
        "UPDATE message_log SET logged_at = '2026-01-01 00:00:00+00' WHERE chain_seq <= 4")
    # logged_at is hashed, so the rows moved back in time are edits; --since skips them
    since = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert verify_store(store, since=since)["ok"]
    assert verify_store(store, since=since)["logs"]["message_log"]["rows"] == 5   # 4 after, and the anchor
    assert len(verify_store(store)["findings"]) == 4
    run(db.engine(), "UPDATE message_log SET record_key = 'x' WHERE message_id = 'm0006'")
    assert kinds(verify_store(store, since=since)) == [("edited", "m0006")]


def test_rows_logged_before_the_chain_are_chained_by_the_migration(db):
    from hub.store import migrate
    from hub.store.engine import create_store_engine
    engine = create_store_engine(db.url, **dict(db.engine_kwargs))
    try:
        migrate.upgrade(engine, "0009")
        with engine.begin() as conn:
            for i in range(5):
                conn.execute(sa.text("INSERT INTO message_log (message_id, kind, department, produced_at, logged_at) "
                                     "VALUES (:m, 'case', 'ndrc', :t, :t)"),
                             {"m": f"old{i}", "t": T0 + timedelta(seconds=i)})
            conn.execute(sa.text("INSERT INTO audit_log (at, actor, action, target, reason, details) "
                                 "VALUES (:t, 'li.wei', 'dlq.purge', '-', 'before', NULL)"), {"t": T0})
    finally:
        engine.dispose()
    store = db.open()
    store.log_messages([{"message_id": "new", "kind": "case", "department": "ndrc", "produced_at": T0}])
    store.audit("li.wei", "dlq.purge", "-", "after")
    report = verify_store(store)
    assert report["ok"], report["findings"]
    assert [r["message_id"] for r in store.chain_rows("message_log", "ndrc/-/-")] == \
        ["old0", "old1", "old2", "old3", "old4", "new"]
    assert store.chains("audit_log") == {"audit": (2, 2)}
