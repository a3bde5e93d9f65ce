"""`--watch`: a report refreshed every few seconds until Ctrl-C. On a terminal, in place
(rich Live); piped, each report after the last (with --json one compact JSON object a line,
NDJSON, for a script to follow)."""
from __future__ import annotations

import json
import time
from datetime import datetime

from rich.text import Text

from hub.cli import live


def watch(read, render, seconds: float, as_json: bool = False) -> int:
    seconds = max(0.2, float(seconds))
    try:
        if as_json or not live.interactive(__import__("sys").stdout):
            while True:
                report = read()
                if as_json:
                    print(json.dumps(report, ensure_ascii=False, default=str), flush=True)
                else:
                    print(f"--- {datetime.now().isoformat(timespec='seconds')}\n{render(report)}\n", flush=True)
                time.sleep(seconds)
        from rich.console import Console
        from rich.live import Live
        with Live(Text("reading..."), console=Console(highlight=False), refresh_per_second=4) as lv:
            while True:
                report = read()
                lv.update(Text(f"tongban status  every {seconds:g}s  {datetime.now().isoformat(timespec='seconds')}"
                               f"  (Ctrl-C to stop)\n\n") + Text(render(report)))
                time.sleep(seconds)
    except KeyboardInterrupt:
        return 0
