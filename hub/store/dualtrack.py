"""Dual-track state: twins waiting for each other, verdicts, noise, adjudications and modes.

The pairing logic lives in hub/dualtrack/matcher.py; this module only keeps its state,
so that a restart of the hub loses nothing that was waiting for a twin."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from sqlalchemy import delete, func, insert, select, update

from .audit import audit_row, write_audit
from .schema import (
    dualtrack_adjudications as adjudications,
    dualtrack_comparisons as comparisons,
    dualtrack_mode_changes as mode_changes,
    dualtrack_modes as modes,
    dualtrack_noise as noise,
    dualtrack_twins as twins,
)
from .protection import open_json, seal_json
from .sql import StoreBase, chunks, insert_ignore, upsert
from .types import utcnow

# The twins' key. Its 4th column is the step number, or for a department pairing by record
# key a negative hash of it (hub/dualtrack/matcher.py pair_slot): a row's step to show is in
# its envelopes.
_TWIN_KEY = ("department", "case_no", "kind", "sequence")
_LATE_KEY = ("department", "case_no", "kind", "old_message_id", "new_message_id")
_COMPARISON_COLUMNS = [c.name for c in comparisons.columns if c.name != "id"]
_ENVELOPES = ("old_envelope", "new_envelope")


@dataclass
class TwinBatch:
    """Twin rows locked for one transaction. The matcher changes ``rows`` in place and
    calls ``touch``; everything is written when the ``with`` block ends, together."""

    rows: dict[tuple, dict]
    comparisons: list[dict] = field(default_factory=list)
    noise: list[dict] = field(default_factory=list)
    late: list[dict] = field(default_factory=list)
    dirty: set = field(default_factory=set)

    def touch(self, key: tuple) -> None:
        self.dirty.add(key)


def twin_key(row: dict) -> tuple:
    return tuple(row[k] for k in _TWIN_KEY)


class DualTrackStore(StoreBase):
    # --- twins -----------------------------------------------------------------------
    @contextmanager
    def dualtrack_lock(self, keys: list[tuple], now: datetime) -> Iterator[TwinBatch]:
        """Lock (creating them empty) the twin rows of ``keys`` = (department, case_no,
        kind, sequence or record key hash)."""
        keys = sorted(set(keys))
        with self._write() as conn:
            # Insert-then-lock: an absent row cannot be locked, and two consumers offering
            # both twins at once must not both believe they came first.
            insert_ignore(conn, twins, [dict(zip(_TWIN_KEY, k), state="waiting", updated_at=now) for k in keys])
            rows: dict[tuple, dict] = {}
            wanted = set(keys)
            for part in chunks(sorted({k[1] for k in keys})):
                q = select(twins).where(twins.c.case_no.in_(part)).with_for_update()
                for r in conn.execute(q):
                    row = self._twin(r)
                    if twin_key(row) in wanted:
                        rows[twin_key(row)] = row
            batch = TwinBatch(rows)
            yield batch
            self._write_batch(conn, batch, now)

    @contextmanager
    def dualtrack_due(self, now: datetime, limit: int = 1000) -> Iterator[TwinBatch]:
        """Lock the waiting twins whose deadline has passed."""
        with self._write() as conn:
            q = (select(twins).where(twins.c.state == "waiting", twins.c.deadline <= now)
                 .order_by(twins.c.deadline).limit(limit).with_for_update())
            batch = TwinBatch({twin_key(r._mapping): self._twin(r) for r in conn.execute(q)})
            yield batch
            self._write_batch(conn, batch, now)

    def _write_batch(self, conn, batch: TwinBatch, now: datetime) -> None:
        for key in sorted(batch.dirty):
            row = dict(batch.rows[key], updated_at=now)
            for col in _ENVELOPES:
                row[col] = seal_json(self.payload_keys, row[col], f"dualtrack_twins.{col}")
            conn.execute(update(twins).where(*(twins.c[k] == v for k, v in zip(_TWIN_KEY, key))).values(row))
        if batch.comparisons:
            conn.execute(insert(comparisons), [{c: r.get(c) for c in _COMPARISON_COLUMNS} for r in batch.comparisons])
        for late in batch.late:
            # A twin that came after its window: the missing verdict stands, but the
            # comparison learns when (and which message) it finally arrived. The comparison
            # is found by the message it was missing for: a comparison keeps the step number,
            # and the twin key may hold a record key's hash instead (hub/dualtrack/matcher.py).
            c = comparisons.c
            where = [c[k] == late[k] for k in _LATE_KEY if k in late]
            conn.execute(update(comparisons).where(*where, c.verdict == late["verdict"]).values(late["values"]))
        self._add_noise(conn, batch.noise, now)

    def _add_noise(self, conn, rows: list[dict], now: datetime) -> None:
        merged: dict[tuple, dict] = {}
        for r in rows:
            key = (r["department"], r["kind"], r["field"])
            if key in merged:
                merged[key]["count"] += 1
                continue
            old = conn.execute(select(noise).where(noise.c.department == key[0], noise.c.kind == key[1],
                                                   noise.c.field == key[2]).with_for_update()).first()
            base = dict(old._mapping) if old else {"first_seen": now, "count": 0, "example": r.get("example")}
            merged[key] = dict(base, department=key[0], kind=key[1], field=key[2], track=r["track"],
                               last_seen=now, count=base["count"] + 1)
        for row in merged.values():
            upsert(conn, noise, row, ("department", "kind", "field"))

    def _twin(self, r) -> dict:
        """A twin row with its envelopes opened (a missing key raises PayloadKeyError, naming it:
        the comparison loop retries, nothing is decided without the envelopes)."""
        row = dict(r._mapping)
        for col in _ENVELOPES:
            row[col] = open_json(self.payload_keys, row[col], f"dualtrack_twins.{col}")
        return row

    def dualtrack_purge(self, before: datetime) -> int:
        """Forget decided twins last touched before ``before``; returns how many."""
        with self._write() as conn:
            q = delete(twins).where(twins.c.state != "waiting", twins.c.updated_at < before)
            return conn.execute(q).rowcount

    def dualtrack_waiting(self, department: str | None = None, case_no: str | None = None) -> list[dict]:
        q = select(twins).where(twins.c.state == "waiting").order_by(twins.c.case_no, twins.c.sequence)
        if department is not None:
            q = q.where(twins.c.department == department)
        if case_no is not None:
            q = q.where(twins.c.case_no == case_no)
        with self._read() as conn:
            return [self._twin(r) for r in conn.execute(q)]

    def dualtrack_twins_since(self, department: str, since: datetime) -> list[dict]:
        """The department's waiting twins and those decided since ``since`` (a takeover's view)."""
        q = (select(twins).where(twins.c.department == department,
                                 (twins.c.state == "waiting") | (twins.c.updated_at >= since))
             .order_by(twins.c.case_no, twins.c.sequence))
        with self._read() as conn:
            return [self._twin(r) for r in conn.execute(q)]

    # --- verdicts ----------------------------------------------------------------------
    def dualtrack_comparisons(self, *, department: str | None = None, case_no: str | None = None,
                              since: datetime | None = None, until: datetime | None = None,
                              verdicts: tuple[str, ...] | None = None, limit: int | None = None) -> list[dict]:
        """Oldest first."""
        c = comparisons.c
        q = select(comparisons).where(*_period(department, since, until))
        if case_no is not None:
            q = q.where(c.case_no == case_no)
        if verdicts:
            q = q.where(c.verdict.in_(verdicts))
        q = q.order_by(c.compared_at, c.id)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def dualtrack_volumes(self, department: str, since: datetime | None = None,
                          until: datetime | None = None) -> dict:
        """Comparisons per verdict and distinct cases compared, in a period."""
        c = comparisons.c
        where = _period(department, since, until)
        with self._read() as conn:
            per = conn.execute(select(c.verdict, func.count()).where(*where).group_by(c.verdict)).all()
            cases = conn.scalar(select(func.count(func.distinct(c.case_no))).where(*where))
            waiting = conn.scalar(select(func.count()).select_from(twins).where(
                twins.c.department == department, twins.c.state == "waiting"))
        return {"verdicts": {v: n for v, n in per}, "cases": cases or 0, "waiting": waiting or 0}

    def dualtrack_noise(self, department: str | None = None) -> list[dict]:
        q = select(noise).order_by(noise.c.department, noise.c.kind, noise.c.field)
        if department is not None:
            q = q.where(noise.c.department == department)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # --- adjudications -----------------------------------------------------------------
    def add_dualtrack_adjudication(self, row: dict) -> int:
        """Store a classification (and its audit entry, in the same transaction)."""
        now = utcnow()
        audit = audit_row(row.get("actor"), "dualtrack.adjudicate", f"{row['department']}/{row['kind']}/"
                          f"{row['field']}", row.get("reason"), {k: _plain(v) for k, v in row.items()}, now)
        with self._write() as conn:
            new_id = conn.execute(insert(adjudications).values(dict(row, created_at=now))).inserted_primary_key[0]
            write_audit(conn, [audit])
        return new_id

    def dualtrack_adjudications(self, department: str | None = None) -> list[dict]:
        q = select(adjudications).order_by(adjudications.c.id)
        if department is not None:
            q = q.where(adjudications.c.department == department)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # --- modes -------------------------------------------------------------------------
    def dualtrack_stored_modes(self) -> dict[str, dict]:
        with self._read() as conn:
            return {r.department: dict(r._mapping) for r in conn.execute(select(modes))}

    def change_dualtrack_mode(self, *, department: str, action: str, from_mode: str, to_mode: str, actor: str,
                              reason: str, forced: bool = False, figures: dict | None = None) -> None:
        """Set a department's mode, record the change and audit it, in one transaction.
        Raises ValueError if someone else changed the mode since ``from_mode`` was read."""
        now = utcnow()
        audit = audit_row(actor, f"dualtrack.{action}", department, reason,
                          {"from": from_mode, "to": to_mode, "forced": forced, "figures": figures}, now)
        with self._write() as conn:
            stored = conn.scalar(select(modes.c.mode).where(modes.c.department == department).with_for_update())
            if stored is not None and stored != from_mode:
                raise ValueError(f"{department}: the mode changed to {stored} meanwhile; look again and retry")
            upsert(conn, modes, {"department": department, "mode": to_mode, "actor": actor, "reason": reason,
                                 "changed_at": now}, ("department",))
            conn.execute(insert(mode_changes).values(
                department=department, action=action, from_mode=from_mode, to_mode=to_mode, forced=int(forced),
                actor=actor, reason=reason, figures=figures, at=now))
            write_audit(conn, [audit])

    def dualtrack_mode_changes(self, department: str | None = None, limit: int = 100) -> list[dict]:
        """Newest first."""
        q = select(mode_changes).order_by(mode_changes.c.id.desc()).limit(limit)
        if department is not None:
            q = q.where(mode_changes.c.department == department)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]


def _period(department: str | None, since: datetime | None, until: datetime | None) -> list:
    c = comparisons.c
    where = []
    if department is not None:
        where.append(c.department == department)
    if since is not None:
        where.append(c.compared_at >= since)
    if until is not None:
        where.append(c.compared_at < until)
    return where


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value
