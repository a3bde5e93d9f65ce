"""No forwarding without evidence (issue 13, item 1): a source whose message-log rows cannot be
written stops publishing, says so (log, metric), writes them as soon as it can and goes on;
the chain's head is read once and then cached between pages."""
from __future__ import annotations

import json
import logging
import random

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError

from hub.adapter import Page, RawRecord, Source
from hub.audit.verify import verify_store
from hub.bus import names
from hub.mapping import MappingSet
from hub.runtime.source_worker import SourceWorker
from hub.store import Store, messages
from sims.commerce_data import CaseFactory


class Publisher:
    def __init__(self):
        self.sent = []

    def publish(self, body, exchange, routing_key, *, message_id=None, headers=None, **_):
        self.sent.append({"exchange": exchange, "message_id": message_id})

    def flush(self):
        pass


class ListSource(Source):
    def __init__(self, records):
        self.records = records

    def fetch(self, cursor, limit):
        start = (cursor or {}).get("next", 0)
        page = self.records[start:start + limit]
        return Page(records=[RawRecord(key=str(r["eventId"]), data=r, raw=json.dumps(r, ensure_ascii=False))
                             for r in page], cursor={"next": start + len(page)},
                    has_more=start + len(page) < len(self.records))

    def close(self):
        pass


def _events(n: int) -> list[dict]:
    factory = CaseFactory(random.Random(5))
    out = []
    for _ in range(n):
        _, events = factory.case(bad=False)
        for e in events:
            e.pop("_at", None)
            e["eventId"] = len(out) + 1
            e["updatedAt"] = "2026-12-01T09:00:00.000000"
            out.append(e)
    return out


@pytest.fixture
def world(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    pub = Publisher()
    worker = SourceWorker(name="commerce:old", department="commerce", system="commerce-registry", track="old",
                          source=ListSource(_events(6)), mappings=MappingSet.load(), publisher=pub, store=store,
                          page_size=5)
    yield store, pub, worker
    store.close()


def _routed(pub):
    return [s for s in pub.sent if s["exchange"] == names.EVENTS]


def _gauge():
    return REGISTRY.get_sample_value("tongban_message_log_writable", {"department": "commerce", "track": "old"})


def test_the_head_is_read_once_then_cached_between_pages(world, monkeypatch):
    store, pub, worker = world
    reads = []
    real = messages.chain_heads
    monkeypatch.setattr(messages, "chain_heads", lambda conn, t, chains: reads.append(list(chains)) or real(conn, t, chains))
    pages = 0
    while worker.poll_once().has_more:
        pages += 1
    assert pages >= 3
    assert len(reads) == 1                       # the first page only
    assert verify_store(store)["ok"]
    assert store.chains("message_log")["commerce:old"][0] == len(_routed(pub))


def test_two_sources_of_one_system_write_their_own_chains(world):
    """Two readers of one department and system (two feeds of one registry) each keep a chain:
    they never extend one head, so neither stops forwarding on the other's rows."""
    store, pub, worker = world
    events = _events(6)
    for e in events:
        e["eventId"] += 1000     # other records than the first feed's
    second = SourceWorker(name="commerce-branch:old", department="commerce", system="commerce-registry",
                          track="old", source=ListSource(events), mappings=MappingSet.load(), publisher=pub,
                          store=store, page_size=5)
    for _ in range(4):        # pages of the two feeds interleaved, as two processes write them
        worker.poll_once()
        second.poll_once()
    chains = store.chains("message_log")
    assert chains["commerce:old"][0] > 0 and chains["commerce-branch:old"][0] > 0
    assert chains["commerce:old"][0] + chains["commerce-branch:old"][0] == len(_routed(pub))
    assert verify_store(store)["ok"]


def test_a_log_that_cannot_be_written_stops_forwarding_and_says_so(world, monkeypatch, caplog):
    store, pub, worker = world
    worker.poll_once()
    routed, cursor = len(_routed(pub)), store.get_checkpoint("commerce:old")
    assert _gauge() == 1

    def broken(rows, heads=None):
        raise OperationalError("INSERT INTO message_log", {}, Exception("disk I/O error"))
    monkeypatch.setattr(store, "log_messages", broken)
    caplog.set_level(logging.ERROR, "tongban.source")
    worker.poll_once()                            # this page was published, its log refused
    after_failure = len(_routed(pub))
    assert after_failure > routed
    assert store.get_checkpoint("commerce:old") == cursor      # not moved: the page is not done
    assert _gauge() == 0
    assert "message log cannot be written" in caplog.text and "forwarding stopped" in caplog.text
    assert worker.chain_heads == {}               # re-read after a failed transaction
    for _ in range(3):                            # nothing more goes onward while it fails
        assert worker.poll_once().published == 0
    assert len(_routed(pub)) == after_failure

    monkeypatch.undo()
    worker.poll_once()                            # the refused page's rows first, nothing republished
    assert len(_routed(pub)) == after_failure
    assert store.get_checkpoint("commerce:old") != cursor
    assert _gauge() == 1
    while worker.poll_once().has_more:
        pass
    assert verify_store(store)["ok"]
    assert sorted(store.logged_ids([s["message_id"] for s in _routed(pub)])) == \
        sorted({s["message_id"] for s in _routed(pub)})
