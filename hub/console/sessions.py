"""Login, lock-out and logout. A session is a random token in an HttpOnly cookie; the store
keeps its SHA-256 and the session's CSRF token (hub/store/users.py)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from hub.store.types import utcnow

from .passwords import verify_password

COOKIE = "tongban_session"
PRELOGIN_COOKIE = "tongban_prelogin"   # the login form's CSRF token, before there is a session


@dataclass
class User:
    name: str
    role: str
    csrf: str
    token_hash: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class LoginRefused(Exception):
    """Why a login failed, as the user may read it: never which of name or password was wrong."""


def login(store, conf: dict, name: str, password: str) -> tuple[str, User]:
    """(cookie token, user) for a right name and password; LoginRefused otherwise. Too many
    failures in a row lock the account for a while (console.lockout_* in config/hub.yaml)."""
    user = store.console_user(name) if name else None
    now = utcnow()
    if user is not None and user["locked_until"] is not None and user["locked_until"] > now:
        verify_password(None, password)   # same time as any other refusal
        store.audit(name, "console.login_refused", name, "account locked", {"until": str(user["locked_until"])})
        raise LoginRefused("账户已锁定，请稍后再试 account locked: try again later")
    if not verify_password(user["password_hash"] if user else None, password):
        locked = user is not None and store.login_failed(
            name, int(conf["lockout_attempts"]), timedelta(minutes=float(conf["lockout_minutes"])))
        store.audit(name or "-", "console.login_failed", name or "-", "wrong name or password",
                    {"locked": locked})
        raise LoginRefused("用户名或密码错误 wrong name or password")
    store.login_succeeded(name)
    token = new_token()
    csrf = secrets.token_urlsafe(32)
    store.add_console_session(token_hash(token), name, csrf, now + timedelta(hours=float(conf["session_hours"])))
    store.audit(name, "console.login", name, "login", None)
    return token, User(name=name, role=user["role"], csrf=csrf, token_hash=token_hash(token))


def current(store, token: str | None) -> User | None:
    if not token:
        return None
    row = store.console_session(token_hash(token))
    if row is None:
        return None
    return User(name=row["user_name"], role=row["role"], csrf=row["csrf"], token_hash=row["token_hash"])


def logout(store, user: User) -> None:
    store.end_console_session(user.token_hash)
    store.audit(user.name, "console.logout", user.name, "logout", None)


def same_token(expected: str | None, given: str | None) -> bool:
    """CSRF check: constant-time, and never true for an empty expectation."""
    return bool(expected) and bool(given) and secrets.compare_digest(str(expected), str(given))
