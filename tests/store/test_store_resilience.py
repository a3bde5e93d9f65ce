"""Holds, parked messages and breaker states (hub/store/resilience.py) on every database:
one transaction per delivery batch, parked messages in arrival order, a replay that
releases only a dead hold of the same head, and one breaker row per destination."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest


def hold(case_no="C1", head="m1", status="retrying", attempts=1, **extra) -> dict:
    return {"case_no": case_no, "head_message_id": head, "status": status, "attempts": attempts,
            "reason": "HTTP 503", **extra}


def park(mid, position, case_no="C1") -> dict:
    return {"message_id": mid, "case_no": case_no, "position": position, "routing_key": "commerce.case_event.x",
            "body": '{"message_id": "%s", "name": "张三"}' % mid, "headers": {"x-tongban-sequence": position + 1}}


def test_a_batch_commits_ledger_holds_and_parks_together(store):
    store.commit_delivery_batch("platform", delivered=[{"message_id": "m0", "case_no": "C0", "outcome": "accepted"}],
                                hold_upserts=[hold()], parks=[park("m3", 2), park("m2", 1)])
    assert store.delivered_ids("platform", ["m0"]) == {"m0"}
    assert store.holds("platform", ["C1", "C9"])["C1"]["head_message_id"] == "m1"
    assert store.holds("province", ["C1"]) == {}
    parked = store.parked("platform", "C1")
    assert [p["message_id"] for p in parked] == ["m2", "m3"]           # by position, not by insert
    assert parked[0]["headers"] == {"x-tongban-sequence": 2} and "张三" in parked[0]["body"]
    assert store.last_parked_positions("platform", ["C1", "C2"]) == {"C1": 2}
    assert store.hold_summary() == {"platform": {"retrying": 1, "parked": 2}}


def test_a_redelivered_park_is_stored_once_and_unpark_and_release_remove(store):
    store.commit_delivery_batch("platform", hold_upserts=[hold()], parks=[park("m2", 1)])
    store.commit_delivery_batch("platform", parks=[park("m2", 1)])
    assert len(store.parked("platform", "C1")) == 1
    store.commit_delivery_batch("platform", delivered=[{"message_id": "m1", "outcome": "accepted"},
                                                       {"message_id": "m2", "outcome": "duplicate"}],
                                unparks=["m2"], hold_deletes=["C1"])
    assert store.parked("platform", "C1") == [] and store.list_holds() == []
    assert store.delivered_ids("platform", ["m1", "m2"]) == {"m1", "m2"}


def test_hold_upsert_moves_the_head_and_keeps_created_at(store):
    store.commit_delivery_batch("platform", hold_upserts=[hold()])
    first = store.holds("platform", ["C1"])["C1"]
    store.commit_delivery_batch("platform", hold_upserts=[hold(head="m2", status="dead", attempts=5,
                                                               dead_letter_id="dl-1",
                                                               created_at=first["created_at"])])
    now = store.holds("platform", ["C1"])["C1"]
    assert (now["head_message_id"], now["status"], now["attempts"], now["dead_letter_id"]) == ("m2", "dead", 5, "dl-1")
    assert now["created_at"] == first["created_at"] and now["updated_at"] >= first["updated_at"]


def test_release_only_a_dead_hold_of_that_head_and_audit_it(store):
    store.commit_delivery_batch("platform", hold_upserts=[hold(status="retrying"), hold("C2", "m9", "dead")])
    assert not store.release_hold("platform", "C1", "m1", "ops", "retrying is not dead")
    assert not store.release_hold("platform", "C2", "m1", "ops", "not its head")
    assert store.release_hold("platform", "C2", "m9", "ops", "platform fixed")
    assert store.holds("platform", ["C2"])["C2"]["status"] == "released"
    entry = store.audit_log("hold.release")[0]
    assert entry["target"] == "platform/C2" and entry["actor"] == "ops" and entry["reason"] == "platform fixed"


def test_a_bad_batch_changes_nothing(store):
    with pytest.raises(ValueError):
        store.commit_delivery_batch("platform", delivered=[{"message_id": "m1", "outcome": "ok?"}],
                                    hold_upserts=[hold()])
    with pytest.raises(ValueError):
        store.commit_delivery_batch("platform", hold_upserts=[hold(status="pending")])
    assert store.list_holds() == [] and store.delivered_ids("platform", ["m1"]) == set()


def test_breaker_state_is_one_row_per_destination(store):
    assert store.get_breaker("platform") is None
    opened = datetime.now(timezone.utc)
    store.save_breaker("platform", state="open", failures=5, cooldown_ms=5000, opened_at=opened,
                       probe_at=opened + timedelta(seconds=5), reason="platform unreachable", worker="h:1")
    store.save_breaker("platform", state="half_open", failures=5, cooldown_ms=5000, opened_at=opened,
                       probe_at=None, reason="platform unreachable", worker="h:2")
    row = store.get_breaker("platform")
    assert (row["state"], row["worker"], row["cooldown_ms"]) == ("half_open", "h:2", 5000)
    assert abs((row["opened_at"] - opened).total_seconds()) < 0.001
    store.save_breaker("province", state="closed", failures=0, cooldown_ms=5000)
    assert [b["destination"] for b in store.breakers()] == ["platform", "province"]
    with pytest.raises(ValueError):
        store.save_breaker("platform", state="ajar", failures=0, cooldown_ms=1)
