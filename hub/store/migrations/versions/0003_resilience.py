"""resilience: delivery holds, parked messages, circuit breaker states

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.store.types import JSONDoc, LongText, UTCDateTime

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "delivery_holds",
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("case_no", sa.String(100), nullable=False),
        sa.Column("head_message_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", LongText),
        sa.Column("dead_letter_id", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("destination", "case_no", name="pk_delivery_holds"),
    )
    op.create_table(
        "parked_messages",
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("case_no", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("routing_key", sa.String(255)),
        sa.Column("body", LongText, nullable=False),
        sa.Column("headers", JSONDoc),
        sa.Column("parked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("destination", "message_id", name="pk_parked_messages"),
    )
    op.create_index(
        "ix_parked_messages_destination_case_no_position",
        "parked_messages",
        ["destination", "case_no", "position"],
    )
    op.create_table(
        "breaker_states",
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("cooldown_ms", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTCDateTime()),
        sa.Column("probe_at", UTCDateTime()),
        sa.Column("reason", LongText),
        sa.Column("worker", sa.String(255)),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("destination", name="pk_breaker_states"),
    )


def downgrade() -> None:
    op.drop_table("breaker_states")
    op.drop_index("ix_parked_messages_destination_case_no_position", table_name="parked_messages")
    op.drop_table("parked_messages")
    op.drop_table("delivery_holds")
