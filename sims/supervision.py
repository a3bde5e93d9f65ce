"""Seeded, repeatable case flow for the monthly supervision report (hub/report/): the provincial
catalogue's items (sims/catalogue_data.py) plus county implementations of them, and months of
cases whose visits, reused materials, one-window acceptance and lateness vary by department
(some above the seed's targets, some below) with one month's dip (a system outage month:
fewer cases online, more visits, more late).

Everything here is invented; the shapes (channels, materials reused from an e-certificate or
shared data, promised working days) follow hub/model/case.py."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from hub.model.common import SHANGHAI

from . import catalogue_data

# department -> (share of cases with at most one visit, share of materials reused,
#                share of window cases accepted at the one window, share of cases late)
PROFILE = {
    "commerce": (0.95, 0.55, 0.85, 0.02),
    "ndrc": (0.80, 0.40, 0.70, 0.06),
    "housing": (0.55, 0.25, 0.45, 0.15),
    "land": (0.45, 0.20, 0.40, 0.20),
}
PERSON_IDS = ("330106199003071236",)


def catalogue() -> list[dict]:
    """Canonical service items: the city items of the catalogue simulator and a county
    implementation of each (code ending in 1, county level, a little less online)."""
    out = []
    for raw in catalogue_data.items():
        base = {
            "catalogue_code": raw["basicCode"], "implementation_code": raw["implementCode"], "name": raw["itemName"],
            "category": raw["itemType"], "level": raw["implementLevel"], "department": raw["deptCode"],
            "online_depth": raw["onlineDepth"], "promised_days": raw["promiseDays"], "statutory_days": raw["legalDays"],
            "required_visits": raw["visitTimes"], "one_window": raw["oneWindow"], "in_hall": raw["inHall"],
            "approval_exception": raw["approvalException"], "materials": raw["materialList"],
        }
        out.append(base)
        county = dict(base, catalogue_code=base["catalogue_code"][:-1] + "1", level="county",
                      implementation_code=base["implementation_code"][:-1] + "1",
                      online_depth=max(0, base["online_depth"] - (int(base["catalogue_code"][-4]) % 2) * 2),
                      in_hall=base["in_hall"] and base["catalogue_code"][-4] != "3")
        out.append(county)
    return out


def months_back(last: str, n: int) -> list[str]:
    y, m = (int(x) for x in last.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def cases(months: list[str], per_month: int, seed: int = 7, dip: str | None = None):
    """Canonical case dicts (hub/model/case.py), ``per_month`` submitted in each month."""
    rnd = random.Random(seed)
    items = catalogue()
    dip = dip or (months[len(months) // 2] if len(months) > 2 else None)
    n = 0
    for month in months:
        y, m = (int(x) for x in month.split("-"))
        bad = month == dip
        for _ in range(per_month):
            n += 1
            it = rnd.choice(items)
            dept = it["department"]
            p_visit, p_reuse, p_window, p_late = PROFILE.get(dept, (0.7, 0.3, 0.6, 0.05))
            if bad:
                p_visit, p_reuse, p_late = p_visit - 0.25, p_reuse - 0.15, p_late + 0.15
            submitted = datetime(y, m, rnd.randint(1, 28), rnd.randint(8, 17), rnd.randint(0, 59), tzinfo=SHANGHAI)
            online = it["online_depth"] >= 3 and rnd.random() < (0.35 if bad else 0.6)
            channel = "online" if online else rnd.choice(("window", "window", "mobile", "self_service"))
            accepted = submitted + timedelta(hours=rnd.randint(1, 30))
            promised = it["promised_days"]
            r = rnd.random()
            status = "withdrawn" if r < 0.02 else "in_review" if r < 0.06 else "completed"
            if rnd.random() < p_late:
                span = timedelta(days=promised * 1.4 + 3 + rnd.randint(0, 10))
            else:
                span = timedelta(days=rnd.uniform(0.2, max(0.5, promised * 0.9)))
            completed = accepted + span if status != "in_review" else None
            mats = []
            for name in it["materials"]:
                reused = rnd.random() < p_reuse
                mats.append({"name": name, "required": True, "provided": not reused,
                             "reused_from": rnd.choice(("certificate", "shared_data")) if reused else None})
            yield {
                "case_no": f"SV{seed:02d}{n:09d}", "item_code": it["catalogue_code"], "department": dept,
                "applicant": {"kind": "person", "name": "申请人", "id_type": "resident_id",
                              "id_number": PERSON_IDS[n % len(PERSON_IDS)]},
                "channel": channel, "submitted_at": submitted, "accepted_at": accepted, "completed_at": completed,
                "status": status, "visits": 0 if online and rnd.random() < p_visit else
                (rnd.choice((0, 1)) if rnd.random() < p_visit else rnd.choice((2, 2, 3))),
                "materials": mats, "promised_days": promised,
                "one_window": (rnd.random() < p_window) if channel == "window" else None,
            }
