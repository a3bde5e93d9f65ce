"""双轨 Dual-track: per department the mode, the match rate over time, mismatches by
field, readiness and its reasons, the cutover/rollback history, the HTML report; cutover
and rollback for the handover role (hub/dualtrack/modes.py: refused with the reasons when
not ready)."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from starlette.responses import HTMLResponse

from hub.adapter.departments import names as departments
from hub.dualtrack.config import PRIMARY
from hub.dualtrack.modes import NotReady, cutover, mode_info, rollback
from hub.dualtrack.readiness import readiness
from hub.dualtrack.report import build_report
from hub.dualtrack.report_html import render_html
from hub.model import SHANGHAI
from hub.model.masking import mask, mask_text

from ..charts import line_chart
from ..web import console_of, reason_of, route

CHART_HOURS = 24


def rate_by_hour(store, department: str, now: datetime) -> tuple[list[str], list[float]]:
    """Match rate (match / (match + mismatch)) per hour over the last CHART_HOURS hours that had pairs."""
    since = now - timedelta(hours=CHART_HOURS)
    hours: dict[str, Counter] = defaultdict(Counter)
    for r in store.dualtrack_comparisons(department=department, since=since, verdicts=("match", "mismatch")):
        hours[r["compared_at"].astimezone(SHANGHAI).strftime("%m-%d %H:00")][r["verdict"]] += 1
    keys = sorted(hours)
    return keys, [round(100 * hours[k]["match"] / (hours[k]["match"] + hours[k]["mismatch"]), 1) for k in keys]


def department_view(ctx, dept: str, now: datetime) -> dict:
    info = mode_info(ctx.store, ctx.settings, dept, fresh=True)
    r = readiness(ctx.store, ctx.settings, dept, now)
    f = r.figures
    out = {"department": dept, "mode": info, "primary": PRIMARY[info["mode"]], "ready": r.ready,
           "reasons": [mask_text(x) for x in r.reasons], "checks": mask(r.checks), "figures": f, "chart": None,
           "fields": [], "history": mask(ctx.store.dualtrack_mode_changes(dept, limit=20))}
    if info["mode"] == "off" and not f.get("pairs"):
        return out
    report = build_report(ctx.store, ctx.settings, dept, now=now)
    out["fields"] = report["top_fields"]
    out["trend"] = report["trend"]
    xs, ys = rate_by_hour(ctx.store, dept, now)
    if ys:
        out["chart"] = line_chart({"一致率 match rate %": ys}, xs, unit="%", max_value=100.0, height=150)
    return out


def dualtrack(request, user, form, result: dict | None = None, error: str | None = None, refused=None):
    ctx = console_of(request)
    now = datetime.now(timezone.utc)
    depts = [department_view(ctx, d, now) for d in departments()]
    return ctx.render(request, user, "dualtrack.html", status=409 if refused else (400 if error else 200),
                      depts=depts, result=result, error=error, refused=refused)


def report(request, user, form):
    ctx = console_of(request)
    dept = request.path_params["dept"]
    if dept not in departments():
        return HTMLResponse("unknown department", status_code=404)
    return HTMLResponse(render_html(build_report(ctx.store, ctx.settings, dept)))


def switch(request, user, form):
    """POST /dualtrack/{dept}/{cutover|rollback}."""
    ctx = console_of(request)
    dept, action = request.path_params["dept"], request.path_params["action"]
    try:
        if dept not in departments() or action not in ("cutover", "rollback"):
            raise ValueError(f"unknown department or action {dept}/{action}")
        reason = reason_of(form)
        do = cutover if action == "cutover" else rollback
        done = do(ctx.store, ctx.settings, dept, actor=ctx.actor(user), reason=reason)
    except NotReady as exc:
        return dualtrack(request, user, form, refused={"department": dept,
                                                       "reasons": [mask_text(x) for x in exc.readiness.reasons]})
    except ValueError as exc:
        return dualtrack(request, user, form, error=mask_text(str(exc)))
    return dualtrack(request, user, form, result={"department": dept, "action": action,
                                                  "to_mode": done.get("to")})


def routes():
    return [route("/dualtrack", dualtrack),
            route("/dualtrack/{dept}/report", report),
            route("/dualtrack/{dept}/{action}", switch, permission="dualtrack", methods=("POST",))]
