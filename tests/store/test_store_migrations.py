"""The packaged Alembic migrations build the schema, agree with schema.py,
and are safe to run again and from several processes at once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import hub
from hub.store import Store, migrate
from hub.store.schema import metadata

REPO = Path(hub.__file__).resolve().parents[1]
TABLES = {"message_log", "checkpoints", "deliveries", "dead_letters", "audit_log"}


def test_upgrade_creates_every_table_and_index(db, store):
    insp = sa.inspect(db.engine())
    assert TABLES | {"alembic_version"} <= set(insp.get_table_names())
    for table in metadata.sorted_tables:
        have = {ix["name"] for ix in insp.get_indexes(table.name)}
        assert {ix.name for ix in table.indexes} <= have, table.name
    assert migrate.current_revision(store._engine) == migrate.head_revision()


def test_migrations_match_schema_py(db, store):
    # a change to schema.py without a revision (or the reverse) shows up here
    with db.engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_second_upgrade_is_a_no_op(db, store):
    store.log_messages([{"message_id": "m1", "kind": "case", "produced_at": datetime.now(timezone.utc)}])
    store.close()
    again = db.open()  # runs `upgrade head` again
    assert migrate.current_revision(again._engine) == migrate.head_revision()
    assert again.counts()["messages"] == 1


_OPEN = """
import json, sys
from hub.store import Store
Store.open(sys.argv[1], engine_kwargs=json.loads(sys.argv[2])).close()
"""


def test_concurrent_first_opens_in_processes_do_not_race(db):
    # Several hub processes starting together must not all try CREATE TABLE.
    args = [db.url, json.dumps(db.engine_kwargs)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN, *args], cwd=REPO, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    failures = [p.stderr.read() for p in procs if p.wait(timeout=120) != 0]
    assert failures == []
    assert migrate.current_revision(db.open()._engine) == migrate.head_revision()


def test_concurrent_first_opens_in_threads_do_not_race(db):
    errors: list[BaseException] = []

    def open_one():
        try:
            db.open()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert migrate.current_revision(db.opened[0]._engine) == migrate.head_revision()


def test_default_url_is_a_sqlite_file_under_var(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TONGBAN_DB_URL", raising=False)
    with Store.open() as store:
        assert store.url == "sqlite:///var/tongban.db"
    assert (tmp_path / "var" / "tongban.db").is_file()


def test_url_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TONGBAN_DB_URL", f"sqlite:///{tmp_path}/env.db")
    with Store.open():
        pass
    assert (tmp_path / "env.db").is_file()


def test_sqlite_file_is_in_wal_mode(tmp_path):
    with Store.open(f"sqlite:///{tmp_path}/w.db") as store:
        with store._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_in_memory_sqlite_works():
    with Store.open("sqlite://") as store:
        assert store.counts()["messages"] == 0


def test_password_is_masked():
    store = Store(sa.create_engine("postgresql+psycopg://hub:s3cret@db.example/tongban"))
    assert "s3cret" not in store.url
    assert "s3cret" not in repr(store)
    assert "***" in store.url
