"""Dual-track on the real broker: commerce's old system and its drifting new copy side by
side. Destinations get each message once, from the primary track only (invariant 6);
the comparator sees both and reports exactly the drift."""
from __future__ import annotations

import time

import requests

from hub.dualtrack.report import department_summary
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import wait_until
from tests.integration.dualtrack_support import assert_old_track_only, run_shadow


# long enough for the old track to catch up with the new on a loaded machine (the old one logs,
# chains and feeds the report; the shadow only compares), short enough to expire the dropped rows
def _shadow(settings, lag_window=8):
    settings["dualtrack"] = {"lag_window": lag_window, "departments": {"commerce": {"mode": "shadow"}}}
    return settings


def _load(sims, cases, drift):
    requests.post(sims.urls["commerce_new"] + "/_admin/drift", json=drift, timeout=5).raise_for_status()
    for name in ("commerce", "commerce_new"):
        requests.post(sims.urls[name] + "/_admin/load", json={"cases": cases}, timeout=60).raise_for_status()


def test_shadow_routes_old_only_and_compares_drift(settings, sims):
    settings = _shadow(settings)
    _load(sims, 30, {"drop_field": ["opinion"], "missing_rate": 0.1, "seed": 3})
    new_rows = requests.get(sims.urls["commerce_new"] + "/_admin/events", timeout=10).json()["items"]
    # 30 cases x (3 events + 1 licence) per track; each pair decided, the dropped rows past the lag window.
    store, report, summary = run_shadow(settings, "commerce", 120)
    assert_old_track_only(sims, report, "commerce")

    dropped = 90 - len(new_rows)               # rows the new system never produced
    old_rows = requests.get(sims.urls["commerce"] + "/_admin/events", timeout=10).json()["items"]
    new_ids = {(r["applyNo"], r["stepNo"]) for r in new_rows}
    dropped_messages = sum(2 if r["eventCode"] == "03" else 1 for r in old_rows
                           if (r["applyNo"], r["stepNo"]) not in new_ids)
    assert dropped > 0
    assert summary["missing_new"] == dropped_messages
    assert summary["missing_old"] == 0
    # The only field that differs is the opinion the new system no longer sends (case events only).
    assert set(summary["mismatch_by_field"]) == {"case_event:payload.opinion"}
    # every case event the new system did produce lacks its opinion; the licences match
    assert summary["mismatch"] == len(new_rows)
    assert summary["match"] == sum(1 for r in new_rows if r["eventCode"] == "03")


def test_shadow_without_drift_is_all_match(settings, sims):
    settings = _shadow(settings)
    _load(sims, 10, {})
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        summary = wait_until(lambda: (s := department_summary(store, settings, "commerce"))["pairs"] == 40 and s,
                             timeout=60, what="40 pairs compared")
    finally:
        hub.shutdown()
    assert summary["match"] == 40 and summary["mismatch"] == 0
    assert summary["missing_old"] == summary["missing_new"] == 0
    assert summary["match_rate"] == 1.0


# the dual-track refresh (2 s) plus the runner's mode cache (2 s), with a margin
PROPAGATION = 5


def _platform_steps(url):
    """(case_no, sequence, kind) -> tracks it arrived from, at the platform."""
    seen = {}
    for item in requests.get(url + "/_admin/received", timeout=10).json()["items"]:
        b = item["body"]
        seen.setdefault((b["case_no"], b["sequence"], b["kind"]), []).append(b["source"]["track"])
    return seen


def test_cutover_refused_then_forced_and_rollback_switch_primary_without_loss_or_duplicate(settings, sims):
    from hub.dualtrack import NotReady, current_mode, cutover, rollback
    settings = _shadow(settings, lag_window=2)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    batches = []

    def load_batch(n):
        before = set(_platform_steps(sims.urls["platform"]))
        for name in ("commerce", "commerce_new"):
            requests.post(sims.urls[name] + "/_admin/load", json={"cases": n}, timeout=60).raise_for_status()
        wait_until(lambda: len(_platform_steps(sims.urls["platform"])) == len(before) + 3 * n, timeout=60,
                   what="the batch delivered")
        wait_until(lambda: department_summary(store, settings, "commerce")["waiting"] == 0, timeout=30,
                   what="the batch compared")
        batches.append(set(_platform_steps(sims.urls["platform"])) - before)

    try:
        load_batch(5)
        try:
            cutover(store, settings, "commerce", actor="test", reason="not ready yet")
            raise AssertionError("cutover was accepted with 20 pairs against min_pairs 1000")
        except NotReady as refused:
            assert "fewer than" in str(refused) or refused.args
        assert current_mode(store, settings, "commerce", fresh=True) == "shadow"
        cutover(store, settings, "commerce", actor="test", reason="handover rehearsal", force=True)
        assert current_mode(store, settings, "commerce", fresh=True) == "cutover"
        time.sleep(PROPAGATION)   # a running hub sees the stored mode within its refresh period
        load_batch(5)
        rollback(store, settings, "commerce", actor="test", reason="rehearsal over")
        assert current_mode(store, settings, "commerce", fresh=True) == "shadow"
        time.sleep(PROPAGATION)
        load_batch(5)
    finally:
        hub.shutdown()

    steps = _platform_steps(sims.urls["platform"])
    assert all(len(tracks) == 1 for tracks in steps.values()), "a step reached the platform twice"
    assert len(steps) == 45
    for batch, primary in zip(batches, ("old", "new", "old")):
        assert {steps[key][0] for key in batch} == {primary}
    changes = [r for r in store.audit_log(limit=50) if r["action"].startswith("dualtrack")]
    assert {r["action"] for r in changes} >= {"dualtrack.cutover", "dualtrack.rollback"}
    assert any("rehearsal over" in r["reason"] for r in changes)
