"""The delivery's order check for steps the source sends early, without a broker: reversed,
shuffled and gapped steps, several cases interleaved, a step that only goes elsewhere, the
gap timeout, a correction, the `ordered` mode's refusal of a late step."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings as h_settings, strategies as st

from hub.bus import Delivery, names
from hub.delivery import ACCEPTED
from hub.routing.routes import Route
from hub.runtime.breaker import CircuitBreaker
from hub.runtime.delivery_worker import DeliveryWorker
from hub.runtime.retry import RetryPolicy
from hub.store import Store
from tests.reliability.fakes import Msg, Publisher

# the platform gets every case event; the province only decisions (as config/routes.yaml)
ROUTES = [Route("all", "platform", (), "case_event", ()), Route("decisions", "province", (), "case_event", ("decided",))]
EVENTS = {1: "accepted", 2: "decided", 3: "certificate_issued", 4: "closed", 5: "archived"}


class Destination:
    def __init__(self, name="platform"):
        self.name, self.got = name, []

    def send(self, body, meta):
        self.got.append((meta.case_no, meta.sequence))
        return ACCEPTED


def _key(seq: int) -> str:
    return f"commerce.case_event.{EVENTS[seq]}"


def msg(case: str, seq: int, mode: str = "gap_free", **headers) -> Delivery:
    mid = f"{case}-{seq}"
    h = {names.H_KIND: "case_event", names.H_CASE_NO: case, names.H_SEQUENCE: seq,
         names.H_DEPARTMENT: "commerce", names.H_SEQ_MODE: mode, **headers}
    return Delivery(json.dumps({"message_id": mid}).encode(), h, _key(seq), mid, False, Msg())


def logged(store, case: str, *seqs: int) -> None:
    """What the source worker writes once the broker confirmed the step."""
    now = datetime.now(timezone.utc)
    store.log_messages([{"message_id": f"{case}-{s}", "kind": "case_event", "department": "commerce",
                         "case_no": case, "sequence": s, "routing_key": _key(s), "produced_at": now}
                        for s in seqs])


def worker(store, dest=None, gap=600.0):
    pub = Publisher()
    dest = dest or Destination()
    w = DeliveryWorker(dest, store, pub, RetryPolicy((1000,), max_attempts=3),
                       CircuitBreaker(dest.name, store, threshold=10), routes=ROUTES,
                       settings={"sequence": {"gap_seconds": gap}})
    return w, dest, pub


@pytest.fixture
def store():
    s = Store.open("sqlite://")
    yield s
    s.close()


def deliver(w, store, arrivals):
    """The source reads each step (logs it) and the destination's queue brings it."""
    for case, seq in arrivals:
        logged(store, case, seq)
        w.handle([msg(case, seq)])


def test_reversed_steps_reach_the_destination_in_order(store):
    w, dest, _ = worker(store)
    deliver(w, store, [("C1", 3), ("C1", 2), ("C1", 1)])
    assert dest.got == [("C1", 1), ("C1", 2), ("C1", 3)]
    assert store.list_holds() == [] and store.parked("platform", "C1") == []


def test_without_the_check_the_same_arrivals_go_out_of_order(store):
    """The guard matters: messages with no sequence mode are sent as they come."""
    w, dest, _ = worker(store)
    for seq in (3, 2, 1):
        logged(store, "C1", seq)
        w.handle([msg("C1", seq, mode="none")])
    assert dest.got == [("C1", 3), ("C1", 2), ("C1", 1)]


@h_settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=4, unique=True).flatmap(
    lambda cases_steps: st.permutations([(f"C{c}", s) for c in range(len(cases_steps))
                                         for s in range(1, cases_steps[c] + 1)])))
def test_any_interleaving_of_shuffled_steps_is_delivered_in_order_per_case(arrivals):
    store = Store.open("sqlite://")
    try:
        w, dest, _ = worker(store)
        deliver(w, store, arrivals)
        for case in {c for c, _ in arrivals}:
            got = [s for c, s in dest.got if c == case]
            assert got == sorted(s for c, s in arrivals if c == case)
        assert len(dest.got) == len(arrivals) and store.list_holds() == []
    finally:
        store.close()


def test_a_stuck_case_never_blocks_another(store):
    w, dest, _ = worker(store)
    deliver(w, store, [("C1", 1), ("C1", 3), ("C2", 1), ("C2", 2), ("C1", 4), ("C2", 3)])
    assert [s for c, s in dest.got if c == "C2"] == [1, 2, 3]
    assert [s for c, s in dest.got if c == "C1"] == [1]
    hold = store.holds("platform", ["C1"])["C1"]
    assert (hold["status"], hold["head_message_id"]) == ("waiting", "seq:2")
    assert "step 2 of case C1 has not arrived (step 3 came first)" in hold["reason"]
    assert [p["message_id"] for p in store.parked("platform", "C1")] == ["C1-3", "C1-4"]
    deliver(w, store, [("C1", 2)])
    assert [s for c, s in dest.got if c == "C1"] == [1, 2, 3, 4]


def test_a_step_that_goes_only_elsewhere_needs_reading_not_delivering_here(store):
    """The province gets step 2 (decided) only; step 1 must have been read, nothing more."""
    w, dest, _ = worker(store, Destination("province"))
    w.handle([msg("C1", 2)])                  # the decision, before the source logged step 1
    assert dest.got == []
    logged(store, "C1", 1, 2)
    w._ticked = 0
    w.tick()                                  # between batches: step 1 is read now
    assert dest.got == [("C1", 2)] and store.list_holds() == []


def test_a_step_that_never_comes_gives_up_at_stage_sequence_and_the_late_one_still_goes_first(store):
    w, dest, pub = worker(store, gap=0.0)
    deliver(w, store, [("C1", 1), ("C1", 3), ("C1", 4)])
    w._ticked = 0
    w.tick()
    # a dead letter's message_id is its own id; the message it holds is x-tongban-message-id (docs/wire.md)
    dead = [h for rk, mid, h in pub.sent if h.get(names.H_MESSAGE_ID, mid) == "C1-3"]
    assert dead and dead[0][names.H_STAGE] == "sequence"
    assert "step 2 of case C1 did not arrive within 0 s (step 3 came first)" in dead[0][names.H_REASON]
    hold = store.holds("platform", ["C1"])["C1"]
    assert hold["status"] == "dead" and hold["head_message_id"] == "C1-3"
    deliver(w, store, [("C1", 2)])            # it came after all: in order, before the dead step 3
    assert dest.got == [("C1", 1), ("C1", 2)]
    replay = msg("C1", 3, **{names.H_REPLAYED_FROM: hold["dead_letter_id"]})
    w.handle([replay])                        # the operator's replay, then the parked step 4
    assert dest.got == [("C1", 1), ("C1", 2), ("C1", 3), ("C1", 4)] and store.list_holds() == []


def test_the_gap_clock_starts_when_the_wait_does(store):
    w, dest, pub = worker(store, gap=3600.0)
    deliver(w, store, [("C1", 1), ("C1", 3)])
    w._ticked = 0
    w.tick()
    assert pub.sent == [] and store.holds("platform", ["C1"])["C1"]["status"] == "waiting"
    # an hour later (the hold's clock moved back), the tick gives up
    with store._write() as conn:
        from sqlalchemy import update
        from hub.store.schema import delivery_holds
        conn.execute(update(delivery_holds).values(created_at=datetime.now(timezone.utc) - timedelta(hours=2)))
    w._ticked = 0
    w.tick()
    assert [h[names.H_STAGE] for _, _, h in pub.sent] == ["sequence"]


def test_a_new_version_of_a_delivered_step_goes_as_an_update(store):
    w, dest, _ = worker(store)
    deliver(w, store, [("C1", 1), ("C1", 2), ("C1", 3)])
    fix = msg("C1", 2)
    fix = Delivery(fix.body, fix.headers, fix.routing_key, "C1-2-v2", False, Msg())
    store.log_messages([{"message_id": "C1-2-v2", "kind": "case_event", "department": "commerce", "case_no": "C1",
                         "sequence": 2, "routing_key": _key(2), "produced_at": datetime.now(timezone.utc)}])
    w.handle([fix])
    assert dest.got[-1] == ("C1", 2) and len(dest.got) == 4


def test_ordered_mode_waits_for_nothing_and_refuses_a_step_after_a_later_one(store):
    w, dest, pub = worker(store)
    for seq in (1, 3, 2):
        logged(store, "C1", seq)
        w.handle([msg("C1", seq, mode="ordered")])
    assert dest.got == [("C1", 1), ("C1", 3)]
    refused = pub.sent[-1]
    assert refused[2][names.H_MESSAGE_ID] == "C1-2" and refused[2][names.H_STAGE] == "sequence"
    assert refused[1] == refused[2][names.H_DEAD_LETTER_ID]
    assert "step 2 of case C1 arrived after step 3 was delivered" in refused[2][names.H_REASON]


@pytest.mark.parametrize("order", list(itertools.permutations([1, 2, 3])))
def test_every_order_of_three_steps_in_one_batch(store, order):
    w, dest, _ = worker(store)
    logged(store, "C1", *order)
    w.handle([msg("C1", s) for s in order])
    assert dest.got == [("C1", 1), ("C1", 2), ("C1", 3)]


def test_a_dead_letter_of_a_stage_the_store_does_not_know_is_kept_not_refused_for_ever(store):
    """The recorder acks only after the insert: a row the store refuses would come back for ever."""
    from hub.runtime.deadletters import DeadLetterRecorder
    h = {names.H_DEAD_LETTER_ID: "dl-1", names.H_STAGE: "from-a-newer-hub", names.H_REASON: "why",
         names.H_DEPARTMENT: "commerce", names.H_CASE_NO: "C1"}
    d = Delivery(b"{}", h, "deliver.platform", "m1", False, Msg())
    DeadLetterRecorder(store).handle([d])
    row = store.get_dead_letter("dl-1")
    assert d._message.acked and row["stage"] == "deliver" and row["reason"] == "(stage 'from-a-newer-hub') why"


def test_the_sources_read_headers_spare_the_store_and_only_an_early_step_asks_it(store):
    """Step 2 at the province, the source having read step 1 before it (its headers say so):
    sent at once although the log write of step 1 has not landed yet (its own has: no delivery
    without evidence). The same step with headers saying step 1 was not read before it waits."""
    w, dest, _ = worker(store, Destination("province"))
    logged(store, "C1", 2)
    logged(store, "C2", 2)
    w.handle([msg("C1", 2, **{names.H_READ_THROUGH: 1, names.H_READ_MAX: 1})])
    assert dest.got == [("C1", 2)]
    w.handle([msg("C2", 2, **{names.H_READ_THROUGH: 0, names.H_READ_MAX: 0})])
    assert dest.got == [("C1", 2)] and store.holds("province", ["C2"])["C2"]["head_message_id"] == "seq:1"


def test_steps_that_come_late_and_out_of_order_after_a_give_up_still_go_before_it(store):
    """1, 4, 5; step 4 gives up waiting for 2; then 3, then 2 come; then the replay of 4."""
    w, dest, pub = worker(store, gap=0.0)
    deliver(w, store, [("C1", 1), ("C1", 4), ("C1", 5)])
    w._ticked = 0
    w.tick()
    hold = store.holds("platform", ["C1"])["C1"]
    assert hold["status"] == "dead" and hold["head_message_id"] == "C1-4"
    deliver(w, store, [("C1", 3), ("C1", 2)])
    assert dest.got == [("C1", 1), ("C1", 2), ("C1", 3)]
    store.release_hold("platform", "C1", "C1-4", "ops", "replaying step 4")   # what a replay does first
    w.handle([msg("C1", 4, **{names.H_REPLAYED_FROM: hold["dead_letter_id"]})])
    assert dest.got == [("C1", s) for s in (1, 2, 3, 4, 5)] and store.list_holds() == []
    assert [h[names.H_STAGE] for _, _, h in pub.sent] == ["sequence"]     # nothing refused as late
