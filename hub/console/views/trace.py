"""办件追踪 Case trace: one case number, everything the store holds of it on one timeline:
records read per source and track, messages published, deliveries per destination, holds
and retries, parked messages, dead letters and dual-track verdicts."""
from __future__ import annotations

from datetime import datetime, timezone

from hub.dualtrack.matcher import step_of
from hub.model.masking import mask, mask_text

from ..web import console_of, route

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ORDER = {"record": 0, "message": 1, "parked": 2, "retry": 3, "hold": 3, "dead_letter": 4, "delivery": 5,
          "verdict": 6}


def known_destinations(ctx) -> list[str]:
    """Every destination a case may have reached: configured ones, and those the store has
    a partition layout or breaker for (each department's sink, on both tracks)."""
    found = set(ctx.settings.get("destinations") or {}) | set(ctx.store.layouts())
    found |= {b["destination"] for b in ctx.store.breakers()}
    found |= {d + ".new" for d in list(found) if "." not in d and d not in ("platform", "province")}
    return sorted(found)


def known_sources(ctx) -> list[str]:
    return [cp["source"] for cp in ctx.store.checkpoints_all()]


def timeline(rows: dict, waiting: list[dict]) -> list[dict]:
    ev = []

    def add(kind, at, **kw):
        ev.append({"kind": kind, "at": at, **kw})

    for r in rows["records"]:
        add("record", r["seen_at"], track=r["source"].partition(":")[2], where=r["source"],
            what=f"{r['kind']} #{r['sequence'] if r['sequence'] is not None else '-'}", ref=r["message_id"],
            detail=mask_text(r["record_key"] or ""))
    for m in rows["messages"]:
        add("message", m["logged_at"], track=m["track"], where=m["department"],
            what=f"{m['kind']} #{m['sequence'] if m['sequence'] is not None else '-'}", ref=m["message_id"],
            detail=f"{m['routing_key']} · {m['mapping']}")
    for d in rows["deliveries"]:
        add("delivery", d["delivered_at"], track=d["track"], where=d["destination"],
            what=f"{d['kind']} #{d['sequence'] if d['sequence'] is not None else '-'}", ref=d["message_id"],
            detail=d["outcome"])
    for h in rows["holds"]:
        add("retry" if h["status"] in ("retrying", "released") else "hold", h["updated_at"], track=None,
            where=h["destination"], what=h["status"], ref=h["head_message_id"],
            detail=f"attempts {h['attempts']}: {mask_text(h['reason'] or '')[:160]}", hold=h)
    for p in rows["parked"]:
        add("parked", p["parked_at"], track=None, where=p["destination"], what=f"position {p['position']}",
            ref=p["message_id"], detail=p["routing_key"] or "")
    for dl in rows["dead_letters"]:
        add("dead_letter", dl["last_failed_at"], track=None, where=dl["destination"] or dl["department"],
            what=f"{dl['stage']} · {dl['status']}", ref=dl["id"],
            detail=f"attempts {dl['attempts']}: {mask_text(dl['reason'])[:160]}", dead_letter_id=dl["id"],
            at_destination=bool(dl["destination"]))
    for c in rows["comparisons"]:
        fields = "; ".join(str(f.get("path")) for f in (c["fields"] or []))
        add("verdict", c["compared_at"], track=c["track"], where=c["department"],
            what=f"{c['kind']} #{c['sequence']}: {c['verdict']}", ref=None,
            detail=(fields + (f" · lag {c['lag_seconds']:.1f}s" if c["lag_seconds"] is not None else "")),
            verdict=c["verdict"])
    for w in waiting:
        add("verdict", w["updated_at"], track=None, where=w["department"],
            what=f"{w['kind']} #{step_of(w)}: waiting", ref=None, detail=f"deadline {w['deadline']}",
            verdict="waiting")
    # by time to the second, then by the order things happen to a record (the store writes a
    # source's record versions just after the messages they made, in the same second)
    ev.sort(key=lambda e: ((e["at"] or _EPOCH).replace(microsecond=0), _ORDER[e["kind"]], e["at"] or _EPOCH))
    return mask(ev)


def trace(request, user, form):
    ctx = console_of(request)
    case_no = (request.query_params.get("case_no") or "").strip()
    events, counts = [], {}
    if case_no:
        rows = ctx.store.case_trace(case_no, known_sources(ctx), known_destinations(ctx))
        waiting = ctx.store.dualtrack_waiting(case_no=case_no)
        events = timeline(rows, waiting)
        counts = {k: len(v) for k, v in rows.items()} | {"waiting": len(waiting)}
    return ctx.render(request, user, "trace.html", case_no=case_no, events=events, counts=counts)


def routes():
    return [route("/trace", trace)]
