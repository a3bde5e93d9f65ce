"""No delivery without evidence (issue 13, item 1), the delivery side, without a broker: a
message whose message-log row is not written waits (retry queue, its case held, the breaker
untouched) and goes exactly once when the row comes; one whose row never comes is
dead-lettered, its reason starting "evidence:"; an operator's replay is exempt; one query per batch."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from hub.bus import Delivery, names
from hub.delivery import ACCEPTED
from hub.runtime.breaker import CircuitBreaker
from hub.runtime.delivery_worker import DeliveryWorker
from hub.runtime.retry import RetryPolicy
from hub.store import Store
from tests.reliability.fakes import Msg, Publisher


class Destination:
    name = "platform"

    def __init__(self):
        self.got = []

    def send(self, body, meta):
        self.got.append(meta.message_id)
        return ACCEPTED


def msg(mid, case="C1", seq=1, **headers) -> Delivery:
    h = {names.H_KIND: "case_event", names.H_CASE_NO: case, names.H_SEQUENCE: seq, names.H_DEPARTMENT: "commerce",
         **headers}
    return Delivery(json.dumps({"message_id": mid}).encode(), h, "commerce.case_event.x", mid, False, Msg())


def log(store, *mids, case="C1"):
    """What the source writes once its log transaction goes through."""
    store.log_messages([{"message_id": m, "kind": "case_event", "department": "commerce", "case_no": case,
                         "produced_at": datetime.now(timezone.utc)} for m in mids])


@pytest.fixture
def parts(store_url):
    url, kwargs = store_url
    store = Store.open(url, engine_kwargs=kwargs)
    dest, pub = Destination(), Publisher()
    breaker = CircuitBreaker("platform", store, threshold=2)
    worker = DeliveryWorker(dest, store, pub, RetryPolicy((1000, 2000), max_attempts=3), breaker)
    yield store, dest, pub, worker
    store.close()


def test_a_message_without_its_log_row_waits_then_goes_exactly_once(parts):
    store, dest, pub, worker = parts
    log(store, "b1", case="C2")
    batch = [msg("a1"), msg("a2", seq=2), msg("b1", "C2")]
    worker.handle(batch)                      # a1, a2 published by a source whose log commit failed
    assert dest.got == ["b1"] and all(d._message.acked for d in batch)
    (key, mid, headers), = pub.sent
    assert mid == "a1" and headers[names.H_ATTEMPTS] == 1 and headers[names.H_DELAY] == "tongban.delay.platform.1s"
    hold = store.holds("platform", ["C1"])["C1"]
    assert hold["status"] == "retrying" and hold["reason"].startswith("evidence: message a1 has no row")
    assert [p["message_id"] for p in store.parked("platform", "C1")] == ["a2"]
    # the destination never failed: its breaker counts nothing, nor does the retries metric
    assert worker.breaker.state == "closed" and worker.breaker.failures == 0 and worker.retried == 0

    worker.handle([msg("a1", **pub.sent[0][2])])   # the retry copy, the rows still not written
    assert dest.got == ["b1"] and pub.sent[-1][2][names.H_ATTEMPTS] == 2
    log(store, "a1", "a2")                    # the source wrote its page's rows at last
    worker.handle([msg("a1", **pub.sent[-1][2])])
    assert dest.got == ["b1", "a1", "a2"]
    assert store.list_holds() == [] and store.parked("platform", "C1") == []
    worker.handle([msg("a1"), msg("a2", seq=2)])   # the source's re-read page, published again: the ledger skips it
    assert dest.got == ["b1", "a1", "a2"]


def test_a_row_that_never_comes_is_dead_lettered_saying_so_and_a_replay_goes(parts):
    store, dest, pub, worker = parts
    worker.handle([msg("a1")])
    worker.handle([msg("a1", **pub.sent[-1][2])])
    worker.handle([msg("a1", **pub.sent[-1][2])])  # the third check is the limit
    dead = pub.sent[-1]
    assert dead[0] == "deliver.commerce" and dead[2][names.H_STAGE] == "deliver"
    assert "gave up after 3 attempts: evidence: message a1 has no row in the message log" in dead[2][names.H_REASON]
    hold = store.holds("platform", ["C1"])["C1"]
    assert hold["status"] == "dead" and dest.got == []
    # an operator's replay: exempt (its evidence is the dead letter and the audit of the replay)
    worker.handle([msg("a1", **{names.H_REPLAYED_FROM: hold["dead_letter_id"]})])
    assert dest.got == ["a1"] and store.list_holds() == []


def test_the_log_is_asked_once_per_batch(parts, monkeypatch):
    store, dest, pub, worker = parts
    mids = [f"m{i}" for i in range(50)]
    for i, m in enumerate(mids):
        log(store, m, case=f"C{i}")
    asked = []
    real = store.logged_ids
    monkeypatch.setattr(store, "logged_ids", lambda ids: asked.append(list(ids)) or real(ids))
    worker.handle([msg(m, f"C{i}") for i, m in enumerate(mids)])
    assert dest.got == mids and len(asked) == 1 and sorted(asked[0]) == sorted(mids)
    worker.handle([msg(m, f"C{i}") for i, m in enumerate(mids)])   # redelivered: one query again, no more
    assert len(asked) == 2


def test_a_log_row_committed_just_after_the_message_arrives_is_waited_for_not_retried(parts):
    """The common race: the source's page commit lands a few milliseconds after its confirms,
    while a quick delivery worker already holds the messages. They go in the same batch."""
    import threading
    store, dest, pub, worker = parts
    late = threading.Timer(0.2, lambda: log(store, "m-late", case="C7"))
    late.start()
    worker.handle([msg("m-late", "C7")])
    late.join()
    assert dest.got == ["m-late"] and worker.retried == 0 and pub.sent == []
    assert store.list_holds(worker.destination.name) == []
