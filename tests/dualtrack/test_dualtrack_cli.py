"""`tongban dualtrack ...` end to end on a SQLite store (no broker)."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from hub.cli.main import main
from hub.dualtrack import DualTrack
from hub.store import Store
from sims.commerce_data import OPERATORS

from dt_data import both_tracks, make_records, write_rules


def _drift(envs):
    for e in envs:
        if e["kind"] == "case_event" and e["sequence"] == 2:
            e["payload"]["type"] = "in_review"
            e["payload"]["handler"] = "新系统操作员"
    return envs


@pytest.fixture
def env(tmp_path, monkeypatch):
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("TONGBAN_DB_URL", db)
    settings = write_rules(tmp_path)
    monkeypatch.setenv("TONGBAN__DUALTRACK_FILE", settings["dualtrack_file"])
    old, new = both_tracks(make_records(5), drift_envelopes=_drift)
    now = datetime.now(timezone.utc) - timedelta(minutes=10)
    with Store.open(db) as store:
        dt = DualTrack(store, settings)
        dt.offer_many(old, now)
        dt.offer_many(new, now + timedelta(seconds=12))
    return {"db": db, "case_no": old[0]["case_no"], "tmp": tmp_path}


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["dualtrack", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_status_json_and_text(env, capsys):
    code, out, _ = run(capsys, "status", "--json")
    commerce = json.loads(out)["departments"]["commerce"]
    assert code == 0 and commerce["mode"]["mode"] == "shadow" and commerce["primary"] == "old"
    assert commerce["ready"] is False and commerce["figures"]["pairs"] == 20 and commerce["figures"]["mismatch"] == 5
    assert commerce["label"].startswith("市场监督管理局")
    code, out, _ = run(capsys, "status")
    line = next(x for x in out.splitlines() if x.startswith("commerce"))
    assert "shadow (config)" in line and "75.00%" in line and line.endswith("no")
    assert "open mismatch(es) in critical fields: payload.type ×5" in out


def test_timeline_shows_both_tracks_side_by_side(env, capsys):
    code, out, _ = run(capsys, "timeline", env["case_no"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"case {env['case_no']}") and "市场监督管理局" in lines[0]
    step2 = next(x for x in lines if x.startswith("2   case_event"))
    assert "decided" in step2 and "in_review" in step2 and "不一致 mismatch" in step2 and "12.0s" in step2
    assert 'payload.type: "decided" → "in_review"' in step2
    assert not any(name in out for name in OPERATORS)   # handlers are masked
    assert sum("一致 match" in x and "不一致" not in x for x in lines) == 3
    assert run(capsys, "timeline", "NO-SUCH-CASE")[0] == 1


def test_adjudicate_then_cutover_then_rollback(env, capsys):
    code, _, err = run(capsys, "cutover", "commerce", "--reason", "go live", "--actor", "li.na")
    assert code == 1 and "refused" in err and "payload.type ×5" in err
    for field in ("payload.type", "payload.handler"):
        code, out, _ = run(capsys, "adjudicate", "commerce", "--kind", "case_event", "--field", field,
                           "--as", "policy_change", "--reason", "新流程取消核准环节", "--expires", "2099-12-31",
                           "--actor", "li.na")
        assert code == 0 and "policy_change" in out
    code, out, _ = run(capsys, "cutover", "commerce", "--reason", "go live", "--actor", "li.na")
    assert code == 0 and json.loads(out)["to"] == "cutover"
    assert json.loads(run(capsys, "status", "--json")[1])["departments"]["commerce"]["primary"] == "new"
    code, out, _ = run(capsys, "rollback", "commerce", "--reason", "province rejects", "--actor", "wang.wei")
    assert code == 0 and json.loads(out)["to"] == "shadow"
    with Store.open(env["db"]) as store:
        actions = [a["action"] for a in store.audit_log()]
    assert actions == ["dualtrack.rollback", "dualtrack.cutover", "dualtrack.adjudicate", "dualtrack.adjudicate"]


def test_department_summary_for_the_demo(env):
    from hub.dualtrack.report import department_summary
    with Store.open(env["db"]) as store:
        s = department_summary(store, {"dualtrack_file": str(env["tmp"] / "dualtrack.yaml")}, "commerce")
    assert (s["mode"], s["pairs"], s["match"], s["mismatch"], s["missing_old"], s["missing_new"], s["noise"]) == \
        ("shadow", 20, 15, 5, 0, 0, 0)
    assert s["mismatch_by_field"] == {"case_event:payload.type": 5, "case_event:payload.handler": 5}
    assert s["ready"] is False and s["match_rate"] == 0.75


def test_bad_input_is_a_clear_error(env, capsys):
    code, _, err = run(capsys, "adjudicate", "commerce", "--kind", "case_event", "--field", "payload.type",
                       "--as", "accepted_difference", "--reason", "x", "--expires", "next week")
    assert code == 2 and "next week" in err
    with pytest.raises(SystemExit):
        main(["dualtrack", "cutover", "comerce", "--reason", "x"])


def test_report_in_json_html_and_xlsx(env, capsys):
    code, out, _ = run(capsys, "report", "commerce", "--format", "json")
    r = json.loads(out)
    assert code == 0 and r["totals"]["mismatch"] == 5 and r["totals"]["pairs"] == 20
    top = {f["field"]: f for f in r["top_fields"]}
    assert top["payload.type"]["count"] == 5 and top["payload.type"]["rate"] == 0.25 and top["payload.type"]["critical"]
    assert len(top["payload.handler"]["examples"]) == 3
    assert r["lag"]["p50"] == 12.0 and r["trend"][0]["match_rate"] == 0.75
    assert r["readiness"]["ready"] is False

    html_file = env["tmp"] / "r.html"
    assert run(capsys, "report", "commerce", "--format", "html", "--out", str(html_file))[0] == 0
    html = html_file.read_text(encoding="utf-8")
    assert html.count("<svg") == 3 and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for label in ("市场监督管理局 market regulation", "不一致 mismatch", "旧轨缺失 missing on old", "未就绪 NOT READY"):
        assert label in html

    xlsx_file = env["tmp"] / "r.xlsx"
    assert run(capsys, "report", "commerce", "--format", "xlsx", "--out", str(xlsx_file))[0] == 0
    wb = load_workbook(io.BytesIO(xlsx_file.read_bytes()))
    assert wb.sheetnames[:3] == ["概要 Summary", "字段 Fields", "示例 Examples"]
    fields = [row for row in wb["字段 Fields"].iter_rows(min_row=2, values_only=True)]
    assert ("case_event", "payload.type", 5, 0.25, True, False, None) in fields
    text = json.dumps([[c for c in row] for ws in wb for row in ws.iter_rows(values_only=True)], ensure_ascii=False,
                      default=str)
    for body in (out, html, text):
        assert not any(name in body for name in OPERATORS) and "新系统操作员" not in body
