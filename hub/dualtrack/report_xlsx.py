"""The report as an Excel workbook (openpyxl): one sheet per section, a chart of the
trend, headers in Chinese with English beside them."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill

_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")


def render_xlsx(r: dict) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "概要 Summary"
    rd = r["readiness"]
    labels = r["labels"]
    _rows(ws, ["项目 item", "值 value"], [
        ["部门 department", r["department_label"]],
        ["模式 mode", labels["modes"].get(r["mode"]["mode"], r["mode"]["mode"])],
        ["期间起 since", r["since"]], ["期间止 until", r["until"]],
        ["切换就绪 ready", "就绪 READY" if rd["ready"] else "未就绪 NOT READY"],
        *[["未就绪原因 reason", x] for x in rd["reasons"]],
        *[[labels["verdicts"][v], r["totals"][v]] for v in labels["verdicts"]],
        ["配对 pairs", r["totals"]["pairs"]], ["办件 cases", r["totals"]["cases"]],
        ["一致率 match rate (readiness window)", rd["figures"]["match_rate"]],
    ])
    _rows(wb.create_sheet("字段 Fields"),
          ["类型 kind", "字段 field", "次数 count", "比例 rate", "关键 critical", "噪声 noise", "裁定 adjudicated"],
          [[f["kind"], f["field"], f["count"], f["rate"], f["critical"], f["noise"],
            labels["classes"].get(f["classification"], "")] for f in r["fields"]])
    _rows(wb.create_sheet("示例 Examples"),
          ["字段 field", "办件 case", "序号 seq", "路径 path", "旧轨 old", "新轨 new", "缺字段 absent"],
          [[f["field"], e["case_no"], e["sequence"], e["path"], _cell(e["old"]), _cell(e["new"]), e["absent"]]
           for f in r["fields"] for e in f["examples"]])
    _rows(wb.create_sheet("缺失 Missing"), ["结论 verdict", "办件 case", "类型 kind", "序号 seq", "迟到 late by (s)"],
          [[labels["verdicts"][e["verdict"]], e["case_no"], e["kind"], e["sequence"], e["lag_seconds"]]
           for e in r["missing_examples"]])
    lag = r["lag"]
    _rows(wb.create_sheet("时延 Lag"), ["区间 bucket", "数量 count"],
          [[b["bucket"], b["count"]] for b in lag["buckets"]]
          + [[k, lag[k]] for k in ("window_seconds", "min", "p50", "p90", "p99", "max")])
    trend = wb.create_sheet("趋势 Trend")
    _rows(trend, ["日期 day", "一致 match", "已豁免 excused", "不一致 mismatch", "旧轨缺失 missing old",
                  "新轨缺失 missing new", "噪声 noise", "一致率 match rate"],
          [[d["day"], d["match"], d["excused"], d["mismatch"], d["missing_old"], d["missing_new"], d["noise"],
            d["match_rate"]] for d in r["trend"]])
    if r["trend"]:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title = "按日结论 Verdicts by day"
        n = len(r["trend"]) + 1
        chart.add_data(Reference(trend, min_col=2, max_col=7, min_row=1, max_row=n), titles_from_data=True)
        chart.set_categories(Reference(trend, min_col=1, min_row=2, max_row=n))
        trend.add_chart(chart, "J2")
    _rows(wb.create_sheet("噪声 Noise"), ["类型 kind", "字段 field", "轨 track", "次数 count"],
          [[n["kind"], n["field"], n["track"], n["count"]] for n in r["noise"]])
    _rows(wb.create_sheet("裁定 Adjudications"), ["类型 kind", "字段 field", "裁定 class", "人 who", "理由 reason",
                                                 "到期 expires"],
          [[a["kind"], a["field"], labels["classes"][a["classification"]], a["actor"], a["reason"],
            str(a["expires_at"] or "")] for a in r["adjudications"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rows(ws, head: list[str], rows: list[list]) -> None:
    ws.append(head)
    for cell in ws[1]:
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
    for row in rows:
        ws.append([_cell(v) for v in row])
    for i, h in enumerate(head):
        ws.column_dimensions[chr(ord("A") + i)].width = max(12, min(48, len(h) * 2))


def _cell(v):
    # A cell holds a scalar; a masked list item or object is shown as its text.
    return v if v is None or isinstance(v, (str, int, float, bool)) else str(v)
