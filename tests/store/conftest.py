"""Each store test runs on SQLite (a temp file), PostgreSQL (a schema of its
own, dropped afterwards) and MariaDB/MySQL (a database of its own), so runs
never collide. Servers that cannot be reached are skipped, not failed.

Override the servers with TONGBAN_TEST_PG_URL / TONGBAN_TEST_MYSQL_URL.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from hub.store import Store

PG_URL = os.environ.get("TONGBAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("TONGBAN_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")

_reachable: dict[str, str | None] = {}


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _skip_unless_reachable(url: str) -> None:
    if url not in _reachable:
        try:
            with _admin(url).connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            _reachable[url] = None
        except Exception as exc:  # any failure to connect means "not here"
            _reachable[url] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if _reachable[url]:
        # The suite runs against the real servers scripts/setup.sh starts: an unreachable one is a
        # failure, never a silent skip (a skipped store test once hid a missing driver).
        pytest.fail(f"{sa.engine.make_url(url).render_as_string()} unreachable: {_reachable[url]}")


@dataclass
class Database:
    """Where one test's store lives; ``open()`` may be called repeatedly."""

    name: str
    url: str
    engine_kwargs: dict[str, Any] = field(default_factory=dict)
    opened: list[Store] = field(default_factory=list)

    def open(self) -> Store:
        store = Store.open(self.url, engine_kwargs=dict(self.engine_kwargs))
        self.opened.append(store)
        return store

    def engine(self) -> sa.Engine:
        """A plain engine onto the same database, for inspecting it."""
        kwargs = dict(self.engine_kwargs)
        kwargs["poolclass"] = sa.pool.NullPool
        return sa.create_engine(self.url, **kwargs)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        "mariadb",
    ]
)
def db(request, tmp_path):
    suffix = uuid.uuid4().hex[:12]
    if request.param == "sqlite":
        database = Database("sqlite", f"sqlite:///{tmp_path / 'tongban.db'}")
        yield database
        for s in database.opened:
            s.close()
        return

    if request.param == "postgresql":
        _skip_unless_reachable(PG_URL)
        schema = f"t_store_{suffix}"
        admin = _admin(PG_URL)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        database = Database(
            "postgresql", PG_URL, {"connect_args": {"options": f"-csearch_path={schema}"}}
        )
        drop = f'DROP SCHEMA "{schema}" CASCADE'
    else:
        _skip_unless_reachable(MYSQL_URL)
        name = f"t_store_{suffix}"
        admin = _admin(MYSQL_URL)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        url = sa.engine.make_url(MYSQL_URL).set(database=name)
        database = Database("mariadb", url.render_as_string(hide_password=False))
        drop = f"DROP DATABASE `{name}`"
    try:
        yield database
    finally:
        for s in database.opened:
            s.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(drop)
        admin.dispose()


@pytest.fixture
def store(db) -> Store:
    return db.open()
