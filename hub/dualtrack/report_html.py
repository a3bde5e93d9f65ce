"""The report as one self-contained HTML page: inline SVG charts and CSS, no script and
nothing fetched from the network (handover teams open it on offline machines)."""
from __future__ import annotations

from html import escape

COLOURS = {"match": "#3a8f4c", "excused": "#9cc9a5", "mismatch": "#c8483c", "missing_old": "#e59b2f",
           "missing_new": "#f2c14e", "noise": "#8a8fa3"}
_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:.9em}
th{background:#f2f2f2;text-align:left}.num{text-align:right}.ok{color:#3a8f4c;font-weight:bold}
.no{color:#c8483c;font-weight:bold}.small{color:#666;font-size:.85em}svg text{font-size:11px}"""


def render_html(r: dict) -> str:
    rd = r["readiness"]
    verdict = '<span class="ok">就绪 READY</span>' if rd["ready"] else '<span class="no">未就绪 NOT READY</span>'
    mode = r["mode"]
    parts = [
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">",
        f"<title>双轨比对报告 Dual-track report: {escape(r['department_label'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>双轨比对报告 Dual-track report — {escape(r['department_label'])}</h1>",
        f"<p>模式 mode: <b>{escape(r['labels']['modes'].get(mode['mode'], mode['mode']))}</b> "
        f"({escape(mode['source'])}) · 期间 period: {escape(r['since'][:19])} → {escape(r['until'][:19])} · "
        f"生成 generated {escape(r['generated_at'][:19])}</p>",
        f"<h2>切换就绪 Readiness: {verdict}</h2>",
        _table(["条件 criterion", "结果 ok", "实际 value", "要求 required"],
               [[c["name"], "✔" if c["ok"] else "✘", *_check_values(c)] for c in rd["checks"]]),
        "<ul>" + "".join(f"<li>{escape(x)}</li>" for x in rd["reasons"]) + "</ul>" if rd["reasons"] else "",
        "<h2>总量 Volumes</h2>",
        _table(["结论 verdict", "数量 count"],
               [[r["labels"]["verdicts"][v], r["totals"][v]] for v in r["labels"]["verdicts"]]
               + [["配对 pairs", r["totals"]["pairs"]], ["办件 cases", r["totals"]["cases"]]]),
        "<h2>按日趋势 Trend by day</h2>", _trend_svg(r["trend"]),
        _table(["日期 day", "一致 match", "已豁免 excused", "不一致 mismatch", "旧轨缺失 missing old",
                "新轨缺失 missing new", "噪声 noise", "一致率 match rate"],
               [[d["day"], d["match"], d["excused"], d["mismatch"], d["missing_old"], d["missing_new"], d["noise"],
                 _pct(d["match_rate"])] for d in r["trend"]]),
        "<h2>差异最多的字段 Top differing fields</h2>",
        _bars_svg([(f"{f['kind']}: {f['field']}", f["count"]) for f in r["top_fields"]]),
        _table(["类型 kind", "字段 field", "次数 count", "比例 rate", "关键 critical", "噪声 noise",
                "裁定 adjudicated"],
               [[f["kind"], f["field"], f["count"], _pct(f["rate"]), "✔" if f["critical"] else "",
                 "✔" if f["noise"] else "", r["labels"]["classes"].get(f["classification"], "")]
                for f in r["fields"]]),
        "<h2>示例(已脱敏) Examples (masked)</h2>",
        _table(["字段 field", "办件 case", "序号 seq", "路径 path", "旧轨 old", "新轨 new"],
               [[f["field"], e["case_no"], e["sequence"], e["path"], _val(e, "old"), _val(e, "new")]
                for f in r["top_fields"] for e in f["examples"]]),
        "<h2>缺失 Missing</h2>",
        _table(["类型 kind", "旧轨缺失 missing old", "新轨缺失 missing new"],
               [[k, c.get("missing_old", 0), c.get("missing_new", 0)] for k, c in r["missing"].items()]),
        _table(["结论 verdict", "办件 case", "类型 kind", "序号 seq", "迟到 late by (s)"],
               [[r["labels"]["verdicts"][e["verdict"]], e["case_no"], e["kind"], e["sequence"],
                 _fmt(e["lag_seconds"])] for e in r["missing_examples"]]),
        f"<h2>时延分布 Lag distribution</h2><p class=\"small\">新轨到达减旧轨到达 new arrival minus old; "
        f"窗口 window {r['lag']['window_seconds']:g} s · p50 {_fmt(r['lag']['p50'])} · p90 {_fmt(r['lag']['p90'])}"
        f" · p99 {_fmt(r['lag']['p99'])} · max {_fmt(r['lag']['max'])}</p>",
        _bars_svg([(b["bucket"], b["count"]) for b in r["lag"]["buckets"]], colour="#4a74b5"),
        "<h2>噪声字段 Noise fields</h2>",
        _table(["类型 kind", "字段 field", "轨 track", "次数 count"],
               [[n["kind"], n["field"], n["track"], n["count"]] for n in r["noise"]]),
        "<h2>有效裁定 Active adjudications</h2>",
        _table(["类型 kind", "字段 field", "裁定 class", "人 who", "理由 reason", "到期 expires"],
               [[a["kind"], a["field"], r["labels"]["classes"][a["classification"]], a["actor"], a["reason"],
                 str(a["expires_at"] or "—")] for a in r["adjudications"]]),
        "</body></html>",
    ]
    return "\n".join(parts)


def _check_values(c: dict) -> list[str]:
    if c["name"] == "match_rate":
        return [_pct(c["value"]), "≥ " + _pct(c["required"])]
    return [_fmt(c["value"]), ("≥ " if c["name"] == "pairs" else "≤ ") + _fmt(c["required"])]


def _table(head: list[str], rows: list[list]) -> str:
    if not rows:
        return '<p class="small">无 none</p>'
    h = "".join(f"<th>{escape(x)}</th>" for x in head)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _cell(v) -> str:
    cls = ' class="num"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
    return f"<td{cls}>{escape(str(v))}</td>"


def _val(example: dict, side: str) -> str:
    return "(无字段 absent)" if example.get("absent") == side else _fmt(example[side])


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}" if v < 1 or v != int(v) else f"{v:g}"
    return str(v)


def _pct(v) -> str:
    return "—" if v is None else f"{v:.2%}"


def _trend_svg(days: list[dict]) -> str:
    if not days:
        return '<p class="small">无数据 no data</p>'
    keys = ["match", "excused", "mismatch", "missing_old", "missing_new", "noise"]
    top = max(max(d["match"] + d["mismatch"] + d["missing_old"] + d["missing_new"] + d["noise"] for d in days), 1)
    bw, gap, height = 44, 18, 160
    width = max(640, 60 + len(days) * (bw + gap))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 60}" role="img" '
           f'aria-label="trend by day">']
    for i, d in enumerate(days):
        x, y = 50 + i * (bw + gap), height + 10
        # excused mismatches are drawn apart from the unexcused ones, not twice
        values = {**{k: d[k] for k in keys}, "mismatch": d["mismatch"] - d["excused"]}
        for k in keys:
            h = values[k] / top * height
            if h > 0:
                y -= h
                out.append(f'<rect x="{x}" y="{y:.1f}" width="{bw}" height="{h:.1f}" fill="{COLOURS[k]}">'
                           f'<title>{escape(d["day"])} {k}: {values[k]}</title></rect>')
        out.append(f'<text x="{x}" y="{height + 25}">{escape(d["day"][5:])}</text>')
        out.append(f'<text x="{x}" y="{height + 40}">{escape(_pct(d["match_rate"]))}</text>')
    out.append(f'<text x="0" y="20">{top}</text><text x="0" y="{height + 10}">0</text>')
    legend = " ".join(f'<tspan fill="{COLOURS[k]}">■</tspan> {k}' for k in keys)
    out.append(f'<text x="50" y="{height + 56}">{legend}</text></svg>')
    return "".join(out)


def _bars_svg(items: list[tuple[str, int]], colour: str = "#c8483c") -> str:
    if not items or not any(n for _, n in items):
        return '<p class="small">无数据 no data</p>'
    top = max(n for _, n in items) or 1
    row, label_w, bar_w = 20, 320, 360
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" height="{len(items) * row + 10}">']
    for i, (label, n) in enumerate(items):
        y = 5 + i * row
        w = n / top * bar_w
        out.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(label[:48])}</text>'
                   f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row - 5}" fill="{colour}"/>'
                   f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{n}</text>')
    out.append("</svg>")
    return "".join(out)
