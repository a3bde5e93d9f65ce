"""Message log (lineage) and source checkpoints."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest


def message(i: int, **kw) -> dict:
    row = {
        "message_id": f"00000000-0000-5000-8000-{i:012d}",
        "kind": "case_event",
        "department": "housing",
        "system": "housing-legacy",
        "track": "old",
        "case_no": f"C{i % 7}",
        "sequence": i,
        "routing_key": "housing.case.accepted",
        "mapping": "housing/case_event@3",
        "record_key": f"R{i}",
        "produced_at": datetime(2025, 11, 1, tzinfo=timezone.utc) + timedelta(seconds=i),
    }
    row.update(kw)
    return row


def test_log_messages_ignores_duplicates(store):
    assert store.log_messages([message(i) for i in range(100)]) == 100
    # a source re-read after a crash republishes some of the same ids
    assert store.log_messages([message(i) for i in range(90, 150)]) == 50
    # and a batch may repeat an id within itself
    assert store.log_messages([message(200), message(200)]) == 1
    assert store.counts()["messages"] == 151


def test_log_messages_optional_fields_and_empty_batch(store):
    assert store.log_messages([]) == 0
    row = {"message_id": "m", "kind": "catalogue", "produced_at": datetime.now(timezone.utc)}
    assert store.log_messages([row]) == 1


def test_log_messages_refuses_typos_and_missing_keys(store):
    with pytest.raises(ValueError, match="case_number"):
        store.log_messages([message(1, case_number="C1")])
    with pytest.raises(ValueError, match="produced_at"):
        store.log_messages([message(1, produced_at=None)])
    assert store.counts()["messages"] == 0


def test_checkpoint_round_trip(store):
    assert store.get_checkpoint("housing") is None
    cursor = {"updated_after": "2025-11-01T08:00:00+08:00", "last_id": 1234, "页": "一"}
    store.save_checkpoint("housing", cursor)
    assert store.get_checkpoint("housing") == cursor
    store.save_checkpoint("housing", {"last_id": 1300})
    assert store.get_checkpoint("housing") == {"last_id": 1300}
    store.save_checkpoint("land", {"last_id": 1})
    assert store.get_checkpoint("housing") == {"last_id": 1300}


def test_checkpoint_must_be_a_dict(store):
    with pytest.raises(TypeError):
        store.save_checkpoint("housing", [1, 2])
