"""Seeded generator of construction-project approval cases as the 工改 system writes them
to the 前置库: a project (SPGL_XMJBXXB) with its 建设单位 (SPGL_XMDWXXB), one item case
(SPGL_XMSPSXBLXXB), its steps (SPGL_XMSPSXBLXXXXB, BLZT 1,3,8,11 mostly) and the
批复文件 at 办结 (SPGL_XMSPSXPFWJXXB).

Follows REFERENCE.md §1: XMDM in the 24-character shape `\\d{4}-\\d{6}-\\d{2}-\\d{2}-\\d{6}`
(§2), BLZT codes and Epoint's order rules, PFWJYXQX 9999-01-01 for no expiry, check 130
(NKGSJ before NJCSJ), SLFS 1 窗口 / 4 网上 as aplanmis maps them. Invented: the GCDM suffix,
SPSXSLBM and 文号 formats, office and department names, the spread of flows, and the columns
of sims/housing_schema.py marked so.

What the monthly supervision report needs comes from sims/case_facts.py, seeded by the case
number (so no case made before changed but in those columns): SLFS (受理方式), SXBLSX (the
item's promised days), SFYCSL (一窗受理, window cases only) and CLQD (材料清单, each material
brought or, with FYLX, reused from an e-certificate or shared data) on the 事项办理 row, XCCS
(visits so far) on each 办理详细 row. The BLZT 1 (收件) row is the application's time."""
from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from .case_facts import case_facts, visits_by_step
from .catalogue_data import codes_for
from .office_hours import office_moment
from .codes import make_uscc, spoil_check, to_fullwidth

DISTRICTS = {"330102": "上城区", "330105": "拱墅区", "330106": "西湖区", "330108": "滨江区",
             "330109": "萧山区", "330110": "余杭区"}
ROADS = ["文三路", "天目山路", "江南大道", "之江路", "良睦路", "市心中路", "莫干山路", "秋涛北路"]
TRADES = "华恒瑞鑫博宏盛达云联新远创宇嘉泰安信凯德明星辰海峰锦卓越源汇和正通天诚绿城滨"
PROJECT_KINDS = ["商品住宅项目", "科技园二期工程", "安置房工程", "综合体项目", "学校新建工程", "产业园厂房工程"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董潘袁蔡蒋余"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红建文辉力斌宇浩凯欣怡婷雪晨阳"
OFFICES = {"000117001000": "建筑业管理科", "000117002000": "质量安全监督科", "000117003000": "房地产市场监管科"}
OPINIONS = {1: "材料已接收", 3: "申请材料齐全，符合法定形式，予以受理", 5: "申请事项依法不需要取得行政许可，不予受理",
            6: "申请材料不齐全，请补正：建设工程规划许可证复印件", 7: "补正材料已提交", 8: "开始审查",
            11: "经审查，符合法定条件，准予许可", 12: "容缺通过，请于30日内补齐缺项材料",
            13: "经审查，不符合法定条件，不予许可"}
# (flow of BLZT codes, weight); the 批复文件 comes with 11 and 12 (办结 通过).
FLOWS = [((1, 3, 8, 11), 80), ((1, 6, 7, 3, 8, 11), 8), ((1, 3, 8, 12), 4), ((1, 3, 8, 13), 4), ((1, 5), 4)]
BAD_KINDS = ("credit_code", "schedule")
SLFS = {"window": 1, "online": 4, "mobile": 5, "self_service": 6}   # 受理方式 (module docstring)
FYLX = {"certificate": "1", "shared_data": "2"}                      # 复用类型 of a material not brought


@dataclass
class Row:
    table: str
    values: dict
    at: datetime          # when the department's system writes it (orders the LSH)


@dataclass
class GeneratedCase:
    case_no: str          # SPSXSLBM
    item_code: str
    flow: tuple[int, ...]
    bad: str | None
    rows: list[Row] = field(default_factory=list)


def materials_text(materials: list[dict]) -> str:
    """CLQD as the 工改 system writes it: JSON text, the SPGL-style keys of the schema's comment."""
    return json.dumps([{"CLMC": m["name"], "SFBX": int(m["required"]), "SFTJ": int(m["provided"]),
                        **({"FYLX": FYLX[m["reused_from"]]} if m.get("reused_from") else {})}
                       for m in materials], ensure_ascii=False)


class HousingFactory:
    def __init__(self, rng: random.Random, start: datetime = datetime(2026, 3, 2, 8, 30)):
        self.rng = rng
        self.clock = start
        self.serial = rng.randint(100, 900)
        self.items = codes_for("housing")
        self.codes: set[str] = set()

    def key(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128)).hex

    def person(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))

    def working(self, dt: datetime) -> datetime:
        """The first office moment at or after dt (Mon-Fri 08:30-17:30), whole seconds."""
        return office_moment(dt, self.rng).replace(microsecond=0)

    def uscc(self, region: str) -> str:
        while True:
            body = "MA2" + "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWX") for _ in range(5))
            code = make_uscc("9", "1", region, body)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def typed(self, text: str, rate: float = 0.05) -> str:
        """As an operator keyed it: now and then padded with (full-width) spaces."""
        if self.rng.random() < rate:
            return self.rng.choice((" {} ", "{} ", "\u3000{}", "{}  ")).format(text)
        return text

    def case(self, bad: str | None = None) -> GeneratedCase:
        r = self.rng
        self.clock = self.working(self.clock + timedelta(minutes=r.randint(2, 40), seconds=r.randint(0, 59)))
        received = self.clock
        region = r.choice(list(DISTRICTS))
        district = DISTRICTS[region]
        item_code, item_name = r.choice(self.items)
        flow = r.choices([f for f, _ in FLOWS], [w for _, w in FLOWS])[0]
        self.serial += 1
        xmdm = f"{received.year}-{region}-48-01-{r.randint(100000, 999999)}"
        gcdm = f"{xmdm}-0001"
        case_no = f"SPSX-{region}-{received:%Y%m%d}-{self.serial:05d}"
        out = GeneratedCase(case_no, item_code, flow, bad)
        start = received.date() + timedelta(days=r.randint(30, 180))
        end = start + timedelta(days=r.randint(365, 3 * 365))
        if bad == "schedule":
            start, end = end, start  # check 130: NKGSJ must come before NJCSJ
        trade = "".join(r.sample(TRADES, 2))
        xmmc = f"杭州{district}{trade}{r.choice(PROJECT_KINDS)}"
        common = {"XZQHDM": region, "SJYXBS": 1, "SJSCZT": 0, "GXSJ": received}
        out.rows.append(Row("SPGL_XMJBXXB", {
            **common, "DFSJZJ": self.key(), "XMDM": xmdm, "XMMC": xmmc, "GCDM": gcdm, "GCFW": xmmc,
            "SPLCLX": r.choice((1, 3, 4, 6)), "NKGSJ": start, "NJCSJ": end,
            "ZTZE": Decimal(r.randint(500, 500000)) + Decimal(r.randint(0, 99)) / 100,
            "JSDDXZQH": region, "JSDD": f"杭州市{district}{r.choice(ROADS)}与{r.choice(ROADS)}交叉口东北侧",
            "JSGMJNR": f"总建筑面积约{r.randint(5, 300)}千平方米", "YDMJ": Decimal(r.randint(2000, 90000)),
            "JZMJ": Decimal(r.randint(5000, 300000)), "SBSJ": received.date(),
        }, received))
        credit = self.uscc(region)
        if bad == "credit_code":
            credit = spoil_check(credit, r.randint(0, 29))
        shown = to_fullwidth(credit) if r.random() < 0.03 else credit
        owner = f"杭州{trade}{r.choice(('置业', '城市建设投资', '实业', '开发建设'))}有限公司"
        out.rows.append(Row("SPGL_XMDWXXB", {
            **common, "DFSJZJ": self.key(), "XMDM": xmdm, "DWTYSHXYDM": self.typed(shown, 0.03),
            "DWMC": self.typed(owner), "DWLX": 1}, received))
        if r.random() < 0.5:   # a 施工单位 too: the source must pick the 建设单位 (DWLX 1)
            out.rows.append(Row("SPGL_XMDWXXB", {
                **common, "DFSJZJ": self.key(), "XMDM": xmdm, "DWTYSHXYDM": self.uscc(region),
                "DWMC": f"浙江{''.join(r.sample(TRADES, 2))}建设集团有限公司", "DWLX": 2}, received))
        dept = f"杭州市{district}住房和城乡建设局"
        facts = case_facts(case_no, "housing", item_code, received)
        visits = visits_by_step(facts, len(flow))
        # The draws that once chose SLFS and SXBLSX stay, so the rest of the stream is as before.
        _ = r.choice((1, 4, 4)), r.choice((5, 10, 15))
        out.rows.append(Row("SPGL_XMSPSXBLXXB", {
            **common, "DFSJZJ": self.key(), "GCDM": gcdm, "SPSXBM": item_code, "SPSXBBH": Decimal("1.0"),
            "SPLCBM": f"LC{region}0{r.randint(1, 4)}", "SPLCBBH": Decimal("2.0"), "SPSXSLBM": case_no,
            "SPBMBM": f"{region}JS", "SPBMMC": dept, "SLFS": SLFS[facts.channel], "GKFS": 1,
            "SXBLSX": facts.promised_days, "SFYCSL": None if facts.one_window is None else int(facts.one_window),
            "CLQD": materials_text(facts.materials)}, received))
        when = received
        for blzt, visits_so_far in zip(flow, visits):
            if blzt != 1:
                when = self.working(when + timedelta(minutes=r.randint(20, 3 * 24 * 60), seconds=r.randint(0, 59)))
            out.rows.append(Row("SPGL_XMSPSXBLXXXXB", {
                **common, "GXSJ": when, "DFSJZJ": self.key(), "GCDM": gcdm, "SPSXSLBM": case_no,
                "BLCS": OFFICES[item_code] if blzt >= 8 else "行政服务中心住建窗口",
                "BLR": self.typed(self.person(), 0.08), "BLZT": blzt, "BLYJ": OPINIONS[blzt], "BLSJ": when,
                "XCCS": visits_so_far}, when))
        if flow[-1] in (11, 12):
            out.rows.append(Row("SPGL_XMSPSXPFWJXXB", self.document(common, gcdm, case_no, item_code, item_name,
                                                                   xmmc, when), when))
        return out

    def document(self, common, gcdm, case_no, item_code, item_name, xmmc, when) -> dict:
        r, day = self.rng, when.date()
        n = r.randint(1, 999)
        if item_code == "000117001000":   # 施工许可证编号: 区划 + date + serial (invented shape)
            number, expiry = f"{common['XZQHDM']}{day:%Y%m%d}{n:03d}01", date(9999, 1, 1)
        elif item_code == "000117002000":
            number, expiry = f"杭建竣备〔{day.year}〕{n}号", date(9999, 1, 1)
        else:
            number = f"杭售许字〔{day.year}〕第{n:04d}号"
            expiry = day + timedelta(days=730) if r.random() < 0.6 else date(9999, 1, 1)
        if r.random() < 0.05:
            number = to_fullwidth(number)  # digits typed with a full-width IME
        return {**common, "GXSJ": when, "DFSJZJ": self.key(), "GCDM": gcdm, "SPSXSLBM": case_no, "PFRQ": day,
                "PFWH": number, "PFWJBT": f"关于{xmmc}{item_name}的批复", "PFWJYXQX": expiry,
                "FJMC": f"{item_name}.pdf", "FJLX": "pdf", "FJID": self.key()}
