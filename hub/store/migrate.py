"""Alembic, driven from code: the migrations ship inside the package and no
alembic.ini has to exist on disk."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Alembic keeps the running environment in module-level proxies
# (alembic.context, alembic.op), so two upgrades in one process must take
# turns. Across processes the database lock in env.py does the same job.
_in_process = threading.Lock()


def alembic_config(url: str | None = None) -> Config:
    """A Config for the packaged migrations, e.g. for ``command.revision``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        # configparser interpolation: a literal % (URL-encoded password) must be doubled
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` using the Store's own engine, so
    its connection settings (SQLite hooks, search_path) apply."""
    cfg = alembic_config()
    with _in_process, engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
