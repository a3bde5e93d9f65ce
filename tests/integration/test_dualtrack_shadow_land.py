"""Dual-track on the real broker for 自然资源 land: the old land system and its drifting new
copy (land_new) drop batch files into their own outboxes; the hub reads both folders as
land's two tracks. Destinations get each message once, from the old track only
(invariant 6); the comparator reports exactly the drift."""
from __future__ import annotations

import requests

from tests.integration.dualtrack_support import assert_old_track_only, run_shadow

CASES = 15


def _messages(rows):
    """(case, step) -> the kinds of message a land step record makes: a case event, and a
    certificate at 核发证书 (401) and 缮证发证 (402)."""
    return {(r["SLBH"], int(r["SXH"])): ["case_event"] + (["certificate"] if r["JDDM"] in ("401", "402") else [])
            for r in rows if r["JLLX"] == "BL"}


def test_land_shadow_routes_old_only_and_compares_the_new_copys_drift(settings, sims):
    settings["dualtrack"] = {"lag_window": 8, "departments": {"land": {"mode": "shadow"}}}   # see test_dualtrack_shadow._shadow
    settings["adapters"]["land"]["poll_interval"] = 0.1
    assert settings["adapters"]["land"]["tracks"]["new"]["outbox"] == str(sims["land_new"].outbox)
    requests.post(sims.urls["land_new"] + "/_admin/drift", json={"drop_field": ["SHYJ"], "missing_rate": 0.1,
                                                                 "seed": 3}, timeout=5).raise_for_status()
    for name in ("land", "land_new"):
        requests.post(sims.urls[name] + "/_admin/load", json={"cases": CASES}, timeout=60).raise_for_status()
    old_rows = requests.get(sims.urls["land"] + "/_admin/events", timeout=10).json()["items"]
    new_rows = requests.get(sims.urls["land_new"] + "/_admin/events", timeout=10).json()["items"]
    old, new = _messages(old_rows), _messages(new_rows)
    total = sum(len(kinds) for kinds in old.values())

    store, report, summary = run_shadow(settings, "land", total, timeout=40)
    assert_old_track_only(sims, report, "land")

    dropped = {k: kinds for k, kinds in old.items() if k not in new}
    assert dropped, "the drift dropped no row: the test proves nothing"
    with_opinion = {(r["SLBH"], int(r["SXH"])) for r in old_rows if r["JLLX"] == "BL" and r.get("SHYJ", "").strip()}
    assert summary["missing_new"] == sum(len(kinds) for kinds in dropped.values())
    assert summary["missing_old"] == 0
    # the only field that differs is the opinion the new system no longer sends (case events only)
    assert set(summary["mismatch_by_field"]) == {"case_event:payload.opinion"}
    assert summary["mismatch"] == len(with_opinion & set(new))
    assert summary["match"] == sum(len(kinds) for kinds in new.values()) - summary["mismatch"]
