"""dualtrack: twins waiting for each other, comparisons, noise, adjudications, modes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.store.types import JSONDoc, LongText, UTCDateTime

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dualtrack_twins",
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("case_no", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("deadline", UTCDateTime()),
        sa.Column("old_message_id", sa.String(64)),
        sa.Column("old_digest", sa.String(64)),
        sa.Column("old_at", UTCDateTime()),
        sa.Column("old_envelope", JSONDoc),
        sa.Column("new_message_id", sa.String(64)),
        sa.Column("new_digest", sa.String(64)),
        sa.Column("new_at", UTCDateTime()),
        sa.Column("new_envelope", JSONDoc),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("department", "case_no", "kind", "sequence", name="pk_dualtrack_twins"),
    )
    op.create_index("ix_dualtrack_twins_state_deadline", "dualtrack_twins", ["state", "deadline"])
    op.create_index("ix_dualtrack_twins_updated_at", "dualtrack_twins", ["updated_at"])

    op.create_table(
        "dualtrack_comparisons",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("case_no", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("track", sa.String(16)),
        sa.Column("fields", JSONDoc),
        sa.Column("lag_seconds", sa.Float()),
        sa.Column("old_message_id", sa.String(64)),
        sa.Column("new_message_id", sa.String(64)),
        sa.Column("old_summary", JSONDoc),
        sa.Column("new_summary", JSONDoc),
        sa.Column("compared_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dualtrack_comparisons"),
    )
    op.create_index(
        "ix_dualtrack_comparisons_department_compared_at", "dualtrack_comparisons", ["department", "compared_at"]
    )
    op.create_index("ix_dualtrack_comparisons_case_no", "dualtrack_comparisons", ["case_no"])

    op.create_table(
        "dualtrack_noise",
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("field", sa.String(255), nullable=False),
        sa.Column("track", sa.String(16), nullable=False),
        sa.Column("example", JSONDoc),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("department", "kind", "field", name="pk_dualtrack_noise"),
    )

    op.create_table(
        "dualtrack_adjudications",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("field", sa.String(255), nullable=False),
        sa.Column("old_value", sa.String(255)),
        sa.Column("new_value", sa.String(255)),
        sa.Column("classification", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", LongText, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_dualtrack_adjudications"),
    )
    op.create_index("ix_dualtrack_adjudications_department", "dualtrack_adjudications", ["department"])

    op.create_table(
        "dualtrack_modes",
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", LongText, nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("department", name="pk_dualtrack_modes"),
    )

    op.create_table(
        "dualtrack_mode_changes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_mode", sa.String(16), nullable=False),
        sa.Column("to_mode", sa.String(16), nullable=False),
        sa.Column("forced", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", LongText, nullable=False),
        sa.Column("figures", JSONDoc),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dualtrack_mode_changes"),
    )
    op.create_index("ix_dualtrack_mode_changes_department", "dualtrack_mode_changes", ["department"])


def downgrade() -> None:
    for table in ("dualtrack_mode_changes", "dualtrack_modes", "dualtrack_adjudications", "dualtrack_noise",
                  "dualtrack_comparisons", "dualtrack_twins"):
        op.drop_table(table)
