"""The provincial item catalogue as last synchronised (`tongban catalog sync`)."""

from __future__ import annotations

from sqlalchemy import select

from .schema import catalogue_items
from .sql import StoreBase, upsert
from .types import utcnow

_COLUMNS = ("catalogue_code", "implementation_code", "name", "category", "level", "department", "online_depth",
            "promised_days", "statutory_days", "required_visits", "one_window")


class Catalogue(StoreBase):
    def save_catalogue(self, items: list[dict]) -> int:
        """Upsert service items (canonical ServiceItem dicts); returns how many were written."""
        now = utcnow()
        with self._write() as conn:
            for item in items:
                row = {k: item[k] for k in _COLUMNS}
                row["one_window"] = int(bool(row["one_window"]))
                row["synced_at"] = now
                # the monthly report's columns (migration 0010): absent from older items
                row["in_hall"] = None if item.get("in_hall") is None else int(bool(item["in_hall"]))
                row["approval_exception"] = int(bool(item.get("approval_exception", False)))
                row["materials"] = list(item.get("materials") or [])
                upsert(conn, catalogue_items, row, ("catalogue_code",))
        return len(items)

    def catalogue_codes(self) -> set[str]:
        with self._read() as conn:
            return set(conn.scalars(select(catalogue_items.c.catalogue_code)))

    def catalogue_item(self, code: str) -> dict | None:
        with self._read() as conn:
            row = conn.execute(select(catalogue_items).where(catalogue_items.c.catalogue_code == code)).first()
        if row is None:
            return None
        out = dict(row._mapping)
        out["one_window"] = bool(out["one_window"])
        return out
