"""Seeded generator of investment-project approval cases as the 投资项目在线审批监管平台 holds
them: a project in the tzxmxx JSON shape (REFERENCE.md §2), five approval steps per case in
the system's own step codes, the 批复 fields named after SPGL (PFWH, PFRQ ...), and the
inconsistencies its operators type in.

Invented here (no public source gives them): the step codes 10-50, the two-digit values of
项目类型 and of the 中央业务指导部门 segment, the 办件编号 and 受理编号 formats, and the random
part of the project code (its check character rule is unconfirmed, so none is computed).

What the monthly supervision report needs (sims/case_facts.py, seeded by the case number, so
adding it changed no case made before) is in fields of the platform's own, invented too:
declareMode 申报方式 (DECLARE_MODES), windowType 窗口类型 (1 综合窗口, i.e. 一窗受理; 2 部门窗口)
and limitDays 承诺时限 (working days) on 收件 and 受理, visitTimes 跑动次数 (so far) on every
step, and on 受理 the materials checked, each with submitted (brought) and shareSource
(DZZZ 电子证照 / GXSJ 共享数据, when the department took it from there instead). The 收件 step's
time is when the project unit declared."""
from __future__ import annotations

import copy
import json
import random
from datetime import date, datetime, timedelta

from .case_facts import case_facts, visits_by_step
from .catalogue_data import codes_for
from .codes import USCC_ALPHABET, make_uscc, spoil_check, to_fullwidth

REGIONS = {"330102": "上城区", "330105": "拱墅区", "330106": "西湖区", "330108": "滨江区",
           "330109": "萧山区", "330110": "余杭区", "330113": "临平区", "330114": "钱塘区"}
PROJECT_TYPES = {"01": "基本建设", "02": "技术改造", "03": "单纯购置", "04": "信息化", "05": "其他"}
GUIDING_DEPTS = ("04", "09", "13", "24", "31", "44")
CERT_TYPE_USCC = "A05300"   # lerepCerttype of a unified social credit code (REFERENCE §2)
CERT_TYPE_PERSON = "A05100"  # of a resident ID: invented, no source gives it
APPROVER = "杭州市发展和改革委员会"

# itemCode -> (批复文号 prefix, 批复 title template, decision opinion, years valid or None)
_RESULTS = {
    "000115001000": ("杭发改审批", "关于{}核准的批复", "同意核准", 2),  # 核准文件: 2 years (企业投资项目核准和备案管理条例 第十二条)
    "000115002000": ("杭发改备案", "{}备案通知书", "予以备案", None),
    "000115003000": ("杭发改投资", "关于{}可行性研究报告的批复", "同意该项目可行性研究报告", None),
}
ITEMS = [(code, name, *_RESULTS[code]) for code, name in codes_for("ndrc")]
ITEM_WEIGHTS = [5, 3, 2]

# (stepCode, stepName, opinion or None); 40 is the decision, whose opinion comes from the item.
STEPS = [("10", "收件", "申报材料已接收"),
         ("20", "受理", "申报材料齐全，符合法定形式，予以受理"),
         ("30", "审查", "经审查，项目符合国家产业政策和行业准入标准"),
         ("40", "批复", None),
         ("50", "办结", "已办结，批复文件已送达项目单位")]
BAD_KINDS = ("credit_code", "project_code", "date", "step_code", "garbled")
# 申报方式 (invented codes) and the shareSource of a material reused instead of brought
DECLARE_MODES = {"online": "1", "window": "2", "mobile": "3", "self_service": "4"}
SHARE_SOURCES = {"certificate": "DZZZ", "shared_data": "GXSJ"}

HANDLERS = ["钱志远", "孙丽萍", "郑浩然", "方晓燕", "俞建国", "韩雪梅", "蒋文涛"]
TRADES = "华恒瑞鑫博宏盛达智云联新远创宇杰嘉泰安信凯德明星辰海峰浩启航锦卓越源汇和正通天诚"
ASCII_TRADES = ["AI", "5G", "E家", "3D", "U客"]
INDUSTRIES = ["智能装备", "新能源科技", "生物医药", "电子科技", "新材料", "数据科技", "汽车零部件"]
PROJECTS = [("年产{}万台（套）{}生产线建设项目", "01", "新建生产厂房{}万平方米，购置生产设备{}台（套）"),
            ("{}数字化车间技术改造项目", "02", "改造车间{}万平方米，新增智能化设备{}台（套）"),
            ("{}研发中心建设项目", "01", "新建研发楼{}万平方米，购置研发检测设备{}台（套）"),
            ("{}生产设备购置项目", "03", "利用现有厂房{}万平方米，购置生产设备{}台（套）"),
            ("{}工业互联网平台建设项目", "04", "建设机房{}万平方米，部署服务器及网络设备{}台（套）")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢沈楼俞应"
GIVEN = "伟芳敏静丽强磊军洋勇艳杰涛明超霞平刚华玉建文辉斌宇浩凯欣婷晨阳鹏飞"
MOBILE = ("135", "137", "138", "139", "158", "159", "186", "187", "189")


# Rows synchronised from the provincial exchange carry the 14-digit stamp (yyyyMMddHHmmss).
COMPACT_SHARE = 0.1


def event_time(dt: datetime, x: float = 0.0) -> str:
    """Most rows come out of the web service as xs:dateTime text; rows written by the older
    window client keep the database's default text form (x is a uniform draw)."""
    if x < COMPACT_SHARE:
        return dt.strftime("%Y%m%d%H%M%S")
    return dt.strftime("%Y-%m-%dT%H:%M:%S" if x < 0.8 else "%Y-%m-%d %H:%M:%S")


def years_later(day: date, years: int) -> date:
    """The last day of a validity of `years` years starting on `day`."""
    try:
        end = day.replace(year=day.year + years)
    except ValueError:  # 29 February
        end = day.replace(year=day.year + years, day=28) + timedelta(days=1)
    return end - timedelta(days=1)


class CaseFactory:
    """Makes cases, each a list of five step records in the shape the hub's adapter reads
    (projectInfo already decoded to `project`), without changeId/updateTime: the server
    stamps those when it writes them to the feed."""

    def __init__(self, rng: random.Random, start: datetime = datetime(2026, 3, 2, 8, 45)):
        self.rng = rng
        self.clock = start
        self.serial = 20000 + rng.randint(0, 9999)
        self.doc_no = {prefix: rng.randint(20, 80) for prefix, *_ in _RESULTS.values()}
        self.codes: set[str] = set()
        self.projects: list[dict] = []

    # --- pieces --------------------------------------------------------------------
    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))

    def phone(self) -> str:
        if self.rng.random() < 0.25:
            return f"0571-8{self.rng.randint(0, 9999999):07d}"
        return self.rng.choice(MOBILE) + f"{self.rng.randint(0, 99999999):08d}"

    def project_code(self, year: int, region: str, ptype: str) -> str:
        while True:
            code = f"{year}-{region}-{self.rng.choice(GUIDING_DEPTS)}-{ptype}-{self.rng.randint(0, 999999):06d}"
            if code not in self.codes:
                self.codes.add(code)
                return code

    def enterprise(self, region: str) -> dict:
        r = self.rng
        body = "MA2" + "".join(r.choice(USCC_ALPHABET[:-1]) for _ in range(5))
        trade = r.choice(ASCII_TRADES) if r.random() < 0.1 else "".join(r.sample(TRADES, 2))
        return {"enterpriseName": f"杭州{trade}{r.choice(INDUSTRIES)}有限公司",
                "lerepCertno": make_uscc("9", "1", region, body), "lerepCerttype": CERT_TYPE_USCC}

    def project(self, applied: datetime) -> dict:
        r = self.rng
        region = r.choice(list(REGIONS))
        lereps = [self.enterprise(region) for _ in range(2 if r.random() < 0.1 else 1)]
        name_tpl, ptype, content_tpl = r.choice(PROJECTS)
        short = lereps[0]["enterpriseName"].removeprefix("杭州").removesuffix("有限公司")
        name = name_tpl.format(r.randint(1, 50), short) if "{}万台" in name_tpl else name_tpl.format(short)
        amount = round(r.uniform(800, 250000), 2)
        investment = (amount if r.random() < 0.6 else f"{amount:.2f}" if r.random() < 0.75 else f"{amount:,.2f}")
        project = {
            "projectCode": self.project_code(applied.year, region, ptype),
            "projectName": name,
            "projectType": ptype,
            "investment": investment,
            "startYear": applied.year,
            "endYear": applied.year + r.randint(1, 3),
            "placeCode": region,
            "projectContent": content_tpl.format(round(r.uniform(0.3, 12), 1), r.randint(10, 400)),
            "applyDate": applied.strftime("%Y%m%d"),
            "linkMan": self.person(),
            "linkPhone": self.phone(),
            "lerepList": lereps,
        }
        if r.random() < 0.1:
            del project["linkPhone"]
        return project

    def working(self, dt: datetime) -> datetime:
        """The first office moment at or after dt (Mon-Fri 08:30-17:30)."""
        if (dt.hour, dt.minute) >= (17, 30):
            dt = (dt + timedelta(days=1)).replace(hour=8, minute=30)
        if (dt.hour, dt.minute) < (8, 30):
            dt = dt.replace(hour=8, minute=30 + self.rng.randint(0, 29), second=self.rng.randint(0, 59))
        while dt.weekday() >= 5:
            dt = (dt + timedelta(days=1)).replace(hour=8, minute=30 + self.rng.randint(0, 29))
        return dt

    def as_typed(self, project: dict) -> dict:
        """The project as one operator keyed it in: now and then full-width or padded."""
        r, p = self.rng, copy.deepcopy(project)
        lerep = p["lerepList"][0]
        if r.random() < 0.03:
            lerep["lerepCertno"] = to_fullwidth(lerep["lerepCertno"])
        if any(c.isascii() and c.isalnum() for c in lerep["enterpriseName"]) and r.random() < 0.3:
            lerep["enterpriseName"] = to_fullwidth(lerep["enterpriseName"])
        if r.random() < 0.05:
            lerep["enterpriseName"] = r.choice((" {} ", "\u3000{}", "{}  ")).format(lerep["enterpriseName"])
        return p

    # --- a whole case --------------------------------------------------------------
    def case(self, bad: str | None = None) -> tuple[dict, list[dict]]:
        r = self.rng
        self.clock = self.working(self.clock + timedelta(minutes=r.randint(2, 40), seconds=r.randint(0, 59)))
        times = [self.clock]
        for low, high in ((10, 240), (60, 3 * 24 * 60), (120, 5 * 24 * 60), (10, 24 * 60)):
            times.append(self.working(times[-1] + timedelta(minutes=r.randint(low, high), seconds=r.randint(0, 59))))
        code, item_name, prefix, title, decision, years = r.choices(ITEMS, ITEM_WEIGHTS)[0]
        # A project goes through several items (可研, then 核准): some cases reuse an earlier one.
        reuse = self.projects and r.random() < 0.1 and bad is None
        project = r.choice(self.projects) if reuse else self.project(times[0] - timedelta(days=r.randint(0, 3)))
        if not reuse and bad is None:
            self.projects.append(project)
        project = copy.deepcopy(project)
        if bad == "credit_code":
            project["lerepList"][0]["lerepCertno"] = spoil_check(project["lerepList"][0]["lerepCertno"], r.randint(0, 29))
        elif bad == "project_code":
            # A code typed from memory: one digit short in the random part.
            project["projectCode"] = project["projectCode"][:-1]
        self.serial += 1
        case = {"caseNo": f"TZXM{times[0]:%Y%m%d}{self.serial:05d}", "itemCode": code, "itemName": item_name,
                "projectCode": project["projectCode"], "bad": bad}
        self.doc_no[prefix] += 1
        doc_no = f"{prefix}〔{times[3].year}〕{self.doc_no[prefix]}号"
        facts = case_facts(case["caseNo"], "ndrc", code, times[1])
        visits = visits_by_step(facts, len(STEPS))
        events = []
        for seq, ((step, step_name, opinion), when) in enumerate(zip(STEPS, times), start=1):
            event = {"changeType": "PROCESS", "caseNo": case["caseNo"], "itemCode": code, "itemName": item_name,
                     "stepSeq": seq, "stepCode": step, "stepName": step_name,
                     "eventTime": event_time(when, r.random()), "handler": r.choice(HANDLERS), "deptName": APPROVER,
                     "opinion": opinion or decision, "project": self.as_typed(project), "_at": when}
            if step == "10" and r.random() < 0.3:
                del event["handler"]          # 网上申报: nobody handled the 收件 step
            if step == "30" and r.random() < 0.2:
                del event["opinion"]
            event.update(self.told(facts, step, visits[seq - 1]))
            if step == "40":
                # SPGL writes 9999-01-01 for a 批复 without expiry (REFERENCE §1, PFWJYXQX).
                valid_to = date(9999, 1, 1) if years is None else years_later(when.date(), years)
                event.update(PFWH=doc_no, PFWJBT=title.format(project["projectName"]),
                             PFRQ=when.date().isoformat(), PFWJYXQX=valid_to.isoformat())
                case["approvalDocNo"] = doc_no
            events.append(event)
        self._spoil(bad, events)
        return case, events

    @staticmethod
    def told(facts, step: str, visits: int) -> dict:
        """The report's facts as the platform writes them at this step (the module's docstring)."""
        out = {"visitTimes": visits}
        if step in ("10", "20"):
            out.update(declareMode=DECLARE_MODES[facts.channel], limitDays=facts.promised_days)
            if facts.one_window is not None:
                out["windowType"] = "1" if facts.one_window else "2"
        if step == "20":
            out["materials"] = {"material": [
                {"materialName": m["name"], "required": m["required"], "submitted": m["provided"],
                 **({"shareSource": SHARE_SOURCES[m["reused_from"]]} if m.get("reused_from") else {})}
                for m in facts.materials]}
        return out

    def _spoil(self, bad: str | None, events: list[dict]) -> None:
        """The single-record faults: one event of the case is broken, the others are fine."""
        if bad not in ("date", "step_code", "garbled"):
            return
        event = self.rng.choice(events)
        if bad == "date":
            event["eventTime"] = f"{event['eventTime'][:4]}-02-30T10:15:00"
        elif bad == "step_code":
            event["stepCode"], event["stepName"] = "99", "挂起"
        else:
            # projectInfo cut off at a column limit: the record cannot be decoded at all.
            text = json.dumps(event.pop("project"), ensure_ascii=False)
            event["projectInfo"] = text[: len(text) // 2]

    def receipt(self, app: dict, project_code: str, when: datetime, accept_no: str) -> dict:
        """The 受理 record of an application that came from the unified platform."""
        self.serial += 1
        project = {"projectCode": project_code, "projectName": app.get("projectName") or "",
                   "lerepList": [{"enterpriseName": app["applicantName"], "lerepCertno": app["applicantIdNumber"],
                                  "lerepCerttype": app["applicantIdType"]}]}
        return {"changeType": "RECEIPT", "caseNo": f"TZXM{when:%Y%m%d}{self.serial:05d}",
                "applicationNo": app["applicationNo"], "acceptNo": accept_no, "itemCode": app["itemCode"],
                "itemName": dict(codes_for("ndrc")).get(app["itemCode"], ""), "stepSeq": 1, "stepCode": "20",
                "stepName": "受理", "eventTime": event_time(when), "handler": "网上申报自动受理", "deptName": APPROVER,
                "opinion": "网上申报材料齐全，予以受理", "project": project}

    def assign_code(self, when: datetime, region: str = "330100") -> str:
        """赋码: a project applied for without a code gets one on acceptance."""
        return self.project_code(when.year, region, "05")
