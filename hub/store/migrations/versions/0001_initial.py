"""initial: message log, checkpoints, delivery ledger, dead letters, audit log

Revision ID: 0001
Revises:
Create Date: 2025-11-26

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.store.types import JSONDoc, LongText, UTCDateTime

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "message_log",
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64)),
        sa.Column("system", sa.String(64)),
        sa.Column("track", sa.String(16)),
        sa.Column("case_no", sa.String(100)),
        sa.Column("sequence", sa.Integer()),
        sa.Column("routing_key", sa.String(255)),
        sa.Column("mapping", sa.String(255)),
        sa.Column("record_key", sa.String(255)),
        sa.Column("produced_at", UTCDateTime(), nullable=False),
        sa.Column("logged_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_message_log"),
    )
    op.create_index("ix_message_log_case_no", "message_log", ["case_no"])
    op.create_index(
        "ix_message_log_department_record_key", "message_log", ["department", "record_key"]
    )

    op.create_table(
        "checkpoints",
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("cursor", JSONDoc, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_checkpoints"),
    )

    op.create_table(
        "deliveries",
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("case_no", sa.String(100)),
        sa.Column("sequence", sa.Integer()),
        sa.Column("kind", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "destination", name="pk_deliveries"),
    )
    op.create_index(
        "ix_deliveries_destination_case_no", "deliveries", ["destination", "case_no", "sequence"]
    )

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("reason", LongText, nullable=False),
        sa.Column("department", sa.String(64)),
        sa.Column("destination", sa.String(64)),
        sa.Column("record_key", sa.String(255)),
        sa.Column("case_no", sa.String(100)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", UTCDateTime(), nullable=False),
        sa.Column("last_failed_at", UTCDateTime(), nullable=False),
        sa.Column("payload", LongText),
        sa.Column("headers", JSONDoc),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index(
        "ix_dead_letters_status_last_failed_at", "dead_letters", ["status", "last_failed_at"]
    )
    op.create_index("ix_dead_letters_stage", "dead_letters", ["stage"])
    op.create_index("ix_dead_letters_department", "dead_letters", ["department"])
    op.create_index("ix_dead_letters_destination", "dead_letters", ["destination"])
    op.create_index("ix_dead_letters_message_id", "dead_letters", ["message_id"])

    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("reason", LongText, nullable=False),
        sa.Column("details", JSONDoc),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    for table in ("audit_log", "dead_letters", "deliveries", "checkpoints", "message_log"):
        op.drop_table(table)
