"""Dialect-specific statements the store needs, in one place.

Supported: SQLite, PostgreSQL, MariaDB/MySQL. Anything else fails loudly
rather than quietly losing the insert-or-ignore semantics the ledger needs.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Engine, Table, insert
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .keyring import KeyRing

MYSQL = ("mysql", "mariadb")

# Bound parameters per IN (...) list: old SQLite builds cap a statement at
# 999 variables, and huge IN lists plan badly everywhere.
IN_CHUNK = 500


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def unique_by(rows: Iterable[dict], *keys: str) -> list[dict]:
    """First row per key: duplicates inside one batch would trip some
    dialects' conflict handling and carry no information anyway."""
    seen: set = set()
    out = []
    for row in rows:
        k = tuple(row[key] for key in keys)
        if k not in seen:
            seen.add(k)
            out.append(row)
    return out


def insert_ignore(conn: Connection, table: Table, rows: list[dict]) -> int:
    """Insert ``rows`` in one batch, skipping any whose key already exists.
    Returns how many were inserted."""
    if not rows:
        return 0
    # Same key order in every batch: two transactions inserting overlapping
    # keys in opposite orders can deadlock on PostgreSQL and InnoDB.
    keys = [c.name for c in table.primary_key.columns]
    rows = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
    name = conn.dialect.name
    if name == "sqlite":
        stmt = sqlite_insert(table).on_conflict_do_nothing()
    elif name == "postgresql":
        stmt = pg_insert(table).on_conflict_do_nothing()
    elif name in MYSQL:
        stmt = insert(table).prefix_with("IGNORE", dialect=name)
    else:
        raise NotImplementedError(f"the store does not support {name!r}")
    # Skipped rows do not count as affected on any of the three, so the
    # driver's rowcount, summed over the batch, is the number inserted;
    # SQLAlchemy reports it for an executemany only when asked to.
    stmt = stmt.execution_options(preserve_rowcount=True)
    inserted = conn.execute(stmt, rows).rowcount
    if inserted < 0:  # a driver that cannot tell: better loud than a wrong count
        raise RuntimeError(f"{conn.dialect.driver} reported no rowcount for a batch insert")
    return inserted


def upsert(conn: Connection, table: Table, row: dict | list[dict], key: Sequence[str]) -> None:
    """Insert ``row`` (or rows, one statement: distinct keys, same columns) or overwrite the
    non-key columns of the existing one."""
    name = conn.dialect.name
    changed = [c for c in (row[0] if isinstance(row, list) else row) if c not in key]
    if name in ("sqlite", "postgresql"):
        ins = (sqlite_insert if name == "sqlite" else pg_insert)(table).values(row)
        stmt = ins.on_conflict_do_update(
            index_elements=list(key), set_={c: ins.excluded[c] for c in changed}
        )
    elif name in MYSQL:
        ins = mysql_insert(table).values(row)
        stmt = ins.on_duplicate_key_update({c: ins.inserted[c] for c in changed})
    else:
        raise NotImplementedError(f"the store does not support {name!r}")
    conn.execute(stmt)


class StoreBase:
    """What every part of the Store shares: one Engine, a connection per call, or one
    connection for a run of calls inside ``reading()`` / ``unit()``."""

    _engine: Engine
    # how stored payloads are sealed and opened (hub/store/protection.py ``protect``); by
    # default none is sealed, and a sealed one fails to open naming its key
    payload_keys: KeyRing = KeyRing()

    @property
    def _bound(self) -> threading.local:
        # per thread: a Store is shared by a process's threads, each with its own batches
        local = self.__dict__.get("_bound_local")
        if local is None:
            local = self.__dict__.setdefault("_bound_local", threading.local())
        return local

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Run this thread's reads on one connection (one pool checkout, one snapshot-less
        read transaction) until the block ends: a delivery batch asks the store five or six
        questions before it sends anything, and on PostgreSQL each checkout costs a ping,
        a BEGIN and a ROLLBACK besides the query."""
        if getattr(self._bound, "conn", None) is not None:
            yield
            return
        with self._engine.connect() as conn:
            self._bound.conn, self._bound.writing = conn, False
            try:
                yield
            finally:
                self._bound.conn = None

    @contextmanager
    def unit(self) -> Iterator[None]:
        """Make this thread's writes (and reads) until the block ends one transaction,
        committed when it ends without an exception: what a source's page changes in the
        store (message log, content versions, checkpoint) lands together or not at all."""
        bound = getattr(self._bound, "conn", None)
        if bound is not None:
            if not self._bound.writing:
                raise RuntimeError("store.unit() inside store.reading(): a read transaction cannot become a write")
            yield
            return
        with self._engine.connect() as conn:
            conn.execution_options(tongban_write=True)
            with conn.begin():
                self._bound.conn, self._bound.writing = conn, True
                try:
                    yield
                finally:
                    self._bound.conn = None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        bound = getattr(self._bound, "conn", None)
        if bound is not None:
            yield bound
            return
        with self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction, committed on success. On SQLite the option makes
        the begin hook take the write lock up front (see engine.py)."""
        bound = getattr(self._bound, "conn", None)
        if bound is not None:
            if not self._bound.writing:
                raise RuntimeError("a store write inside store.reading(): end the reads first")
            yield bound
            return
        with self._engine.connect() as conn:
            conn.execution_options(tongban_write=True)
            with conn.begin():
                yield conn


def check_keys(row: dict, allowed: frozenset[str], required: Iterable[str], what: str) -> None:
    """Refuse misspelt keys: a typo would otherwise store NULL silently."""
    unknown = row.keys() - allowed
    if unknown:
        raise ValueError(f"{what}: unknown keys {sorted(unknown)}")
    missing = [k for k in required if row.get(k) is None]
    if missing:
        raise ValueError(f"{what}: missing {missing}")
