"""Timestamps go in aware and come out aware (UTC), on every database."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_aware_datetimes_round_trip(store):
    local = datetime(2025, 11, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI)
    store.add_dead_letter(
        {"id": "time-0001", "stage": "map", "reason": "r", "first_failed_at": local, "last_failed_at": local}
    )
    got = store.get_dead_letter("time-0001")
    for key in ("first_failed_at", "last_failed_at", "created_at", "updated_at"):
        assert got[key].utcoffset().total_seconds() == 0, key
    assert got["last_failed_at"] == local  # same instant, microseconds kept
    assert got["last_failed_at"].hour == 1  # 09:30 in Shanghai is 01:30 UTC
    # and filters compare instants, whatever zone the caller uses
    assert len(store.list_dead_letters(since=datetime(2025, 11, 1, 9, 30, 15, tzinfo=SHANGHAI))) == 1
    assert store.list_dead_letters(since=datetime(2025, 11, 1, 1, 30, 16, tzinfo=timezone.utc)) == []


def test_naive_datetimes_are_refused(store):
    with pytest.raises(Exception, match="naive"):
        store.log_messages([{"message_id": "m", "kind": "case", "produced_at": datetime(2025, 11, 1)}])
    assert store.counts()["messages"] == 0


def test_delivered_at_is_aware(store):
    store.record_deliveries("platform", [{"message_id": "m", "outcome": "accepted"}])
    with store._read() as conn:
        from hub.store.schema import deliveries

        at = conn.execute(deliveries.select()).first().delivered_at
    assert at.tzinfo is not None and at.utcoffset().total_seconds() == 0
