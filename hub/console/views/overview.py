"""总览 Overview: per department and direction what was read, published and delivered, dead
letters by stage, holds and breakers per destination, the rate of the last minutes, and each
source's checkpoint and whether its message log is written (the hub's /readyz says). The figures are `tongban status`'s own (hub/ops/status.py) where it has
them, so the page and `tongban status --json` agree."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from hub.model.masking import mask_text
from hub.ops.status import status
from hub.store.types import utcnow

from ..charts import line_chart
from ..web import console_of, route

PRE_CANONICAL = ("fetch", "decode", "map", "validate", "conflict")
SOUTHBOUND_KIND = "application"


def directions(published: dict, dead: list[dict], delivered: dict) -> list[dict]:
    """Rows of (department, direction): northbound the department's own records to the
    platforms, southbound the platform's applications to the department's sink."""
    died: dict[str, int] = {}
    for d in dead:
        if d["stage"] in PRE_CANONICAL:
            died[d["department"] or "-"] = died.get(d["department"] or "-", 0) + d["n"]
    rows = []
    for dept in sorted(set(published) | set(died)):
        kinds = published.get(dept, {})
        north = sum(n for k, n in kinds.items() if k != SOUTHBOUND_KIND)
        south = kinds.get(SOUTHBOUND_KIND, 0)
        if north or died.get(dept) or not south:
            rows.append({"department": dept, "direction": "north", "read": north + died.get(dept, 0),
                         "published": north, "kinds": {k: n for k, n in kinds.items() if k != SOUTHBOUND_KIND},
                         "dead_before_publish": died.get(dept, 0)})
        if south:
            rows.append({"department": dept, "direction": "south", "read": south, "published": south,
                         "kinds": {SOUTHBOUND_KIND: south}, "dead_before_publish": 0})
    # southbound deliveries land in each department's sink: a destination named after it
    for dest, n in sorted(delivered.items()):
        base = dest.split(".")[0]
        if dest not in ("platform", "province"):
            rows.append({"department": dest, "direction": "sink", "delivered": n, "base": base})
    return rows


# The overview's figures are a few scans of the largest tables (a million rows each: ~100 ms
# apiece here); gathered side by side on connections of their own, the page waits for the
# slowest instead of their sum (bench/console_pages.py).
_pool = ThreadPoolExecutor(max_workers=5, thread_name_prefix="console-overview")


def overview_data(ctx) -> dict:
    store = ctx.store
    f_published = _pool.submit(store.published_by_department)
    f_counts = _pool.submit(store.counts, 0)   # its message count is the sum of the per-department ones
    f_dead = _pool.submit(store.dead_letters_by, "dead")
    f_rates = _pool.submit(store.rate_buckets, int(ctx.conf.get("rate_minutes") or 15))
    report = status(ctx.settings, store, counts={})
    published = f_published.result()
    report["store"] = f_counts.result() | {"messages": sum(n for kinds in published.values() for n in kinds.values())}
    dead = f_dead.result()
    by_stage: dict[str, int] = {}
    for d in dead:
        by_stage[d["stage"]] = by_stage.get(d["stage"], 0) + d["n"]
    rates = f_rates.result()
    from hub.model import SHANGHAI
    xs = [s.astimezone(SHANGHAI).strftime("%H:%M") for s in rates["starts"]]
    chart = line_chart({"发布 published/min": rates["published"], "投递 delivered/min": rates["delivered"]}, xs)
    now = utcnow()
    holders = (report.get("partitions") or {}).get("sources") or {}
    logs = report.get("message_log") or {}
    sources = []
    for cp in ctx.store.checkpoints_all():
        cursor = mask_text(json.dumps(cp["cursor"], ensure_ascii=False))
        sources.append({"source": cp["source"], "cursor": cursor if len(cursor) <= 90 else cursor[:87] + "...",
                        "updated_at": cp["updated_at"], "lag": (now - cp["updated_at"]).total_seconds(),
                        "holder": holders.get(f"tongban.source.{cp['source']}"),
                        # None: not known here (no hub answered, or it does not run this source)
                        "evidence": (logs.get("sources") or {}).get(cp["source"])})
    return {"report": report, "store": report["store"], "message_log": logs, "rows": directions(published, dead,
                                                                          report["store"]["deliveries"]),
            "by_stage": by_stage, "dead": sorted(dead, key=lambda d: (d["stage"], d["department"] or "")),
            "chart": chart, "rates": rates, "sources": sources, "now": now}


class FiguresCache:
    """The overview's figures, kept for ``overview_cache_seconds`` (config): on a large store
    gathering them is a few full scans (~250 ms at a million rows here), and the page
    reloads itself every few seconds in every operator's browser; one gathering at a time
    serves them all. 0 gathers on every request. The page says how old its figures are."""

    def __init__(self):
        self._lock = threading.Lock()
        self._data: dict | None = None
        self._at = 0.0

    def get(self, ctx) -> dict:
        max_age = float(ctx.conf.get("overview_cache_seconds") or 0)
        with self._lock:   # single flight: a second request waits for the first's figures
            if self._data is None or time.monotonic() - self._at >= max_age:
                self._data = overview_data(ctx)
                self._at = time.monotonic()
            return self._data


def overview(request, user, form):
    ctx = console_of(request)
    cache = ctx.__dict__.setdefault("overview_cache", FiguresCache())
    return ctx.render(request, user, "overview.html", **cache.get(ctx))


def routes():
    return [route("/", overview)]
