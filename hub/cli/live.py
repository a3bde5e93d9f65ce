"""The terminal side of the long commands: a live display (rich) while they work, and a
summary table at the end. Only on a terminal: piped or redirected (a CI log, a test, a
`| tee`), the commands print the plain lines they always printed, so what scripts read
does not change, and --json stays exactly one JSON document on stdout."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text


def interactive(stream=None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


def err_console() -> Console:
    return Console(file=sys.stderr, highlight=False)


def _bar(done: int, total: int, width: int = 24) -> Text:
    filled = int(width * done / total) if total else width
    style = "green" if total and done >= total else "yellow"
    return Text("█" * filled, style=style) + Text("░" * (width - filled), style="dim")


def demo_table(report: dict, elapsed: float, extra: str = "") -> Table:
    """What the demo has delivered so far, per destination (and southbound), with a bar each."""
    t = Table(title=f"tongban demo  {elapsed:5.1f}s  cases {report['cases']}  dead letters "
                    f"{report['dead_letters']}{extra}", title_justify="left", expand=False)
    for col, just in (("destination 目的地", "left"), ("delivered 已送达", "right"), ("", "left"),
                      ("held 暂挂", "right"), ("missing 缺失", "right")):
        t.add_column(col, justify=just)
    for name, d in report["destinations"].items():
        t.add_row(name, f"{d['delivered']}/{d['expected']}", _bar(d["delivered"], d["expected"]),
                  str(d.get("held", 0)), str(d["missing"]))
    sb = report.get("southbound")
    if sb:
        t.add_row("southbound 下行", f"{sb['delivered']}/{sb['submitted']}", _bar(sb["delivered"], sb["submitted"]),
                  "", str(sb["missing"]))
        t.add_row("receipts 回执", f"{sb['receipts']}/{sb['submitted']}", _bar(sb["receipts"], sb["submitted"]), "", "")
    return t


def verify_table(report: dict) -> Table:
    """The end-of-run summary (hub/ops/verify.py's report) as a table."""
    t = Table(title=f"cases {report['cases']}   dead letters {report['dead_letters']}   unmappable records "
                    f"{report['unmappable_records']}", title_justify="left")
    for col in ("destination", "expected", "delivered", "held", "missing", "dupes", "order", "unexp.", "altered"):
        t.add_column(col, justify="left" if col == "destination" else "right")
    for name, d in report["destinations"].items():
        t.add_row(name, *(str(d.get(k, 0)) for k in ("expected", "delivered", "held", "missing", "duplicates",
                                                      "out_of_order", "unexpected", "altered")))
    for dept, dests in report.get("departments", {}).items():
        t.add_row(f"  {dept}", "", "  ".join(f"{n} {d['delivered']}/{d['expected']}" for n, d in dests.items()))
    sb = report.get("southbound")
    if sb:
        t.add_row("southbound", str(sb["submitted"]), str(sb["delivered"]), "", str(sb["missing"]),
                  str(sb["duplicates"]), "", "", "")
    t.caption = ("[green]OK: every expected message arrived once, in order, unaltered[/]" if report["ok"]
                 else "[red]NOT OK: see the columns above[/]")
    return t


def print_summary(report: dict, render_plain) -> None:
    """The verify summary on stdout: a table on a terminal, the plain text otherwise."""
    if interactive(sys.stdout):
        Console(highlight=False).print(verify_table(report))
    else:
        print(render_plain(report))


@contextmanager
def live(renderable_factory=None):
    """A Live display on stderr (None when not on a terminal). Log lines written meanwhile
    go above it (hub/logs.py writes to whatever sys.stderr is at the time)."""
    if not interactive():
        yield None
        return
    with Live(Text("starting..."), console=err_console(), refresh_per_second=4, redirect_stderr=True,
              redirect_stdout=False, transient=False) as lv:
        yield lv


@contextmanager
def progress(description: str, total: int | None = None):
    """A progress bar for a loop (replay, catalog sync): yields advance(done, total); a no-op
    off a terminal."""
    if not interactive():
        yield lambda done, total=None: None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err_console(), transient=True)
    with bar:
        task = bar.add_task(description, total=total)

        def advance(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=total if total is not None else bar.tasks[0].total)
        yield advance


__all__ = ["Group", "demo_table", "interactive", "live", "print_summary", "progress", "verify_table"]
