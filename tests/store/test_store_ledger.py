"""Delivery ledger: invariant 4 (one effect per message and destination) and
the per-case sequence lookup behind invariant 5."""

from __future__ import annotations

import threading

import pytest


def delivery(mid: str, case_no: str = "C1", sequence: int = 1, outcome: str = "accepted") -> dict:
    return {
        "message_id": mid,
        "case_no": case_no,
        "sequence": sequence,
        "kind": "case_event",
        "outcome": outcome,
    }


def test_same_message_and_destination_is_recorded_once(store):
    assert store.record_deliveries("platform", [delivery("m1")]) == 1
    assert store.record_deliveries("platform", [delivery("m1", outcome="duplicate")]) == 0
    # the first outcome stands
    assert store.record_deliveries("platform", [delivery("m1"), delivery("m1")]) == 0
    assert store.counts()["deliveries"] == {"platform": 1}


def test_other_destination_is_separate(store):
    assert store.record_deliveries("platform", [delivery("m1")]) == 1
    assert store.record_deliveries("province", [delivery("m1")]) == 1
    assert store.delivered_ids("platform", ["m1", "m2"]) == {"m1"}
    assert store.delivered_ids("province", ["m1"]) == {"m1"}
    assert store.delivered_ids("compare", ["m1"]) == set()
    assert store.counts()["deliveries"] == {"platform": 1, "province": 1}


def test_batch_mixes_new_and_known(store):
    store.record_deliveries("platform", [delivery(f"m{i}") for i in range(10)])
    assert store.record_deliveries("platform", [delivery(f"m{i}") for i in range(5, 20)]) == 10


def test_large_id_lists_are_chunked(store):
    ids = [f"m{i}" for i in range(1200)]
    assert store.record_deliveries("platform", [delivery(m, sequence=i) for i, m in enumerate(ids)]) == 1200
    assert store.delivered_ids("platform", ids + ["nope"]) == set(ids)
    assert store.delivered_ids("platform", []) == set()


def test_last_sequences(store):
    store.record_deliveries(
        "platform",
        [delivery("a1", "A", 1), delivery("a3", "A", 3), delivery("a2", "A", 2), delivery("b1", "B", 1)],
    )
    store.record_deliveries("province", [delivery("a9", "A", 9)])
    store.record_deliveries("platform", [{"message_id": "x", "case_no": "X", "outcome": "accepted"}])
    assert store.last_sequences("platform", ["A", "B", "C", "X"]) == {"A": 3, "B": 1}
    assert store.last_sequences("province", ["A", "B"]) == {"A": 9}
    assert store.last_sequences("platform", []) == {}


def test_outcome_and_keys_are_checked(store):
    with pytest.raises(ValueError, match="outcome"):
        store.record_deliveries("platform", [delivery("m1", outcome="ok")])
    with pytest.raises(ValueError, match="unknown"):
        store.record_deliveries("platform", [{**delivery("m1"), "destination": "province"}])
    assert store.counts()["deliveries"] == {}


def test_concurrent_writers_each_record_once(store):
    # prefetch-parallel consumers may race on the same redelivered ids
    inserted: list[int] = []
    lock = threading.Lock()

    def worker(n: int):
        rows = [delivery(f"m{i}", f"C{i % 10}", i) for i in range(n * 50, n * 50 + 150)]
        for i in range(0, len(rows), 25):
            got = store.record_deliveries("platform", rows[i : i + 25])
            with lock:
                inserted.append(got)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(inserted) == 4 * 50 + 100  # ids m0..m299, each once
    assert store.counts()["deliveries"] == {"platform": 300}
