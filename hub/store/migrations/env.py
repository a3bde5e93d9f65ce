"""Alembic environment for the Tongban store.

Normally run through ``hub.store.migrate.upgrade``, which hands us the
Store's own connection in ``config.attributes["connection"]`` (so SQLite
pragmas, search_path and the like apply). Running the ``alembic`` command
against this folder also works, with the URL from ``sqlalchemy.url`` or
``TONGBAN_DB_URL``; ``--sql`` (offline) renders the DDL for review.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import text

from hub.store.engine import create_store_engine
from hub.store.schema import metadata

config = context.config

# Any constant will do; it only has to be the same in every process.
_PG_LOCK_KEY = 0x70_6E_67_62_61_6E  # "tongban"
_MYSQL_LOCK_NAME = "tongban.migrate"


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or os.environ.get(
        "TONGBAN_DB_URL", "sqlite:///var/tongban.db"
    )


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # With the Store's own BEGIN handling SQLite DDL is transactional, and
        # saying so keeps the whole upgrade inside one BEGIN IMMEDIATE.
        transactional_ddl=True if connection.dialect.name == "sqlite" else None,
    )


def _migrate(connection) -> None:
    """Run pending revisions, serialised across processes.

    Several hub processes may open the store at once; without a lock two of
    them can both see an empty database and both try CREATE TABLE.
    """
    dialect = connection.dialect.name
    if dialect in ("mysql", "mariadb"):
        # MySQL DDL commits implicitly, so a transaction cannot hold the lock;
        # a session-level named lock can.
        got = connection.exec_driver_sql(f"SELECT GET_LOCK('{_MYSQL_LOCK_NAME}', 120)").scalar()
        connection.commit()
        if got != 1:
            raise RuntimeError("timed out waiting for another process's migration")
        try:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.exec_driver_sql(f"SELECT RELEASE_LOCK('{_MYSQL_LOCK_NAME}')")
            connection.commit()
        return

    if dialect == "sqlite":
        # Picked up by the Store's begin hook: BEGIN IMMEDIATE takes the write
        # lock before alembic reads the current revision.
        connection.execution_options(tongban_write=True)
    _configure(connection)
    with context.begin_transaction():
        if dialect == "postgresql":
            # Transaction-scoped: released by the commit that ends the upgrade.
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_store_engine(_url())
    try:
        with engine.connect() as connection:
            _migrate(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
