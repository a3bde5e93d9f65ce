"""`tongban report schedule`: the previous month's report written once (idempotent by its file),
also from the command line with --once, and what the console lists."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest

from hub.model.common import SHANGHAI
from hub.report import schedule
from hub.report.facts import case_fact
from hub.store import Store
from sims import supervision
from tests.conftest import ROOT


@pytest.fixture
def seeded(store_url):
    url, kwargs = store_url
    s = Store.open(url, engine_kwargs=kwargs)
    s.save_catalogue(supervision.catalogue())
    s.record_case_facts([case_fact(c) for c in supervision.cases(["2027-02", "2027-03"], 120, seed=4)])
    yield s
    s.close()


def test_the_previous_month_is_written_once(seeded, tmp_path):
    settings = {"report": {"dir": str(tmp_path / "reports")}}
    first_day = datetime(2027, 4, 1, 0, 5, tzinfo=SHANGHAI)
    assert schedule.month_before(first_day) == "2027-03"
    assert schedule.month_before(datetime(2027, 1, 1, 0, 5, tzinfo=SHANGHAI)) == "2026-12"
    done = schedule.write_due(seeded, settings, now=first_day, formats=("html", "json"))
    assert [p.rsplit("/", 1)[-1] for p in done["written"]] == ["report-2027-03.html", "report-2027-03.json"]
    report = json.loads((tmp_path / "reports" / "report-2027-03.json").read_text(encoding="utf-8"))
    assert report["month"] == "2027-03"
    assert sum(1 for f in report["figures"] if f["key"] == "one_visit" and f["overall"]["denominator"] > 0) == 1
    mtime = (tmp_path / "reports" / "report-2027-03.html").stat().st_mtime_ns
    again = schedule.write_due(seeded, settings, now=datetime(2027, 4, 9, tzinfo=SHANGHAI), formats=("html", "json"))
    assert again["written"] == [] and len(again["present"]) == 2
    assert (tmp_path / "reports" / "report-2027-03.html").stat().st_mtime_ns == mtime
    listed = schedule.list_reports(tmp_path / "reports")
    assert [(r["month"], r["format"]) for r in listed] == [("2027-03", "json"), ("2027-03", "html")]
    assert not [p for p in (tmp_path / "reports").iterdir() if p.name.endswith(".tmp")]
    assert schedule.report_file(tmp_path / "reports", "../secret.html") is None
    with pytest.raises(ValueError, match="pdf"):
        schedule.write_due(seeded, settings, now=first_day, formats=("pdf",))


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_command_once_writes_then_leaves_it(seeded, store_url, tmp_path):
    env = dict(os.environ, TONGBAN_DB_URL=store_url[0], TONGBAN__REPORT__DIR=str(tmp_path / "out"))
    cmd = [sys.executable, "-m", "hub.cli.main", "report", "schedule", "--once", "--month", "2027-03",
           "--formats", "html,xlsx"]
    first = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    assert len(json.loads(first.stdout.splitlines()[-1])["written"]) == 2
    second = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = json.loads(second.stdout.splitlines()[-1])
    assert out["written"] == [] and len(out["present"]) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report-2027-03.html", "report-2027-03.xlsx"]
    assert seeded.audit_log("report.written")[0]["target"] == "2027-03"
