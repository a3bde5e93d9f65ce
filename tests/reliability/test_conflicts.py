"""Conflicts at the source, without a broker: the same record (or the same step of a case)
again with other content is dead-lettered at stage `conflict` with the fields that differ,
masked; an exact replay is silent; a department that declares `versions: supersede` sends
the new version as an update naming the message it replaces."""
from __future__ import annotations

import copy
import json
import random

import pytest

from hub.adapter import Page, RawRecord, Source
from hub.bus import names
from hub.mapping import MappingSet
from hub.runtime.conflicts import CONFLICT, NEW, SAME, UPDATE, diff
from hub.runtime.source_worker import SourceWorker
from hub.store import Store
from sims.commerce_data import CaseFactory


class Publisher:
    def __init__(self):
        self.sent = []

    def publish(self, body, exchange, routing_key, *, message_id=None, headers=None, **_):
        self.sent.append({"exchange": exchange, "message_id": message_id, "headers": dict(headers or {}),
                          "body": body})

    def flush(self):
        pass


class ListSource(Source):
    def __init__(self):
        self.records: list[dict] = []

    def fetch(self, cursor, limit):
        start = (cursor or {}).get("next", 0)
        page = self.records[start:start + limit]
        return Page(records=[RawRecord(key=str(r["eventId"]), data=r, raw=json.dumps(r, ensure_ascii=False))
                             for r in page], cursor={"next": start + len(page)}, has_more=False)

    def close(self):
        pass


@pytest.fixture
def world():
    store = Store.open("sqlite://")
    source, pub = ListSource(), Publisher()
    worker = SourceWorker(name="commerce:old", department="commerce", system="commerce-registry", track="old",
                          source=source, mappings=MappingSet.load(), publisher=pub, store=store)
    yield store, source, pub, worker
    store.close()


def _events(n: int = 1) -> list[dict]:
    factory = CaseFactory(random.Random(5))
    out = []
    for i in range(n):
        _, events = factory.case(bad=False)
        for e in events:
            e.pop("_at", None)
            e["eventId"] = len(out) + 1
            e["updatedAt"] = "2026-12-01T09:00:00.000000"
            out.append(e)
    return out


def _routed(pub) -> list[dict]:
    return [s for s in pub.sent if s["exchange"] == names.EVENTS]


def _dead(pub) -> list[dict]:
    return [s for s in pub.sent if s["exchange"] == names.DLX]


def test_the_same_record_with_other_content_is_a_conflict_with_its_diff_masked(world):
    store, source, pub, worker = world
    events = _events()
    source.records += events
    worker.poll_once()
    first = len(_routed(pub))
    changed = copy.deepcopy(events[1])
    changed["updatedAt"] = "2026-12-02T10:00:00.000000"          # a new version, so a new message id
    changed["opinion"] = "不予核准"
    changed["registration"]["uniscid"] = "91330106MA2KQ8R391"
    source.records.append(changed)
    worker.poll_once()
    assert len(_routed(pub)) == first                               # not delivered as a second step
    dead = _dead(pub)[-1]["headers"]
    assert dead[names.H_STAGE] == "conflict"
    reason = dead[names.H_REASON]
    assert f"record {changed['eventId']} (case_event) came again with other content" in reason
    assert "opinion:" in reason and "不予核准" in reason
    assert "91330106MA2KQ8R391" not in reason and "applicant.id_number" in reason   # the diff is masked
    assert [d for d in store.list_dead_letters() if d["stage"] == "conflict"]       # kept for the operator


def test_an_exact_replay_stays_silent(world):
    store, source, pub, worker = world
    events = _events()
    source.records += events
    worker.poll_once()
    sent = len(_routed(pub))
    first = {s["headers"][names.H_RECORD_KEY]: s["message_id"] for s in _routed(pub)}
    again = copy.deepcopy(events[0])
    again["updatedAt"] = "2026-12-02T10:00:00.000000"              # re-stamped, the same content
    source.records.append(again)
    worker.poll_once()
    # sent again under the message id it had: the ledger makes it a no-op; nothing dead
    resent = _routed(pub)[sent:]
    assert resent and all(s["message_id"] == first[str(again["eventId"])] for s in resent)
    assert _dead(pub) == []


def test_a_department_that_supersedes_sends_an_update_naming_the_version_it_replaces(world):
    store, source, pub, worker = world
    for m in worker.mappings.mappings:
        m.versions = "supersede"
    events = _events()
    source.records += events
    worker.poll_once()
    old = next(s for s in _routed(pub) if s["headers"][names.H_RECORD_KEY] == str(events[1]["eventId"]))
    changed = copy.deepcopy(events[1])
    changed["updatedAt"], changed["opinion"] = "2026-12-02T10:00:00.000000", "更正：予以核准"
    source.records.append(changed)
    worker.poll_once()
    update = _routed(pub)[-1]
    assert update["message_id"] != old["message_id"] and update["headers"][names.H_SUPERSEDES] == old["message_id"]
    assert _dead(pub) == []


def test_the_source_says_what_it_had_read_of_the_case_before_each_step(world):
    store, source, pub, worker = world
    events = _events()
    source.records += [events[2], events[0], events[1]]             # written 3, 1, 2
    worker.poll_once()
    steps = [(s["headers"][names.H_SEQUENCE], s["headers"][names.H_READ_THROUGH], s["headers"][names.H_READ_MAX])
             for s in _routed(pub) if s["headers"][names.H_KIND] == "case_event"]
    assert steps == [(3, 0, 0), (1, 0, 3), (2, 1, 3)]


def test_judgements_and_diff():
    from hub.runtime.conflicts import ConflictCheck
    store = Store.open("sqlite://")
    try:
        from hub.model import Envelope
        events = _events()
        envs = MappingSet.load().apply("commerce-registry", events[0])
        check = ConflictCheck(store, "commerce:old", envs)
        assert check.judge(envs[0], supersede=False).verdict == NEW
        check.remember(envs[0])
        assert check.judge(envs[0], supersede=False).verdict == SAME
        other = Envelope.model_validate({**envs[0].model_dump(mode="json"),
                                         "payload": {**envs[0].payload.model_dump(mode="json"), "opinion": "x"}})
        assert check.judge(other, supersede=False).verdict == CONFLICT
        assert check.judge(other, supersede=True).verdict == UPDATE
        assert diff({"a": {"b": 1}, "c": 2}, {"a": {"b": 3}, "c": 2}) == ["a.b: 1 -> 3"]
    finally:
        store.close()


def test_a_replayed_conflict_goes_as_an_update_and_is_remembered(world):
    from hub.ops.replay import _accepted_version
    store, source, pub, worker = world
    events = _events()
    source.records += events
    worker.poll_once()
    changed = copy.deepcopy(events[0])
    changed["opinion"] = "更正"
    source.records.append(changed)
    worker.poll_once()
    row = next(d for d in store.list_dead_letters() if d["stage"] == "conflict")
    assert store.open_gates([row["case_no"]])[row["case_no"]][0]["id"] == row["id"]   # it holds the case
    env = MappingSet.load().apply("commerce-registry", changed)[0]
    first = next(s["message_id"] for s in _routed(pub) if s["headers"][names.H_RECORD_KEY] == "1")
    new, headers = _accepted_version(store, row, env, {})
    assert str(new.message_id) not in (first, str(env.message_id)) and headers[names.H_SUPERSEDES] == first
    # a re-read of the same record is now the exact replay of what the operator accepted
    source.records.append(copy.deepcopy(changed))
    before = len(_dead(pub))
    worker.poll_once()
    assert len(_dead(pub)) == before and _routed(pub)[-1]["message_id"] == str(new.message_id)


def test_a_conflict_with_a_version_whose_content_retention_removed_names_the_digest():
    # issue 13, item 5: the earlier payload is NULL after `tongban store purge-expired`; the
    # digest still tells the contents apart, and the reason says what is left of it
    from datetime import timedelta
    from hub.model import Envelope
    from hub.runtime.conflicts import ConflictCheck
    from hub.store.protection import Retention
    from hub.store.retention import purge_expired
    from hub.store.types import utcnow
    store = Store.open("sqlite://")
    try:
        envs = MappingSet.load().apply("commerce-registry", _events()[0])
        first = ConflictCheck(store, "commerce:old", envs)
        first.remember(envs[0])
        first.save()
        assert purge_expired(store, Retention(payload_days=1), now=utcnow() + timedelta(days=2))[
            "content_versions"]["expired"] == 1
        other = Envelope.model_validate({**envs[0].model_dump(mode="json"),
                                         "payload": {**envs[0].payload.model_dump(mode="json"), "opinion": "x"}})
        check = ConflictCheck(store, "commerce:old", [other])
        judged = check.judge(other, supersede=False)
        assert judged.verdict == CONFLICT and judged.prior["payload"] is None
        assert "removed by retention" in judged.reason(other, check.payload_of(other))
        assert check.judge(envs[0], supersede=False).verdict == SAME     # the digest still matches
    finally:
        store.close()
