"""The guard every console route goes through, and page rendering.

Deny by default: `route()` makes every endpoint need a logged-in user with the named
permission (``read`` unless said otherwise) and a valid CSRF token on every POST; only a
route built with ``public=True`` (the login page, static files) skips the login, and even
its POSTs need the CSRF token. Handlers are plain functions run in a thread, since the
store is synchronous."""
from __future__ import annotations

from pathlib import Path
from typing import Callable
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from hub.model.masking import mask

from . import labels, sessions
from .roles import PERMISSION_LABELS, ROLE_LABELS, allowed

TEMPLATES = Path(__file__).resolve().parent / "templates"


class Console:
    """What every handler needs: settings, the store, the console's own settings, templates."""

    def __init__(self, settings: dict, store, conf: dict):
        self.settings = settings
        self.store = store
        self.conf = conf
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(labels.glossary(), nav_pages=labels.PAGES, allowed=allowed, roles=ROLE_LABELS,
                                refresh=int(conf.get("refresh_seconds") or 0))
        self.env.filters["masked"] = lambda v, field="": mask(v, field)
        self.env.filters["when"] = _when

    def render(self, request: Request, user, template: str, status: int = 200, **data) -> HTMLResponse:
        html = self.env.get_template(template).render(request=request, user=user, path=request.url.path, **data)
        return HTMLResponse(html, status_code=status)

    def actor(self, user) -> str:
        """Who the audit trail names: the console user, marked as acting through the console."""
        return f"{user.name}@console"


def _when(value) -> str:
    """A time as Shanghai wall-clock time, to the second."""
    if value is None:
        return "-"
    from hub.model import SHANGHAI
    try:
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    except AttributeError:
        return str(value)


def console_of(request: Request) -> Console:
    return request.app.state.console


def refuse(request: Request, user, permission: str) -> HTMLResponse:
    ctx = console_of(request)
    ctx.store.audit(user.name, "console.denied", request.url.path, f"role {user.role} lacks {permission}",
                    {"method": request.method})
    return ctx.render(request, user, "refused.html", status=403, permission=PERMISSION_LABELS.get(permission,
                                                                                                 permission))


def route(path: str, handler: Callable, *, permission: str = "read", methods=("GET",), public: bool = False,
          name: str | None = None) -> Route:
    async def endpoint(request: Request) -> Response:
        ctx = console_of(request)
        token = request.cookies.get(sessions.COOKIE)
        user = await run_in_threadpool(sessions.current, ctx.store, token)
        if user is None and not public:
            if request.method != "GET":
                return HTMLResponse("登录已失效 not logged in", status_code=401)
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        form = None
        if request.method == "POST":
            form = await request.form()
            expected = user.csrf if user is not None else request.cookies.get(sessions.PRELOGIN_COOKIE)
            if not sessions.same_token(expected, form.get("csrf")):
                if user is not None:
                    await run_in_threadpool(ctx.store.audit, user.name, "console.csrf_refused", request.url.path,
                                            "form without a valid CSRF token", None)
                return ctx.render(request, user, "csrf.html", status=403)
        if not public and not allowed(user.role, permission):
            return await run_in_threadpool(refuse, request, user, permission)
        return await run_in_threadpool(handler, request, user, form)

    r = Route(path, endpoint, methods=list(methods), name=name or handler.__name__)
    r.public = public   # tests check that every other route refuses an anonymous request
    return r


def reason_of(form) -> str:
    """Every action asks why; an empty reason is refused before anything changes."""
    reason = (form.get("reason") or "").strip() if form is not None else ""
    if not reason:
        raise ValueError("请填写原因 a reason is required")
    return reason
