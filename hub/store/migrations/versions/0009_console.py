"""the web console: its users and sessions; time indexes for its rate chart

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.store.types import UTCDateTime

revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_console_users"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_console_sessions"),
    )
    op.create_index("ix_console_sessions_user_name", "console_sessions", ["user_name"])
    # The overview's rate chart counts the last minutes by time: without these a range over a
    # million rows is a full scan (bench/console_pages.py).
    op.create_index("ix_message_log_logged_at", "message_log", ["logged_at"])
    op.create_index("ix_deliveries_delivered_at", "deliveries", ["delivered_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_delivered_at", table_name="deliveries")
    op.drop_index("ix_message_log_logged_at", table_name="message_log")
    op.drop_index("ix_console_sessions_user_name", table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("console_users")
