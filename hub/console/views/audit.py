"""审计 Audit: the audit trail, newest first: replays, purges, releases, cutovers and
rollbacks (from the CLI and the console alike), logins, refusals and unmasked views."""
from __future__ import annotations

from hub.model.masking import mask

from ..web import console_of, route


def audit(request, user, form):
    ctx = console_of(request)
    action = (request.query_params.get("action") or "").strip() or None
    target = (request.query_params.get("target") or "").strip() or None
    rows = ctx.store.audit_log(action, limit=300, target=target)
    return ctx.render(request, user, "audit.html", rows=mask(rows), action=action or "", target=target or "")


def routes():
    return [route("/audit", audit)]
