"""Noise (a track that says the same thing twice, differently), redelivery, restarts and
two consumers offering twins at once."""
from __future__ import annotations

import copy
import threading
from collections import Counter
from datetime import timedelta

import pytest

from hub.dualtrack import DualTrack
from hub.store import Store

from dt_data import both_tracks, make_records


def _rerun(env: dict, **payload) -> dict:
    """The same step from a re-run of the old system: a new record version, so a new id."""
    e = copy.deepcopy(env)
    e["message_id"] = e["message_id"][:-4] + "0000"
    e["payload"].update(payload)
    return e


def test_a_rerun_that_changes_a_field_is_noise_and_the_field_is_then_ignored(dstore, dt_settings, t0):
    (old, new) = both_tracks(make_records(2))
    dt = DualTrack(dstore, dt_settings)
    assert dt.offer(old[0], t0) == []
    noise = dt.offer(_rerun(old[0], handler="沈佳怡" if old[0]["payload"]["handler"] != "沈佳怡" else "王建平"), t0)
    assert [(c.verdict, c.track, [d["field"] for d in c.fields]) for c in noise] == \
        [("noise", "old", ["payload.handler"])]
    assert noise[0].fields[0]["new"].endswith("*")   # masked
    # the new track agrees with the first run, not the second: no longer a difference
    assert [c.verdict for c in dt.offer(new[0], t0)] == ["match"]
    # and for every later case of this department and kind
    other_case = next(i for i, e in enumerate(new) if e["case_no"] != new[0]["case_no"] and e["kind"] == "case_event")
    changed = _rerun(new[other_case], handler="某人")
    dt.offer(old[other_case], t0)
    assert [c.verdict for c in dt.offer(changed, t0)] == ["match"]
    assert [(n["field"], n["track"], n["count"]) for n in dstore.dualtrack_noise("commerce")] == \
        [("payload.handler", "old", 1)]


def test_noise_in_a_critical_field_is_recorded_but_never_silences_it(dstore, dt_settings, t0):
    old, new = both_tracks(make_records(1))
    dt = DualTrack(dstore, dt_settings)
    dt.offer(old[0], t0)
    assert [c.verdict for c in dt.offer(_rerun(old[0], type="rejected"), t0)] == ["noise"]
    out = dt.offer(new[0], t0)
    assert [(c.verdict, [d["field"] for d in c.fields]) for c in out] == [("mismatch", ["payload.type"])]


def test_a_redelivered_message_changes_nothing(dstore, dt_settings, t0):
    old, new = both_tracks(make_records(1))
    dt = DualTrack(dstore, dt_settings)
    assert dt.offer(old[0], t0) == [] and dt.offer(old[0], t0) == []
    assert [c.verdict for c in dt.offer(new[0], t0)] == ["match"]
    assert dt.offer(new[0], t0) == [] and dt.offer(old[0], t0) == []
    assert len(dstore.dualtrack_comparisons()) == 1


def test_a_rerun_after_the_pair_was_decided_is_still_told_apart(dstore, dt_settings, t0):
    old, new = both_tracks(make_records(1))
    dt = DualTrack(dstore, dt_settings)
    dt.offer(old[0], t0)
    dt.offer(new[0], t0)
    out = dt.offer(_rerun(new[0], opinion="另一意见"), t0 + timedelta(minutes=30))
    assert [(c.verdict, c.track) for c in out] == [("noise", "new")]
    assert Counter(r["verdict"] for r in dstore.dualtrack_comparisons()) == {"match": 1, "noise": 1}


def test_waiting_twins_survive_a_restart(store_url, dt_settings, t0):
    url, kwargs = store_url
    old, new = both_tracks(make_records(2))
    first = Store.open(url, engine_kwargs=dict(kwargs))
    DualTrack(first, dt_settings).offer_many(old, t0)
    first.close()
    second = Store.open(url, engine_kwargs=dict(kwargs))
    try:
        dt = DualTrack(second, dt_settings)
        out = dt.offer_many(new[:-1], t0 + timedelta(seconds=60))
        assert Counter(c.verdict for c in out) == {"match": len(new) - 1}
        assert len(second.dualtrack_waiting()) == 1
    finally:
        second.close()


def test_after_a_restart_nothing_expires_for_one_lag_window(dstore, dt_settings, t0):
    old, _ = both_tracks(make_records(1))
    DualTrack(dstore, dt_settings).offer(old[0], t0)
    later = t0 + timedelta(hours=1)              # the hub was down for an hour
    restarted = DualTrack(dstore, dt_settings)
    assert restarted.expire(later) == []         # the queue's backlog gets its window first
    assert restarted.expire(later + timedelta(seconds=299)) == []
    assert [c.verdict for c in restarted.expire(later + timedelta(seconds=300))] == ["missing_new"]


def test_two_consumers_offering_the_twins_at_once_decide_each_pair_once(store_url, dt_settings, t0):
    url, kwargs = store_url
    old, new = both_tracks(make_records(6))
    stores = [Store.open(url, engine_kwargs=dict(kwargs)) for _ in range(2)]
    results, errors = [], []

    def consume(store, envelopes):
        try:
            dt = DualTrack(store, dt_settings)
            for i in range(0, len(envelopes), 3):
                results.extend(dt.offer_many(envelopes[i:i + 3], t0))
        except Exception as exc:  # reported below
            errors.append(exc)
    threads = [threading.Thread(target=consume, args=(s, envs)) for s, envs in zip(stores, (old, new))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert Counter(c.verdict for c in results) == {"match": len(old)}
        assert stores[0].dualtrack_waiting() == []
    finally:
        for s in stores:
            s.close()


def test_a_message_that_is_no_envelope_or_of_no_known_department_is_refused_whole(dstore, dt_settings, t0):
    old, _ = both_tracks(make_records(1))
    stranger = copy.deepcopy(old[1])
    stranger["source"]["department"] = "tax"
    dt = DualTrack(dstore, dt_settings)
    with pytest.raises(ValueError, match="unknown department 'tax'"):
        dt.offer_many([old[0], stranger], t0)
    with pytest.raises(ValueError, match="source.track must be old or new"):
        dt.offer({**old[0], "source": {"department": "commerce", "track": "both"}}, t0)
    with pytest.raises(ValueError, match="not a canonical envelope"):
        dt.offer({"hello": 1}, t0)
    assert dstore.dualtrack_waiting() == []


def test_a_rerun_after_retention_removed_the_decided_pairs_envelopes_is_taken_quietly(dstore, dt_settings, t0):
    # Guard (issue 13, item 5): the earlier run's envelope is NULL once retention ran; the
    # matcher used to compare against it, and compare(None, ...) would stop the comparison loop.
    from hub.store.protection import Retention
    from hub.store.retention import purge_expired
    old, new = both_tracks(make_records(1))
    dt = DualTrack(dstore, dt_settings)
    dt.offer(old[0], t0)
    assert [c.verdict for c in dt.offer(new[0], t0)] == ["match"]
    removed = purge_expired(dstore, Retention(payload_days=1), now=t0 + timedelta(days=400))
    assert removed["dualtrack_twins"]["expired"] == 1
    assert dt.offer(_rerun(new[0], opinion="另一意见"), t0 + timedelta(days=400, minutes=1)) == []
    assert Counter(r["verdict"] for r in dstore.dualtrack_comparisons()) == {"match": 1}
    [row] = dstore.dualtrack_twins_since("commerce", t0)
    assert row["state"] == "paired" and row["old_envelope"] is None          # the same decided pair
    assert row["new_envelope"]["payload"]["opinion"] == "另一意见"          # the re-run's content kept
