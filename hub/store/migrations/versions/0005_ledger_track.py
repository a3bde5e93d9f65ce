"""ledger track: which track of a dual-track department a delivery came from

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Nullable: rows from before dual-track, and messages of one-track sources, have none.
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("track", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("track")
