"""Engine construction: one Engine per Store, tuned per dialect.

SQLite is the default (a file several hub processes share), so most of the
care here goes to making SQLite behave under concurrent writers.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

DEFAULT_URL = "sqlite:///var/tongban.db"
URL_ENV = "TONGBAN_DB_URL"

# Seconds a SQLite writer waits for another process's write lock before
# failing with "database is locked". Ledger batches are short; 30 s only
# bites when something is badly wrong.
SQLITE_BUSY_TIMEOUT = 30


def resolve_url(url: str | None = None) -> str:
    return url or os.environ.get(URL_ENV) or DEFAULT_URL


def masked(url: str | URL) -> str:
    return make_url(url).render_as_string(hide_password=True)


class StoreTLSError(ConnectionError):
    """TLS to the database failed; the message names the URL's sslmode and what the server said."""


def tls_failure(exc: BaseException, url: str | URL) -> StoreTLSError | None:
    """A StoreTLSError for a connection refused over TLS (PostgreSQL's sslmode=require,
    verify-ca, verify-full in the URL's query, with sslrootcert, sslcert, sslkey), else None."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        return None
    text = str(getattr(exc, "orig", None) or exc)
    if "SSL" not in text and "certificate" not in text:
        return None
    said = text.rsplit(" failed: ", 1)[-1].strip().splitlines()[0]
    mode = u.query.get("sslmode") or "prefer (the default)"
    hint = (" The server has TLS off: turn ssl on in postgresql.conf, or set sslmode=prefer or disable."
            if "does not support SSL" in text else "")
    return StoreTLSError(f"PostgreSQL at {u.host}:{u.port or 5432} over TLS: {said} "
                         f"(db_url sslmode={mode}, sslrootcert={u.query.get('sslrootcert') or 'none'}).{hint}")


def create_store_engine(url: str | URL, **engine_kwargs: Any) -> Engine:
    """An Engine for ``url``; ``engine_kwargs`` go to ``create_engine`` and win."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return _sqlite_engine(u, engine_kwargs)
    # The hub is long-running and the database may restart under it.
    engine_kwargs.setdefault("pool_pre_ping", True)
    if u.get_backend_name() in ("mysql", "mariadb"):
        # MySQL drops idle connections after wait_timeout (8 h by default).
        engine_kwargs.setdefault("pool_recycle", 3600)
    return create_engine(u, **engine_kwargs)


def _is_memory(u: URL) -> bool:
    return u.database in (None, "", ":memory:") or u.query.get("mode") == "memory"


def _sqlite_engine(u: URL, kwargs: dict[str, Any]) -> Engine:
    memory = _is_memory(u)
    connect_args = dict(kwargs.pop("connect_args", {}) or {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT)
    if memory:
        # One shared connection, or every checkout would see a fresh, empty
        # database. Fine for tests and one-off tools, not for the hub.
        connect_args.setdefault("check_same_thread", False)
        kwargs.setdefault("poolclass", StaticPool)
    elif u.database and not u.database.startswith("file:"):
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(u, connect_args=connect_args, **kwargs)
    _install_sqlite_hooks(engine, wal=not memory)
    return engine


def _enter_wal(cur) -> None:
    """Switch the file to WAL once; later opens find it there.

    The mode is kept in the file, so reading it needs no lock. Switching needs
    the exclusive lock, and SQLite answers "database is locked" at once, not
    after the busy timeout, when several processes open a new file together:
    so the switch is retried until the timeout, and a process that finds the
    file already switched by another goes on.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            return
        try:
            if cur.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("could not switch the SQLite file to WAL: database is locked")
        time.sleep(0.05)


def _install_sqlite_hooks(engine: Engine, *, wal: bool) -> None:
    """Take BEGIN away from the sqlite3 module and issue it ourselves.

    sqlite3's legacy mode begins a transaction only at the first INSERT/UPDATE,
    so a read-then-write method would read outside its transaction. We emit a
    plain BEGIN for reads and BEGIN IMMEDIATE for writes (marked with the
    ``tongban_write`` execution option): taking the write lock up front means
    a writer waits on the busy timeout instead of failing with SQLITE_BUSY
    when its read snapshot went stale under WAL.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
            if wal:
                # Readers no longer block the writer, nor the writer readers:
                # what lets several processes share one file.
                _enter_wal(cur)
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        write = conn.get_execution_options().get("tongban_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
