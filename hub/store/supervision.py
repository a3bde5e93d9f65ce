"""The monthly supervision report's (月度通报, hub/report/) facts and figures, in SQL.

Two kinds of figure:

* item figures count the catalogue's items (网上可办率, 进驻大厅): numerator the items that meet
  the figure, denominator the items counted;
* case figures count the month's cases (最多跑一次, 材料减少, 一窗受理), each case joined to its
  item for the category and level; a case whose item the catalogue does not list is not counted
  (it was dead-lettered on its way in).

Every query groups by (department, category, level) at the finest grain and returns numerator
and denominator, never a rate: the caller adds them up for any roll-up, so each published
rate can be recounted from the rows it came from. ``exclude_exception`` drops the items the
city government let stay out (本级政府批准), which the seed excludes from its 100 % targets.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, and_, case, cast, func, literal, select

from .schema import catalogue_items, supervision_cases
from .sql import StoreBase, chunks, upsert
from .types import utcnow

ONLINE_DEPTH = 3   # 网上可办: 网上预审 (3) or 全程网办 (4); hub/model/service_item.py
ITEM_FIGURES = ("online", "in_hall")
CASE_FIGURES = ("one_visit", "materials", "one_window")

_CASE_COLUMNS = tuple(c.name for c in supervision_cases.columns if c.name != "updated_at")

_i = catalogue_items.c
_s = supervision_cases.c


def _item_met(figure: str):
    if figure == "online":
        return _i.online_depth >= ONLINE_DEPTH
    if figure == "in_hall":
        return _i.in_hall == 1
    raise KeyError(f"no item figure {figure!r}")


def _case_terms(figure: str, start: datetime, end: datetime):
    """(where, numerator, denominator) of a case figure for [start, end)."""
    live = _s.status != "withdrawn"
    if figure == "one_visit":
        return (and_(live, _s.completed_at >= start, _s.completed_at < end),
                func.sum(case((_s.visits <= 1, 1), else_=0)), func.count())
    if figure == "materials":
        return (and_(live, _s.completed_at >= start, _s.completed_at < end),
                func.sum(_s.materials_reused), func.sum(_s.materials_required))
    if figure == "one_window":
        return (and_(live, _s.channel == "window", _s.accepted_at >= start, _s.accepted_at < end),
                func.sum(case((_s.one_window == 1, 1), else_=0)), func.count())
    raise KeyError(f"no case figure {figure!r}")


def _scope(query, level: str | None, exclude_exception: bool):
    if level:
        query = query.where(_i.level == level)
    if exclude_exception:
        query = query.where(func.coalesce(_i.approval_exception, 0) == 0)
    return query


def _rows(conn, query) -> list[dict]:
    return [{k: (int(v) if k in ("numerator", "denominator") else v) for k, v in r._mapping.items()}
            for r in conn.execute(query)]


class SupervisionStore(StoreBase):
    def record_case_facts(self, rows: list[dict]) -> int:
        """Upsert one row per case (hub/report/facts.py makes them from canonical cases)."""
        now = utcnow()
        with self._write() as conn:
            for part in chunks(rows, 1000):
                batch = [{**{k: r.get(k) for k in _CASE_COLUMNS}, "updated_at": now} for r in part]
                if conn.dialect.name in ("sqlite", "postgresql"):
                    upsert(conn, supervision_cases, batch, ("case_no",))
                else:
                    for row in batch:
                        upsert(conn, supervision_cases, row, ("case_no",))
        return len(rows)

    def merge_case_facts(self, case_nos: list[str], merge) -> int:
        """Read the rows of ``case_nos``, let ``merge(stored: case_no -> row)`` return the rows
        to write, and upsert them, in a savepoint of the caller's transaction (the source
        worker's page, hub/report/feed.py): a failure here takes back these rows only."""
        with self._write() as conn:
            with conn.begin_nested():
                stored: dict[str, dict] = {}
                for part in chunks(case_nos):
                    for r in conn.execute(select(supervision_cases).where(_s.case_no.in_(part))):
                        stored[r.case_no] = dict(r._mapping)
                rows = merge(stored)
                now = utcnow()
                batch = [{**{k: r.get(k) for k in _CASE_COLUMNS}, "updated_at": now} for r in rows]
                if conn.dialect.name in ("sqlite", "postgresql"):
                    for part in chunks(batch, 1000):
                        upsert(conn, supervision_cases, part, ("case_no",))
                else:
                    for row in batch:
                        upsert(conn, supervision_cases, row, ("case_no",))
        return len(rows)

    def catalogue_promised_days(self) -> dict[str, int | None]:
        """item code -> its promised days (承诺时限), for cases that do not say their own."""
        with self._read() as conn:
            return {r.catalogue_code: r.promised_days
                    for r in conn.execute(select(_i.catalogue_code, _i.promised_days))}

    def item_figure_counts(self, figure: str, *, level: str | None = None,
                           exclude_exception: bool = False) -> list[dict]:
        met = _item_met(figure)
        q = select(_i.department, _i.category, _i.level,
                   func.sum(case((met, 1), else_=0)).label("numerator"),
                   func.count().label("denominator")).group_by(_i.department, _i.category, _i.level)
        with self._read() as conn:
            return _rows(conn, _scope(q, level, exclude_exception))

    def item_figure_laggards(self, figure: str, *, level: str | None = None, exclude_exception: bool = False,
                             limit: int = 20) -> list[dict]:
        """The items that do not meet an item figure, by department and code."""
        met = _item_met(figure)
        q = select(_i.catalogue_code.label("item_code"), _i.name, _i.department, _i.category, _i.level,
                   literal(0).label("numerator"), literal(1).label("denominator")).where(~met | (met.is_(None)))
        q = _scope(q, level, exclude_exception).order_by(_i.department, _i.catalogue_code).limit(limit)
        with self._read() as conn:
            return _rows(conn, q)

    def case_figure_counts(self, figure: str, start: datetime, end: datetime, *, level: str | None = None,
                           exclude_exception: bool = False) -> list[dict]:
        where, num, den = _case_terms(figure, start, end)
        q = (select(_s.department, _i.category, _i.level, func.coalesce(num, 0).label("numerator"),
                    func.coalesce(den, 0).label("denominator"))
             .select_from(supervision_cases.join(catalogue_items, _i.catalogue_code == _s.item_code))
             .where(where).group_by(_s.department, _i.category, _i.level))
        with self._read() as conn:
            return _rows(conn, _scope(q, level, exclude_exception))

    def case_figure_laggards(self, figure: str, start: datetime, end: datetime, *, level: str | None = None,
                             exclude_exception: bool = False, limit: int = 10) -> list[dict]:
        """The items that pull a case figure down most: ordered by how many of their counted units
        (cases, or materials) missed it."""
        where, num, den = _case_terms(figure, start, end)
        n, d = func.coalesce(num, 0), func.coalesce(den, 0)
        q = (select(_s.item_code, _i.name, _s.department, _i.category, _i.level,
                    n.label("numerator"), d.label("denominator"))
             .select_from(supervision_cases.join(catalogue_items, _i.catalogue_code == _s.item_code))
             .where(where).group_by(_s.item_code, _i.name, _s.department, _i.category, _i.level))
        q = _scope(q, level, exclude_exception)
        q = q.having(d - n > 0).order_by((d - n).desc(), _s.item_code).limit(limit)
        with self._read() as conn:
            return _rows(conn, q)

    def overdue_counts(self, start: datetime, end: datetime, *, level: str | None = None) -> list[dict]:
        """Per department: cases due in [start, end) (numerator: those completed after their
        deadline, or not completed by the month's end), withdrawn cases not counted."""
        late = case((_s.completed_at.is_(None), _s.due_at < end), else_=_s.completed_at > _s.due_at)
        q = (select(_s.department, func.sum(cast(case((late, 1), else_=0), Integer)).label("numerator"),
                    func.count().label("denominator"))
             .select_from(supervision_cases.join(catalogue_items, _i.catalogue_code == _s.item_code))
             .where(_s.status != "withdrawn", _s.due_at >= start, _s.due_at < end)
             .group_by(_s.department))
        with self._read() as conn:
            return _rows(conn, _scope(q, level, False))

    def overdue_cases(self, start: datetime, end: datetime, *, level: str | None = None,
                      limit: int = 50) -> list[dict]:
        """The month's overdue cases, latest first: case number, item, department, deadline, completion."""
        late = case((_s.completed_at.is_(None), _s.due_at < end), else_=_s.completed_at > _s.due_at)
        q = (select(_s.case_no, _s.item_code, _i.name, _s.department, _s.accepted_at, _s.due_at, _s.completed_at,
                    _s.promised_days)
             .select_from(supervision_cases.join(catalogue_items, _i.catalogue_code == _s.item_code))
             .where(_s.status != "withdrawn", _s.due_at >= start, _s.due_at < end, late)
             .order_by(_s.due_at, _s.case_no).limit(limit))
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(_scope(q, level, False))]

    def supervision_times(self, limit: int = 100_000) -> list[datetime]:
        """The completion (else submission) times of up to ``limit`` cases: which months a small
        store (the demo's) holds cases of."""
        with self._read() as conn:
            q = select(func.coalesce(_s.completed_at, _s.submitted_at)).limit(limit)
            return [t for t in conn.scalars(q) if t is not None]

    def supervision_case_count(self) -> int:
        with self._read() as conn:
            return int(conn.scalar(select(func.count()).select_from(supervision_cases)) or 0)
