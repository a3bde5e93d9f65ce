"""The store's tables, as SQLAlchemy Core (no ORM: batch inserts of plain
dicts are what the hot paths need).

This is the *current* shape. Alembic revisions under ``migrations/versions``
are what actually create it; ``tests/store`` checks the two agree, so a
change here needs a new revision.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

from .types import JSONDoc, LongText, UTCDateTime

# Deterministic constraint names, so later migrations can drop/alter them by
# name on every dialect.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Sizes: ids are UUID strings (36) with room to spare; keys stay well under
# MySQL's 3072-byte index limit in utf8mb4.
ID = 64
NAME = 64
CASE_NO = 100
KEY = 255

# Every canonical message the hub published: lineage from a platform record
# back to the mapping version and the source record that produced it.
message_log = Table(
    "message_log",
    metadata,
    Column("message_id", String(ID), primary_key=True),
    Column("kind", String(NAME), nullable=False),
    Column("department", String(NAME)),
    Column("system", String(NAME)),
    Column("track", String(16)),
    Column("case_no", String(CASE_NO)),
    Column("sequence", Integer),
    Column("routing_key", String(KEY)),
    Column("mapping", String(KEY)),
    Column("record_key", String(KEY)),
    Column("produced_at", UTCDateTime(), nullable=False),
    Column("logged_at", UTCDateTime(), nullable=False),
    Index("ix_message_log_case_no", "case_no"),
    Index("ix_message_log_department_record_key", "department", "record_key"),
)

# One row per source: where to resume reading. Written only after the broker
# confirmed everything read before it (invariant 1).
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("source", String(KEY), primary_key=True),
    Column("cursor", JSONDoc, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# The delivery ledger: the primary key *is* invariant 4 (one effect per
# message and destination).
deliveries = Table(
    "deliveries",
    metadata,
    Column("message_id", String(ID), nullable=False),
    Column("destination", String(NAME), nullable=False),
    Column("case_no", String(CASE_NO)),
    Column("sequence", Integer),
    Column("kind", String(NAME)),
    Column("outcome", String(16), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("message_id", "destination", name="pk_deliveries"),
    # per-case order checks: max(sequence) for (destination, case_no)
    Index("ix_deliveries_destination_case_no", "destination", "case_no", "sequence"),
)

# What could not be fetched, decoded, mapped, validated, routed or delivered
# (invariant 3), with enough to replay it.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("message_id", String(ID)),
    Column("stage", String(16), nullable=False),
    Column("reason", LongText, nullable=False),
    Column("department", String(NAME)),
    Column("destination", String(NAME)),
    Column("record_key", String(KEY)),
    Column("case_no", String(CASE_NO)),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", UTCDateTime(), nullable=False),
    Column("last_failed_at", UTCDateTime(), nullable=False),
    Column("payload", LongText),
    Column("headers", JSONDoc),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # every listing filters on status and orders by time
    Index("ix_dead_letters_status_last_failed_at", "status", "last_failed_at"),
    Index("ix_dead_letters_stage", "stage"),
    Index("ix_dead_letters_department", "department"),
    Index("ix_dead_letters_destination", "destination"),
    Index("ix_dead_letters_message_id", "message_id"),
)

# Who did what, when and why: replays, purges, cutovers and rollbacks.
audit_log = Table(
    "audit_log",
    metadata,
    # BIGINT does not autoincrement on SQLite; INTEGER PRIMARY KEY does.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(NAME * 2), nullable=False),
    Column("action", String(NAME), nullable=False),
    Column("target", String(KEY), nullable=False),
    Column("reason", LongText, nullable=False),
    Column("details", JSONDoc),
    Index("ix_audit_log_action", "action"),
    Index("ix_audit_log_at", "at"),
)

# The provincial item catalogue (事项目录), as last synchronised: a case whose item is
# not here is dead-lettered with the code named.
catalogue_items = Table(
    "catalogue_items",
    metadata,
    Column("catalogue_code", String(NAME), primary_key=True),
    Column("implementation_code", String(KEY), nullable=False),
    Column("name", String(KEY), nullable=False),
    Column("category", String(NAME), nullable=False),
    Column("level", String(32), nullable=False),
    Column("department", String(NAME), nullable=False),
    Column("online_depth", Integer, nullable=False),
    Column("promised_days", Integer, nullable=False),
    Column("statutory_days", Integer, nullable=False),
    Column("required_visits", Integer, nullable=False),
    Column("one_window", Integer, nullable=False),
    Column("synced_at", UTCDateTime(), nullable=False),
    Index("ix_catalogue_items_department", "department"),
)
