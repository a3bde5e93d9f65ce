"""The department's side of the southbound exchange: a background thread that polls
TB_SQXXB (invented) for applications the hub inserted (SJSCZT=0), takes each up, gives
it a 受理编号 (SPSXSLBM, the department's own case number) and writes a receipt row into
TB_SQHZXXB (invented), which the hub's source reads like any SPGL table. The application
row gets SJSCZT=3 (or 2 with SBYY when the item is not the department's), the same
write-back the SPGL tables get from their reader.

Faults of its own: `inbox_paused` (the department's job is stopped: applications pile
up, no receipts) and `receipt_delay_ms` (a slow job)."""
from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from .base import HttpError
from .catalogue_data import codes_for
from .housing_schema import SBYY_LENGTH, applications

SHANGHAI = ZoneInfo("Asia/Shanghai")
CITY = "330100"
DEPARTMENT = "杭州市住房和城乡建设局"


class Inbox:
    FAULTS = ("inbox_paused", "receipt_delay_ms")

    def __init__(self, sim, interval: float = 0.1):
        self.sim = sim
        self.interval = interval
        self.items = {code for code, _ in codes_for("housing")}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.paused = False
        self.delay_ms = 0

    def reset(self) -> None:
        self.paused, self.delay_ms = False, 0

    def set_faults(self, settings: dict) -> dict:
        if "inbox_paused" in settings:
            if not isinstance(settings["inbox_paused"], bool):
                raise HttpError(400, "inbox_paused must be true or false", field="inbox_paused")
            self.paused = settings["inbox_paused"]
        if "receipt_delay_ms" in settings:
            value = settings["receipt_delay_ms"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise HttpError(400, "receipt_delay_ms must be a non-negative number", field="receipt_delay_ms")
            self.delay_ms = value
        return {"inbox_paused": self.paused, "receipt_delay_ms": self.delay_ms}

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-housing-inbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.paused:
                continue
            try:
                self.process()
            except sa.exc.SQLAlchemyError:
                continue   # the database blinked (or a reset dropped the tables): try again next round

    def process(self) -> int:
        """Take up every waiting application; returns how many."""
        t = applications
        with self.sim.lock:
            with self.sim.engine.connect() as conn:
                waiting = conn.execute(sa.select(t.c.LSH, t.c.SQBH, t.c.SPSXBM)
                                       .where(t.c.SJSCZT == 0).order_by(t.c.LSH)).all()
            for lsh, sqbh, item in waiting:
                if self.delay_ms:
                    self._stop.wait(self.delay_ms / 1000)
                self._take_up(lsh, sqbh, item)
        return len(waiting)

    def _take_up(self, lsh: int, sqbh: str, item: str) -> None:
        t, sim = applications, self.sim
        now = datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
        with sim.transaction() as conn:
            if item not in self.items:
                reason = f"SPSXBM {item} 不是本部门审批事项，不予接收"[:SBYY_LENGTH]
                conn.execute(sa.update(t).where(t.c.LSH == lsh).values(SJSCZT=2, SBYY=reason, SCSJ=now))
                return
            sim.factory.serial += 1
            number = f"SPSX-{CITY}-{now:%Y%m%d}-{sim.factory.serial:05d}"
            sim.insert(conn, "TB_SQHZXXB", {
                "DFSJZJ": sim.factory.key(), "XZQHDM": CITY, "SJYXBS": 1, "SJSCZT": 0, "GXSJ": now,
                "SQBH": sqbh, "SPSXSLBM": number, "SPSXBM": item, "SPBMMC": DEPARTMENT,
                "SLR": sim.factory.person(), "SLSJ": now, "SLYJ": "网上申请材料齐全，予以受理"})
            conn.execute(sa.update(t).where(t.c.LSH == lsh).values(SJSCZT=3, SPSXSLBM=number, SLSJ=now, SCSJ=now))
