"""住建 工程建设项目审批管理系统: the construction-project approval system, reached through
its 前置库 (front exchange database) in the SPGL style (REFERENCE.md §1).

The model adapter for database-style systems: the source polls tables with SQLAlchemy
and writes the upload state back on each row; the sink inserts into an inbound table.
Any database SQLAlchemy reaches will do (SQLite, PostgreSQL, MariaDB/MySQL, Oracle)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from hub.adapter import Adapter, CheckResult, ConfigSpec, Field

from .sink import SpglSink
from .source import SpglSource
from .tables import FEEDS, TABLES


def make_engine(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not path.startswith("file:"):
            if not Path(path).is_absolute():
                from hub.config import ROOT   # relative to the project, like the hub's own store
                path = str(Path(ROOT) / path)
            # mode=rw: the 前置库 is the department's; a wrong path must fail, not create an empty file.
            parsed = parsed.set(database=f"file:{path}").update_query_dict({"mode": "rw", "uri": "true"})
        # The department's system writes the same file: wait for its lock instead of failing.
        engine = sa.create_engine(parsed, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _lenient_text)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, pool_size=2, max_overflow=2)


def _lenient_text(dbapi_conn, _record) -> None:
    # SQLite stores whatever bytes a system writes as TEXT, and sqlite3 fails the whole SELECT on
    # one that is not UTF-8 (GB18030 text): kept as lone surrogates instead, so that
    # records.precheck refuses that row alone and the rows behind it flow.
    dbapi_conn.text_factory = _decode


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class HousingAdapter(Adapter):
    name = "housing"
    department = "housing"
    department_label = ("住房和城乡建设局", "housing and construction")
    system = "housing-spgl"
    style = "db"
    has_sink = True
    spec = ConfigSpec(fields=(
        Field("db_url", "SQLAlchemy URL of the 前置库 (the SPGL exchange database)", required=True, secret=True,
              example="postgresql+psycopg://spgl:secret@10.0.0.5:5432/pre_xmjg_330100"),
        Field("page_size", "rows read per poll, over all tables", type=int, default=200, example=200),
        Field("poll_interval", "seconds between polls when nothing is pending", type=float, default=1.0),
        Field("sbyy_length", "size of the SBYY column: failure reasons are cut to fit", type=int, default=500),
        Field("region", "XZQHDM written on applications sent down (6 digits)", default="330100",
              example="330100"),
    ))

    def source(self) -> SpglSource:
        return SpglSource(make_engine(self.config["db_url"]), self.config["sbyy_length"])

    def sink(self) -> SpglSink:
        return SpglSink(make_engine(self.config["db_url"]), self.config["region"])

    @classmethod
    def simulator(cls):
        from sims.harness import BuiltinSimulator   # the simulators are not needed to run the hub
        return BuiltinSimulator("housing")

    def check(self) -> CheckResult:
        """Connects and counts the rows waiting (SJSCZT=0) in each table the source reads."""
        engine = make_engine(self.config["db_url"])
        url = sa.make_url(self.config["db_url"]).render_as_string(hide_password=True)
        try:
            with engine.connect() as conn:
                pending = {}
                for feed in FEEDS:
                    t = TABLES[feed.name]
                    pending[feed.name] = conn.execute(
                        sa.select(sa.func.count()).select_from(t).where(t.c.SJSCZT == 0)).scalar_one()
                inbound = TABLES["TB_SQXXB"]
                conn.execute(sa.select(inbound.c.LSH).limit(1)).all()
        except sa.exc.SQLAlchemyError as exc:
            return CheckResult(False, f"cannot read the 前置库 at {url}: {exc.__class__.__name__}: "
                                      f"{str(exc).splitlines()[0]}")
        finally:
            engine.dispose()
        return CheckResult(True, f"前置库 at {url} answers; {sum(pending.values())} row(s) waiting",
                           {"pending": pending})
