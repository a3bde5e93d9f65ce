"""Seeded generator of land-use approval cases as the 自然资源 system holds them: one
record per step (审核信息), in the field names of 不动产/地籍 systems (ZDDM, BDCDYH, YT,
QLLX, QLXZ, QLRMC, ZJZL, ZJH ...), with the codes of REFERENCE.md §4 and the quirks
operators type in (full-width digits, padding, a lower-case x, thousands separators).

Which parts follow the reference and which are invented is listed in sims/land.py.

Every step record also carries what the monthly supervision report needs, from
sims/case_facts.py (seeded by the case number, so no case made before changed but in these
fields), in fields as invented as JDDM: SQFS 申请方式 (the codes of the application files:
1 网上, 2 窗口, 3 移动端, 4 自助终端), SQSJ 申请时间 (the 收件 step's time, or the application's
when a flow starts at 受理), CNQX 承诺期限 (working days), SFYCSL 是否一窗受理 (window cases),
DCCS 到场次数 (so far); the 受理 step adds CLXX, the materials checked (CLMC, SFBX 是否必要,
SFTJ 是否提交, FYLX 复用类型 1 电子证照 / 2 共享数据 for one not brought)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from .case_facts import case_facts, visits_by_step
from .catalogue_data import codes_for
from .codes import make_resident_id, make_uscc, spoil_check, to_fullwidth
from .land_codes import (FLOWS, PERSON_REGIONS, RARE_CHARS, REGIONS, STEP_NAMES,
                         make_parcel_code, spoil_resident_id)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董潘袁蔡蒋余叶程魏沈姚"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红建文辉力斌宇浩凯欣怡婷雪晨阳鹏飞俊波"
TRADES = "恒达华信鼎盛新源锦程博远嘉禾瑞丰宏远金桥东方天成元通中宸云栖钱江之江西溪"
COMPANY = ("杭州{}置业有限公司", "杭州{}实业有限公司", "浙江{}建设发展有限公司", "杭州{}智能制造有限公司",
           "杭州{}物流有限公司", "杭州{}房地产开发有限公司")
PUBLIC = ("杭州市{}教育发展服务中心", "杭州市{}城市建设发展中心", "杭州市{}卫生健康保障中心")
ROADS = ("文一西路", "五常大道", "古墩路", "江南大道", "市心中路", "临平大道", "文泽路", "丰潭路", "良睦路", "之江路")
HANDLERS = ("沈建国", "王丽萍", "陈晓东", "徐海燕", "楼志刚", "金晓红", "周文斌", "俞佳琪")
ISSUER = "杭州市规划和自然资源局"
MOBILES = ("130", "135", "137", "138", "139", "150", "158", "159", "177", "181", "186", "187", "189")
BAD_KINDS = ("parcel", "id", "date")
SQFS = {"online": "1", "window": "2", "mobile": "3", "self_service": "4"}
FYLX = {"certificate": "1", "shared_data": "2"}

ITEMS = dict(codes_for("land"))
_missing = set(FLOWS) - set(ITEMS)
if _missing:  # the shared catalogue is the authority on item codes; fail loudly if they drift
    raise RuntimeError(f"land flows name items the catalogue does not list: {sorted(_missing)}")


class CaseFactory:
    """Makes cases, each a list of step records (without SHXXID and GXSJ: the writer
    stamps those when it puts the record in a batch file)."""

    def __init__(self, rng: random.Random, start: datetime = datetime(2026, 3, 2, 8, 30)):
        self.rng = rng
        self.rare_chars = RARE_CHARS
        self.clock = start
        self.serial = rng.randint(100, 900)
        self.parcels: set[str] = set()
        self.ids: set[str] = set()
        self.permit_serial = rng.randint(10, 90)
        self.title_serial = rng.randint(1000, 9000)

    # --- pieces --------------------------------------------------------------------
    def working(self, dt: datetime) -> datetime:
        """The first office moment at or after dt (Mon-Fri 08:30-17:30)."""
        r = self.rng
        if (dt.hour, dt.minute) >= (17, 30):
            dt = (dt + timedelta(days=1)).replace(hour=8, minute=30 + r.randint(0, 29))
        if (dt.hour, dt.minute) < (8, 30):
            dt = dt.replace(hour=8, minute=30 + r.randint(0, 29))
        while dt.weekday() >= 5:
            dt = (dt + timedelta(days=1)).replace(hour=8, minute=30 + r.randint(0, 29))
        return dt

    def step_time(self, dt: datetime) -> str:
        """QMSJ as the system prints it; the export template differs by desk."""
        x = self.rng.random()
        if x < 0.70:
            return dt.strftime("%Y-%m-%d %H:%M:%S")
        if x < 0.82:
            return f"{dt.year}/{dt.month}/{dt.day} {dt.hour}:{dt.minute:02d}"
        if x < 0.92:
            return f"{dt.year}年{dt.month}月{dt.day}日"
        return f"{dt.year}年{dt.month}月{dt.day}日 {dt.hour:02d}:{dt.minute:02d}"

    def person_name(self, rare: float) -> str:
        r = self.rng
        given = "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))
        if r.random() < rare:  # 䶮, 𠮷 ...: outside GBK, so only GB18030 (or UTF-8) can carry them
            given = r.choice(self.rare_chars) + given[1:] if len(given) > 1 else r.choice(self.rare_chars)
        return r.choice(SURNAMES) + given

    def applicant(self, rare: float) -> dict:
        r = self.rng
        if r.random() < 0.25:
            while True:
                birth = datetime(r.randint(1955, 2000), r.randint(1, 12), r.randint(1, 28))
                region = r.choice([code for code, since in PERSON_REGIONS.items() if birth.year >= since])
                zjh = make_resident_id(region, birth.strftime("%Y%m%d"), r.randint(0, 999))
                if zjh not in self.ids:
                    break
            self.ids.add(zjh)
            return {"QLRMC": self.person_name(rare), "QLRLX": "1", "ZJZL": "1", "ZJH": zjh}
        kind = r.choices(("2", "3"), (85, 15))[0]
        while True:
            body = "MA2" + "".join(r.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(5))
            code = make_uscc("9", "1", "330100", body) if kind == "2" else make_uscc("1", "2", "330100", body)
            if code not in self.ids:
                break
        self.ids.add(code)
        trade = "".join(r.sample(TRADES, 2))
        if r.random() < rare / 4:
            trade = r.choice(self.rare_chars) + trade[1]
        name = (r.choice(COMPANY) if kind == "2" else r.choice(PUBLIC)).format(trade)
        # 营业执照 (7) is what older desks still pick for a company; the number is the credit code either way
        zjzl = "8" if kind == "3" or r.random() < 0.8 else "7"
        return {"QLRMC": name, "QLRLX": kind, "ZJZL": zjzl, "ZJH": code}

    def parcel(self, item: str, public: bool) -> dict:
        r = self.rng
        region = r.choice(list(REGIONS))
        collective = item == "000116001000" and not public and r.random() < 0.05
        if collective:
            tzm, qllx, qlxz, uses = "JB", "7", r.choice(("204", "205")), ("0601", "054")
        elif public:
            tzm, qllx, qlxz, uses = "GB", "3", "101", ("0803", "0804", "0806", "0807", "102")
        else:
            tzm = r.choices(("GB", "GS", "GX"), (92, 4, 4))[0]
            qllx = "3"
            qlxz = r.choices(("102", "103", "104", "105"), (85, 5, 5, 5))[0] if item == "000116003000" else "102"
            uses = ("0701", "051", "052", "053", "054", "0601", "0604") if tzm == "GB" else ("0806", "054")
        while True:
            zddm = make_parcel_code(region, r.randint(1, 15), r.randint(1, 20), tzm, r.randint(1, 99999))
            if zddm not in self.parcels:
                break
        self.parcels.add(zddm)
        district, streets = REGIONS[region]
        if r.random() < 0.5:
            zl = f"杭州市{district}{r.choice(streets)}{r.randint(1, 999)}号"
        else:
            a, b = r.sample(ROADS, 2)
            zl = f"杭州市{district}{a}以{r.choice('东西')}、{b}以{r.choice('南北')}地块"
        area = r.randint(800, 120_000) + r.randint(0, 99) / 100
        return {"ZDDM": zddm, "ZDTZM": tzm, "BDCDYH": zddm + "W00000000", "ZL": zl,
                "ZDMJ": self.area_text(area), "MJDW": "1", "YT": r.choice(uses), "QLLX": qllx, "QLXZ": qlxz}

    def area_text(self, area: float) -> str:
        x = self.rng.random()
        if x < 0.1:
            return f"{area:,.2f}"
        if x < 0.2:
            return f"{area:.4f}"
        return f"{area:.2f}"

    def phone(self) -> str:
        return self.rng.choice(MOBILES) + "".join(str(self.rng.randint(0, 9)) for _ in range(8))

    def next_case_no(self, when: datetime) -> str:
        # 受理编号: T (the 土地 prefix of gtmap's SLBH_TZM) + date + serial
        self.serial += 1
        return f"T{when:%Y%m%d}{self.serial:05d}"

    # --- a whole case ----------------------------------------------------------------
    def flow(self, item: str) -> list[str]:
        r = self.rng
        steps = list(FLOWS[item])
        x = r.random()
        if steps[0] == "101" and x < 0.07:
            return ["101", "103"]                      # 不予受理: the case ends there
        if steps[0] == "101" and x < 0.17:
            return ["101", "104", "105"] + steps[1:]   # 补正, then on as usual
        return steps

    def case(self, bad: str | None = None, rare: float = 0.08) -> list[dict]:
        r = self.rng
        self.clock = self.working(self.clock + timedelta(minutes=r.randint(2, 40), seconds=r.randint(0, 59)))
        item = r.choice(list(FLOWS))
        steps = self.flow(item)
        who = self.applicant(rare)
        public = who["QLRLX"] == "3"
        land = self.parcel(item, public)
        slbh = self.next_case_no(self.clock)
        phone = self.phone() if r.random() < 0.85 else None
        if bad == "parcel":  # an impossible 宗地特征码 (Q is no second character), as a mistyped code
            land["ZDTZM"] = land["ZDTZM"][0] + "Q"
            land["ZDDM"] = land["ZDDM"][:12] + land["ZDTZM"] + land["ZDDM"][14:]
            land["BDCDYH"] = land["ZDDM"] + "W00000000"
        elif bad == "id":
            who["ZJH"] = spoil_resident_id(who["ZJH"]) if who["ZJZL"] == "1" else spoil_check(who["ZJH"], 3)
        broken_step = r.randrange(len(steps)) if bad == "date" else None
        facts = case_facts(slbh, "land", item, self.clock)
        visits = visits_by_step(facts, len(steps))
        told = self.told(facts, self.clock if steps[0] == "101" else facts.submitted_at)
        records, when = [], self.clock
        for seq, code in enumerate(steps, start=1):
            if seq > 1:
                when = self.working(when + timedelta(minutes=r.randint(20, 3 * 24 * 60), seconds=r.randint(0, 59)))
            rec = {"JLLX": "BL", "SLBH": slbh, "SXBM": item, "SXMC": ITEMS[item], "SXH": str(seq),
                   "JDDM": code, "JDMC": STEP_NAMES[code][0], "QMSJ": self.step_time(when),
                   "SHRYXM": r.choice(HANDLERS), "CZJG": STEP_NAMES[code][1], **self.as_typed(who), **land,
                   **told, "DCCS": str(visits[seq - 1])}
            if code == "102":
                rec["CLXX"] = [{"CLMC": m["name"], "SFBX": "1" if m["required"] else "0",
                                "SFTJ": "1" if m["provided"] else "0",
                                **({"FYLX": FYLX[m["reused_from"]]} if m.get("reused_from") else {})}
                               for m in facts.materials]
            opinion = STEP_NAMES[code][2]
            if opinion and r.random() < 0.9:
                rec["SHYJ"] = opinion
            if phone:
                rec["LXDH"] = phone
            if item == "000116001000" and land["QLLX"] == "3":
                rec["RJL"] = r.choice(("1.2", "1.8", "2.0", "2.5", "3.0"))
            if code in ("401", "402"):
                rec.update(self.certificate(item, code, land, when))
            if seq - 1 == broken_step:
                rec["QMSJ"] = r.choice((f"{when.year}-02-30 {when:%H:%M:%S}", f"{when.year}年2月30日",
                                        f"{when.year}-04-31 {when:%H:%M:%S}"))
            rec["_at"] = when  # sort key only; the writer drops it
            records.append(rec)
        return records

    @staticmethod
    def told(facts, submitted: datetime) -> dict:
        """The case's report facts as every step record repeats them (the module's docstring)."""
        out = {"SQFS": SQFS[facts.channel], "SQSJ": submitted.strftime("%Y-%m-%d %H:%M:%S"),
               "CNQX": str(facts.promised_days)}
        if facts.one_window is not None:
            out["SFYCSL"] = "1" if facts.one_window else "0"
        return out

    def certificate(self, item: str, code: str, land: dict, when: datetime) -> dict:
        r = self.rng
        issued = when.date()
        day = r.choice((issued.isoformat(), f"{issued.year}年{issued.month}月{issued.day}日"))
        if code == "402":
            self.title_serial += 1
            # 不动产权证书号: 省简称(年份)市县名不动产权第N号
            return {"ZSMC": "不动产权证书", "BDCQZH": f"浙({issued.year})杭州市不动产权第{self.title_serial:07d}号",
                    "FZJG": ISSUER, "FZRQ": day}
        self.permit_serial += 1
        region = land["ZDDM"][:6]
        if item == "000116002000":
            end = issued.replace(year=issued.year + 3) - timedelta(days=1)
            return {"ZSMC": "建设项目用地预审与选址意见书", "XKZH": f"用字第{region}{issued.year}{self.permit_serial:05d}号",
                    "FZJG": ISSUER, "FZRQ": day, "YXQZ": end.isoformat()}
        rec = {"ZSMC": "建设用地规划许可证", "XKZH": f"地字第{region}{issued.year}{self.permit_serial:05d}号",
               "FZJG": ISSUER, "FZRQ": day}
        if r.random() < 0.5:
            rec["YXQZ"] = "长期"
        return rec

    def as_typed(self, who: dict) -> dict:
        """The applicant as one desk keyed it in: now and then full-width, padded or with a small x."""
        r, out = self.rng, dict(who)
        if r.random() < 0.03:
            out["ZJH"] = to_fullwidth(out["ZJH"])
        elif out["ZJH"].endswith("X") and r.random() < 0.5:
            out["ZJH"] = out["ZJH"][:-1] + "x"
        if r.random() < 0.04:
            out["QLRMC"] = r.choice((" {} ", "{} ", "\u3000{}")).format(out["QLRMC"])
        return out
