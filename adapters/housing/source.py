"""Reads the 住建 前置库 the way the provincial exchange does (REFERENCE.md §1): rows with
SJSCZT=0, in LSH order, parents before children, and writes the outcome back on each
row: SJSCZT=3 when it went on, SJSCZT=2 with SBYY (the reason, masked, cut to the
column) when it was dead-lettered.

The queue is SJSCZT=0 itself, not the cursor: a row whose write-back was lost (a crash
after the broker confirmed, before acknowledge) is simply read again, and its
deterministic message id makes the repeat harmless downstream. The cursor keeps the
highest LSH handed on per table, for status and checkpoints.

Rows of the context tables (project, unit, 事项办理) carry nothing the platform takes on
their own: they are checked as the exchange checks them and settled (SJSCZT=3) as they
are read, in the same transaction that then reads their children; a row that fails a
check is handed on with its error, dead-lettered, and written back SJSCZT=2, and its
children wait. So is a row of any table holding what the 前置库 kept but cannot be read as
its column (text that is not UTF-8, a date or number that is not one: records.precheck),
rather than failing the page for every row behind it. An SJYXBS=0 row is a correction
copy (the row it invalidates is followed by a new valid row): it makes no record either;
it is settled as it is read."""
from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hub.adapter import Page, RawRecord, Source, SourceUnavailable
from hub.model.masking import mask_text

from .records import JSDW, SPSX, XM, add_context, business, joined_not_utf8, precheck
from .tables import COLUMNS, FEEDS, TABLES, readable

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Canonical fields a mapping or the model may refuse -> the 前置库 columns they come from,
# so that SBYY names the column the department has to correct.
COLUMN_OF = {
    **{c: c for columns in COLUMNS.values() for c in columns},
    **{f"{part}.{c}": c for part, columns in (("SPSX", SPSX), ("XM", XM), ("JSDW", JSDW)) for c in columns},
    "applicant.id_number": "DWTYSHXYDM", "holder.id_number": "DWTYSHXYDM", "JSDW.DWTYSHXYDM": "DWTYSHXYDM",
    "applicant.name": "DWMC", "holder.name": "DWMC", "JSDW.DWMC": "DWMC",
    "occurred_at": "BLSJ", "BLSJ": "BLSJ", "type": "BLZT", "BLZT": "BLZT", "sequence": "BLXH",
    "case_no": "SPSXSLBM", "SPSXSLBM": "SPSXSLBM", "item_code": "SPSXBM", "SPSX.SPSXBM": "SPSXBM",
    "number": "PFWH", "PFWH": "PFWH", "issued_at": "PFRQ", "valid_from": "PFRQ", "PFRQ": "PFRQ",
    "valid_to": "PFWJYXQX", "PFWJYXQX": "PFWJYXQX", "issuer": "SPBMMC", "SPSX.SPBMMC": "SPBMMC",
    "payload.item_code": "SPSXBM", "BLXH": "BLXH", "SLSJ": "SLSJ", "SQBH": "SQBH",
    **{c: c for c in ("NKGSJ", "NJCSJ", "XZQHDM", "DWTYSHXYDM")},
}
# A field is named in a reason as "<field>: " right after the record ("...: ") or another problem ("; ").
# A material's field (SPSX.CLQD.2.CLMC) is named by its column, CLQD.
_NAMED = re.compile(r"(?:^|: |; )(" + "|".join(sorted(map(re.escape, COLUMN_OF), key=len, reverse=True))
                    + r")(?:\.\d+\.\w+)?: ")


def now() -> datetime:
    return datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def sbyy(reason: str, size: int) -> str:
    """The failure reason as the department reads it: the columns first, personal data masked,
    cut to the column's size."""
    cols = sorted({COLUMN_OF[m] for m in _NAMED.findall(reason)})
    text = mask_text(f"[{','.join(cols)}] {reason}" if cols else reason)
    return text if len(text) <= size else text[: size - 1] + "…"


def split_key(key: str) -> tuple[str, int]:
    table, _, lsh = key.rpartition(":")
    return table, int(lsh)


def record(data: dict, error: str | None) -> RawRecord:
    raw = json.dumps(data, ensure_ascii=False)
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        # Text that was not UTF-8 in the 前置库 (a refused row: records.not_utf8) is kept escaped,
        # so that its dead letter stores what was read; only plain text stays in the data, which
        # gives the case number for an AMQP header.
        raw = json.dumps(data)
        data = {k: v for k, v in data.items() if not isinstance(v, str) or v.isprintable()}
    return RawRecord(key=f"{data['TABLE']}:{data['LSH']}", data=data, raw=raw, error=error)


class SpglSource(Source):
    def __init__(self, engine: sa.Engine, sbyy_size: int = 500):
        self.engine = engine
        self.sbyy_size = sbyy_size

    def _pending(self, feed, limit: int) -> sa.Select:
        t = TABLES[feed.name]
        q = sa.select(*readable(t)).where(t.c.SJSCZT == 0)
        if feed.parent:
            p = TABLES[feed.parent]
            q = q.where(sa.exists().where(p.c[feed.link] == t.c[feed.link], p.c.SJYXBS == 1, p.c.SJSCZT == 3))
        return q.order_by(t.c.LSH).limit(limit)

    def fetch(self, cursor: dict | None, limit: int) -> Page:
        marks = dict((cursor or {}).get("lsh") or {})
        datas: list[tuple[dict, str | None]] = []
        read = settled = 0
        try:
            with self.engine.begin() as conn:
                for feed in FEEDS:
                    if read >= limit:
                        break
                    settle = []
                    for row in conn.execute(self._pending(feed, limit - read)).mappings():
                        read += 1
                        marks[feed.name] = max(marks.get(feed.name, 0), int(row["LSH"]))
                        error = precheck(feed.name, row) if row["SJYXBS"] == 1 else None
                        if row["SJYXBS"] != 1 or (not feed.forwarded and error is None):
                            settle.append(row["LSH"])   # a correction copy, or context that passed
                        else:
                            datas.append((business(feed.name, row), error))
                    if settle:
                        # Settled in this transaction, so the children below see their parent at 3 now.
                        t = TABLES[feed.name]
                        conn.execute(sa.update(t).where(t.c.LSH.in_(settle)).values(SJSCZT=3, SCSJ=now()))
                        settled += len(settle)
                add_context(conn, [d for d, e in datas if e is None])
                datas = [(d, e or joined_not_utf8(d)) for d, e in datas]
        except sa.exc.SQLAlchemyError as exc:
            raise SourceUnavailable(f"前置库 not readable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from None
        return Page(records=[record(d, e) for d, e in datas], cursor={"lsh": marks},
                    has_more=read >= limit or bool(settled))

    def acknowledge(self, page: Page, failures: dict[str, str]) -> None:
        done: dict[str, list[int]] = {}
        for rec in page.records:
            if rec.key not in failures:
                table, lsh = split_key(rec.key)
                done.setdefault(table, []).append(lsh)
        stamp = now()
        try:
            with self.engine.begin() as conn:
                for table, lshs in done.items():
                    t = TABLES[table]
                    conn.execute(sa.update(t).where(t.c.LSH.in_(lshs), t.c.SJSCZT == 0).values(SJSCZT=3, SCSJ=stamp))
                for key, reason in failures.items():
                    table, lsh = split_key(key)
                    t = TABLES[table]
                    conn.execute(sa.update(t).where(t.c.LSH == lsh, t.c.SJSCZT == 0)
                                 .values(SJSCZT=2, SBYY=sbyy(reason, self.sbyy_size), SCSJ=stamp))
        except sa.exc.SQLAlchemyError as exc:
            # The page is published and its checkpoint saved; its rows stay SJSCZT=0 and are read
            # again next time (same message ids), so the write-back is retried, not lost.
            raise SourceUnavailable(f"前置库 write-back failed: {exc.__class__.__name__}") from None

    def close(self) -> None:
        self.engine.dispose()
