"""A record that dies before it becomes a message holds its case (real broker, real sims).

Step 2 of one commerce case carries its step code without the leading zero ("2", not "02"):
no mapping accepts it, so it is dead-lettered at the mapping, and step 3 of the same case must not overtake it at any
destination. Fixing the code table and replaying delivers 2 and then 3; purging the dead
letter instead lets the case go on without it."""
from __future__ import annotations

import json
import shutil

import requests
import yaml

from hub.ops.replay import replay
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import ROOT, wait_until


def _steps(url, case_no):
    """(sequence, kind) of one case in the order the destination received them."""
    items = requests.get(url + "/_admin/received", timeout=10).json()["items"]
    bodies = [i["body"] if "body" in i else json.loads(i["payload"]) for i in items]   # REST / SOAP
    return [(b["sequence"], b["kind"]) for b in bodies if b["case_no"] == case_no]


def _setup(settings, sims, tmp_path):
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    settings["mappings_dir"] = str(mappings)
    sim = sims["commerce"]
    case_no = sim.load(3)["applyNos"][0]
    with sim.lock:
        step2 = next(e for e in sim.events if e["applyNo"] == case_no and e["stepNo"] == 2)
        step2["eventCode"] = "2"      # no mapping's condition accepts it
    return mappings, case_no


def _held(settings, sims, store, case_no):
    others = 2 * 3   # the two good cases' steps at the platform
    wait_until(lambda: len(store.list_dead_letters()) == 1, timeout=60, what="step 2 dead-lettered")
    wait_until(lambda: {h["destination"] for h in store.list_holds() if h["case_no"] == case_no} >=
               {"platform", "province"}, timeout=60, what="the case held at both destinations")
    # the good cases go on meanwhile: wait for them, then see that only the held one is short
    wait_until(lambda: len(requests.get(sims.urls["platform"] + "/_admin/received", timeout=10).json()["items"])
               >= others + 1, timeout=60, what="the other cases delivered")
    items = requests.get(sims.urls["platform"] + "/_admin/received", timeout=10).json()["items"]
    assert len(items) == others + 1
    assert _steps(sims.urls["platform"], case_no) == [(1, "case_event")], "step 3 overtook the dead step 2"
    assert _steps(sims.urls["province"], case_no) == []
    dl = store.list_dead_letters()[0]
    assert dl["case_no"] == case_no and dl["stage"] in ("map", "validate") and "eventCode" in dl["reason"]
    hold = next(h for h in store.list_holds() if h["case_no"] == case_no)
    assert hold["status"] == "dead" and dl["id"] in hold["reason"]   # the operator sees what it waits for
    return dl


def test_replay_after_a_mapping_fix_delivers_the_dead_step_then_the_held_one(settings, sims, tmp_path):
    mappings, case_no = _setup(settings, sims, tmp_path)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        dl = _held(settings, sims, store, case_no)
        spec = mappings / "commerce" / "case_event.yaml"
        doc = yaml.safe_load(spec.read_text(encoding="utf-8"))
        doc["when"]["in"].append("2")
        doc["code_tables"]["event_code"]["2"] = "decided"
        spec.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        done = replay(settings, store, ids=[dl["id"]], actor="test", reason="step code 2 = 02 (核准)")
        assert done["replayed"] == 1, done
        wait_until(lambda: len(_steps(sims.urls["platform"], case_no)) == 3, timeout=60, what="the case delivered")
        wait_until(lambda: len(_steps(sims.urls["province"], case_no)) == 2, timeout=60, what="province")
        wait_until(lambda: not [h for h in store.list_holds() if h["case_no"] == case_no], timeout=30,
                   what="the holds lifted")
    finally:
        hub.shutdown()
    assert _steps(sims.urls["platform"], case_no) == [(1, "case_event"), (2, "case_event"), (3, "case_event")]
    assert _steps(sims.urls["province"], case_no) == [(2, "case_event"), (3, "certificate")]


def test_purging_the_dead_step_lets_the_case_go_on_without_it(settings, sims, tmp_path):
    from argparse import Namespace

    from hub.cli.dlq import dlq_purge
    _, case_no = _setup(settings, sims, tmp_path)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        dl = _held(settings, sims, store, case_no)
        config = tmp_path / "hub.yaml"
        config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        args = Namespace(config=str(config), db_url=settings["db_url"], stage=None, dept=None, dest=None, yes=True, json=False,
                         actor="test", reason="the department re-sends step 2 as a new record")
        assert dlq_purge(args) == 0
        wait_until(lambda: len(_steps(sims.urls["platform"], case_no)) == 2, timeout=60, what="step 3 delivered")
        wait_until(lambda: len(_steps(sims.urls["province"], case_no)) == 1, timeout=60, what="province")
    finally:
        hub.shutdown()
    assert store.get_dead_letter(dl["id"])["status"] == "purged"
    assert _steps(sims.urls["platform"], case_no) == [(1, "case_event"), (3, "case_event")]
    assert _steps(sims.urls["province"], case_no) == [(3, "certificate")]
