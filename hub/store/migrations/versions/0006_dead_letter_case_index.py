"""dead letters by case: every delivery batch asks which of its cases wait for one

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

"""

from typing import Sequence, Union

from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_dead_letters_case_no", "dead_letters", ["case_no"])


def downgrade() -> None:
    op.drop_index("ix_dead_letters_case_no", table_name="dead_letters")
