"""catalogue: the provincial item catalogue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.store.types import UTCDateTime

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "catalogue_items",
        sa.Column("catalogue_code", sa.String(64), nullable=False),
        sa.Column("implementation_code", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("online_depth", sa.Integer(), nullable=False),
        sa.Column("promised_days", sa.Integer(), nullable=False),
        sa.Column("statutory_days", sa.Integer(), nullable=False),
        sa.Column("required_visits", sa.Integer(), nullable=False),
        sa.Column("one_window", sa.Integer(), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("catalogue_code", name="pk_catalogue_items"),
    )
    op.create_index("ix_catalogue_items_department", "catalogue_items", ["department"])


def downgrade() -> None:
    op.drop_index("ix_catalogue_items_department", table_name="catalogue_items")
    op.drop_table("catalogue_items")
