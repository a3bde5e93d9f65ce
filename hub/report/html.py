"""The report as one self-contained HTML page: Chinese labels, charts drawn here as SVG
(nothing fetched from a CDN), every rate beside its numerator and denominator."""
from __future__ import annotations

from html import escape


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def change(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{'+' if v > 0 else ''}{v * 100:.1f} 个百分点"


def bar_chart(lines: list[dict], target: float | None, *, width: int = 560, bar_h: int = 22) -> str:
    """Horizontal bars, one per line (rate 0-100 %), a dashed line at the target."""
    pad_l, pad_r, pad_t = 170, 70, 16
    h = pad_t * 2 + bar_h * max(1, len(lines)) + 18
    inner = width - pad_l - pad_r
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" viewBox="0 0 {width} {h}" '
           f'role="img" font-family="sans-serif" font-size="12">']
    for i, ln in enumerate(lines):
        y = pad_t + i * bar_h
        rate = ln["rate"] or 0.0
        ok = ln.get("meets_target")
        colour = "#16a34a" if ok else "#dc2626" if ok is False else "#9ca3af"
        out.append(f'<text x="{pad_l - 6}" y="{y + bar_h * 0.65}" text-anchor="end">{escape(str(ln["label"]).split(" ")[0][:12])}</text>'
                   f'<rect x="{pad_l}" y="{y + 3}" width="{round(inner * min(rate, 1.0), 1)}" height="{bar_h - 6}" '
                   f'fill="{colour}"/>'
                   f'<text x="{pad_l + inner * min(rate, 1.0) + 4:.1f}" y="{y + bar_h * 0.65}">{pct(ln["rate"])}</text>')
    base = pad_t + bar_h * max(1, len(lines))
    for frac in (0, 0.5, 1):
        x = pad_l + inner * frac
        out.append(f'<line x1="{x}" y1="{pad_t}" x2="{x}" y2="{base}" stroke="#e5e7eb"/>'
                   f'<text x="{x}" y="{base + 14}" text-anchor="middle" font-size="10">{int(frac * 100)}%</text>')
    if target is not None:
        x = pad_l + inner * min(target, 1.0)
        out.append(f'<line x1="{x}" y1="{pad_t - 4}" x2="{x}" y2="{base}" stroke="#111" stroke-dasharray="4 3"/>'
                   f'<text x="{x}" y="{pad_t - 1}" text-anchor="middle" font-size="10">目标 {pct(target)}</text>')
    out.append("</svg>")
    return "".join(out)


_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#111;max-width:1100px}
h1{font-size:1.6em}h2{border-bottom:2px solid #2563eb;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #d1d5db;padding:.25em .6em;text-align:right}
th{background:#f3f4f6}td.l,th.l{text-align:left}.bad{color:#dc2626}.ok{color:#16a34a}
.def{background:#f9fafb;border-left:3px solid #9ca3af;padding:.4em .8em;font-size:.9em}"""


def _table(lines: list[dict], with_rank: bool = False, head: str = "部门") -> str:
    cols = f'<tr><th class="l">{head}</th><th>分子</th><th>分母</th><th>比率</th><th>上月</th><th>环比</th><th>达标</th>'
    cols += "<th>排名</th></tr>" if with_rank else "</tr>"
    rows = []
    for ln in lines:
        ok = ln.get("meets_target")
        mark = '<span class="ok">是</span>' if ok else '<span class="bad">否</span>' if ok is False else "—"
        rank = f"<td>{ln.get('rank', '—')}</td>" if with_rank else ""
        rows.append(f'<tr><td class="l">{escape(str(ln["label"]))}</td><td>{ln["numerator"]}</td>'
                    f'<td>{ln["denominator"]}</td><td>{pct(ln["rate"])}</td><td>{pct(ln["previous_rate"])}</td>'
                    f'<td>{change(ln["change"])}</td><td>{mark}</td>{rank}</tr>')
    return f"<table>{cols}{''.join(rows)}</table>"


def render(report: dict) -> str:
    level = {"city": "市级", "county": "县(区)级"}.get(report["level"], "全部层级")
    parts = [f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(report["title"])}</title>'
             f"<style>{_CSS}</style></head><body>",
             f'<h1>{escape(report["title"])}</h1><p>统计月份 {report["month"]} · 范围 {level} · '
             f'环比对比 {report["previous_month"]} · 生成于 {escape(report["generated_at"][:19])} (UTC)</p>',
             "<h2>总览</h2><table><tr><th class='l'>指标</th><th>目标</th><th>实际</th><th>分子/分母</th><th>环比</th>"
             "<th>达标</th></tr>"]
    for f in report["figures"]:
        o = f["overall"]
        ok = o["meets_target"]
        parts.append(f'<tr><td class="l">{f["label"]}</td><td>{pct(f["target"])}</td><td>{pct(o["rate"])}</td>'
                     f'<td>{o["numerator"]}/{o["denominator"]}</td><td>{change(o["change"])}</td>'
                     f'<td>{"是" if ok else "否" if ok is False else "—"}</td></tr>')
    parts.append("</table>")
    for f in report["figures"]:
        d = f["definition"]
        parts.append(f'<h2>{f["label"]} <small>({escape(f["en"])})</small></h2>'
                     f'<div class="def">分子:{escape(d["numerator"])}<br>分母:{escape(d["denominator"])}'
                     + (f"<br>{escape(d['exception'])}" if d["exception"] else "") + "</div>")
        parts.append(f'<p>目标 {pct(f["target"])},实际 {pct(f["overall"]["rate"])} '
                     f'({f["overall"]["numerator"]}/{f["overall"]["denominator"]}),环比 {change(f["overall"]["change"])}</p>')
        parts.append(bar_chart(f["by_department"], f["target"]))
        parts.append("<h3>各部门(排名)</h3>" + _table(f["by_department"], with_rank=True))
        parts.append("<h3>按事项类型</h3>" + _table(f["by_category"], head="事项类型"))
        parts.append("<h3>按层级</h3>" + _table(f["by_level"], head="层级"))
        if f["laggards"]:
            parts.append("<h3>拖后腿的事项</h3><table><tr><th class='l'>事项编码</th><th class='l'>事项名称</th>"
                         "<th class='l'>部门</th><th>未达数</th><th>分子/分母</th><th>比率</th></tr>")
            for x in f["laggards"]:
                parts.append(f'<tr><td class="l">{escape(x["item_code"])}</td><td class="l">{escape(x["name"])}</td>'
                             f'<td class="l">{escape(x["department_label"])}</td><td>{x["missed"]}</td>'
                             f'<td>{x["numerator"]}/{x["denominator"]}</td><td>{pct(x["rate"])}</td></tr>')
            parts.append("</table>")
    od = report["overdue"]
    parts.append(f'<h2>{od["label"]}</h2><div class="def">分子:{escape(od["definition"]["numerator"])}<br>'
                 f'分母:{escape(od["definition"]["denominator"])}</div>')
    parts.append(bar_chart(od["by_department"], None))
    parts.append("<h3>各部门超期率(排名 1 为超期最少)</h3>" + _table(od["by_department"], with_rank=True))
    if od["cases"]:
        parts.append("<h3>超期办件</h3><table><tr><th class='l'>办件编号</th><th class='l'>事项</th><th class='l'>部门</th>"
                     "<th>受理时间</th><th>承诺期限</th><th>办结时间</th></tr>")
        for c in od["cases"]:
            parts.append(f'<tr><td class="l">{escape(c["case_no"])}</td><td class="l">{escape(c["name"])}</td>'
                         f'<td class="l">{escape(c["department_label"])}</td><td>{_d(c["accepted_at"])}</td>'
                         f'<td>{_d(c["due_at"])}</td><td>{_d(c["completed_at"]) if c["completed_at"] else "未办结"}</td></tr>')
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _d(v) -> str:
    from hub.model.common import SHANGHAI
    if v is None:
        return "—"
    if isinstance(v, str):
        return v[:16]
    return v.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
