"""Re-sealing stored payloads with the key ring's current key (``tongban store rekey``): after a
key rotation (a new ``payload_encryption.current``, the old key still listed), or after
encryption was turned on over rows stored in clear.

Each column is walked in primary-key order, a batch at a time; each batch is one transaction
that locks its rows (FOR UPDATE where the database has it, the write lock on SQLite), so a
hub writing the same rows meanwhile is never overwritten with older content. A value whose
key is not in the ring is left as it is and counted under its key id: the run goes on, and
says which keys it still needs. When it reports nothing left under an old key id, that key
may be dropped from the ring."""
from __future__ import annotations

from sqlalchemy import Text, bindparam, cast, func, select, tuple_, update

from .keyring import PREFIX, PayloadKeyError, key_id_of
from .protection import open_json, seal_json
from .schema import content_versions, dead_letters, dualtrack_twins, parked_messages

# (table, column, stored as JSON)
COLUMNS = [
    (dead_letters, "payload", False),
    (parked_messages, "body", False),
    (content_versions, "payload", True),
    (dualtrack_twins, "old_envelope", True),
    (dualtrack_twins, "new_envelope", True),
]


def _stale(table, column: str, is_json: bool, current: str):
    """Rows whose value is plain, or sealed with another key than ``current``."""
    col = table.c[column]
    text = cast(col, Text) if is_json else col
    mine = ('"' if is_json else "") + f"{PREFIX}{current}:%"
    return col.is_not(None) & ~text.like(mine)


def rekey(store, *, batch: int = 1000, dry_run: bool = False, actor: str = "rekey") -> dict:
    """{"table.column": {"resealed": n, "unopened": {key id: n}}}; dry run: {"stale": n}."""
    ring = store.payload_keys
    if not ring.enabled:
        raise ValueError("payload_encryption.current is not set: there is no key to seal payloads with")
    out: dict[str, dict] = {}
    for table, column, is_json in COLUMNS:
        name = f"{table.name}.{column}"
        where = _stale(table, column, is_json, ring.current)
        if dry_run:
            with store._read() as conn:
                out[name] = {"stale": int(conn.scalar(select(func.count()).select_from(table).where(where)) or 0)}
            continue
        out[name] = _walk(store, table, column, is_json, where, batch)
    if not dry_run:
        store.audit(actor, "store.rekey", "payloads", f"re-sealed with payload key {ring.current}",
                    {k: v["resealed"] for k, v in out.items()})
    return out


def _walk(store, table, column: str, is_json: bool, where, batch: int) -> dict:
    ring = store.payload_keys
    key = [table.c[c.name] for c in table.primary_key.columns]
    resealed, unopened = 0, {}
    last = None
    while True:
        with store._write() as conn:
            q = select(*key, table.c[column]).where(where)
            if last is not None:
                q = q.where((key[0] > last[0]) if len(key) == 1 else tuple_(*key) > tuple_(*last))
            rows = conn.execute(q.order_by(*key).limit(batch).with_for_update()).all()
            changes = []
            for r in rows:
                pk, value = tuple(r[:len(key)]), r[len(key)]
                try:
                    if is_json:
                        new = seal_json(ring, open_json(ring, value, name_of(table, column)), name_of(table, column))
                    else:
                        new = ring.seal(ring.open(value, name_of(table, column)), name_of(table, column))
                except PayloadKeyError as exc:
                    kid = exc.key_id or key_id_of(value) or "?"
                    unopened[kid] = unopened.get(kid, 0) + 1
                    continue
                changes.append({**{f"_k{i}": v for i, v in enumerate(pk)}, "_value": new})
            if changes:   # one statement for the batch (executemany), not a round trip a row
                conn.execute(update(table).where(*(k == bindparam(f"_k{i}") for i, k in enumerate(key)))
                             .values({column: bindparam("_value", type_=table.c[column].type)}), changes)
                resealed += len(changes)
        if len(rows) < batch:
            return {"resealed": resealed, "unopened": unopened}
        last = tuple(rows[-1][:len(key)])


def name_of(table, column: str) -> str:
    return f"{table.name}.{column}"
