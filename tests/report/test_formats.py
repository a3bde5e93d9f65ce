"""The three formats of a report: HTML with inline SVG charts and Chinese labels (nothing
fetched), an xlsx with a sheet and a native chart per figure, JSON that loads back."""
from __future__ import annotations

import json

from openpyxl import load_workbook

from hub.report import build_report
from hub.report.output import write
from hub.store import Store
from hub.report.facts import case_fact
from sims import supervision


def _store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'r.db'}")
    s.save_catalogue(supervision.catalogue())
    s.record_case_facts([case_fact(c) for c in supervision.cases(["2026-08", "2026-09"], 300, seed=3)])
    return s


def test_html_xlsx_json(tmp_path):
    store = _store(tmp_path)
    report = build_report(store, "2026-09")
    html = write(report, tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 6 and "网上可办率" in html and "分母" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")   # no CDN
    wb = load_workbook(write(report, tmp_path / "r.xlsx"))
    assert wb.sheetnames[0] == "总览" and "最多跑一次" in wb.sheetnames and "超期办件" in wb.sheetnames
    assert all(len(wb[name]._charts) == 1 for name in wb.sheetnames[1:])
    back = json.loads(write(report, tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [f["key"] for f in back["figures"]] == ["online", "one_visit", "materials", "in_hall", "one_window"]
    store.close()


def test_the_simulated_flow_is_seeded_and_varied(tmp_path):
    a = list(supervision.cases(["2026-09"], 50, seed=5))
    assert a == list(supervision.cases(["2026-09"], 50, seed=5))
    store = _store(tmp_path)
    f = next(f for f in build_report(store, "2026-09")["figures"] if f["key"] == "one_visit")
    meets = {ln["meets_target"] for ln in f["by_department"]}
    assert meets == {True, False}       # some departments above the target, some below
    store.close()
