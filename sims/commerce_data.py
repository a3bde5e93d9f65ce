"""Seeded generator of enterprise-registration cases as the legacy 市场监管 system
holds them: its own field names (uniscid, entname, regcap ...), its codes, and the
inconsistencies its operators type in."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from .case_facts import case_facts
from .codes import USCC_ALPHABET, make_uscc, spoil_check, to_fullwidth
from .office_hours import office_moment

# region code -> (district name, streets); 330100 is the city-level registration office
REGIONS = {
    "330100": ("", ["钱江路", "解放东路", "民心路", "富春路"]),
    "330102": ("上城区", ["解放路", "庆春路", "江城路", "秋涛北路"]),
    "330105": ("拱墅区", ["莫干山路", "湖墅南路", "丰潭路", "上塘路"]),
    "330106": ("西湖区", ["文三路", "天目山路", "古墩路", "西溪路", "学院路"]),
    "330108": ("滨江区", ["江南大道", "网商路", "滨盛路", "长河路", "江虹路"]),
    "330109": ("萧山区", ["市心中路", "金城路", "建设一路", "通惠中路"]),
    "330110": ("余杭区", ["文一西路", "五常大道", "良睦路", "龙潭路"]),
    "330113": ("临平区", ["临平大道", "迎宾路", "世纪大道"]),
    "330114": ("钱塘区", ["文泽路", "下沙路", "学林街", "福城路"]),
}
REGION_WEIGHTS = [3, 2, 2, 4, 4, 2, 3, 1, 1]

# enttype -> (enttypeCn as the system prints it, name suffix, weight)
ENTTYPES = {
    "1130": ("有限责任公司（自然人投资或控股）", "有限公司", 55),
    "1150": ("一人有限责任公司", "有限公司", 8),
    "1151": ("有限责任公司（自然人独资）", "有限公司", 15),
    "1210": ("股份有限公司（上市）", "股份有限公司", 1),
    "1220": ("股份有限公司（非上市）", "股份有限公司", 3),
    "4540": ("个人独资企业", None, 6),
    "5110": ("有限责任公司（中外合资）", "有限公司", 2),
}
REGSTATES = {"1": "存续（在营、开业、在册）", "2": "吊销，未注销", "3": "吊销，已注销",
             "4": "注销", "5": "撤销", "6": "迁出", "9": "其他"}
# kind of registration -> (itemCode, itemName, approval opinion)
ITEMS = {
    "establish": ("000201001000", "企业设立登记", "准予设立登记"),
    "change": ("000201002000", "企业变更登记", "准予变更登记"),
}
STEPS = [(1, "01", "受理", "申请材料齐全，符合法定形式，予以受理"),
         (2, "02", "核准", None),
         (3, "03", "发照", "已核发营业执照")]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董潘袁蔡蒋余"
            "于杜叶程魏苏吕丁任沈姚卢傅钟姜崔谭陆范汪廖石金贾夏方楼俞应")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红建文辉力斌宇浩凯欣怡婷雪晨阳"
         "鹏飞俊波丹琳亮宁峰鑫晶颖佳慧嘉睿泽梓轩子涵思雨")
TRADE_CHARS = "华恒瑞鑫博宏盛达智云联新远创宇杰嘉泰安信凯德明星辰海峰浩启航锦卓越源汇和正通天诚"
ASCII_TRADES = ["AI", "5G", "E家", "51", "3D", "i尚", "U客"]
INDUSTRIES = {
    "科技": "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
    "网络科技": "网络技术服务；软件开发；信息系统集成服务",
    "信息技术": "信息技术咨询服务；数据处理和存储支持服务",
    "电子商务": "互联网销售（除销售需要许可的商品）；日用百货销售",
    "贸易": "货物进出口；技术进出口；日用品批发",
    "餐饮管理": "餐饮管理；食品经营（销售预包装食品）",
    "建筑工程": "建设工程施工；建筑劳务分包",
    "文化传媒": "组织文化艺术交流活动；广告设计、代理",
    "生物医药": "医学研究和试验发展；第一类医疗器械销售",
    "供应链管理": "供应链管理服务；国内货物运输代理",
    "智能科技": "人工智能应用软件开发；智能机器人销售",
}
SOLE_SUFFIXES = ["商行", "经营部", "工作室", "服务部"]
OPERATORS = ["周晓燕", "王建平", "陈丽华", "李志强", "沈佳怡", "徐海军", "金晓东", "楼丽娟"]
MOBILE_PREFIXES = ["130", "133", "135", "137", "138", "139", "150", "152", "158", "159",
                   "177", "180", "181", "186", "187", "189", "199"]
# 申请渠道 as the registration system numbers it (invented), and how a material came
CHANNEL_CODES = {"window": "01", "online": "02", "mobile": "03", "self_service": "04"}
ORG_BODY_CHARS = USCC_ALPHABET[:-1]  # Y never shows up in 主体标识码 bodies issued in Hangzhou


class CaseFactory:
    """Makes cases, each with its three events (without eventId/updatedAt: the server
    stamps those when it writes them to the feed)."""

    def __init__(self, rng: random.Random, start: datetime = datetime(2026, 3, 2, 8, 30)):
        self.rng = rng
        self.clock = start
        self.serial = 310000 + rng.randint(0, 9999)
        self.names: set[str] = set()
        self.codes: set[str] = set()

    # --- pieces --------------------------------------------------------------------
    def person(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + "".join(str(self.rng.randint(0, 9)) for _ in range(8))

    def uscc(self, region: str, old: bool) -> str:
        r = self.rng
        while True:
            # Codes issued after 2015 carry "MA…" bodies; older firms kept their digit-only 组织机构代码.
            if old:
                body = str(r.randint(1, 7)) + "".join(str(r.randint(0, 9)) for _ in range(7))
            else:
                body = "MA2" + "".join(r.choice(ORG_BODY_CHARS) for _ in range(5))
            code = make_uscc("9", "1", region, body)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def entname(self, enttype: str, district: str) -> tuple[str, str]:
        r = self.rng
        for attempt in range(10_000):
            # Two-character 字号 are the norm; once those run out, longer ones (as in life).
            length = 2 + (attempt > 3) + (attempt > 30) + (r.random() < 0.2)
            trade = r.choice(ASCII_TRADES) if r.random() < 0.08 else "".join(r.sample(TRADE_CHARS, length))
            industry = r.choice(list(INDUSTRIES))
            suffix = ENTTYPES[enttype][1]
            if suffix is None:
                name = f"杭州{district or '上城区'}{trade}{r.choice(['百货', '五金', '茶叶', '服装'])}{r.choice(SOLE_SUFFIXES)}"
            else:
                name = f"杭州{trade}{industry}{suffix}"
            if name not in self.names:
                self.names.add(name)
                return name, INDUSTRIES[industry]
        raise RuntimeError("ran out of enterprise names")

    def working(self, dt: datetime) -> datetime:
        """The first office moment at or after dt (Mon-Fri 08:30-17:30)."""
        return office_moment(dt, self.rng)

    def event_time(self, dt: datetime) -> str:
        x = self.rng.random()
        if x < 0.80:
            return dt.strftime("%Y-%m-%d %H:%M:%S")
        if x < 0.95:
            return f"{dt.year}/{dt.month}/{dt.day} {dt.hour}:{dt.minute:02d}"
        return f"{dt.year}年{dt.month}月{dt.day}日 {dt.hour:02d}:{dt.minute:02d}"

    # --- a whole case --------------------------------------------------------------
    def case(self, bad: bool = False) -> tuple[dict, list[dict]]:
        r = self.rng
        self.clock = self.working(self.clock + timedelta(minutes=r.randint(2, 40), seconds=r.randint(0, 59)))
        accepted = self.clock
        approved = self.working(accepted + timedelta(minutes=r.randint(45, 2 * 24 * 60)))
        issued = self.working(approved + timedelta(minutes=r.randint(5, 180), seconds=r.randint(0, 59)))
        times = [accepted, approved, issued]

        kind = "establish" if r.random() < 0.75 else "change"
        item_code, item_name, approval = ITEMS[kind]
        region = r.choices(list(REGIONS), REGION_WEIGHTS)[0]
        district, streets = REGIONS[region]
        enttype = r.choices(list(ENTTYPES), [v[2] for v in ENTTYPES.values()])[0]
        if kind == "establish":
            estdate = approved.date()
        else:
            estdate = approved.date() - timedelta(days=r.randint(300, 17 * 365))
        uscc = self.uscc(region, old=estdate.year < 2015)
        if bad:
            uscc = spoil_check(uscc, r.randint(0, 29))
        entname, scope = self.entname(enttype, district)
        opto = "长期"
        if r.random() < 0.15:
            end = estdate.replace(day=28) if (estdate.month, estdate.day) == (2, 29) else estdate
            opto = (end.replace(year=end.year + r.choice((20, 30))) - timedelta(days=1)).isoformat()
        capital = r.choice((3, 10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000))
        if enttype.startswith("12"):
            capital *= 10
        registration = {
            "uniscid": uscc,
            "entname": entname,
            "name": self.person(),
            "regcap": f"{capital:.6f}",
            "regcapcurCn": "美元" if enttype == "5110" and r.random() < 0.5 else "人民币",
            "enttype": enttype,
            "enttypeCn": ENTTYPES[enttype][0],
            "regorg": region,
            "regorgCn": f"杭州市{district}市场监督管理局",
            "regstate": "1",
            "regstateCn": REGSTATES["1"],
            "dom": f"浙江省杭州市{district or '上城区'}{r.choice(streets)}{r.randint(1, 999)}号"
                   f"{r.randint(1, 12)}幢{r.randint(1, 20)}{r.randint(1, 20):02d}室",
            "opscope": scope,
            "estdate": estdate.isoformat(),
            "apprdate": approved.date().isoformat(),
            "opfrom": estdate.isoformat(),
            "opto": opto,
        }
        self.serial += 1
        case = {
            "applyNo": f"SCJG{accepted.year}{self.serial:08d}",
            "itemCode": item_code,
            "itemName": item_name,
            "contactPhone": self.phone(),
            "registration": registration,
            "badUscc": bad,
        }
        facts = case_facts(case["applyNo"], "commerce", item_code, accepted)
        events = []
        for (step, code, name, opinion), when in zip(STEPS, times):
            event = {
                "applyNo": case["applyNo"],
                "stepNo": step,
                "eventCode": code,
                "eventName": name,
                "eventTime": self.event_time(when),
                "operator": r.choice(OPERATORS),
                "opinion": opinion or approval,
                "itemCode": item_code,
                "itemName": item_name,
                "contactPhone": case["contactPhone"],
                "registration": self.as_typed(registration),
                "_at": when,  # sort key only; the server removes it
            }
            # what the monthly report needs: told at acceptance, the visits again at the end
            event["visitCount"] = facts.visits if step == 3 else facts.visits_at_acceptance
            if step == 1:
                event.update(applyChannel=CHANNEL_CODES[facts.channel], applyTime=self.event_time(facts.submitted_at),
                             promiseDays=facts.promised_days, materials=facts.materials)
                if facts.one_window is not None:
                    event["oneWindow"] = "Y" if facts.one_window else "N"
            if step == 3:
                event.update(licenceNo=uscc, validFrom=registration["opfrom"], validTo=opto)
            events.append(event)
        return case, events

    def as_typed(self, registration: dict) -> dict:
        """The registration as one operator keyed it in: now and then full-width or padded."""
        r, reg = self.rng, dict(registration)
        if r.random() < 0.03:
            reg["uniscid"] = to_fullwidth(reg["uniscid"])
        if any(c.isascii() and c.isalnum() for c in reg["entname"]) and r.random() < 0.3:
            reg["entname"] = to_fullwidth(reg["entname"])
        if r.random() < 0.05:
            key = r.choice(("entname", "name", "uniscid", "dom"))
            reg[key] = r.choice((" {} ", "{} ", " {}", "\u3000{}", "{}  ")).format(reg[key])
        return reg
