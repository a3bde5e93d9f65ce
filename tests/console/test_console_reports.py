"""The console's 月度通报 page: the written reports listed, the latest shown, every role that
reads may open them, nothing outside the reports directory is served."""
from __future__ import annotations

import pytest

from hub.report import schedule
from hub.report.facts import case_fact
from sims import supervision
from tests.console.conftest import client, login

pytestmark = [pytest.mark.broker]


def test_a_viewer_sees_the_latest_report_and_opens_it(console, tmp_path):
    app, store, settings = console
    settings["report"] = {"dir": str(tmp_path / "reports")}
    c = login(app, "vic")                         # viewer: read only
    assert "尚无通报 none yet" in c.get("/reports").text
    store.save_catalogue(supervision.catalogue())
    store.record_case_facts([case_fact(x) for x in supervision.cases(["2027-01", "2027-02"], 60, seed=9)])
    schedule.write_month(store, tmp_path / "reports", "2027-01", ("html", "xlsx"))
    schedule.write_month(store, tmp_path / "reports", "2027-02", ("html",))
    page = c.get("/reports")
    assert page.status_code == 200 and 'href="/reports"' in page.text        # in the navigation
    assert page.text.index("report-2027-02.html") < page.text.index("report-2027-01.html")
    assert 'src="/reports/report-2027-02.html"' in page.text and "最新 latest" in page.text
    html = c.get("/reports/report-2027-02.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "2027-02 一网通办月度通报" in html.text and "最多跑一次" in html.text
    xlsx = c.get("/reports/report-2027-01.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]
    (tmp_path / "secret.html").write_text("no", encoding="utf-8")
    for name in ("..%2Fsecret.html", "secret.html", "report-2027-03.html"):
        assert c.get(f"/reports/{name}").status_code == 404, name


def test_an_anonymous_request_for_a_report_goes_to_the_login(console, tmp_path):
    app, store, settings = console
    settings["report"] = {"dir": str(tmp_path)}
    r = client(app).get("/reports/report-2027-02.html", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
