"""The 住建 前置库 on each database the tests run it on: SQLite (the simulator's own temp
file), PostgreSQL (a schema of the test's own) and MariaDB (a database of the test's own)."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import sqlalchemy as sa

PG_URL = os.environ.get("TONGBAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_URL = os.environ.get("TONGBAN_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
KINDS = ["sqlite", "postgresql", "mariadb"]


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@contextmanager
def spgl_database(kind: str):
    """Yields the URL for the simulator (None: its default SQLite temp file); drops it afterwards."""
    name = f"t_spgl_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        yield None
        return
    if kind == "postgresql":
        admin = _admin(PG_URL)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={name}"})
        drop = f'DROP SCHEMA "{name}" CASCADE'
    elif kind == "mariadb":
        admin = _admin(MARIADB_URL)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        url = sa.make_url(MARIADB_URL).set(database=name).update_query_dict({"charset": "utf8mb4"})
        drop = f"DROP DATABASE `{name}`"
    else:
        raise ValueError(kind)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(drop)
        admin.dispose()
