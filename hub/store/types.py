"""Column types that behave the same on SQLite, PostgreSQL and MariaDB/MySQL.

Migrations import these too, so keep them stable: changing one changes what
old revisions create.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetime, stored as UTC, always returned aware in UTC.

    SQLite and MySQL DATETIME keep no offset, so we write naive UTC there and
    re-attach UTC on read; PostgreSQL gets a real timestamptz. Naive input is
    refused: a naive time is ambiguous (local? UTC?) and would silently shift
    by eight hours between Asia/Shanghai callers and a UTC server.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            # DATETIME defaults to whole seconds there; keep microseconds.
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: give it a timezone")
        value = value.astimezone(timezone.utc)
        if dialect.name != "postgresql":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# TEXT is 64 KB on MySQL; original payloads and reasons (tracebacks) can be
# larger, and losing the tail of a dead letter defeats its purpose.
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

# Plain JSON everywhere: we never query inside these documents, we only store
# and return them whole.
JSONDoc = JSON(none_as_null=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
