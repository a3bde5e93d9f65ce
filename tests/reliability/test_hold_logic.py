"""The delivery worker's hold logic without a broker, at the crash windows a real run hits
only by chance: a stale copy of a held message, a head delivered by a batch that died
before lifting the hold, a replay arriving before its release, the order of a drain,
and a probe that fails (given back, uncounted)."""
from __future__ import annotations

import json

import pytest

from hub.bus import Delivery, names
from hub.delivery import ACCEPTED, DeliveryError
from hub.runtime.breaker import CircuitBreaker
from hub.runtime.delivery_worker import BreakerOpen, DeliveryWorker
from hub.runtime.retry import RetryPolicy
from hub.store import Store
from tests.reliability.fakes import Msg, Publisher, log_first


class Destination:
    name = "platform"

    def __init__(self):
        self.got, self.failing = [], set()

    def send(self, body, meta):
        if meta.message_id in self.failing:
            raise DeliveryError("HTTP 503", transient=True)
        self.got.append(meta.message_id)
        return ACCEPTED


def msg(mid, case="C1", seq=1, **headers) -> Delivery:
    h = {names.H_KIND: "case_event", names.H_CASE_NO: case, names.H_SEQUENCE: seq, names.H_DEPARTMENT: "commerce",
         **headers}
    return Delivery(json.dumps({"message_id": mid}).encode(), h, "commerce.case_event.x", mid, False, Msg())


@pytest.fixture
def world():
    store = Store.open("sqlite://")
    dest, pub = Destination(), Publisher()
    worker = log_first(store, DeliveryWorker(dest, store, pub, RetryPolicy((1000, 2000), max_attempts=3),
                                             CircuitBreaker("platform", store, threshold=10)))
    yield store, dest, pub, worker
    store.close()


def test_failure_holds_the_case_parks_its_later_messages_and_a_drain_keeps_order(world):
    store, dest, pub, worker = world
    dest.failing.add("a1")
    batch = [msg("a1"), msg("b1", "C2"), msg("a2", seq=2), msg("a3", seq=3)]
    worker.handle(batch)
    assert dest.got == ["b1"] and all(d._message.acked for d in batch)
    # the retry copy goes to the delay exchange with its original routing key; the header picks the delay queue
    assert pub.sent[0][:2] == ("commerce.case_event.x", "a1") and pub.sent[0][2][names.H_ATTEMPTS] == 1
    assert pub.sent[0][2][names.H_DELAY] == names.retry_queue("platform", 1000) == "tongban.delay.platform.1s"
    assert [p["message_id"] for p in store.parked("platform", "C1")] == ["a2", "a3"]
    dest.failing.clear()
    worker.handle([msg("a4", seq=4), msg("a1", **pub.sent[0][2])])   # a4 arrives before the retry copy
    assert dest.got == ["b1", "a1", "a2", "a3", "a4"]
    assert store.list_holds() == [] and store.parked("platform", "C1") == []


def test_a_stale_copy_is_dropped_and_the_live_one_is_counted_on(world):
    store, dest, pub, worker = world
    dest.failing.add("a1")
    worker.handle([msg("a1")])
    worker.handle([msg("a1")])   # the original again: a crash fell between the retry publish and its ack
    assert len(pub.sent) == 1 and dest.got == []
    worker.handle([msg("a1", **pub.sent[0][2])])
    worker.handle([msg("a1", **pub.sent[1][2])])
    # the third failure is the limit: dead-lettered, with the count from the headers
    dead = pub.sent[2]
    assert dead[0] == "deliver.commerce" and dead[2][names.H_ATTEMPTS] == 3
    assert store.holds("platform", ["C1"])["C1"]["status"] == "dead"


def test_head_already_in_the_ledger_lifts_the_hold(world):
    store, dest, pub, worker = world
    dest.failing.add("a1")
    worker.handle([msg("a1"), msg("a2", seq=2)])
    store.record_deliveries("platform", [{"message_id": "a1", "outcome": "accepted"}])   # sent, then the crash
    worker.handle([msg("a1", **pub.sent[0][2])])
    assert dest.got == ["a2"] and store.list_holds() == []


def test_a_replay_is_recognised_by_its_dead_letter_even_before_the_release(world):
    store, dest, pub, worker = world
    dest.failing.add("a1")
    worker.handle([msg("a1")])
    worker.handle([msg("a1", **pub.sent[0][2])])
    worker.handle([msg("a1", **pub.sent[1][2]), msg("a2", seq=2)])
    hold = store.holds("platform", ["C1"])["C1"]
    assert hold["status"] == "dead" and [p["message_id"] for p in store.parked("platform", "C1")] == ["a2"]
    dest.failing.clear()
    worker.handle([msg("a1", **{names.H_REPLAYED_FROM: "not-this-one"})])
    assert dest.got == []                                   # a stale copy: the dead letter holds it
    worker.handle([msg("a1", **{names.H_REPLAYED_FROM: hold["dead_letter_id"]})])
    assert dest.got == ["a1", "a2"] and store.list_holds() == []


def test_breaker_opens_after_k_failures_and_a_failed_probe_goes_back_uncounted(world):
    store, dest, pub, worker = world
    worker.breaker.threshold = 3
    dest.failing.update({"a1", "b1", "c1", "d1"})
    batch = [msg("a1"), msg("b1", "C2"), msg("c1", "C3"), msg("d1", "C4")]
    with pytest.raises(BreakerOpen):
        worker.handle(batch)
    assert [d._message.acked for d in batch] == [True, True, True, False]   # d1 goes back to the queue
    assert store.get_breaker("platform")["state"] == "open" and len(pub.sent) == 3
    worker.breaker.probe_at = None
    worker.breaker.state = "half_open"
    store.save_breaker("platform", state="half_open", failures=3, cooldown_ms=5000)
    probe = msg("d1", "C4")
    with pytest.raises(BreakerOpen):
        worker.handle([probe])
    assert not probe._message.acked and len(pub.sent) == 3   # not counted, not retried
    assert store.get_breaker("platform")["cooldown_ms"] == 10000
