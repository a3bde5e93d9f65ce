"""The application desk of the unified platform: citizens and companies submit here
(POST /api/v1/applications), and the hub pulls what was submitted from a feed
(GET /api/v1/applications/feed?afterSeq=N), the way a platform exposes its 申办 records
to the departments' exchange. Field names are the platform's own (camelCase)."""
from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

from .base import HttpError, Request, Response, json_response
from .catalogue_data import codes_for
from .codes import make_resident_id, make_uscc

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEPARTMENTS = ("commerce", "ndrc", "housing", "land")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国"
COMPANY = ("杭州{}科技有限公司", "杭州{}建设集团有限公司", "浙江{}置业有限公司", "杭州{}贸易有限公司")
TRADES = ("恒达", "华信", "鼎盛", "新源", "融创", "锦程", "博远", "嘉禾")


class ApplicationDesk:
    def __init__(self, seed: int | None):
        self.rng = random.Random(seed)
        self.applications: list[dict] = []
        self.by_no: dict[str, dict] = {}
        self.serial = 0
        self.poisoned: set[int] = set()   # seqs the feed writes out broken (POST /_admin/poison)

    def _applicant(self) -> dict:
        r = self.rng
        if r.random() < 0.5:
            birth = f"{r.randint(1960, 2000)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
            return {"applicantType": "1", "applicantName": r.choice(SURNAMES) + "".join(r.sample(GIVEN, 2)),
                    "certType": "111", "certNo": make_resident_id("330106", birth, r.randint(0, 999)),
                    "mobile": "13" + "".join(str(r.randint(0, 9)) for _ in range(9))}
        body = "MA2" + "".join(r.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(5))
        return {"applicantType": "2", "applicantName": r.choice(COMPANY).format(r.choice(TRADES)),
                "certType": "001", "certNo": make_uscc("9", "1", "330100", body),
                "mobile": "13" + "".join(str(r.randint(0, 9)) for _ in range(9))}

    def submit(self, body: dict) -> dict:
        """Store one application; the platform assigns its 申办流水号."""
        for key in ("itemCode", "deptCode", "applicantName", "certType", "certNo"):
            if not body.get(key):
                raise HttpError(400, f"missing field: {key}", field=key)
        self.serial += 1
        now = datetime.now(SHANGHAI)
        app = {"seq": len(self.applications) + 1,
               "applyNo": f"ZJWB{now:%Y%m%d}{self.serial:06d}",
               "submitTime": now.strftime("%Y-%m-%d %H:%M:%S"),
               "channel": body.get("channel", "1"), **body}
        self.applications.append(app)
        self.by_no[app["applyNo"]] = app
        return app

    def generate(self, count: int, departments: list[str] | None = None) -> list[dict]:
        made = []
        for i in range(count):
            dept = (departments or DEPARTMENTS)[i % len(departments or DEPARTMENTS)]
            code, name = self.rng.choice(codes_for(dept))
            made.append(self.submit({"itemCode": code, "itemName": name, "deptCode": dept,
                                     "materials": [{"name": "申请书", "required": True, "provided": True}],
                                     **self._applicant()}))
        return made

    def feed(self, after: int, size: int) -> tuple[list[dict], bool]:
        items = self.applications[after: after + size]
        return items, after + size < len(self.applications)


def register(sim) -> None:
    """Add the desk's routes to a PlatformSim; its state lives in sim.desk under sim.lock."""

    def submit(req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise HttpError(400, "body must be a JSON object")
        with sim.lock:
            app = sim.desk.submit(body)
        return json_response({"applyNo": app["applyNo"]}, 201)

    def feed(req: Request) -> Response:
        try:
            after = int(req.query.get("afterSeq", "0") or 0)
            size = min(int(req.query.get("pageSize", "100") or 100), 500)
        except ValueError:
            raise HttpError(400, "afterSeq and pageSize must be integers") from None
        with sim.lock:
            items, more = sim.desk.feed(after, size)
            poisoned = sim.desk.poisoned & {a["seq"] for a in items}
        if poisoned:
            from .commerce import poisoned_page
            return Response(200, poisoned_page(items, more, "seq", poisoned))
        return json_response({"items": items, "hasMore": more})

    def admin_submit(req: Request) -> Response:
        body = req.json() or {}
        with sim.lock:
            made = sim.desk.generate(int(body.get("count", 1)), body.get("departments"))
        return json_response({"submitted": len(made), "applyNos": [a["applyNo"] for a in made]})

    def admin_applications(req: Request) -> Response:
        with sim.lock:
            items = list(sim.desk.applications)
        return json_response({"count": len(items), "items": items})

    sim.route("POST", "/api/v1/applications", submit)
    sim.route("GET", "/api/v1/applications/feed", feed)
    sim.route("POST", "/_admin/submit", admin_submit)
    sim.route("GET", "/_admin/applications", admin_applications)

    def admin_poison(req: Request) -> Response:
        """Fault injection: {"seqs": [...]} makes the feed write those applications out broken
        (sims.commerce.poisoned_page); {"seqs": []} mends them."""
        body = req.json()
        seqs = body.get("seqs") if isinstance(body, dict) else None
        if not isinstance(seqs, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in seqs):
            raise HttpError(400, "seqs must be a list of integers", field="seqs")
        with sim.lock:
            sim.desk.poisoned = set(seqs)
        return json_response({"poisoned": sorted(seqs)})

    sim.route("POST", "/_admin/poison", admin_poison)
