"""Read-only queries for the web console's pages (hub/console/): figures grouped the way
the overview shows them, one case across every table, dead letters filtered and paged.

Each is written to use an index (bench/console_pages.py measures them on a large store):
counts group by an index's leading column, time windows range over the time indexes, and a
case is looked up per destination so the (destination, case_no) index serves it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select

from .dead_letters import PRE_CANONICAL
from .schema import (checkpoints, content_versions, dead_letters, deliveries, delivery_holds, dualtrack_comparisons,
                     message_log, parked_messages)
from .sql import StoreBase
from .types import utcnow


class ConsoleQueries(StoreBase):
    def published_by_department(self) -> dict[str, dict[str, int]]:
        """department -> kind -> messages logged (published onward)."""
        c = message_log.c
        q = select(c.department, c.kind, func.count()).group_by(c.department, c.kind)
        out: dict[str, dict[str, int]] = {}
        with self._read() as conn:
            for dept, kind, n in conn.execute(q):
                out.setdefault(dept or "-", {})[kind] = n
        return out

    def dead_letters_by(self, status: str = "dead") -> list[dict]:
        """Counts of dead letters in ``status`` by stage, department and destination."""
        c = dead_letters.c
        q = (select(c.stage, c.department, c.destination, func.count().label("n"))
             .where(c.status == status).group_by(c.stage, c.department, c.destination))
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def checkpoints_all(self) -> list[dict]:
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(select(checkpoints).order_by(checkpoints.c.source))]

    def rate_buckets(self, minutes: int = 15, now: datetime | None = None) -> dict:
        """Messages published and deliveries made per minute over the last ``minutes``:
        one range scan per table over its time index, bucketed in SQL."""
        now = now or utcnow()
        end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        starts = [end - timedelta(minutes=minutes - i) for i in range(minutes)]
        out = {"starts": starts}
        with self._read() as conn:
            for name, col in (("published", message_log.c.logged_at), ("delivered", deliveries.c.delivered_at)):
                cols = [func.sum(case((and_(col >= s, col < s + timedelta(minutes=1)), 1), else_=0))
                        for s in starts]
                row = conn.execute(select(*cols).where(col >= starts[0], col < end)).first()
                out[name] = [int(v or 0) for v in row]
        return out

    # --- one case across the store (办件追踪) -------------------------------------------
    def case_trace(self, case_no: str, sources: list[str], destinations: list[str]) -> dict:
        """Every row the store holds of one case: records read (per source), messages
        logged, deliveries, holds, parked messages, dead letters and dual-track verdicts.
        ``sources`` and ``destinations`` name where to look, so each table's
        (source|destination, case_no) index serves the lookup."""
        out: dict[str, list[dict]] = {}
        with self._read() as conn:
            def rows(q):
                return [dict(r._mapping) for r in conn.execute(q)]
            cv = content_versions.c
            out["records"] = rows(select(cv.source, cv.record_key, cv.kind, cv.sequence, cv.message_id, cv.seen_at)
                                  .where(cv.source.in_(sources or ["-"]), cv.case_no == case_no)) if sources else []
            ml = message_log.c
            out["messages"] = rows(select(message_log).where(ml.case_no == case_no))
            dv = deliveries.c
            out["deliveries"] = rows(select(deliveries).where(dv.destination.in_(destinations or ["-"]),
                                                              dv.case_no == case_no))
            hd = delivery_holds.c
            out["holds"] = rows(select(delivery_holds).where(hd.destination.in_(destinations or ["-"]),
                                                             hd.case_no == case_no))
            pk = parked_messages.c
            out["parked"] = rows(select(pk.destination, pk.message_id, pk.position, pk.routing_key, pk.parked_at)
                                 .where(pk.destination.in_(destinations or ["-"]), pk.case_no == case_no))
            dl = dead_letters.c
            out["dead_letters"] = rows(select(dl.id, dl.message_id, dl.stage, dl.reason, dl.department,
                                              dl.destination, dl.attempts, dl.first_failed_at, dl.last_failed_at,
                                              dl.status, dl.updated_at).where(dl.case_no == case_no))
            dc = dualtrack_comparisons.c
            out["comparisons"] = rows(select(dc.department, dc.kind, dc.sequence, dc.verdict, dc.track, dc.fields,
                                             dc.lag_seconds, dc.compared_at).where(dc.case_no == case_no))
        return out

    # --- dead letters, filtered and paged (死信) ------------------------------------------
    def find_dead_letters(self, *, stage=None, department=None, destination=None, reason=None, since=None,
                          until=None, status="dead", offset=0, limit=50) -> tuple[int, list[dict]]:
        """(how many match, one page of them newest first) without the payloads: a list
        page must not drag 10,000 payloads out of the database."""
        c = dead_letters.c
        where = _dead_letter_filter(stage, department, destination, status, reason, since, until)
        cols = [c.id, c.message_id, c.stage, c.reason, c.department, c.destination, c.record_key, c.case_no,
                c.attempts, c.last_failed_at, c.status]
        with self._read() as conn:
            total = conn.scalar(select(func.count()).select_from(dead_letters).where(*where))
            page = conn.execute(select(*cols).where(*where).order_by(c.last_failed_at.desc(), c.id.desc())
                                .offset(offset).limit(limit))
            return total or 0, [dict(r._mapping) for r in page]

    def dead_letter_ids(self, *, stage=None, department=None, destination=None, reason=None, since=None,
                        until=None, limit=100000) -> list[str]:
        """The ids a filter selects, oldest first (the order a replay should follow)."""
        c = dead_letters.c
        where = _dead_letter_filter(stage, department, destination, "dead", reason, since, until)
        with self._read() as conn:
            return list(conn.scalars(select(c.id).where(*where).order_by(c.last_failed_at, c.id).limit(limit)))


__all__ = ["ConsoleQueries", "PRE_CANONICAL"]


def _dead_letter_filter(stage, department, destination, status, reason, since, until) -> list:
    """The console's dead-letter filter as WHERE clauses: the list and a replay-by-filter
    must select the same letters."""
    c = dead_letters.c
    where = [col == v for col, v in ((c.stage, stage), (c.department, department),
                                     (c.destination, destination), (c.status, status)) if v]
    if reason:
        where.append(c.reason.contains(reason, autoescape=True))
    if since is not None:
        where.append(c.last_failed_at >= since)
    if until is not None:
        where.append(c.last_failed_at < until)
    return where
