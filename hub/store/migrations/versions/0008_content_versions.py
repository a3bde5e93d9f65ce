"""data fidelity: what each source last sent per record and per case step (conflicts)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.store.types import JSONDoc, UTCDateTime

revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "content_versions",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("record_key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("case_no", sa.String(100)),
        sa.Column("sequence", sa.Integer()),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("payload", JSONDoc, nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "record_key", "kind", name="pk_content_versions"),
    )
    op.create_index("ix_content_versions_step", "content_versions", ["source", "case_no", "kind", "sequence"])


def downgrade() -> None:
    op.drop_index("ix_content_versions_step", table_name="content_versions")
    op.drop_table("content_versions")
