"""登录 / 退出: the only public page, and logout."""
from __future__ import annotations

import secrets

from starlette.responses import RedirectResponse

from .. import sessions
from ..web import console_of, route


def _safe_next(target: str | None) -> str:
    # only a path of this site: an open redirect would make the login page a phishing aid
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


def _cookie_flags(ctx) -> dict:
    return {"httponly": True, "samesite": "strict", "secure": bool(ctx.conf.get("secure_cookies"))}


def login_page(request, user, form, error: str | None = None, status: int = 200):
    ctx = console_of(request)
    token = request.cookies.get(sessions.PRELOGIN_COOKIE) or secrets.token_urlsafe(32)
    resp = ctx.render(request, None, "login.html", status=status, csrf=token, error=error,
                      next=_safe_next(request.query_params.get("next")))
    resp.set_cookie(sessions.PRELOGIN_COOKIE, token, max_age=3600, **_cookie_flags(ctx))
    return resp


def login_post(request, user, form):
    ctx = console_of(request)
    try:
        token, _ = sessions.login(ctx.store, ctx.conf, (form.get("name") or "").strip(), form.get("password") or "")
    except sessions.LoginRefused as exc:
        return login_page(request, None, form, error=str(exc), status=401)
    resp = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    resp.set_cookie(sessions.COOKIE, token, max_age=int(float(ctx.conf["session_hours"]) * 3600),
                    **_cookie_flags(ctx))
    resp.delete_cookie(sessions.PRELOGIN_COOKIE)
    return resp


def logout(request, user, form):
    sessions.logout(console_of(request).store, user)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(sessions.COOKIE)
    return resp


def routes():
    return [route("/login", login_page, public=True),
            route("/login", login_post, public=True, methods=("POST",), name="login_post"),
            route("/logout", logout, methods=("POST",))]
