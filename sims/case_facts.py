"""What a department's system knows of a case for the monthly supervision report: how it was
applied for (channel), when it was received, the visits the applicant made, the promised days,
whether it was taken at the integrated window (一窗), and the materials, some reused from an
e-certificate or shared data instead of brought.

Drawn from a generator seeded by the case number, not from the simulator's own stream: adding
these facts leaves every case the simulators made before unchanged (tests count on them), and
the same case always gets the same facts. The shares vary by department (sims/supervision.py's
PROFILE: some above the seed's targets, some below), and in DIP_MONTH, the month after the
simulators' clocks start (2026-03-02), every department does worse (a system outage month, as
sims/supervision.py has: fewer cases online, more visits, fewer materials reused). The dip
moves thresholds only, never the number of draws, so a case outside that month is the same as
before. Invented, like the codes.

Each department's simulator says these facts in its system's own fields (commerce_data,
ndrc_data, housing_data, land_data); the hub's mappings bring them back to these values, which
is what tests/report recount the monthly report from."""
from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import catalogue_data
from .supervision import PROFILE

_ITEMS = {i["basicCode"]: i for i in catalogue_data.items()}
DIP_MONTH = "2026-04"


def visits_by_step(facts: "CaseFacts", steps: int) -> list[int]:
    """The visits made so far at each of a case's ``steps`` steps, as a system that counts them
    says them: those made by the acceptance until the last step, all of them at the last."""
    return [facts.visits_at_acceptance] * (steps - 1) + [facts.visits] if steps else []


@dataclass
class CaseFacts:
    channel: str                 # online / window / mobile / self_service
    submitted_at: datetime       # 收件: before the acceptance
    visits_at_acceptance: int    # visits made by the time the case was accepted
    visits: int                  # visits made in all, by the end of the case
    promised_days: int | None
    one_window: bool | None      # None unless accepted at a window
    materials: list[dict]        # canonical Material dicts (hub/model/case.py)


def case_facts(case_no: str, department: str, item_code: str, accepted: datetime) -> CaseFacts:
    rnd = random.Random(zlib.crc32(case_no.encode("utf-8")))
    p_visit, p_reuse, p_window, _ = PROFILE.get(department, (0.7, 0.3, 0.6, 0.05))
    p_online = 0.6
    if accepted.strftime("%Y-%m") == DIP_MONTH:
        p_visit, p_reuse, p_online = p_visit - 0.25, p_reuse - 0.15, 0.35
    item = _ITEMS.get(item_code, {})
    online = item.get("onlineDepth", 0) >= 3 and rnd.random() < p_online
    channel = "online" if online else rnd.choice(("window", "window", "mobile", "self_service"))
    if rnd.random() < p_visit:
        visits = 0 if online else rnd.choice((0, 1))
    else:
        visits = rnd.choice((2, 2, 3))
    at_acceptance = min(visits, 1 if channel == "window" else 0)
    materials = []
    for name in item.get("materialList", ["申请书"]):
        reused = rnd.random() < p_reuse
        m = {"name": name, "required": True, "provided": not reused}
        if reused:
            m["reused_from"] = rnd.choice(("certificate", "shared_data"))
        materials.append(m)
    return CaseFacts(
        channel=channel, submitted_at=accepted - timedelta(minutes=rnd.randint(10, 26 * 60)),
        visits_at_acceptance=at_acceptance, visits=visits, promised_days=item.get("promiseDays"),
        one_window=(rnd.random() < p_window) if channel == "window" else None, materials=materials)
