"""the tamper-evident logs: a hash chain on the message log and the audit trail; signed checkpoints

Rows logged before this revision are chained here, in the order they were logged (message
log: logged_at, then id; audit trail: id), so that verify covers them too.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.audit import chain as hc
from hub.store.types import LongText, UTCDateTime

revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_BATCH = 2000


def _chain_columns(table: str) -> None:
    with op.batch_alter_table(table) as b:
        b.add_column(sa.Column("chain", sa.String(255)))
        b.add_column(sa.Column("chain_seq", sa.BigInteger()))
        b.add_column(sa.Column("prev_hash", sa.String(80)))
        b.add_column(sa.Column("row_hash", sa.String(80)))
    op.create_index(f"uq_{table}_chain_chain_seq", table, ["chain", "chain_seq"], unique=True)


def _after(cols: list, last: list):
    """Keyset condition: rows after ``last`` in the order of ``cols``, (a, b) > (x, y) spelt
    out with OR so that every database takes it. Untyped columns and the values as the
    database returned them: compared exactly as ORDER BY sorts them, whatever format an old
    row's time was written in."""
    cond = None
    for i in reversed(range(len(cols))):
        here = cols[i] > last[i]
        for c, v in zip(cols[:i], last[:i]):
            here = sa.and_(c == v, here)
        cond = here if cond is None else sa.or_(here, cond)
    return cond


def _backfill(table: str, key: str, order: list[str], fields, chain_of) -> None:
    """Chain the existing rows a page at a time (keyset pages in ``order``): a store with
    millions of rows is migrated in bounded memory, the heads carried from page to page."""
    conn = op.get_bind()
    names = list(dict.fromkeys((key, *fields)))
    t = sa.table(table, *[sa.column(c) for c in (key, "chain", "chain_seq", "prev_hash", "row_hash")])
    # read back through the store's own types, so the hash sees what verify will read
    types = {"produced_at": UTCDateTime(), "logged_at": UTCDateTime(), "at": UTCDateTime(), "details": sa.JSON()}
    cols = [sa.column(c, types.get(c)) for c in names]
    keyset = [sa.column(c) for c in order]
    raw = [k.label(f"_k{i}") for i, k in enumerate(keyset)]
    upd = t.update().where(t.c[key] == sa.bindparam("_key")).values(
        chain=sa.bindparam("chain"), chain_seq=sa.bindparam("chain_seq"),
        prev_hash=sa.bindparam("prev_hash"), row_hash=sa.bindparam("row_hash"))
    alg, heads, last = hc.default_algorithm(), {}, None
    while True:
        q = sa.select(*cols, *raw).select_from(sa.table(table)).order_by(*keyset).limit(_BATCH)
        if last is not None:
            q = q.where(_after(keyset, last))
        rows = [dict(r._mapping) for r in conn.execute(q)]
        if not rows:
            return
        heads = {**heads, **hc.link(rows, heads, fields, alg, chain_of)}
        conn.execute(upd, [{"_key": r[key], "chain": r["chain"], "chain_seq": r["chain_seq"],
                            "prev_hash": r["prev_hash"], "row_hash": r["row_hash"]} for r in rows])
        last = [rows[-1][f"_k{i}"] for i in range(len(order))]


def upgrade() -> None:
    _chain_columns("message_log")
    _chain_columns("audit_log")
    op.create_table(
        "log_checkpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("log", sa.String(32), nullable=False),
        sa.Column("chain", sa.String(255), nullable=False),
        sa.Column("chain_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(80), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", LongText, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_log_checkpoints"),
    )
    op.create_index("ix_log_checkpoints_log_chain_chain_seq", "log_checkpoints", ["log", "chain", "chain_seq"])
    _backfill("message_log", "message_id", ["logged_at", "message_id"], hc.MESSAGE_FIELDS, hc.message_chain)
    _backfill("audit_log", "id", ["id"], hc.AUDIT_FIELDS, lambda row: hc.AUDIT_CHAIN)


def downgrade() -> None:
    op.drop_index("ix_log_checkpoints_log_chain_chain_seq", table_name="log_checkpoints")
    op.drop_table("log_checkpoints")
    for table in ("audit_log", "message_log"):
        op.drop_index(f"uq_{table}_chain_chain_seq", table_name=table)
        with op.batch_alter_table(table) as b:
            for c in ("row_hash", "prev_hash", "chain_seq", "chain"):
                b.drop_column(c)
