"""The report delivered like a real 通报: the previous month's, written once, where the console
lists it (`tongban report schedule`, the demo's last step).

Idempotent by its file: a month whose report is in the directory is not written again, so a
loop that checks every hour, a cron line on the first of the month and a catch-up after a
week down all give one report per month. The file is written beside its name and renamed into
it, so a reader (the console) never sees half a report."""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from hub.model.common import SHANGHAI

from .figures import build_report, previous_month
from .output import FORMATS, write

DEFAULT_DIR = "var/reports"
NAME = re.compile(r"^report-(\d{4}-\d{2})(?:-(city|county))?\.(html|xlsx|json)$")


def reports_dir(settings: dict) -> Path:
    from hub.config import ROOT
    d = Path((settings.get("report") or {}).get("dir") or DEFAULT_DIR)
    return d if d.is_absolute() else ROOT / d


def file_name(month: str, fmt: str, level: str | None = None) -> str:
    return f"report-{month}{'-' + level if level else ''}.{fmt}"


def month_before(now: datetime | None = None) -> str:
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    return previous_month(f"{now.year:04d}-{now.month:02d}")


def write_month(store, directory: Path, month: str, formats=("html",), level: str | None = None,
                force: bool = False) -> dict:
    """Write ``month``'s report in each format not yet written (all of them with ``force``)."""
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"--formats: {', '.join(bad)} is not one of {', '.join(FORMATS)}")
    directory.mkdir(parents=True, exist_ok=True)
    paths = {f: directory / file_name(month, f, level) for f in formats}
    due = [f for f, p in paths.items() if force or not p.exists()]
    report = build_report(store, month, level) if due else None
    for fmt in due:
        tmp = paths[fmt].with_name(f".{paths[fmt].name}.{os.getpid()}.tmp")
        write(report, tmp, fmt)
        os.replace(tmp, paths[fmt])
    return {"month": month, "written": [str(paths[f]) for f in due],
            "present": [str(p) for f, p in paths.items() if f not in due]}


def write_due(store, settings: dict, now: datetime | None = None, formats=("html",), level: str | None = None) -> dict:
    """The previous month's report, if it is not written yet."""
    return write_month(store, reports_dir(settings), month_before(now), formats, level)


def list_reports(directory: Path) -> list[dict]:
    """The reports in ``directory``, latest month first: month, level, format, name, size, written."""
    if not directory.is_dir():
        return []
    out = []
    for p in directory.iterdir():
        m = NAME.match(p.name)
        if m and p.is_file():
            st = p.stat()
            out.append({"month": m.group(1), "level": m.group(2), "format": m.group(3), "name": p.name,
                        "size": st.st_size, "written_at": datetime.fromtimestamp(st.st_mtime, SHANGHAI)})
    return sorted(out, key=lambda r: (r["month"], r["level"] or "", r["format"]), reverse=True)


def report_file(directory: Path, name: str) -> Path | None:
    """The file of a listed report, or None: only names of the report pattern, in the directory."""
    if not NAME.match(name or ""):
        return None
    p = directory / name
    return p if p.is_file() else None


def busiest_month(store) -> str | None:
    """The month (Asia/Shanghai) most of the store's cases completed in (else were submitted in)."""
    counts: dict[str, int] = {}
    for t in store.supervision_times():
        t = t.astimezone(SHANGHAI)
        key = f"{t.year:04d}-{t.month:02d}"
        counts[key] = counts.get(key, 0) + 1
    return max(sorted(counts), key=counts.get) if counts else None
