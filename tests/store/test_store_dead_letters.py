"""Dead letters (invariant 3) and the guarded replay/purge with its audit trail."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from hub.store import PAYLOAD_ENCODING_HEADER

T0 = datetime(2025, 11, 1, 8, 0, tzinfo=timezone.utc)


def letter(i: int, **kw) -> dict:
    dl = {
        "id": f"{i:08x}-0000-4000-8000-000000000000",
        "message_id": f"msg-{i}",
        "stage": "deliver",
        "reason": "HTTP 503 from platform",
        "department": "housing",
        "destination": "platform",
        "record_key": f"R{i}",
        "case_no": f"C{i}",
        "attempts": 5,
        "first_failed_at": T0 + timedelta(minutes=i),
        "last_failed_at": T0 + timedelta(minutes=i, seconds=30),
        "payload": '{"案件编号": "C%d"}' % i,
        "headers": {"x-retries": 5, "x-trace-id": f"t{i}"},
        "status": "dead",
    }
    dl.update(kw)
    return dl


def test_add_is_idempotent_and_round_trips(store):
    assert store.add_dead_letter(letter(1)) is True
    assert store.add_dead_letter(letter(1, reason="again")) is False
    got = store.get_dead_letter(letter(1)["id"])
    expected = letter(1)
    for key, value in expected.items():
        assert got[key] == value, key
    assert got["created_at"].tzinfo is not None


def test_minimal_letter_gets_defaults(store):
    assert store.add_dead_letter({"id": "abcdef0123", "stage": "decode", "reason": "not XML", "payload": "<x"})
    got = store.get_dead_letter("abcdef0123")
    assert got["status"] == "dead" and got["attempts"] == 1
    assert got["first_failed_at"] == got["last_failed_at"]
    assert got["destination"] is None and got["headers"] is None


def test_bad_stage_and_unknown_keys_are_refused(store):
    with pytest.raises(ValueError, match="stage"):
        store.add_dead_letter(letter(1, stage="teleport"))
    with pytest.raises(ValueError, match="unknown"):
        store.add_dead_letter(letter(1, trace="t"))


def test_payload_that_is_not_text_survives_as_base64(store):
    raw = "住建局".encode("gb18030") + b"\x00"
    store.add_dead_letter(letter(1, payload=raw))
    got = store.get_dead_letter(letter(1)["id"])
    assert got["headers"][PAYLOAD_ENCODING_HEADER] == "base64"
    assert base64.b64decode(got["payload"]) == raw
    # UTF-8 bytes are kept as text
    store.add_dead_letter(letter(2, payload="好".encode()))
    assert store.get_dead_letter(letter(2)["id"])["payload"] == "好"


def test_list_filters(store):
    store.add_dead_letter(letter(1))
    store.add_dead_letter(letter(2, destination="province"))
    store.add_dead_letter(letter(3, stage="map", destination=None, department="land"))
    store.add_dead_letter(letter(4, status="purged"))

    def ids(**kw):
        return [dl["message_id"] for dl in store.list_dead_letters(**kw)]

    assert ids() == ["msg-1", "msg-2", "msg-3"]  # oldest first, status dead
    assert ids(newest_first=True) == ["msg-3", "msg-2", "msg-1"]
    assert ids(stage="deliver") == ["msg-1", "msg-2"]
    assert ids(department="land") == ["msg-3"]
    assert ids(destination="province") == ["msg-2"]
    assert ids(since=T0 + timedelta(minutes=2)) == ["msg-2", "msg-3"]
    assert ids(status="purged") == ["msg-4"]
    assert ids(status=None) == ["msg-1", "msg-2", "msg-3", "msg-4"]
    assert ids(limit=1) == ["msg-1"]
    assert ids(stage="deliver", destination="platform", department="housing") == ["msg-1"]


def test_get_by_prefix(store):
    store.add_dead_letter(letter(1, id="0a1b2c3d-1111-4000-8000-000000000000"))
    store.add_dead_letter(letter(2, id="0a1b2c3d-2222-4000-8000-000000000000"))
    store.add_dead_letter(letter(3, id="ffff_%%_-0000-4000-8000-000000000000"))
    assert store.get_dead_letter("0a1b2c3d-1")["message_id"] == "msg-1"
    with pytest.raises(LookupError, match="ambiguous"):
        store.get_dead_letter("0a1b2c3d")
    assert store.get_dead_letter("0a1b2c3") is None  # too short to be a prefix
    assert store.get_dead_letter("99999999") is None
    # LIKE wildcards in the prefix are taken literally
    assert store.get_dead_letter("ffff_%%_")["message_id"] == "msg-3"
    assert store.get_dead_letter("ffff____") is None


def test_mark_writes_one_audit_row_per_letter(store):
    for i in range(1, 4):
        store.add_dead_letter(letter(i))
    ids = [letter(i)["id"] for i in (1, 2)]
    n = store.mark_dead_letters(ids + ["no-such-id"], "replayed", actor="li.wei", reason="platform back up")
    assert n == 2
    assert [dl["message_id"] for dl in store.list_dead_letters()] == ["msg-3"]
    assert {dl["message_id"] for dl in store.list_dead_letters(status="replayed")} == {"msg-1", "msg-2"}

    rows = store.audit_log("dlq.replay")
    assert sorted(r["target"] for r in rows) == sorted(ids)
    for r in rows:
        assert r["actor"] == "li.wei" and r["reason"] == "platform back up"
        assert r["details"]["from"] == "dead" and r["details"]["destination"] == "platform"
        assert r["at"].tzinfo is not None

    # marking again changes nothing and audits nothing
    assert store.mark_dead_letters(ids, "replayed", "li.wei", "again") == 0
    assert len(store.audit_log("dlq.replay")) == 2
    assert store.mark_dead_letters([letter(3)["id"]], "purged", "wang.fang", "test data") == 1
    assert store.counts()["dead_letters"] == {"replayed": 2, "purged": 1}


def test_mark_requires_who_and_why(store):
    store.add_dead_letter(letter(1))
    with pytest.raises(ValueError, match="reason"):
        store.mark_dead_letters([letter(1)["id"]], "purged", "li.wei", " ")
    with pytest.raises(ValueError, match="actor"):
        store.mark_dead_letters([letter(1)["id"]], "purged", "", "why")
    with pytest.raises(ValueError, match="status"):
        store.mark_dead_letters([letter(1)["id"]], "deleted", "li.wei", "why")
    assert store.list_dead_letters()[0]["status"] == "dead"
    assert store.audit_log() == []


def test_audit_log(store):
    store.audit("li.wei", "cutover", "housing", "readiness met", {"from": "old", "to": "new"})
    store.audit("li.wei", "rollback", "housing", "mismatches")
    assert [r["action"] for r in store.audit_log()] == ["rollback", "cutover"]  # newest first
    assert store.audit_log("cutover")[0]["details"] == {"from": "old", "to": "new"}
    assert len(store.audit_log(limit=1)) == 1
    assert store.audit_log(target="land") == []
