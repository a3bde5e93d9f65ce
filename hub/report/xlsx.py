"""The report as an Excel workbook (openpyxl): an overview sheet, one sheet per figure with
formatted tables and a native bar chart of the departments, and one for overdue cases."""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from hub.model.common import SHANGHAI

_HEAD = PatternFill("solid", fgColor="DBEAFE")
_BAD = Font(color="DC2626")
_THIN = Side(style="thin", color="D1D5DB")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
PCT = "0.0%"


def _header(ws, row: int, names: list[str]) -> None:
    for col, name in enumerate(names, 1):
        c = ws.cell(row=row, column=col, value=name)
        c.font, c.fill, c.border = Font(bold=True), _HEAD, _BOX
        c.alignment = Alignment(horizontal="center")


def _lines(ws, row: int, title: str, head: str, lines: list[dict], rank: bool) -> tuple[int, int, int]:
    """Writes a table; returns (first data row, last data row, next free row)."""
    ws.cell(row=row, column=1, value=title).font = Font(bold=True, size=12)
    names = [head, "分子", "分母", "比率", "上月", "环比", "达标"] + (["排名"] if rank else [])
    _header(ws, row + 1, names)
    r = row + 2
    for ln in lines:
        ok = ln.get("meets_target")
        vals = [ln["label"], ln["numerator"], ln["denominator"], ln["rate"], ln["previous_rate"], ln["change"],
                "是" if ok else "否" if ok is False else "—"] + ([ln.get("rank")] if rank else [])
        for col, v in enumerate(vals, 1):
            c = ws.cell(row=r, column=col, value=v)
            c.border = _BOX
            if col in (4, 5, 6):
                c.number_format = PCT
            if ok is False and col in (4, 7):
                c.font = _BAD
        r += 1
    return row + 2, r - 1, r + 1


def _widths(ws, widths: list[int]) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _chart(ws, title: str, first: int, last: int, anchor: str) -> None:
    if last < first:
        return
    ch = BarChart()
    ch.type, ch.title, ch.style = "bar", title, 10
    ch.y_axis.title, ch.y_axis.number_format = "比率", "0%"
    ch.y_axis.scaling.min, ch.y_axis.scaling.max = 0, 1
    ch.add_data(Reference(ws, min_col=4, min_row=first - 1, max_row=last), titles_from_data=True)
    ch.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    ch.height, ch.width = 7.5, 16
    ws.add_chart(ch, anchor)


def _local(v):
    return None if v is None else v.astimezone(SHANGHAI).replace(tzinfo=None)


def render(report: dict, path) -> None:
    wb = Workbook()
    ov = wb.active
    ov.title = "总览"
    ov["A1"] = report["title"]
    ov["A1"].font = Font(bold=True, size=14)
    ov["A2"] = f"统计月份 {report['month']} · 层级 {report['level'] or '全部'} · 环比 {report['previous_month']}"
    _header(ov, 4, ["指标", "目标", "实际", "分子", "分母", "环比", "达标"])
    for i, f in enumerate(report["figures"], 5):
        o = f["overall"]
        for col, v in enumerate([f["label"], f["target"], o["rate"], o["numerator"], o["denominator"], o["change"],
                                 "是" if o["meets_target"] else "否" if o["meets_target"] is False else "—"], 1):
            c = ov.cell(row=i, column=col, value=v)
            c.border = _BOX
            if col in (2, 3, 6):
                c.number_format = PCT
    _widths(ov, [26, 10, 10, 10, 10, 12, 8])
    for f in report["figures"]:
        ws = wb.create_sheet(f["label"][:31])
        ws["A1"] = f"{f['label']} ({f['en']})"
        ws["A1"].font = Font(bold=True, size=13)
        ws["A2"] = f"分子:{f['definition']['numerator']}"
        ws["A3"] = f"分母:{f['definition']['denominator']}"
        ws["A4"] = f["definition"]["exception"] or ""
        ws["A5"] = "目标"
        ws["B5"] = f["target"]
        ws["B5"].number_format = PCT
        first, last, nxt = _lines(ws, 7, "各部门", "部门", f["by_department"], True)
        _chart(ws, f"{f['label']}(各部门)", first, last, "J7")
        _, _, nxt = _lines(ws, nxt, "按事项类型", "事项类型", f["by_category"], False)
        _, _, nxt = _lines(ws, nxt, "按层级", "层级", f["by_level"], False)
        ws.cell(row=nxt, column=1, value="拖后腿的事项").font = Font(bold=True, size=12)
        _header(ws, nxt + 1, ["事项编码", "事项名称", "部门", "未达数", "分子", "分母", "比率"])
        for r, x in enumerate(f["laggards"], nxt + 2):
            for col, v in enumerate([x["item_code"], x["name"], x["department_label"], x["missed"], x["numerator"],
                                     x["denominator"], x["rate"]], 1):
                c = ws.cell(row=r, column=col, value=v)
                c.border = _BOX
                if col == 7:
                    c.number_format = PCT
        _widths(ws, [22, 30, 14, 10, 10, 12, 8, 8])
    od = report["overdue"]
    ws = wb.create_sheet(od["label"])
    ws["A1"] = od["label"]
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = f"分子:{od['definition']['numerator']}"
    ws["A3"] = f"分母:{od['definition']['denominator']}"
    first, last, nxt = _lines(ws, 5, "各部门(排名 1 为超期最少)", "部门", od["by_department"], True)
    _chart(ws, "超期率(各部门)", first, last, "J5")
    _header(ws, nxt, ["办件编号", "事项", "部门", "受理时间", "承诺期限", "办结时间"])
    for r, cs in enumerate(od["cases"], nxt + 1):
        for col, v in enumerate([cs["case_no"], cs["name"], cs["department_label"], _local(cs["accepted_at"]),
                                 _local(cs["due_at"]), _local(cs["completed_at"]) or "未办结"], 1):
            c = ws.cell(row=r, column=col, value=v)
            c.border = _BOX
            if col in (4, 5, 6) and not isinstance(v, str):
                c.number_format = "yyyy-mm-dd hh:mm"
    _widths(ws, [22, 30, 14, 18, 18, 18, 8, 8])
    wb.save(path)
