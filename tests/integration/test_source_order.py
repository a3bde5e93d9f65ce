"""Steps the legacy system writes out of order, on the real broker: the commerce system
writes each case's steps reversed or shuffled, or keeps one back; the platform and the
province still get every case's steps in order, a stuck case blocks no other, and a step
that never comes ends as a dead letter at stage `sequence` that an operator can replay."""
from __future__ import annotations

import requests

from hub.ops.replay import replay
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import wait_until, wait_delivered


def _load(sims, **body) -> dict:
    resp = requests.post(sims.urls["commerce"] + "/_admin/load", json=body, timeout=60)
    resp.raise_for_status()
    return resp.json()


def _commerce_only(settings, gap_seconds: float) -> dict:
    for name, conf in settings["adapters"].items():
        conf["enabled"] = name == "commerce"
    settings["sequence"] = {"gap_seconds": gap_seconds}
    return settings


def _steps_at(sims, dest: str, cases: set[str]) -> dict[str, list[int]]:
    items = requests.get(sims.urls[dest] + "/_admin/received", timeout=10).json()["items"]
    out: dict[str, list[int]] = {}
    for i in items:
        case = i["case_no"] if "case_no" in i else i.get("caseNo")
        if case in cases and i.get("kind", "case_event") == "case_event":
            out.setdefault(case, []).append(int(i["sequence"]))
    return out


def _complete(settings, store, hub):
    return wait_delivered(settings, store, hub.mappings, timeout=150, what="every step delivered")


def test_reversed_and_shuffled_steps_arrive_in_order(settings, sims):
    _commerce_only(settings, 600)
    cases = set(_load(sims, cases=40, step_order="reversed")["applyNos"])
    cases |= set(_load(sims, cases=40, step_order="shuffled")["applyNos"])
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        report = _complete(settings, store, hub)
    finally:
        hub.shutdown()
    for d in report["destinations"].values():
        assert d["out_of_order"] == d["duplicates"] == 0, d
    platform = _steps_at(sims, "platform", cases)
    assert len(platform) == 80 and all(steps == [1, 2, 3] for steps in platform.values()), platform
    assert store.list_holds() == [] and store.list_dead_letters() == []
    store.close()


def test_a_withheld_step_holds_only_its_case_and_goes_first_when_it_comes(settings, sims):
    _commerce_only(settings, 600)
    made = _load(sims, cases=12, step_order="shuffled", withhold_step=2, withhold_cases=3)["applyNos"]
    stuck, free = set(made[:3]), set(made[3:])
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        wait_until(lambda: (s := _steps_at(sims, "platform", free)) and len(s) == 9
                   and all(v == [1, 2, 3] for v in s.values()), timeout=90, what="the nine free cases delivered")
        holds = wait_until(lambda: (h := [x for x in store.list_holds("platform") if x["case_no"] in stuck])
                           and len(h) == 3 and h, timeout=30, what="the three stuck cases waiting")
        assert all(h["status"] == "waiting" and h["head_message_id"] == "seq:2" for h in holds), holds
        assert all(steps == [1] for steps in _steps_at(sims, "platform", stuck).values())
        requests.post(sims.urls["commerce"] + "/_admin/release-withheld", json={}, timeout=10).raise_for_status()
        report = _complete(settings, store, hub)
    finally:
        hub.shutdown()
    for d in report["destinations"].values():
        assert d["out_of_order"] == 0, d
    assert all(steps == [1, 2, 3] for steps in _steps_at(sims, "platform", stuck).values())
    store.close()


def test_a_step_that_never_comes_is_dead_lettered_at_stage_sequence_and_replayed(settings, sims):
    _commerce_only(settings, 2)
    made = _load(sims, cases=4, withhold_step=2, withhold_cases=1)["applyNos"]
    stuck = made[0]
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        # at each destination its first early step (the platform's 发照 event, the province's licence)
        dead = wait_until(lambda: (d := [x for x in store.list_dead_letters() if x["stage"] == "sequence"])
                          and len(d) == 2 and d, timeout=60, what="the early steps dead-lettered at stage sequence")
        assert {d["destination"] for d in dead} == {"platform", "province"} and {d["case_no"] for d in dead} == {stuck}
        assert all(f"step 2 of case {stuck} did not arrive within 2 s (step 3 came first)" in d["reason"]
                   for d in dead)
        assert _steps_at(sims, "platform", {stuck}) == {stuck: [1]}
        # the missing step comes after all: it goes, ahead of the dead step 3
        requests.post(sims.urls["commerce"] + "/_admin/release-withheld", json={}, timeout=10).raise_for_status()
        wait_until(lambda: _steps_at(sims, "platform", {stuck}) == {stuck: [1, 2]}, timeout=30,
                   what="step 2 delivered")
        replay(settings, store, stage="sequence", actor="test", reason="step 2 came late; send step 3")
        report = _complete(settings, store, hub)
    finally:
        hub.shutdown()
    assert report["destinations"]["platform"]["out_of_order"] == 0
    assert _steps_at(sims, "platform", {stuck}) == {stuck: [1, 2, 3]}
    store.close()


def test_an_operator_lets_a_waiting_case_go_on_without_its_missing_step(settings, sims):
    from hub.ops.replay import release_case
    _commerce_only(settings, 600)
    stuck = _load(sims, cases=3, withhold_step=2, withhold_cases=1)["applyNos"][0]
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        for dest in ("platform", "province"):
            wait_until(lambda: (store.holds(dest, [stuck]).get(stuck) or {}).get("status") == "waiting",
                       timeout=60, what=f"the case waiting at {dest}")
            out = release_case(settings, store, destination=dest, case_no=stuck, actor="test",
                               reason="step 2 was never written; go on")
            assert out["parked"] >= 1
        wait_until(lambda: _steps_at(sims, "platform", {stuck}) == {stuck: [1, 3]}, timeout=60,
                   what="step 3 delivered after the release")
        # the missing step written after all: step 3 went already, so it is refused, not applied late
        requests.post(sims.urls["commerce"] + "/_admin/release-withheld", json={}, timeout=10).raise_for_status()
        late = wait_until(lambda: [d for d in store.list_dead_letters() if d["stage"] == "sequence"
                                   and d["destination"] == "platform"], timeout=60, what="the late step refused")
        assert f"step 2 of case {stuck} arrived after step 3 was delivered" in late[0]["reason"]
        assert _steps_at(sims, "platform", {stuck}) == {stuck: [1, 3]}
    finally:
        hub.shutdown()
        store.close()
