"""sink: the same application sent twice makes one effect in the system (the second answer is
ACCEPTED or DUPLICATE, the system keeps one), and the system's receipt comes back through the
source as a record mapped to a case event of the platform's case (its application number)."""
from __future__ import annotations

import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.adapter import ACCEPTED, DUPLICATE, MessageMeta

from .cursor import walk
from .subject import Failed

PLATFORM_SYSTEM = "platform-applications"
RECEIPT_SECONDS = 20.0


def application(subject, item_code: str) -> bytes:
    """A canonical application for the subject's department, made by the platform's own mapping
    from a record as the platform's feed serves one."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    record = {"seq": 1, "applyNo": f"ZJWB{now:%Y%m%d}{uuid.uuid4().int % 10**6:06d}", "itemCode": item_code,
              "itemName": "一致性检查", "deptCode": subject.cls.department, "applicantType": "2",
              "applicantName": "杭州一致科技有限公司", "certType": "001", "certNo": "91330108MA2QG9LU54",
              "mobile": "13800000000", "submitTime": now.strftime("%Y-%m-%d %H:%M:%S"), "channel": "1",
              "materials": [{"name": "申请书", "required": True, "provided": True}]}
    try:
        (env,) = subject.mappings.apply(PLATFORM_SYSTEM, record)
    except KeyError:
        raise Failed(f"no mapping reads {PLATFORM_SYSTEM}: the suite cannot make an application") from None
    return env


def _item_code(subject, records) -> str:
    for rec in records:
        for env in _envelopes(subject, rec):
            code = getattr(env.payload, "item_code", None)
            if code:
                return code
    raise Failed("no record of the feed names an item (payload.item_code): the application would have none")


def _envelopes(subject, rec) -> list:
    if rec.error is not None:
        return []
    try:
        return subject.mappings.apply(subject.cls.system, rec.data)
    except Exception:
        return []


def check_sink(subject) -> str:
    if not subject.cls.has_sink:
        return "no sink (has_sink is False): nothing to send down"
    with subject.live() as live:
        live.sim.load(1)
        records, cursor = walk(live, 50)
        env = application(subject, _item_code(subject, records))
        body, app_no = env.model_dump_json().encode("utf-8"), env.payload.application_no
        meta = MessageMeta(message_id=str(env.message_id), kind="application", case_no=None, sequence=None,
                           department=subject.cls.department)
        sink = live.adapter().sink()
        try:
            first = sink.send(body, meta)
            second = sink.send(body, meta)
        finally:
            sink.close()
        if first != ACCEPTED:
            raise Failed(f"the first send of application {app_no} answered {first!r}, not {ACCEPTED!r}")
        if second not in (ACCEPTED, DUPLICATE):
            raise Failed(f"the second send of application {app_no} answered {second!r}")
        receipt = _receipt(subject, live, cursor, app_no)   # once it is there, the system has taken both sends
        kept = [a for a in live.sim.applications() if app_no in str(a)]
        if len(kept) != 1:
            raise Failed(f"application {app_no} sent twice with one idempotency key made {len(kept)} effect(s) "
                         f"in the system, not 1")
    return f"sent twice: {first}, then {second}; one application kept; receipt {receipt} names case {app_no}"


def _receipt(subject, live, cursor, app_no: str) -> str:
    deadline = time.monotonic() + RECEIPT_SECONDS
    while True:
        records, cursor = walk(live, 50, cursor=cursor)
        for rec in records:
            if any(env.case_no == app_no for env in _envelopes(subject, rec)):
                return rec.key
        if time.monotonic() > deadline:
            raise Failed(f"no receipt for application {app_no} came back through the source within "
                         f"{RECEIPT_SECONDS:.0f} s (a record mapped to a case event of case {app_no})")
        time.sleep(0.3)
