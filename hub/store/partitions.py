"""Partition layouts (which P each destination has, which older layouts still drain) and
the membership of hub worker processes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update

from .audit import audit_row, write_audit
from .schema import hub_workers, partition_layouts
from .sql import StoreBase, upsert
from .types import utcnow

ACTIVE, DRAINING = "active", "draining"


class Partitions(StoreBase):
    def layouts(self) -> dict[str, dict]:
        """destination -> {"active": P or None, "draining": [P, ...]}."""
        out: dict[str, dict] = {}
        with self._read() as conn:
            for r in conn.execute(select(partition_layouts)):
                entry = out.setdefault(r.destination, {"active": None, "draining": []})
                if r.state == ACTIVE:
                    entry["active"] = r.partitions
                else:
                    entry["draining"].append(r.partitions)
        for entry in out.values():
            entry["draining"].sort()
        return out

    def init_layout(self, destination: str, partitions: int, actor: str, reason: str) -> int:
        """The destination's active P: the stored one, or `partitions` recorded now (first start)."""
        current = self.layouts().get(destination, {}).get("active")
        if current is not None:
            return current
        row = {"destination": destination, "partitions": int(partitions), "state": ACTIVE, "actor": actor,
               "reason": reason, "changed_at": utcnow()}
        with self._write() as conn:
            if conn.execute(select(partition_layouts.c.partitions).where(
                    partition_layouts.c.destination == destination,
                    partition_layouts.c.state == ACTIVE)).first() is None:
                upsert(conn, partition_layouts, row, ("destination", "partitions"))
        return self.layouts()[destination]["active"]

    def add_draining(self, destination: str, partitions: int, actor: str, reason: str) -> None:
        """An older layout found on the broker (the single queue of before partitions: 0)."""
        row = {"destination": destination, "partitions": int(partitions), "state": DRAINING, "actor": actor,
               "reason": reason, "changed_at": utcnow()}
        with self._write() as conn:
            upsert(conn, partition_layouts, row, ("destination", "partitions"))

    def change_layout(self, destination: str, partitions: int, actor: str, reason: str) -> int:
        """Make `partitions` the active layout; the former one drains. Returns the former P."""
        now = utcnow()
        with self._write() as conn:
            rows = {r.partitions: r.state for r in conn.execute(
                select(partition_layouts).where(partition_layouts.c.destination == destination))}
            former = next((p for p, st in rows.items() if st == ACTIVE), None)
            if former is None:
                raise ValueError(f"destination {destination!r} has no partition layout yet (start the hub once)")
            if former == partitions:
                raise ValueError(f"{destination} already has {partitions} partition(s)")
            draining = [p for p, st in rows.items() if st == DRAINING]
            if draining:
                raise ValueError(f"{destination}: the layout of {draining[0]} partition(s) is still draining; "
                                 "change again once it is gone (`tongban partitions show`)")
            conn.execute(update(partition_layouts).where(partition_layouts.c.destination == destination,
                                                         partition_layouts.c.partitions == former)
                         .values(state=DRAINING, changed_at=now))
            upsert(conn, partition_layouts, {"destination": destination, "partitions": int(partitions),
                                             "state": ACTIVE, "actor": actor, "reason": reason, "changed_at": now},
                   ("destination", "partitions"))
            write_audit(conn, [audit_row(actor, "partitions.set", destination, reason,
                                         {"from": former, "to": int(partitions)}, now)])
        return former

    def drained(self, destination: str, partitions: int) -> None:
        """Every queue of a draining layout is empty and deleted: the new layout may start."""
        with self._write() as conn:
            conn.execute(delete(partition_layouts).where(partition_layouts.c.destination == destination,
                                                         partition_layouts.c.partitions == partitions,
                                                         partition_layouts.c.state == DRAINING))

    # --- membership -----------------------------------------------------------------
    def beat(self, worker: str, started_at, holds: dict) -> None:
        with self._write() as conn:
            upsert(conn, hub_workers, {"worker": worker, "started_at": started_at, "seen_at": utcnow(),
                                       "holds": holds}, ("worker",))

    def live_workers(self, fresh_seconds: float) -> list[dict]:
        since = utcnow() - timedelta(seconds=fresh_seconds)
        with self._read() as conn:
            rows = conn.execute(select(hub_workers).where(hub_workers.c.seen_at >= since)
                                .order_by(hub_workers.c.started_at, hub_workers.c.worker))
            return [dict(r._mapping) for r in rows]

    def leave(self, worker: str) -> None:
        with self._write() as conn:
            conn.execute(delete(hub_workers).where(hub_workers.c.worker == worker))

    def forget_stale_workers(self, older_than_seconds: float) -> int:
        since = utcnow() - timedelta(seconds=older_than_seconds)
        with self._write() as conn:
            return conn.execute(delete(hub_workers).where(hub_workers.c.seen_at < since)).rowcount
