"""Delayed redelivery through retry queues, with holds keeping per-case order.

A message that fails transiently waits in a retry queue (its attempt count in its
headers) while other cases flow past it; the later messages of its own case wait behind
it (parked) and follow it in order. After the limit it is dead-lettered with its
attempts and failure times, its case stays held, and a replay releases the hold and
puts the case's messages through in order."""
from __future__ import annotations

import pytest
import requests

from hub.ops.replay import release_case, replay
from hub.ops.status import delivery_state
from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import wait_until, empty_queues
from tests.reliability import flaky

TIERS = [0.5, 1.0]


@pytest.fixture
def retry_settings(settings, monkeypatch):
    settings["retry"] = {"tiers": TIERS, "max_attempts": 4}
    empty_queues(settings)  # a previous test's copies must not come back into this one
    return settings


def _received(sims) -> list[dict]:
    return requests.get(sims.urls["platform"] + "/_admin/received", timeout=10).json()["items"]


def _load(sims, cases: int) -> list[str]:
    return requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": cases}, timeout=60).json()["applyNos"]


def _complete(settings, store, hub, platform: int):
    return wait_until(lambda: (r := verify(settings, store, hub.mappings))["ok"]
                      and r["destinations"]["platform"]["delivered"] == platform and r,
                      timeout=90, interval=0.5, what=f"{platform} platform deliveries")


def test_failing_message_is_retried_later_others_flow_and_its_case_follows_in_order(retry_settings, sims,
                                                                                     monkeypatch):
    dest = flaky.install(monkeypatch, retry_settings)
    cases = _load(sims, 30)
    slow = cases[0]
    dest.fail_first(slow, times=2)
    store = Store.open(retry_settings["db_url"])
    hub = Hub(retry_settings, store=store).start()
    try:
        report = _complete(retry_settings, store, hub, 90)
    finally:
        hub.shutdown()
    assert report["destinations"]["platform"]["duplicates"] == 0
    assert report["destinations"]["platform"]["out_of_order"] == 0
    head = dest.targets[slow]
    assert dest.calls_for(head) == ["failed", "failed", "sent"]
    received = _received(sims)
    slow_items = [i for i in received if i["case_no"] == slow]
    assert [i["sequence"] for i in slow_items] == [1, 2, 3]
    # Not blocked: other cases' messages, queued behind the failing one, arrived before it.
    first_slow = received.index(slow_items[0])
    assert sum(1 for i in received[:first_slow] if i["case_no"] != slow) >= 30
    # Nothing stays held or parked; the province, not failing, got the case as usual.
    assert store.list_holds() == [] and delivery_state(store).get("platform", {}).get("parked", 0) == 0
    assert report["destinations"]["province"]["missing"] == 0


def test_attempts_travel_in_headers_across_a_restart_then_dead_letter_holds_and_replay_releases(
        retry_settings, sims, monkeypatch):
    dest = flaky.install(monkeypatch, retry_settings)
    cases = _load(sims, 10)
    stuck = cases[0]
    dest.fail_first(stuck)
    store = Store.open(retry_settings["db_url"])
    hub = Hub(retry_settings, store=store).start()
    try:
        wait_until(lambda: (h := store.holds("platform", [stuck]).get(stuck)) and h["attempts"] >= 1,
                   timeout=30, what="the first failure holding the case")
    finally:
        hub.shutdown()
    # A new hub (fresh memory) continues the count from the headers of the copy it receives.
    hub = Hub(retry_settings, store=store).start()
    try:
        dead = wait_until(lambda: store.list_dead_letters(stage="deliver"), timeout=60, what="the dead letter")
        report = wait_until(lambda: (r := verify(retry_settings, store, hub.mappings))["destinations"]["platform"][
            "delivered"] == 27 and r, timeout=60, what="every other case delivered")
        # the dead head is missing; the case's two later messages are parked behind it (held)
        assert (report["destinations"]["platform"]["missing"], report["destinations"]["platform"]["held"]) == (1, 2)
        row = dead[0]
        head = dest.targets[stuck]
        assert (row["message_id"], row["destination"], row["case_no"]) == (head, "platform", stuck)
        assert row["attempts"] == 4 and dest.calls_for(head) == ["failed"] * 4
        assert "gave up after 4 attempts" in row["reason"] and "injected transient failure" in row["reason"]
        assert row["first_failed_at"] < row["last_failed_at"]
        # The case's later events are parked, not delivered and not dead-lettered.
        hold = store.holds("platform", [stuck])[stuck]
        assert hold["status"] == "dead" and hold["dead_letter_id"] == row["id"]
        wait_until(lambda: len(store.parked("platform", stuck)) == 2, timeout=30, what="two parked messages")
        assert [i for i in _received(sims) if i["case_no"] == stuck] == []
        assert delivery_state(store)["platform"]["held_dead"] == 1

        dest.heal(stuck)
        done = replay(retry_settings, store, ids=[row["id"]], actor="tester", reason="platform fixed")
        assert done["replayed"] == 1
        report = _complete(retry_settings, store, hub, 30)
    finally:
        hub.shutdown()
    assert [i["sequence"] for i in _received(sims) if i["case_no"] == stuck] == [1, 2, 3]
    assert report["destinations"]["platform"]["duplicates"] == 0
    assert store.list_holds() == [] and store.parked("platform", stuck) == []
    assert store.get_dead_letter(row["id"])["status"] == "replayed"
    assert store.audit_log("hold.release")[0]["target"] == f"platform/{stuck}"


def test_refused_message_holds_its_case_until_an_operator_gives_it_up(retry_settings, sims, monkeypatch):
    dest = flaky.install(monkeypatch, retry_settings)
    cases = _load(sims, 5)
    refused = cases[1]
    dest.refuse.add(refused)
    store = Store.open(retry_settings["db_url"])
    hub = Hub(retry_settings, store=store).start()
    try:
        dead = wait_until(lambda: store.list_dead_letters(stage="deliver"), timeout=30, what="the dead letter")
        wait_until(lambda: len(store.parked("platform", refused)) == 2, timeout=30, what="the case parked")
        wait_until(lambda: verify(retry_settings, store, hub.mappings)["destinations"]["platform"]["delivered"] == 12,
                   timeout=30, what="the other cases")
        assert dead[0]["attempts"] == 1 and "injected refusal" in dead[0]["reason"]
        assert dest.calls_for(dest.targets[refused]) == ["refused"]
        # The operator purges the refused message and lets the case go on without it.
        store.mark_dead_letters([dead[0]["id"]], "purged", "tester", "refused for good")
        assert release_case(retry_settings, store, destination="platform", case_no=refused, actor="tester",
                            reason="refused for good")["parked"] == 2
        wait_until(lambda: len([i for i in _received(sims) if i["case_no"] == refused]) == 2, timeout=30,
                   what="the parked messages delivered")
    finally:
        hub.shutdown()
    assert [i["sequence"] for i in _received(sims) if i["case_no"] == refused] == [2, 3]
    assert store.list_holds() == [] and store.parked("platform", refused) == []
    assert store.audit_log("hold.give_up")[0]["target"] == f"platform/{refused}"
