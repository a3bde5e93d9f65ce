"""the monthly report fed from case events: channel and visits may be unknown, the last step folded in

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("supervision_cases") as batch:
        batch.alter_column("channel", existing_type=sa.String(16), nullable=True)
        batch.alter_column("visits", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("last_sequence", sa.Integer()))


def downgrade() -> None:
    # the old schema cannot say "unknown": such rows go (they are made again from the events)
    op.execute("DELETE FROM supervision_cases WHERE visits IS NULL OR channel IS NULL")
    with op.batch_alter_table("supervision_cases") as batch:
        batch.drop_column("last_sequence")
        batch.alter_column("visits", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("channel", existing_type=sa.String(16), nullable=False)
