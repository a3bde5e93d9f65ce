"""The land system's intake of applications: files the hub writes into its inbox.

Each scan takes every finished file (dot-named temp files are someone still writing),
refuses a repeat of an application number (外网受理编号 WWSLBH) or an unreadable file
(moved to sim/rejected with a .reason beside it), gives each new one a 受理编号 and
writes one batch of receipts (JLLX=HZ, JDDM 901 受理回执) into the outbox."""
from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

from .land_files import read_application

SHANGHAI = ZoneInfo("Asia/Shanghai")
APPLICANT_FIELDS = ("QLRMC", "QLRLX", "ZJZL", "ZJH", "LXDH")


def _move(src, folder, reason: str | None = None) -> str:
    target = folder / src.name
    n = 0
    while target.exists():
        n += 1
        target = folder / f"{src.stem}.{n}{src.suffix}"
    os.replace(src, target)
    if reason:
        target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
    return target.name


def receipt(app: dict, acceptance_no: str, now: datetime) -> dict:
    rec = {"JLLX": "HZ", "SLBH": acceptance_no, "WWSLBH": app["WWSLBH"].strip(), "SXBM": app.get("SXBM", ""),
           "SXMC": app.get("SXMC", ""), "SXH": "1", "JDDM": "901", "JDMC": "受理回执",
           "QMSJ": now.strftime("%Y-%m-%d %H:%M:%S"), "SHRYXM": "系统自动", "SHYJ": "网上申请已接收，予以受理",
           "CZJG": "受理"}
    for key in APPLICANT_FIELDS:
        if app.get(key):
            rec[key] = app[key]
    return rec


def scan_inbox(sim) -> int:
    """One pass over the inbox; the caller holds sim.lock. Returns applications accepted."""
    files = sorted(p for p in sim.inbox.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() == ".xml")
    receipts = []
    for path in files:
        data = path.read_bytes()
        try:
            app = read_application(data)
        except ValueError as exc:
            sim.refused.append({"file": _move(path, sim.archive / "rejected", str(exc)), "why": "unreadable",
                                "detail": str(exc)})
            continue
        number = app["WWSLBH"].strip()
        if number in sim.applications:
            kept = _move(path, sim.archive / "rejected", f"duplicate of application {number}")
            sim.refused.append({"file": kept, "why": "duplicate", "application_no": number})
            continue
        now = datetime.now(SHANGHAI).replace(tzinfo=None)
        acceptance_no = sim.factory.next_case_no(now)
        kept = _move(path, sim.archive / "accepted")
        sim.applications[number] = {"application_no": number, "acceptance_no": acceptance_no, "file": kept,
                                    "received_at": now.isoformat(timespec="seconds"), **app}
        receipts.append(receipt(app, acceptance_no, now))
    if receipts:
        sim.write_batch(receipts, "xml", "GB18030", kind="receipts")
    return len(receipts)
