"""Small charts drawn on the server as SVG: no chart library, nothing to fetch."""
from __future__ import annotations

from html import escape

from markupsafe import Markup

COLOURS = ("#2563eb", "#16a34a", "#dc2626", "#9333ea")


def line_chart(series: dict[str, list[float]], x_labels: list[str], *, width: int = 640, height: int = 180,
               unit: str = "", max_value: float | None = None) -> Markup:
    """One polyline per series over shared x labels, a y axis from 0 to the largest value."""
    pad_l, pad_r, pad_t, pad_b = 44, 24, 12, 28
    n = max((len(v) for v in series.values()), default=0)
    top = max_value if max_value is not None else max([1.0] + [x for v in series.values() for x in v])
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad_l + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)
        return round(x, 1), round(pad_t + inner_h * (1 - v / top), 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">']
    for frac in (0, 0.5, 1):
        y = pad_t + inner_h * (1 - frac)
        parts.append(f'<line x1="{pad_l}" y1="{y}" x2="{width - pad_r}" y2="{y}" stroke="#ddd"/>'
                     f'<text x="{pad_l - 4}" y="{y + 4}" text-anchor="end" font-size="10">'
                     f'{escape(_num(top * frac))}{escape(unit)}</text>')
    step = max(1, n // 6)
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == n - 1:
            x, _ = xy(i, 0)
            parts.append(f'<text x="{x}" y="{height - 8}" text-anchor="middle" font-size="10">{escape(label)}</text>')
    for k, (name, values) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        points = " ".join(f"{x},{y}" for x, y in (xy(i, v) for i, v in enumerate(values)))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
                     f'<title>{escape(name)}</title></polyline>')
        parts.append(f'<text x="{pad_l + 8 + 150 * k}" y="{pad_t + 10}" font-size="11" fill="{colour}">'
                     f'{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(v: float) -> str:
    return f"{v:.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"
