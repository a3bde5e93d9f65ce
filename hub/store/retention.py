"""Retention of stored payloads (``tongban store purge-expired``): after a table's configured
number of days its stored payloads are set to NULL, with the time in ``payload_removed_at``;
the row itself stays, with its ids, digests, statuses and times, as do the message log, the
ledger and the audit trail (none of which holds a payload: the log chains hash metadata only,
hub/audit/chain.py, so `tongban log verify` is unaffected).

What is never removed, whatever its age, because the hub still needs it:
- a dead letter that is still ``dead`` (not replayed or purged): an operator must be able to
  replay it; it is counted as ``kept_unresolved`` so its age is visible;
- a dual-track twin still ``waiting`` for its other track (it expires at its deadline);
- parked messages (``parked_messages``): deliveries in flight behind a held case, as the
  broker's queues hold theirs.

Work goes in batches of ``retention.batch_size`` rows, each its own transaction: the keys of
one batch are read, then those rows updated, with the age condition repeated so that a row
written again meanwhile (a content version seen anew) keeps its new payload. Nothing loads
a table into memory."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, tuple_, update

from .protection import PAYLOAD_TABLES, Retention
from .schema import content_versions, dead_letters, dualtrack_twins
from .sql import IN_CHUNK, chunks
from .types import utcnow


@dataclass(frozen=True)
class Target:
    table: object
    columns: tuple[str, ...]        # the payload columns set to NULL
    age: str                        # the time a row's age is counted from
    keep: object | None = None      # rows never purged, whatever their age

    def key(self):
        return [self.table.c[c.name] for c in self.table.primary_key.columns]

    def present(self):
        return and_(self.table.c.payload_removed_at.is_(None),
                    or_(*[self.table.c[c].is_not(None) for c in self.columns]))


TARGETS = {
    "dead_letters": Target(dead_letters, ("payload",), "last_failed_at", dead_letters.c.status == "dead"),
    "content_versions": Target(content_versions, ("payload",), "seen_at"),
    "dualtrack_twins": Target(dualtrack_twins, ("old_envelope", "new_envelope"), "updated_at",
                              dualtrack_twins.c.state == "waiting"),
}
assert set(TARGETS) == set(PAYLOAD_TABLES)


def _where(t: Target, cutoff: datetime, kept: bool):
    where = [t.present(), t.table.c[t.age] < cutoff]
    if t.keep is not None:
        where.append(t.keep if kept else ~t.keep)
    return and_(*where)


def purge_expired(store, policy: Retention, *, dry_run: bool = False, now: datetime | None = None,
                  actor: str = "retention", reason: str = "retention policy") -> dict:
    """Per table: days kept, payloads ``expired`` (removed, or that a run would remove) and
    ``kept_unresolved`` (past their age but still needed). A real run records one audit row."""
    now = now or utcnow()
    out: dict[str, dict] = {}
    for name, t in TARGETS.items():
        days = policy.days(name)
        if days <= 0:
            out[name] = {"days": 0, "expired": 0, "kept_unresolved": 0}
            continue
        cutoff = now - timedelta(days=days)
        with store._read() as conn:
            kept = conn.scalar(select(func.count()).select_from(t.table).where(_where(t, cutoff, True))) \
                if t.keep is not None else 0
            if dry_run:
                expired = conn.scalar(select(func.count()).select_from(t.table).where(_where(t, cutoff, False)))
        if not dry_run:
            expired = _remove(store, t, cutoff, now, policy.batch_size)
        out[name] = {"days": days, "expired": int(expired or 0), "kept_unresolved": int(kept or 0)}
    if not dry_run:
        store.audit(actor, "store.purge_expired", "payloads", reason,
                    {name: {"days": r["days"], "removed": r["expired"]} for name, r in out.items()})
    return out


def _remove(store, t: Target, cutoff: datetime, now: datetime, batch: int) -> int:
    key = t.key()
    removed = 0
    blank = {c: None for c in t.columns} | {"payload_removed_at": now}
    while True:
        with store._write() as conn:
            keys = [tuple(r) for r in conn.execute(
                select(*key).where(_where(t, cutoff, False)).order_by(t.table.c[t.age]).limit(batch))]
            for part in chunks(keys, max(1, IN_CHUNK // len(key))):
                match = key[0].in_([k[0] for k in part]) if len(key) == 1 else tuple_(*key).in_(list(part))
                removed += conn.execute(update(t.table).where(match, _where(t, cutoff, False))
                                        .values(blank)).rowcount
        if len(keys) < batch:
            return removed
