"""The Store: the hub's one door to its database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hub.audit.chain import default_algorithm

from . import migrate
from .audit import Audit
from .catalogue import Catalogue
from .chainlog import ChainLog
from .console import ConsoleQueries
from .dead_letters import DeadLetters
from .dualtrack import DualTrackStore
from .engine import create_store_engine, masked, resolve_url, tls_failure
from .ledger import Ledger
from .messages import Checkpoints, MessageLog
from .partitions import Partitions
from .resilience import Resilience
from .supervision import SupervisionStore
from .schema import dead_letters, deliveries, message_log
from .users import ConsoleUsers
from .versions import ContentVersions


class Store(MessageLog, Checkpoints, Ledger, DeadLetters, Audit, Catalogue, DualTrackStore, Resilience,
            Partitions, ContentVersions, ConsoleUsers, ConsoleQueries, SupervisionStore, ChainLog):
    """Message log, checkpoints, delivery ledger, dead letters, audit trail and item catalogue.

    Thread-safe: one Engine (and pool) per Store, a connection per call, so
    share one Store across a process's threads. Each method is its own
    transaction.
    """

    url: str  # password masked: safe to print and log

    def __init__(self, engine) -> None:
        self._engine = engine
        self.url = masked(engine.url)
        # the hash of new message-log and audit rows (hub/audit/chain.py): sm3 | sha256
        self.chain_algorithm = default_algorithm()

    @classmethod
    def open(cls, url: str | None = None, *, engine_kwargs: dict[str, Any] | None = None) -> "Store":
        """Connect to ``url`` (default: $TONGBAN_DB_URL, else
        sqlite:///var/tongban.db) and bring the schema to the latest revision.

        ``engine_kwargs`` go to ``sqlalchemy.create_engine`` (pool sizes,
        ``connect_args`` such as a PostgreSQL search_path)."""
        engine = create_store_engine(resolve_url(url), **(engine_kwargs or {}))
        try:
            migrate.upgrade(engine)
        except BaseException as exc:
            engine.dispose()
            explained = tls_failure(exc, resolve_url(url))
            if explained is not None:
                raise explained from None
            raise
        return cls(engine)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def counts(self, messages: int | None = None) -> dict:
        """Figures for ``tongban status``: messages logged, deliveries per
        destination, dead letters per status. ``messages``: the message log's
        count if the caller has it already (the console sums its per-department
        counts: one scan of a million rows fewer)."""
        with self._read() as conn:
            if messages is None:
                messages = conn.scalar(select(func.count()).select_from(message_log))
            per_dest = conn.execute(
                select(deliveries.c.destination, func.count()).group_by(deliveries.c.destination)
            ).all()
            per_status = conn.execute(
                select(dead_letters.c.status, func.count()).group_by(dead_letters.c.status)
            ).all()
        return {
            "messages": messages or 0,
            "deliveries": {d: n for d, n in per_dest},
            "dead_letters": {s: n for s, n in per_status},
        }
