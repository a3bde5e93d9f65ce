"""Write a report in one of its formats."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

FORMATS = ("html", "xlsx", "json")


def _plain(v):
    if isinstance(v, datetime):
        return v.isoformat()
    raise TypeError(f"{type(v).__name__} is not JSON")


def write(report: dict, path: str | Path, fmt: str | None = None) -> Path:
    path = Path(path)
    fmt = fmt or (path.suffix.lstrip(".") if path.suffix.lstrip(".") in FORMATS else "html")
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=_plain), encoding="utf-8")
    elif fmt == "html":
        from .html import render
        path.write_text(render(report), encoding="utf-8")
    else:
        from .xlsx import render
        render(report, path)
    return path
