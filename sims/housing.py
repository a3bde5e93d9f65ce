"""The 住建 construction-project approval system (工程建设项目审批管理系统) as the hub meets
it: a 前置库 it writes SPGL rows into, in a REAL database (SQLite by default, or
TONGBAN_SIM_HOUSING_DB_URL: PostgreSQL, MariaDB), plus the HTTP admin API of every sim.

Northbound it inserts rows with SJSCZT=0 and never updates them (a correction is an
SJYXBS=0 copy with SJWXYY, then a new valid row: REFERENCE.md §1 [EP SpglQypgxxbAddAction]);
the reader writes SJSCZT/SBYY back. Southbound it polls TB_SQXXB (invented) in a
background thread, gives each application its 受理编号 and writes a receipt row into
TB_SQHZXXB (invented), which its source side exposes like any other table.

HousingNewSim (housing_new) is the cloud copy for the dual-track period: the same seed, so
the same cases, in a database of its own, with the drift of sims/drift.py (POST
/_admin/drift) applied to the rows it writes (sims/housing_drift.py says how each kind shows
in a database); a lag holds a load's rows back and inserts them, in order, once it passed."""
from __future__ import annotations

import json
import os
import random
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from . import housing_drift, housing_feed
from .base import HttpError, Request, Response, SimServer, json_response, load_request
from .housing_data import BAD_KINDS, HousingFactory
from .housing_inbox import Inbox
from .housing_schema import TABLES, make_engine, recreate

MAX_LOAD = 20_000
DEFAULT_FILE = Path(__file__).resolve().parents[1] / "var" / "sim_housing.db"


class HousingSim(SimServer):
    name = "housing"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None, db_url: str | None = None):
        self._tmp = None
        url = db_url or os.environ.get("TONGBAN_SIM_HOUSING_DB_URL", "").strip()
        if not url:
            if port == 0:   # tests and the demo: a file of this instance's own
                fd, self._tmp = tempfile.mkstemp(prefix="tongban-housing-", suffix=".db")
                os.close(fd)
                url = f"sqlite:///{self._tmp}"
            else:
                DEFAULT_FILE.parent.mkdir(exist_ok=True)
                url = f"sqlite:///{DEFAULT_FILE}"
        self.db_url = url
        self.engine = make_engine(url)
        self.inbox = Inbox(self)
        self._stop_lag = threading.Event()
        self._lag_thread: threading.Thread | None = None
        super().__init__(host, port, seed)

    def endpoints(self) -> dict:
        return {"db_url": self.db_url}

    def setup_routes(self) -> None:
        self.route("POST", "/_admin/load", self.admin_load)
        self.route("GET", "/_admin/events", self.admin_events)
        self.route("GET", "/_admin/applications", self.admin_applications)
        self.route("GET", "/_admin/cases", self.admin_cases)
        self.route("GET", "/_admin/rows", self.admin_rows)
        self.route("POST", "/_admin/correct", self.admin_correct)
        self.route("POST", "/_admin/faults", self.admin_faults)   # the base's faults plus the inbox's
        self.route("POST", "/_admin/drift", self.admin_drift)

    def reset_state(self) -> None:
        recreate(self.engine)
        self.factory = HousingFactory(random.Random(self.seed))
        self.rows: dict[str, list[dict]] = {name: [] for name in TABLES}  # what was written, in LSH order
        self.cases: list[dict] = []
        self.inbox.reset()
        self.drift: dict = {}
        self.wide: dict[str, sa.Table] = {}   # tables a rename_field drift added columns to
        self.held: list[tuple[float, list]] = []   # (due, rows): a lagging system's loads not inserted yet

    def start(self) -> "HousingSim":
        super().start()
        self.inbox.start()
        self._stop_lag.clear()
        self._lag_thread = threading.Thread(target=self._lagging, name=f"sim-{self.name}-lag", daemon=True)
        self._lag_thread.start()
        return self

    def stop(self) -> None:
        self._stop_lag.set()
        if self._lag_thread is not None:
            self._lag_thread.join(timeout=10)
            self._lag_thread = None
        self.inbox.stop()
        super().stop()
        self.engine.dispose()
        if self._tmp:
            for suffix in ("", "-wal", "-shm"):
                Path(self._tmp + suffix).unlink(missing_ok=True)

    # --- writing ---------------------------------------------------------------------
    @contextmanager
    def transaction(self):
        """One database transaction; the rows it inserted join the feed only once it committed.
        Callers hold self.lock."""
        self._pending: list[tuple[str, dict]] = []
        try:
            with self.engine.begin() as conn:
                yield conn
        finally:
            done, self._pending = self._pending, []
        for table, row in done:
            self.rows[table].append(row)

    def insert(self, conn: sa.Connection, table: str, values: dict) -> dict:
        """One INSERT inside transaction(); returns the row as written, with its LSH."""
        target = self.wide.get(table, TABLES[table])
        lsh = conn.execute(sa.insert(target).values(**values)).inserted_primary_key[0]
        row = {**values, "LSH": int(lsh)}
        self._pending.append((table, row))
        return row

    def load(self, cases: int, bad: int = 0) -> dict:
        """`cases` good cases and `bad` broken ones (alternately an invalid 建设单位 credit code
        and a project whose NKGSJ is not before NJCSJ), rows written in business-time order."""
        with self.lock:
            made = [self.factory.case() for _ in range(cases)]
            made += [self.factory.case(bad=BAD_KINDS[i % len(BAD_KINDS)]) for i in range(bad)]
            rows = sorted((row for c in made for row in c.rows), key=lambda r: r.at)  # stable: case order kept
            if self.drift:
                drift = housing_drift.prepare(self.drift)
                self._widen(drift)
                rows = housing_drift.apply(rows, drift)
            lag = float(self.drift.get("lag_seconds") or 0)
            if lag > 0 or self.held:   # behind earlier held rows even once the lag is off: order is kept
                self.held.append((time.monotonic() + lag, rows))
                try:
                    self._release()
                except sa.exc.SQLAlchemyError:
                    pass   # the lag thread tries again
            else:
                self._write(rows)
            for c in made:
                self.cases.append({"SPSXSLBM": c.case_no, "SPSXBM": c.item_code, "BLZT": list(c.flow), "bad": c.bad})
        return {"created": cases, "cases": [c.case_no for c in made[:cases]],
                "bad": [c.case_no for c in made[cases:]], "bad_kinds": {c.case_no: c.bad for c in made[cases:]}}

    def _write(self, rows: list) -> None:
        with self.transaction() as conn:
            for row in rows:
                self.insert(conn, row.table, row.values)

    def _release(self) -> None:
        """Insert the held loads whose lag has passed, oldest first. Caller holds self.lock;
        a load stays held until its transaction committed."""
        now = time.monotonic()
        while self.held and self.held[0][0] <= now:
            self._write(self.held[0][1])
            self.held.pop(0)

    def _lagging(self) -> None:
        while not self._stop_lag.wait(0.05):
            if not self.held:
                continue
            with self.lock:
                try:
                    self._release()
                except sa.exc.SQLAlchemyError:
                    continue   # the database blinked: the rows stay held, in order

    def _widen(self, drift: dict) -> None:
        """The columns a rename_field drift names, added to the new system's tables (ALTER TABLE,
        as a migration would), and the tables as inserts see them. Caller holds self.lock."""
        for table, columns in housing_drift.added_columns(drift).items():
            wide = self.wide.get(table)
            missing = [c for c in columns if wide is None or c.name not in wide.c]
            if not missing:
                continue
            with self.engine.begin() as conn:
                present = {c["name"].upper() for c in sa.inspect(conn).get_columns(table)}
                quoted = conn.dialect.identifier_preparer.format_table(TABLES[table])
                for column in missing:
                    if column.name.upper() not in present:
                        spec = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
                        conn.exec_driver_sql(f"ALTER TABLE {quoted} ADD {spec}")
            wide = wide if wide is not None else TABLES[table].to_metadata(sa.MetaData())
            for column in missing:
                wide.append_column(column)
            self.wide[table] = wide

    def set_drift(self, body) -> dict:
        """POST /_admin/drift: checked as a whole (400 says what is wrong), then kept for the
        next loads."""
        try:
            drift = dict(body) if isinstance(body, dict) else (body or {})
            prepared = housing_drift.prepare(drift)
        except ValueError as exc:
            raise HttpError(400, str(exc)) from None
        with self.lock:
            for table, columns in housing_drift.added_columns(prepared).items():
                wide = self.wide.get(table)
                for column in columns:
                    if wide is not None and column.name in wide.c and wide.c[column.name].comment != column.comment:
                        raise HttpError(400, f"rename_field: {column.name} was added for another column "
                                             f"({wide.c[column.name].comment}); reset first")
            self.drift = drift
        return {"drift": drift}

    def correct(self, table: str, dfsjzj: str, changes: dict, reason: str) -> dict:
        """The correction pattern: a copy of the latest valid row with SJYXBS=0 and SJWXYY, then a
        new valid row with the changes. Nothing is updated in place."""
        if table not in TABLES or table.startswith("TB_"):
            raise HttpError(400, f"unknown SPGL table {table!r}", field="table")
        cols = TABLES[table].c
        unknown = [k for k in changes if k not in cols or k in housing_feed.STATE | {"LSH", "DFSJZJ"}]
        if unknown:
            raise HttpError(400, f"cannot change {unknown}", field="set")
        with self.lock:
            current = next((r for r in reversed(self.rows[table])
                            if r["DFSJZJ"] == dfsjzj and r.get("SJYXBS") == 1), None)
            if current is None:
                raise HttpError(404, f"no valid row {dfsjzj} in {table}")
            base = {k: v for k, v in current.items() if k not in ("LSH", "SJSCZT", "SBYY", "SCSJ")}
            now = self.factory.working(self.factory.clock)
            with self.transaction() as conn:
                copy = self.insert(conn, table, {**base, "SJYXBS": 0, "SJWXYY": reason, "SJSCZT": 0, "GXSJ": now})
                new = self.insert(conn, table, {**base, **_typed(cols, changes), "SJYXBS": 1, "SJWXYY": None,
                                                "SJSCZT": 0, "GXSJ": now})
        return {"invalidated": copy["LSH"], "valid": new["LSH"]}

    # --- routes ----------------------------------------------------------------------
    def admin_load(self, req: Request) -> Response:
        body, cases, bad = load_request(req, MAX_LOAD)
        return json_response(self.load(cases, bad))

    def admin_events(self, req: Request) -> Response:
        with self.lock:
            items = housing_feed.records(self.rows)
        return json_response({"count": len(items), "items": items})

    def admin_cases(self, req: Request) -> Response:
        with self.lock:
            items = list(self.cases)
        return json_response({"count": len(items), "items": items})

    def admin_rows(self, req: Request) -> Response:
        """Rows as the database holds them now, exchange state included (what the hub wrote back)."""
        table = req.query.get("table", "")
        if table not in TABLES:
            raise HttpError(400, f"table must be one of {sorted(TABLES)}", field="table")
        with self.lock:
            target = self.wide.get(table, TABLES[table])
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(target).order_by(target.c.LSH)).mappings().all()
        # A column a rename added holds what the one it replaces held: no Decimal among them.
        items = [{k: housing_feed.plain(table, k, v) for k, v in r.items()} for r in rows]
        return json_response({"count": len(items), "items": items})

    def admin_drift(self, req: Request) -> Response:
        return json_response(self.set_drift(req.json()))

    def admin_applications(self, req: Request) -> Response:
        """Applications received (TB_SQXXB rows), each with the platform's number as application_no."""
        req.query["table"] = "TB_SQXXB"
        body = json.loads(self.admin_rows(req).body)
        items = [{"application_no": row["SQBH"], **row} for row in body["items"]]
        return json_response({"count": len(items), "items": items})

    def admin_correct(self, req: Request) -> Response:
        body = req.json() or {}
        if not isinstance(body, dict) or not isinstance(body.get("set"), dict):
            raise HttpError(400, 'body must be {"table", "dfsjzj", "set": {...}, "reason"}')
        return json_response(self.correct(str(body.get("table")), str(body.get("dfsjzj")), body["set"],
                                          str(body.get("reason") or "数据填报有误")))

    def admin_faults(self, req: Request) -> Response:
        body = req.json() or {}
        if not isinstance(body, dict):
            raise HttpError(400, "faults must be a JSON object")
        own = {k: body.pop(k) for k in list(body) if k in Inbox.FAULTS}
        inbox = self.inbox.set_faults(own)
        return json_response({**self.faults.update(body), **inbox})


def _typed(cols, changes: dict) -> dict:
    """JSON values for DATE / DATETIME / NUMERIC columns turned into what the column holds."""
    from datetime import date, datetime
    from decimal import Decimal
    out = {}
    for key, value in changes.items():
        kind = cols[key].type
        if value is not None and isinstance(kind, sa.DateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(kind, sa.Date):
            value = date.fromisoformat(value)
        elif value is not None and isinstance(kind, sa.Numeric):
            value = Decimal(str(value))
        out[key] = value
    return out


NEW_FILE = DEFAULT_FILE.with_name("sim_housing_new.db")


class HousingNewSim(HousingSim):
    """The cloud copy of the 前置库 for the dual-track period: the same seed, so the same cases,
    in a database of its own (never the old one's, whatever TONGBAN_SIM_HOUSING_DB_URL says),
    with the drift set by POST /_admin/drift (sims/housing_drift.py)."""
    name = "housing_new"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None, db_url: str | None = None):
        tmp = None
        if db_url is None:
            if port == 0:
                fd, tmp = tempfile.mkstemp(prefix="tongban-housing-new-", suffix=".db")
                os.close(fd)
                db_url = f"sqlite:///{tmp}"
            else:
                NEW_FILE.parent.mkdir(exist_ok=True)
                db_url = os.environ.get("TONGBAN_SIM_HOUSING_NEW_DB_URL", "").strip() or f"sqlite:///{NEW_FILE}"
        super().__init__(host, port, seed, db_url=db_url)
        self._tmp = tmp
