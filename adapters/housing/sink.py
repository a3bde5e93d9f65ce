"""Southbound: an application from the unified platform becomes one INSERT into the
前置库's inbound table TB_SQXXB (invented; SPGL-style columns), SJSCZT=0, for the
department's own job to take up. Its receipt comes back through the source (TB_SQHZXXB).

The platform's application number (SQBH) is unique in that table, so a repeat is
refused by the database itself and reported as "duplicate": the effect happened once.
Codes written: SQRLX 1 个人 / 2 企业 (as Guangdong's EX_GDBS SQRLX, REFERENCE.md §5);
SQFS 1 窗口 / 4 网上 (as aplanmis SLFS, §1 ~), 5 移动端 / 6 自助终端 invented; SQRZJLX A05300
for a credit code (§2), A01100 / A09900 as the commerce sink uses them (unconfirmed)."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hub.adapter import ACCEPTED, DUPLICATE, DeliveryError, Sink

from .tables import TABLES

SHANGHAI = ZoneInfo("Asia/Shanghai")
APPLICANT_KIND = {"person": 1, "organisation": 2}
# A05300 统一社会信用代码 as Shandong's lerepCerttype (REFERENCE.md §2); the others as the commerce sink writes them.
ID_TYPE = {"uscc": "A05300", "resident_id": "A01100"}
CHANNEL = {"window": 1, "online": 4, "mobile": 5, "self_service": 6}


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


def row_of(envelope: dict, region: str) -> dict:
    """The TB_SQXXB row for one canonical application envelope; KeyError/ValueError if it is not one."""
    app = envelope["payload"]
    if app.get("kind") != "application":
        raise ValueError(f"payload kind is {app.get('kind')!r}, not application")
    who = app["applicant"]
    return {
        "DFSJZJ": str(envelope["message_id"]), "XZQHDM": region, "SJYXBS": 1, "SJSCZT": 0,
        "GXSJ": datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0),
        "SQBH": app["application_no"], "SPSXBM": app["item_code"],
        "SQRLX": APPLICANT_KIND.get(who["kind"], 3), "SQRMC": who["name"],
        "SQRZJLX": ID_TYPE.get(who["id_type"], "A09900"), "SQRZJHM": who["id_number"], "LXDH": who.get("phone"),
        "SQFS": CHANNEL.get(app.get("channel") or "online", 4), "SQSJ": _local(app["submitted_at"]),
        "SQNR": json.dumps(app.get("form") or {}, ensure_ascii=False),
        "CLQD": json.dumps(app.get("materials") or [], ensure_ascii=False),
    }


class SpglSink(Sink):
    name = "housing"

    def __init__(self, engine: sa.Engine, region: str = "330100"):
        self.engine = engine
        self.region = region

    def send(self, body: bytes, meta) -> str:
        try:
            row = row_of(json.loads(body), self.region)
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(f"not a canonical application envelope: {exc.__class__.__name__}: {exc}", False) from None
        t = TABLES["TB_SQXXB"]
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(t).values(**row))
            return ACCEPTED
        except sa.exc.IntegrityError:
            # The unique SQBH, or another constraint? Ask, rather than parse each database's message.
            if self._has(row["SQBH"]):
                return DUPLICATE
            raise DeliveryError(f"前置库 refused application {row['SQBH']}: constraint violated", False) from None
        except sa.exc.DataError as exc:  # a value the column cannot hold: sending again will not help
            raise DeliveryError(f"前置库 refused application {row['SQBH']}: {exc.__class__.__name__}: "
                                f"{str(exc.orig).splitlines()[0] if exc.orig else exc}", False) from None
        except sa.exc.SQLAlchemyError as exc:
            # Down, locked, or the table not there yet (ProgrammingError on some databases): try later.
            raise DeliveryError(f"前置库 unavailable: {exc.__class__.__name__}", True) from None

    def _has(self, sqbh: str) -> bool:
        t = TABLES["TB_SQXXB"]
        try:
            with self.engine.connect() as conn:
                return conn.execute(sa.select(t.c.LSH).where(t.c.SQBH == sqbh)).first() is not None
        except sa.exc.SQLAlchemyError as exc:
            raise DeliveryError(f"前置库 unavailable: {exc.__class__.__name__}", True) from None

    def close(self) -> None:
        self.engine.dispose()
