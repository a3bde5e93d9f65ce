"""死信 Dead letters: filter (stage, department, destination, reason, time), a masked
detail, and the operator's actions: replay (one, a selection, the whole filter, optionally
to one destination), release a held case, purge. Each asks for a reason and calls the
same hub/ops function as `tongban dlq`, with the console user as the actor, so the audit
trail says who and why."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

from hub.model import SHANGHAI
from hub.model.masking import mask, mask_record, mask_text
from hub.ops.purge import purge
from hub.ops.replay import release_case, replay

from ..roles import allowed
from ..web import console_of, reason_of, refuse, route

# "cause", not "reason": an action's form carries both the filter and the operator's reason
FILTERS = ("stage", "dept", "dest", "cause", "since", "until", "status")
PAGE = 50


def _time(text: str | None) -> datetime | None:
    """A datetime-local field: wall-clock time in Asia/Shanghai."""
    if not text:
        return None
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=SHANGHAI)


def filters_of(source) -> dict:
    f = {k: (source.get(k) or "").strip() for k in FILTERS}
    if "status" not in source:
        f["status"] = "dead"
    return f


def _query(f: dict) -> dict:
    return dict(stage=f["stage"] or None, department=f["dept"] or None, destination=f["dest"] or None,
                reason=f["cause"] or None, since=_time(f["since"]), until=_time(f["until"]))


def destinations(ctx) -> list[str]:
    return sorted(ctx.settings.get("destinations") or {})


def dead_letters(request, user, form, result: dict | None = None, error: str | None = None):
    ctx = console_of(request)
    f = filters_of(request.query_params)
    try:
        page = max(0, int(request.query_params.get("page") or 0))
        total, rows = ctx.store.find_dead_letters(**_query(f), status=f["status"] or None, offset=page * PAGE,
                                                  limit=PAGE)
    except ValueError as exc:
        total, rows, page, error = 0, [], 0, str(exc)
    rows = [mask(r) | {"reason": mask_text(r["reason"])[:160]} for r in rows]
    qs = urlencode({k: v for k, v in f.items() if v})
    return ctx.render(request, user, "deadletters.html", status=400 if error else 200, rows=rows, total=total,
                      page=page, pages=(total + PAGE - 1) // PAGE, f=f, qs=qs, destinations_known=destinations(ctx),
                      result=result, error=error)


def detail(request, user, form):
    ctx = console_of(request)
    row = ctx.store.get_dead_letter(request.path_params["id"])
    if row is None:
        return ctx.render(request, user, "message.html", status=404, title="死信 Dead letter",
                          message=f"没有该死信 no dead letter {request.path_params['id']}")
    unmasked = request.query_params.get("unmasked") == "1"
    if unmasked:
        if not allowed(user.role, "unmasked"):
            return refuse(request, user, "unmasked")
        ctx.store.audit(user.name, "console.unmasked_view", row["id"], "admin viewed a dead letter unmasked",
                        {"case_no": row.get("case_no")})
    payload = row["payload"]
    if payload is None:
        # what stands in its place says why (its key id, or when retention removed it); no content
        payload = row.get("payload_error") or (
            f"已按保留策略删除 removed by retention at {row['payload_removed_at']:%Y-%m-%d %H:%M} UTC "
            f"(sha256 {row.get('payload_digest') or '-'})" if row.get("payload_removed_at") else "（无 none）")
    try:
        parsed = json.loads(payload)
        payload = json.dumps(parsed if unmasked else mask_record(parsed), ensure_ascii=False, indent=2, default=str)
    except (TypeError, ValueError):
        # not JSON (an XML answer, a CSV line): masked as text, fields unknown
        if isinstance(payload, str) and not unmasked:
            payload = mask_text(payload)
    shown = row if unmasked else {k: (v if k == "payload" else mask(v, k)) for k, v in row.items()}
    headers = json.dumps(shown.get("headers"), ensure_ascii=False, indent=2, default=str)
    return ctx.render(request, user, "deadletter.html", row=shown, payload=payload, headers=headers,
                      unmasked=unmasked, destinations_known=destinations(ctx))


def _ids(ctx, form) -> list[str]:
    if form.get("scope") == "filter":
        f = filters_of(form)
        return ctx.store.dead_letter_ids(**_query(f))
    return [i for i in form.getlist("ids") if i]


def act(request, user, form):
    """POST /deadletters/act: replay or purge a selection or the whole filter."""
    ctx = console_of(request)
    try:
        reason = reason_of(form)
        ids = _ids(ctx, form)
        if not ids:
            raise ValueError("没有选中的死信 nothing selected")
        if form.get("action") == "replay":
            done = replay(ctx.settings, ctx.store, ids=ids, to=form.get("to") or None, actor=ctx.actor(user),
                          reason=reason)
            result = {"action": "重放 replay", "count": done["replayed"], "skipped": mask(done["skipped"]),
                      "released": len(done["released"])}
        elif form.get("action") == "purge":
            done = purge(ctx.settings, ctx.store, ids, actor=ctx.actor(user), reason=reason)
            result = {"action": "清除 purge", "count": done["purged"], "skipped": [],
                      "released": len(done["released"])}
        else:
            raise ValueError("unknown action")
    except (ValueError, LookupError) as exc:
        return dead_letters(request, user, form, error=mask_text(str(exc)))
    return dead_letters(request, user, form, result=result)


def release(request, user, form):
    """POST /deadletters/release: let a case held behind a dead letter go on without it."""
    ctx = console_of(request)
    try:
        done = release_case(ctx.settings, ctx.store, destination=(form.get("dest") or "").strip(),
                            case_no=(form.get("case_no") or "").strip(), actor=ctx.actor(user),
                            reason=reason_of(form))
    except ValueError as exc:
        return dead_letters(request, user, form, error=mask_text(str(exc)))
    return dead_letters(request, user, form, result={"action": "放行 release", "count": 1, "skipped": [],
                                                     "released": done["parked"]})


def routes():
    return [route("/deadletters", dead_letters),
            route("/deadletters/act", act, permission="dlq", methods=("POST",)),
            route("/deadletters/release", release, permission="dlq", methods=("POST",)),
            route("/deadletters/{id}", detail)]
