"""the monthly supervision report (月度通报): catalogue columns and one row per case

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.store.types import JSONDoc, UTCDateTime

revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("catalogue_items") as batch:
        batch.add_column(sa.Column("in_hall", sa.Integer()))
        batch.add_column(sa.Column("approval_exception", sa.Integer()))
        batch.add_column(sa.Column("materials", JSONDoc))
    op.create_table(
        "supervision_cases",
        sa.Column("case_no", sa.String(100), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("item_code", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("materials_required", sa.Integer(), nullable=False),
        sa.Column("materials_provided", sa.Integer(), nullable=False),
        sa.Column("materials_reused", sa.Integer(), nullable=False),
        sa.Column("one_window", sa.Integer()),
        sa.Column("promised_days", sa.Integer()),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("accepted_at", UTCDateTime()),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("due_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("case_no", name="pk_supervision_cases"),
    )
    op.create_index("ix_supervision_cases_completed_at", "supervision_cases", ["completed_at"])
    op.create_index("ix_supervision_cases_accepted_at", "supervision_cases", ["accepted_at"])
    op.create_index("ix_supervision_cases_due_at", "supervision_cases", ["due_at"])


def downgrade() -> None:
    op.drop_table("supervision_cases")
    with op.batch_alter_table("catalogue_items") as batch:
        batch.drop_column("materials")
        batch.drop_column("approval_exception")
        batch.drop_column("in_hall")
