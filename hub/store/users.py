"""The console's local users and their sessions (hub/console/). The store keeps hashes only:
a password's argon2 hash (made by the caller, hub/console/passwords.py) and a session
token's SHA-256, so reading the database gives no way in."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from .schema import console_sessions, console_users
from .sql import StoreBase
from .types import utcnow


class ConsoleUsers(StoreBase):
    # --- users -------------------------------------------------------------------------
    def add_console_user(self, name: str, role: str, password_hash: str) -> bool:
        """Create the user or, if the name exists, set its role and password (and unlock
        it). Returns whether it was new."""
        now = utcnow()
        c = console_users.c
        with self._write() as conn:
            exists = conn.scalar(select(c.name).where(c.name == name).with_for_update()) is not None
            values = {"role": role, "password_hash": password_hash, "failed_logins": 0, "locked_until": None,
                      "updated_at": now}
            if exists:
                conn.execute(update(console_users).where(c.name == name).values(**values))
            else:
                conn.execute(insert(console_users).values(name=name, created_at=now, **values))
        return not exists

    def console_user(self, name: str) -> dict | None:
        with self._read() as conn:
            row = conn.execute(select(console_users).where(console_users.c.name == name)).first()
        return dict(row._mapping) if row is not None else None

    def console_users(self) -> list[dict]:
        c = console_users.c
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(c.name, c.role, c.failed_logins, c.locked_until, c.created_at).order_by(c.name))]

    def login_failed(self, name: str, max_attempts: int, lock_for: timedelta) -> bool:
        """Count a failed login; at ``max_attempts`` in a row the account is locked for
        ``lock_for`` and the count starts again. Returns whether this failure locked it."""
        now = utcnow()
        c = console_users.c
        with self._write() as conn:
            failed = conn.scalar(select(c.failed_logins).where(c.name == name).with_for_update())
            if failed is None:
                return False
            failed += 1
            locked = failed >= max_attempts
            conn.execute(update(console_users).where(c.name == name).values(
                failed_logins=0 if locked else failed, locked_until=now + lock_for if locked else c.locked_until,
                updated_at=now))
        return locked

    def login_succeeded(self, name: str) -> None:
        c = console_users.c
        with self._write() as conn:
            conn.execute(update(console_users).where(c.name == name).values(
                failed_logins=0, locked_until=None, updated_at=utcnow()))

    # --- sessions ----------------------------------------------------------------------
    def add_console_session(self, token_hash: str, user_name: str, csrf: str, expires_at: datetime) -> None:
        now = utcnow()
        with self._write() as conn:
            # expired sessions go whenever someone logs in: no sweeper process needed
            conn.execute(delete(console_sessions).where(console_sessions.c.expires_at < now))
            conn.execute(insert(console_sessions).values(token_hash=token_hash, user_name=user_name, csrf=csrf,
                                                         created_at=now, expires_at=expires_at))

    def console_session(self, token_hash: str) -> dict | None:
        """The live session with this token and its user's role; None if unknown or expired."""
        s, u = console_sessions.c, console_users.c
        q = (select(s.token_hash, s.user_name, s.csrf, s.expires_at, u.role)
             .join(console_users, u.name == s.user_name)
             .where(s.token_hash == token_hash, s.expires_at > utcnow()))
        with self._read() as conn:
            row = conn.execute(q).first()
        return dict(row._mapping) if row is not None else None

    def end_console_session(self, token_hash: str) -> None:
        with self._write() as conn:
            conn.execute(delete(console_sessions).where(console_sessions.c.token_hash == token_hash))
