"""A PostgreSQL schema of its own for a store (the demo's several worker processes share one)."""
from __future__ import annotations

import sqlalchemy as sa


def fresh_schema_url(url: str, schema: str, connect_timeout: int = 3) -> str:
    """Drop and create `schema` in the database at `url`; returns a store URL whose
    connections use it (libpq's search_path option). Raises when the database does not answer."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool,
                             connect_args={"connect_timeout": connect_timeout})
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    finally:
        admin.dispose()
    return sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
