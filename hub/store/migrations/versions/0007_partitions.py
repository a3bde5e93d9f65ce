"""scale-out: partition layouts per destination, and the hub workers sharing them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.store.types import JSONDoc, LongText, UTCDateTime

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "partition_layouts",
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", LongText, nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("destination", "partitions", name="pk_partition_layouts"),
    )
    op.create_table(
        "hub_workers",
        sa.Column("worker", sa.String(255), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("holds", JSONDoc),
        sa.PrimaryKeyConstraint("worker", name="pk_hub_workers"),
    )


def downgrade() -> None:
    op.drop_table("hub_workers")
    op.drop_table("partition_layouts")
