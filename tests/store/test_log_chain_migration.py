"""Migration 0011 chains the rows logged before it a page at a time (keyset pages), so a
large store migrates in bounded memory: thousands of existing rows, many sharing a time
across page boundaries, come out chained in log order and verify, on every database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from hub.audit.verify import verify_store
from hub.store import migrate
from hub.store.engine import create_store_engine

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
MESSAGES, AUDITS, PAGE = 4500, 2300, 2000     # PAGE: the migration's _BATCH


def _old_rows(engine) -> list[tuple]:
    """Rows written at revision 0010: four at each logged_at (ties the keyset must order by id),
    over three departments, so each chain's head is carried across pages."""
    msgs = [{"m": f"old{i:05d}", "d": ("ndrc", "land", "housing")[i % 3], "t": T0 + timedelta(seconds=i // 4)}
            for i in range(MESSAGES)]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO message_log (message_id, kind, department, produced_at, logged_at) "
                             "VALUES (:m, 'case_event', :d, :t, :t)"), msgs)
        conn.execute(sa.text("INSERT INTO audit_log (at, actor, action, target, reason, details) "
                             "VALUES (:t, 'li.wei', 'dlq.purge', :g, 'before 0011', NULL)"),
                     [{"t": T0 + timedelta(seconds=i), "g": f"dl{i}"} for i in range(AUDITS)])
    return sorted((m["t"], m["m"]) for m in msgs)


def test_existing_rows_are_chained_in_keyset_pages(db):
    engine = create_store_engine(db.url, **dict(db.engine_kwargs))
    selects: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def seen(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "row_hash" not in statement \
                and ("FROM message_log" in statement or "FROM audit_log" in statement):
            selects.append(statement)
    try:
        migrate.upgrade(engine, "0010")
        order = _old_rows(engine)
        selects.clear()
        migrate.upgrade(engine, "0011")
    finally:
        engine.dispose()
    paged = [s for s in selects if "LIMIT" in s.upper()]
    # ceil(rows / PAGE) full or partial pages and one empty page, per table; never one unbounded read
    assert len([s for s in paged if "message_log" in s]) == -(-MESSAGES // PAGE) + 1
    assert len([s for s in paged if "audit_log" in s]) == -(-AUDITS // PAGE) + 1
    assert paged and len(paged) == len(selects)

    store = db.open()
    report = verify_store(store)
    assert report["ok"], report["findings"][:5]
    chains = store.chains("message_log")
    assert {c: n for c, (n, _) in chains.items()} == {"ndrc/-/-": 1500, "land/-/-": 1500, "housing/-/-": 1500}
    expected = [m for _, m in order if int(m[3:]) % 3 == 1]          # land's rows, in log order
    assert [r["message_id"] for r in store.chain_rows("message_log", "land/-/-")] == expected
    assert store.chains("audit_log") == {"audit": (AUDITS, AUDITS)}
