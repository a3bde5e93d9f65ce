"""The monthly report recounted: a month of known cases and items, each figure counted by hand
here and compared with what the store's SQL and hub/report make of it, on SQLite and PostgreSQL.

Named edge cases: an item with no cases that month (C1), a case spanning two months (k2,
submitted in February, completed in March), a withdrawn case (k3), a case with every material
reused (k1), an item at the 本级政府批准 exception (B2), excluded only while the target is 100 %,
a case completed in the next month (k6) and one of the month before (k7)."""
from __future__ import annotations

from datetime import datetime

import pytest

from hub.model.common import SHANGHAI
from hub.report import build_report
from hub.report.facts import add_working_days, case_fact
from hub.store import Store

PERSON = {"kind": "person", "name": "张三", "id_type": "resident_id", "id_number": "330106199003071236"}


def item(code, dept, category, level, depth, in_hall, exception=False, promised=10):
    return {"catalogue_code": code, "implementation_code": f"X{code}", "name": f"事项{code}", "category": category,
            "level": level, "department": dept, "online_depth": depth, "promised_days": promised,
            "statutory_days": 20, "required_visits": 0, "one_window": True, "in_hall": in_hall,
            "approval_exception": exception, "materials": ["a", "b"]}


ITEMS = [
    item("A1", "ndrc", "licensing", "city", 4, True),
    item("A2", "ndrc", "confirmation", "city", 2, False),
    item("B1", "housing", "licensing", "county", 3, True),
    item("B2", "housing", "public_service", "county", 0, None, exception=True),
    item("C1", "commerce", "licensing", "city", 4, True),     # no cases this month
]


def t(day: str, hour: int = 10) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, tzinfo=SHANGHAI)


def mats(required: int, reused: int, how: str = "certificate") -> list[dict]:
    out = []
    for i in range(required):
        m = {"name": f"m{i}", "required": True, "provided": i >= reused}
        if i < reused:
            m.update({"reused_from": how} if how == "shared_data" else {"reused_certificate": f"E{i}"})
        out.append(m)
    return out


def case(no, code, dept, *, channel="window", status="completed", visits=0, materials=(), submitted, accepted,
         completed=None, promised=None, one_window=None):
    return {"case_no": no, "item_code": code, "department": dept, "applicant": PERSON, "channel": channel,
            "status": status, "visits": visits, "materials": list(materials), "submitted_at": t(submitted),
            "accepted_at": t(accepted), "completed_at": completed and t(completed), "promised_days": promised,
            "one_window": one_window}


CASES = [
    case("k1", "A1", "ndrc", visits=0, materials=mats(3, 3), submitted="2027-03-01", accepted="2027-03-01",
         completed="2027-03-10", promised=2, one_window=True),
    case("k2", "A1", "ndrc", channel="online", visits=2, materials=mats(2, 0), submitted="2027-02-25",
         accepted="2027-02-26", completed="2027-03-02", promised=1),
    case("k3", "A2", "ndrc", status="withdrawn", visits=5, materials=mats(2, 0), submitted="2027-03-02",
         accepted="2027-03-02", completed="2027-03-05", promised=1, one_window=True),
    case("k4", "B1", "housing", visits=1, materials=mats(4, 1, "shared_data"), submitted="2027-03-15",
         accepted="2027-03-15", completed="2027-03-20", promised=5, one_window=False),
    case("k5", "B2", "housing", visits=3, materials=mats(2, 0), submitted="2027-03-10", accepted="2027-03-10",
         completed="2027-03-11", one_window=True),     # promised days: the item's 10
    case("k6", "B1", "housing", status="in_review", visits=0, materials=mats(1, 1), submitted="2027-03-30",
         accepted="2027-03-30", completed=None, promised=1, one_window=True),
    case("k7", "A1", "ndrc", visits=0, materials=mats(1, 1), submitted="2027-02-10", accepted="2027-02-10",
         completed="2027-02-15", promised=5, one_window=True),
]


@pytest.fixture
def store(store_url):
    url, kwargs = store_url
    s = Store.open(url, engine_kwargs=kwargs)
    s.save_catalogue(ITEMS)
    by_code = {i["catalogue_code"]: i for i in ITEMS}
    s.record_case_facts([case_fact(c, by_code[c["item_code"]]) for c in CASES])
    yield s
    s.close()


def fig(report, key):
    return next(f for f in report["figures"] if f["key"] == key)


def nd(line):
    return line["numerator"], line["denominator"]


def test_working_days_skip_the_weekend():
    assert add_working_days(t("2027-02-26"), 1).date().isoformat() == "2027-03-01"   # Fri -> Mon
    assert add_working_days(t("2027-03-10"), 10).date().isoformat() == "2027-03-24"


def test_each_figure_recounted_by_hand(store):
    r = build_report(store, "2027-03")
    # 网上可办率 (70 % in 2027): depth >= 3 of all five items, C1 without cases included
    online = fig(r, "online")
    assert online["target"] == 0.70 and not online["excludes_approval_exception"]
    assert nd(online["overall"]) == (3, 5)
    # 最多跑一次 is 100 % in 2027: B2 (本级政府批准) leaves the count; k3 withdrawn, k6 not completed,
    # k7 completed in February; k2, submitted in February, counts in March when it completed
    one_visit = fig(r, "one_visit")
    assert one_visit["excludes_approval_exception"]
    assert nd(one_visit["overall"]) == (2, 3)                 # k1, k4 of k1, k2, k4
    assert {ln["key"]: nd(ln) for ln in one_visit["by_department"]} == {"ndrc": (1, 2), "housing": (1, 1)}
    assert {ln["key"]: ln["rank"] for ln in one_visit["by_department"]} == {"housing": 1, "ndrc": 2}
    ndrc = next(ln for ln in one_visit["by_department"] if ln["key"] == "ndrc")
    assert ndrc["previous_rate"] == 1.0 and ndrc["change"] == pytest.approx(-0.5)    # k7 in February
    assert [(x["item_code"], x["missed"]) for x in one_visit["laggards"]] == [("A1", 1)]
    # 材料减少 (60 %, no exclusion): reused / required over the completed cases k1, k2, k4, k5
    materials = fig(r, "materials")
    assert nd(materials["overall"]) == (3 + 0 + 1 + 0, 3 + 2 + 4 + 2)
    assert {ln["key"]: nd(ln) for ln in materials["by_category"]} == {"licensing": (4, 9), "public_service": (0, 2)}
    # 进驻大厅: B2's unknown counts as not in the hall
    assert nd(fig(r, "in_hall")["overall"]) == (3, 5)
    # 一窗受理: window cases accepted in March (k1, k4, k5, k6; k2 online, k3 withdrawn)
    assert nd(fig(r, "one_window")["overall"]) == (3, 4)
    # overdue: deadlines in March; k1 (due 03-03, done 03-10), k2 (due 03-01, done 03-02), k6 open at month end
    od = {ln["key"]: nd(ln) for ln in r["overdue"]["by_department"]}
    assert od == {"ndrc": (2, 2), "housing": (1, 3)}
    assert sorted(c["case_no"] for c in r["overdue"]["cases"]) == ["k1", "k2", "k6"]


def test_the_exception_counts_while_the_target_is_below_100(store):
    # 2026: 最多跑一次 is 60 %: B2 stays in. Move March's facts a year back by recounting 2027-03 would
    # not do; instead the same items with a 2026 case of B2 only.
    store.record_case_facts([case_fact(case("k8", "B2", "housing", visits=3, submitted="2026-06-01",
                                            accepted="2026-06-01", completed="2026-06-02", promised=1))])
    f = fig(build_report(store, "2026-06"), "one_visit")
    assert not f["excludes_approval_exception"] and nd(f["overall"]) == (0, 1)
    assert fig(build_report(store, "2026-06"), "one_window")["overall"]["denominator"] == 1


def test_level_county_counts_county_items_only(store):
    r = build_report(store, "2027-03", level="county")
    assert nd(fig(r, "one_visit")["overall"]) == (1, 1)          # k4; B2 excluded at 100 %
    assert nd(fig(r, "online")["overall"]) == (1, 2)             # B1 of B1, B2
    assert {ln["key"] for ln in r["overdue"]["by_department"]} == {"housing"}


def test_rows_add_up_to_the_totals(store):
    for f in build_report(store, "2027-03")["figures"]:
        assert sum(x["numerator"] for x in f["rows"]) == f["overall"]["numerator"]
        assert sum(x["denominator"] for x in f["by_department"]) == f["overall"]["denominator"]
