"""sims/drift.py on its own: the "reordered materials list" drift, and what it leaves alone."""
from __future__ import annotations

import json

import pytest

from sims import drift

KEYS = {"step": "code", "time": "at", "case": "case", "seq": "seq", "extra_step": "2", "materials": "materials"}
NAMES = ("申请书", "宗地图", "身份证明", "土地权属来源证明", "建设项目批准文件")


def rows(cases: int = 30, steps: int = 3, items: int = 4) -> list[dict]:
    out = []
    for c in range(cases):
        mats = [{"name": n, "required": i % 2 == 0, "provided": True} for i, n in enumerate(NAMES[:items])]
        for s in range(1, steps + 1):
            out.append({"case": f"C{c:03d}", "seq": s, "code": str(s), "at": "2026-03-02 09:00:00",
                        "opinion": "同意", "materials": [dict(m) for m in mats]})
    return out


def test_reorder_gives_the_same_items_in_another_order_the_same_for_every_row_of_a_case():
    before = rows()
    after = drift.apply(before, {"reorder_materials": True, "seed": 4}, KEYS)
    assert before == rows(), "the input was changed"
    assert len(after) == len(before)
    by_case: dict[str, list] = {}
    for old, new in zip(before, after):
        assert new["materials"] != old["materials"]                       # another order, always
        key = lambda m: json.dumps(m, sort_keys=True, ensure_ascii=False)  # noqa: E731
        assert sorted(map(key, new["materials"])) == sorted(map(key, old["materials"]))   # same items
        assert {k: v for k, v in new.items() if k != "materials"} == {k: v for k, v in old.items()
                                                                      if k != "materials"}
        by_case.setdefault(new["case"], []).append(new["materials"])
    assert all(all(m == ms[0] for m in ms) for ms in by_case.values())
    assert len({json.dumps(ms[0], ensure_ascii=False) for ms in by_case.values()}) > 1   # not one fixed order
    assert drift.apply(before, {"reorder_materials": True, "seed": 4}, KEYS) == after  # seeded: repeatable


def test_a_list_of_one_or_of_equal_items_cannot_move_and_rows_without_a_list_stay():
    one = rows(items=1)
    assert drift.apply(one, {"reorder_materials": True}, KEYS) == one
    same = [{"case": "C1", "seq": 1, "code": "1", "materials": [{"name": "申请书"}, {"name": "申请书"}]}]
    assert drift.apply(same, {"reorder_materials": True}, KEYS) == same
    bare = [{"case": "C1", "seq": 1, "code": "1", "at": "x"}]
    assert drift.apply(bare, {"reorder_materials": True}, KEYS) == bare


def test_a_share_of_cases_and_the_other_drift_draws_unchanged():
    before = rows(cases=200)
    some = drift.apply(before, {"reorder_materials": 0.3, "missing_rate": 0.1, "seed": 8}, KEYS)
    moved = {r["case"] for r in some
             if r["materials"] != next(o for o in before if o["case"] == r["case"])["materials"]}
    assert 30 < len(moved) < 90
    # adding the reorder changes no other choice: the same rows go missing
    plain = drift.apply(before, {"missing_rate": 0.1, "seed": 8}, KEYS)
    assert [(r["case"], r["seq"]) for r in some] == [(r["case"], r["seq"]) for r in plain]
    assert drift.apply(before, {"reorder_materials": False, "seed": 8}, KEYS) == before


def test_a_materials_list_kept_as_json_text_is_reordered_as_text():
    row = {"case": "C9", "seq": 1, "code": "1", "CLQD": json.dumps([{"name": n} for n in NAMES], ensure_ascii=False)}
    out = drift.apply([row], {"reorder_materials": True}, {**KEYS, "materials": "CLQD"})[0]
    assert isinstance(out["CLQD"], str) and out["CLQD"] != row["CLQD"]
    assert sorted(m["name"] for m in json.loads(out["CLQD"])) == sorted(NAMES)


def test_a_nested_path_is_followed():
    env = {"case_no": "C1", "payload": {"materials": [{"name": n} for n in NAMES]}}
    drift.reorder_materials(env, "payload.materials", "C1", {"reorder_materials": True})
    assert [m["name"] for m in env["payload"]["materials"]] != list(NAMES)


@pytest.mark.parametrize("value", [2, -0.1, "yes", None, [1]])
def test_reorder_materials_is_checked(value):
    with pytest.raises(ValueError):
        drift.validate({"reorder_materials": value})


def test_extra_step_may_name_several_steps_and_keeps_a_text_step_number():
    base = [{"case": "A", "seq": "1", "code": "301"}, {"case": "A", "seq": "2", "code": "501"},
            {"case": "B", "seq": "1", "code": "302"}, {"case": "B", "seq": "2", "code": "501"}]
    out = drift.apply(base, {"extra_rate": 1.0}, {**KEYS, "extra_step": ("301", "302")})
    assert [(r["case"], r["seq"], r["code"]) for r in out] == [
        ("A", "1", "301"), ("A", "3", "301"), ("A", "2", "501"), ("B", "1", "302"), ("B", "3", "302"),
        ("B", "2", "501")]


@pytest.mark.parametrize("bad", [{"missing_rate": "x"}, {"extra_rate": 1.5}, {"lag_seconds": -1},
                                 {"lag_seconds": True}, {"drop_field": "opinion"}, {"rename_field": ["a"]},
                                 {"status_code": 3}, {"seed": "7"}])
def test_bad_values_are_refused_when_set_not_at_the_next_load(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        drift.validate(bad)
