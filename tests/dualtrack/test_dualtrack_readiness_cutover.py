"""Readiness from the stored verdicts, adjudication, and the audited cutover and rollback."""
from __future__ import annotations

from datetime import timedelta

import pytest

from hub.dualtrack import DualTrack, NotReady, current_mode, cutover, primary_track, readiness, rollback, set_mode
from hub.dualtrack.adjudication import adjudicate
from hub.dualtrack.modes import is_primary, mode_info
from hub.store import Store

from dt_data import RULES_YAML, both_tracks, make_records, write_rules


def feed(store, settings, t0, cases=5, drift=None, drift_record=None):
    old, new = both_tracks(make_records(cases, seed=cases), drift_envelopes=drift, drift_record=drift_record)
    dt = DualTrack(store, settings)
    dt.offer_many(old, t0)
    dt.offer_many(new, t0 + timedelta(seconds=5))
    dt.expire(t0 + timedelta(seconds=400))


def status_drift(envs):
    for e in envs:
        if e["kind"] == "case_event" and e["sequence"] == 2:
            e["payload"]["type"] = "in_review"
    return envs


def drop_step_2(envs):
    return [e for e in envs if not (e["kind"] == "case_event" and e["sequence"] == 2)]


def adj(store, field, cls, **kw):
    return adjudicate(store, department="commerce", kind="case_event", field=field, classification=cls,
                      reason="checked with the handover team", actor="li.na", **kw)


def test_too_few_pairs_is_not_ready(dstore, dt_settings, t0):
    feed(dstore, dt_settings, t0, cases=2)
    r = readiness(dstore, dt_settings, "commerce")
    assert not r.ready and r.figures["pairs"] == 8 and r.figures["match_rate"] == 1.0
    assert r.reasons == ["8 pairs compared in the last 7 days, fewer than 10"]


def test_all_matching_is_ready(dstore, dt_settings, t0):
    feed(dstore, dt_settings, t0)
    r = readiness(dstore, dt_settings, "commerce")
    assert r.ready and r.reasons == [] and r.figures["pairs"] == 20 and r.figures["cases"] == 5
    # comparisons older than the window no longer count
    assert not readiness(dstore, dt_settings, "commerce", now=t0 + timedelta(days=8)).ready


def test_a_critical_mismatch_blocks_until_adjudicated_and_counts_until_excused(dstore, dt_settings, t0):
    feed(dstore, dt_settings, t0, drift=status_drift)
    r = readiness(dstore, dt_settings, "commerce")
    assert not r.ready and r.figures["match_rate"] == 0.75
    assert [c["name"] for c in r.checks if not c["ok"]] == ["match_rate", "critical"]
    assert r.figures["unadjudicated_critical"] == {"payload.type": 5}

    adj(dstore, "payload.type", "legacy_defect")      # classified: no longer open, still counts
    r = readiness(dstore, dt_settings, "commerce")
    assert [c["name"] for c in r.checks if not c["ok"]] == ["match_rate"]

    adj(dstore, "payload.type", "new_defect")         # the newest word wins: a defect blocks again
    r = readiness(dstore, dt_settings, "commerce")
    assert r.figures["new_defects_critical"] == {"payload.type": 5} and "new_defect" in r.reasons[-1]

    soon = t0 + timedelta(hours=3)
    adj(dstore, "payload.type", "policy_change", old_value="decided", new_value="in_review", expires_at=soon)
    assert readiness(dstore, dt_settings, "commerce", now=soon - timedelta(minutes=1)).ready
    after = readiness(dstore, dt_settings, "commerce", now=soon + timedelta(minutes=1))
    assert not after.ready and after.figures["new_defects_critical"] == {"payload.type": 5}


def test_an_adjudication_for_other_values_does_not_cover(dstore, dt_settings, t0):
    feed(dstore, dt_settings, t0, drift=status_drift)
    adj(dstore, "payload.type", "accepted_difference", old_value="decided", new_value="rejected")
    assert not readiness(dstore, dt_settings, "commerce").ready


def test_missing_twins_block_unless_adjudicated(dstore, dt_settings, t0):
    feed(dstore, dt_settings, t0, drift=drop_step_2)
    r = readiness(dstore, dt_settings, "commerce")
    assert not r.ready and r.figures["missing_new"] == 5
    assert r.reasons == ["5 missing twin(s) (missing_old 0, missing_new 5), at most 0 allowed"]
    adj(dstore, "missing_new", "policy_change")
    assert readiness(dstore, dt_settings, "commerce").ready


def test_mismatches_only_in_noise_fields_are_excused(dstore, dt_settings, t0):
    feed(dstore, dt_settings, t0, drift_record=lambda r: r.update(operator="新系统"))
    assert readiness(dstore, dt_settings, "commerce").figures["match_rate"] == 0.25
    with dstore.dualtrack_lock([], t0) as batch:   # as the matcher records a re-run's noise
        batch.noise.append({"department": "commerce", "kind": "case_event", "field": "payload.handler",
                            "track": "old"})
    assert readiness(dstore, dt_settings, "commerce").ready


def test_cutover_is_refused_when_not_ready_and_nothing_is_recorded(dstore, dt_settings, t0):
    feed(dstore, dt_settings, t0, drift=status_drift)
    with pytest.raises(NotReady) as err:
        cutover(dstore, dt_settings, "commerce", actor="li.na", reason="go live")
    assert "match rate 75.000%" in str(err.value)
    assert current_mode(dstore, dt_settings, "commerce", fresh=True) == "shadow"
    assert dstore.dualtrack_mode_changes() == [] and dstore.audit_log("dualtrack.cutover") == []


def test_cutover_when_ready_then_rollback_are_recorded_and_take_effect(store_url, dt_settings, t0):
    url, kwargs = store_url
    cli, hub = (Store.open(url, engine_kwargs=dict(kwargs)) for _ in range(2))   # two processes' stores
    try:
        feed(cli, dt_settings, t0)
        assert (current_mode(hub, dt_settings, "commerce"), primary_track(hub, dt_settings, "commerce")) == \
            ("shadow", "old")
        done = cutover(cli, dt_settings, "commerce", actor="li.na", reason="7 days clean")
        assert (done["from"], done["to"], done["forced"]) == ("shadow", "cutover", False)
        # the running hub's view: store wins over the file, no restart (refresh_seconds is 0 here)
        assert current_mode(hub, dt_settings, "commerce") == "cutover"
        assert primary_track(hub, dt_settings, "commerce") == "new" and is_primary(hub, dt_settings, "commerce", "new")
        info = mode_info(hub, dt_settings, "commerce")
        assert (info["source"], info["config_mode"], info["actor"]) == ("store", "shadow", "li.na")
        with pytest.raises(ValueError, match="already cut over"):
            cutover(cli, dt_settings, "commerce", actor="li.na", reason="again")

        rollback(cli, dt_settings, "commerce", actor="wang.wei", reason="province node complaint")
        assert primary_track(hub, dt_settings, "commerce") == "old"
        changes = cli.dualtrack_mode_changes("commerce")
        assert [(c["action"], c["from_mode"], c["to_mode"], c["actor"]) for c in changes] == \
            [("rollback", "cutover", "shadow", "wang.wei"), ("cutover", "shadow", "cutover", "li.na")]
        assert changes[1]["figures"]["ready"] is True and changes[1]["figures"]["pairs"] == 20
        audit = cli.audit_log(target="commerce")
        assert [a["action"] for a in audit] == ["dualtrack.rollback", "dualtrack.cutover"]
        assert audit[1]["reason"] == "7 days clean" and audit[1]["details"]["figures"]["match_rate"] == 1.0
    finally:
        cli.close()
        hub.close()


def test_a_forced_cutover_is_recorded_as_forced_with_the_reasons(dstore, dt_settings, t0):
    feed(dstore, dt_settings, t0, cases=1)
    done = cutover(dstore, dt_settings, "commerce", actor="li.na", reason="deadline from the province", force=True)
    assert done["forced"] is True
    change = dstore.dualtrack_mode_changes("commerce")[0]
    assert change["forced"] == 1 and "fewer than 10" in change["figures"]["reasons"][0]
    assert dstore.audit_log("dualtrack.cutover")[0]["details"]["forced"] is True


def test_mode_changes_other_than_cutover_and_rollback(dstore, tmp_path, t0):
    settings = write_rules(tmp_path, RULES_YAML.replace("commerce: {mode: shadow}", "commerce: {mode: 'off'}"))
    with pytest.raises(ValueError, match="mode off: nothing was compared"):
        cutover(dstore, settings, "commerce", actor="li.na", reason="x")
    with pytest.raises(ValueError, match="goes through `tongban dualtrack cutover`"):
        set_mode(dstore, settings, "commerce", "cutover", actor="li.na", reason="x")
    with pytest.raises(ValueError, match="the old track is already primary"):
        rollback(dstore, settings, "commerce", actor="li.na", reason="x")
    set_mode(dstore, settings, "commerce", "shadow", actor="li.na", reason="start comparing")
    assert current_mode(dstore, settings, "commerce") == "shadow"
    with pytest.raises(ValueError, match="only a department in cutover can retire"):
        set_mode(dstore, settings, "commerce", "retired", actor="li.na", reason="x")
    cutover(dstore, settings, "commerce", actor="li.na", reason="x", force=True)
    set_mode(dstore, settings, "commerce", "retired", actor="li.na", reason="old system switched off")
    assert primary_track(dstore, settings, "commerce") == "new"
    rollback(dstore, settings, "commerce", actor="li.na", reason="new system down")
    assert current_mode(dstore, settings, "commerce") == "shadow"


def test_a_change_needs_who_and_why(dstore, dt_settings, t0):
    feed(dstore, dt_settings, t0)
    with pytest.raises(ValueError, match="reason is required"):
        cutover(dstore, dt_settings, "commerce", actor="li.na", reason=" ")
    assert current_mode(dstore, dt_settings, "commerce", fresh=True) == "shadow"
