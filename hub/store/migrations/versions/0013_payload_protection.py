"""personal data at rest: payloads removed by retention keep when and a digest; content versions may lose theirs

Retention (``tongban store purge-expired``) sets a stored payload to NULL and notes when in
``payload_removed_at``; a dead letter keeps the SHA-256 of its payload (``payload_digest``,
written with every new letter), so what was removed can still be matched against a copy.
content_versions.payload becomes nullable for the same reason. Encrypted payloads
(hub/store/keyring.py) fit the existing text and JSON columns: no column changes type.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from hub.store.types import JSONDoc, UTCDateTime

revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("dead_letters") as b:
        b.add_column(sa.Column("payload_digest", sa.String(64)))
        b.add_column(sa.Column("payload_removed_at", UTCDateTime()))
    with op.batch_alter_table("content_versions") as b:
        b.alter_column("payload", existing_type=JSONDoc, nullable=True)
        b.add_column(sa.Column("payload_removed_at", UTCDateTime()))
    op.create_index("ix_content_versions_seen_at", "content_versions", ["seen_at"])
    with op.batch_alter_table("dualtrack_twins") as b:
        b.add_column(sa.Column("payload_removed_at", UTCDateTime()))


def downgrade() -> None:
    with op.batch_alter_table("dualtrack_twins") as b:
        b.drop_column("payload_removed_at")
    op.drop_index("ix_content_versions_seen_at", table_name="content_versions")
    with op.batch_alter_table("content_versions") as b:
        b.drop_column("payload_removed_at")
        b.alter_column("payload", existing_type=JSONDoc, nullable=False)
    with op.batch_alter_table("dead_letters") as b:
        b.drop_column("payload_removed_at")
        b.drop_column("payload_digest")
