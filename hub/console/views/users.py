"""用户 Users (admin): the console's local users; add one or change its role and password.
`tongban users add` does the same from a shell."""
from __future__ import annotations

from ..passwords import hash_password
from ..roles import ROLES, check_role
from ..web import console_of, reason_of, route


def users(request, user, form, result: str | None = None, error: str | None = None):
    ctx = console_of(request)
    return ctx.render(request, user, "users.html", status=400 if error else 200, rows=ctx.store.console_users(),
                      role_names=ROLES, result=result, error=error)


def add(request, user, form):
    ctx = console_of(request)
    try:
        name = (form.get("name") or "").strip()
        if not name:
            raise ValueError("请填写用户名 a name is required")
        role = check_role(form.get("role") or "")
        reason = reason_of(form)
        new = ctx.store.add_console_user(name, role, hash_password(form.get("password") or ""))
    except ValueError as exc:
        return users(request, user, form, error=str(exc))
    ctx.store.audit(ctx.actor(user), "console.user_add" if new else "console.user_change", name, reason,
                    {"role": role})
    return users(request, user, form, result=f"{'已添加 added' if new else '已更新 updated'} {name} ({role})")


def routes():
    return [route("/users", users, permission="users"),
            route("/users", add, permission="users", methods=("POST",), name="users_add")]
