"""总览 Overview: per department and direction what was read, published and delivered, dead
letters by stage, holds and breakers per destination, the rate of the last minutes, and each
source's checkpoint. The figures are `tongban status`'s own (hub/ops/status.py) where it has
them, so the page and `tongban status --json` agree."""
from __future__ import annotations

import json

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


def overview_data(ctx) -> dict:
    report = status(ctx.settings, ctx.store)
    published = ctx.store.published_by_department()
    dead = ctx.store.dead_letters_by("dead")
    by_stage: dict[str, int] = {}
    for d in dead:
        by_stage[d["stage"]] = by_stage.get(d["stage"], 0) + d["n"]
    rates = ctx.store.rate_buckets(int(ctx.conf.get("rate_minutes") or 15))
    from hub.model import SHANGHAI
    xs = [s.astimezone(SHANGHAI).strftime("%H:%M") for s in rates["starts"]]
    chart = line_chart({"发布 published/min": rates["published"], "投递 delivered/min": rates["delivered"]}, xs)
    now = utcnow()
    holders = (report.get("partitions") or {}).get("sources") or {}
    sources = []
    for cp in ctx.store.checkpoints_all():
        cursor = mask_text(json.dumps(cp["cursor"], ensure_ascii=False))
        sources.append({"source": cp["source"], "cursor": cursor if len(cursor) <= 90 else cursor[:87] + "...",
                        "updated_at": cp["updated_at"], "lag": (now - cp["updated_at"]).total_seconds(),
                        "holder": holders.get(f"tongban.source.{cp['source']}")})
    return {"report": report, "store": report["store"], "rows": directions(published, dead,
                                                                          report["store"]["deliveries"]),
            "by_stage": by_stage, "dead": sorted(dead, key=lambda d: (d["stage"], d["department"] or "")),
            "chart": chart, "rates": rates, "sources": sources, "now": now}


def overview(request, user, form):
    ctx = console_of(request)
    return ctx.render(request, user, "overview.html", **overview_data(ctx))


def routes():
    return [route("/", overview)]
