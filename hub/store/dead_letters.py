"""Dead letters (invariant 3): what could not be fetched, decoded, mapped,
validated, routed or delivered, kept with enough to replay it."""

from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import select, update

from .audit import audit_row, write_audit
from .schema import dead_letters
from .sql import StoreBase, check_keys, chunks, insert_ignore
from .types import utcnow

STAGES = ("fetch", "decode", "map", "validate", "conflict", "route", "sequence", "deliver")   # hub/runtime/conflicts.py, sequence.py
STATUSES = ("dead", "replayed", "purged")
PRE_CANONICAL = ("fetch", "decode", "map", "validate", "conflict")   # before a message went out: gates
# action recorded in the audit log for each status change
_ACTIONS = {"replayed": "dlq.replay", "purged": "dlq.purge", "dead": "dlq.restore"}
MIN_PREFIX = 8
PAYLOAD_ENCODING_HEADER = "x-tongban-payload-encoding"

_KEYS = frozenset(c.name for c in dead_letters.columns if c.name not in ("created_at", "updated_at"))
_REQUIRED = ("id", "stage", "reason")


def _payload_text(payload, headers: dict | None) -> tuple[str | None, dict | None]:
    """Text columns cannot hold every payload as received (bytes that are not
    UTF-8, e.g. GB18030 from a legacy system; NUL, which PostgreSQL refuses).
    Rather than lose the dead letter, store those as base64 and say so in the
    headers."""
    if payload is None:
        return None, headers
    if isinstance(payload, str):
        if "\x00" not in payload:
            return payload, headers
        payload = payload.encode("utf-8")
    elif isinstance(payload, (bytes, bytearray, memoryview)):
        payload = bytes(payload)
        try:
            text = payload.decode("utf-8")
            if "\x00" not in text:
                return text, headers
        except UnicodeDecodeError:
            pass
    else:
        raise TypeError(f"payload must be str or bytes, got {type(payload).__name__}")
    headers = dict(headers or {})
    headers[PAYLOAD_ENCODING_HEADER] = "base64"
    return base64.b64encode(payload).decode("ascii"), headers


class DeadLetters(StoreBase):
    def add_dead_letter(self, dl: dict) -> bool:
        """Store a dead letter. The caller chooses ``id`` (one per
        dead-lettering, not per message: a message that fails again after a
        replay needs a new id, or the second failure is ignored). Adding an
        id that exists does nothing and returns False, so a DLQ consumer that
        crashed before its ack can safely store the same letter again."""
        check_keys(dl, _KEYS, _REQUIRED, "add_dead_letter")
        if dl["stage"] not in STAGES:
            raise ValueError(f"add_dead_letter: stage must be one of {STAGES}, got {dl['stage']!r}")
        status = dl.get("status") or "dead"
        if status not in STATUSES:
            raise ValueError(f"add_dead_letter: status must be one of {STATUSES}, got {status!r}")
        now = utcnow()
        last = dl.get("last_failed_at") or now
        payload, headers = _payload_text(dl.get("payload"), dl.get("headers"))
        row = {k: dl.get(k) for k in _KEYS}
        row.update(
            id=str(dl["id"]),
            attempts=int(dl.get("attempts") or 1),
            first_failed_at=dl.get("first_failed_at") or last,
            last_failed_at=last,
            payload=payload,
            headers=headers,
            status=status,
            created_at=now,
            updated_at=now,
        )
        with self._write() as conn:
            return insert_ignore(conn, dead_letters, [row]) == 1

    def open_gates(self, case_nos: list[str]) -> dict[str, list[dict]]:
        """case_no -> its dead letters from before a message was made (fetch, decode, map,
        validate) that are still dead: the case's later messages wait for them."""
        out: dict[str, list[dict]] = {}
        c = dead_letters.c
        with self._read() as conn:
            for part in chunks(list(dict.fromkeys(n for n in case_nos if n))):
                q = select(c.id, c.case_no, c.department, c.stage, c.reason, c.first_failed_at, c.headers).where(
                    c.case_no.in_(part), c.status == "dead", c.stage.in_(PRE_CANONICAL))
                for r in conn.execute(q):
                    row = dict(r._mapping)
                    row["track"] = (row.pop("headers") or {}).get("x-tongban-track")   # a gate holds its own track
                    out.setdefault(r.case_no, []).append(row)
        return out

    def list_dead_letters(
        self,
        *,
        stage: str | None = None,
        department: str | None = None,
        destination: str | None = None,
        since: datetime | None = None,
        status: str | None = "dead",
        limit: int | None = 100,
        newest_first: bool = False,
    ) -> list[dict]:
        """Filtered dead letters. Oldest first by default, the order a replay
        should follow so a case's events go back in sequence; ``status=None``
        means any status; ``since`` compares with ``last_failed_at``."""
        c = dead_letters.c
        q = select(dead_letters)
        filters = [(c.stage, stage), (c.department, department), (c.destination, destination), (c.status, status)]
        for col, value in filters:
            if value is not None:
                q = q.where(col == value)
        if since is not None:
            q = q.where(c.last_failed_at >= since)
        order = (c.last_failed_at.desc(), c.id.desc()) if newest_first else (c.last_failed_at, c.id)
        q = q.order_by(*order)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def get_dead_letter(self, id: str) -> dict | None:
        """By full id, or by a prefix of at least 8 characters that matches
        exactly one. An ambiguous prefix raises LookupError."""
        c = dead_letters.c
        with self._read() as conn:
            row = conn.execute(select(dead_letters).where(c.id == id)).first()
            if row is None and len(id) >= MIN_PREFIX:
                rows = conn.execute(
                    select(dead_letters).where(c.id.startswith(id, autoescape=True)).order_by(c.id).limit(2)
                ).all()
                if len(rows) > 1:
                    raise LookupError(f"dead-letter id prefix {id!r} is ambiguous; give more of it")
                row = rows[0] if rows else None
        return dict(row._mapping) if row is not None else None

    def mark_dead_letters(self, ids: list[str], status: str, actor: str, reason: str) -> int:
        """Set the status of the given dead letters (full ids) and write one
        audit row for each one that changed, in the same transaction.
        Letters already in ``status`` or unknown are skipped. Returns how
        many changed."""
        if status not in _ACTIONS:
            raise ValueError(f"mark_dead_letters: status must be one of {tuple(_ACTIONS)}, got {status!r}")
        now = utcnow()
        audit_row(actor, _ACTIONS[status], "-", reason, None, now)  # fail before touching anything
        wanted = list(dict.fromkeys(ids))
        c = dead_letters.c
        changed = 0
        with self._write() as conn:
            for part in chunks(wanted):
                # FOR UPDATE: two operators replaying the same letters at once
                # must not both write audit rows for one change.
                rows = conn.execute(
                    select(c.id, c.status, c.message_id, c.destination)
                    .where(c.id.in_(part), c.status != status)
                    .with_for_update()
                ).all()
                if not rows:
                    continue
                conn.execute(
                    update(dead_letters)
                    .where(c.id.in_([r.id for r in rows]))
                    .values(status=status, updated_at=now)
                )
                write_audit(
                    conn,
                    [
                        audit_row(
                            actor,
                            _ACTIONS[status],
                            r.id,
                            reason,
                            {
                                "from": r.status,
                                "to": status,
                                "message_id": r.message_id,
                                "destination": r.destination,
                            },
                            now,
                        )
                        for r in rows
                    ],
                )
                changed += len(rows)
        return changed
