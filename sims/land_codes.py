"""Codes of the land system (自然资源): parcel codes, step codes and flows, applicants.

宗地代码 (19): 6 区划 + 3 地籍区 + 3 地籍子区 + 2 宗地特征码 + 5 顺序号, and the
不动产单元号 of a land-only unit is the 宗地代码 + W00000000 (REFERENCE.md §4, gtmap).
The step codes (JDDM) and flows are this system's own, invented."""
from __future__ import annotations

# 县级区划 -> (district, streets) of the Hangzhou parcels
REGIONS = {
    "330102": ("上城区", ["解放路", "庆春路", "秋涛北路"]),
    "330105": ("拱墅区", ["莫干山路", "湖墅南路", "上塘路"]),
    "330106": ("西湖区", ["文三路", "天目山路", "古墩路"]),
    "330108": ("滨江区", ["江南大道", "网商路", "长河路"]),
    "330109": ("萧山区", ["市心中路", "金城路", "通惠中路"]),
    "330110": ("余杭区", ["文一西路", "五常大道", "良睦路"]),
    "330113": ("临平区", ["临平大道", "迎宾路"]),
    "330114": ("钱塘区", ["文泽路", "学林街"]),
}
# first 6 digits of applicants' resident IDs -> the first birth year that code can carry
# (滨江区 330108 from 1996, 余杭区 330110 from 2001; the rest are older than anyone applying)
PERSON_REGIONS = {"330102": 0, "330105": 0, "330106": 0, "330122": 0, "330127": 0, "310104": 0,
                  "320102": 0, "410105": 0, "330108": 1996, "330110": 2001}

# Characters outside GBK: 䶮 is two bytes in GB18030 (FE9F, a GBK user-defined slot),
# the others are four-byte GB18030 sequences (CJK Ext A / Ext B, 通用规范汉字 in names).
RARE_CHARS = ("䶮", "𠮷", "㛃", "𫖯", "𬌗", "㵘", "䲁")

# JDDM (节点代码) -> (JDMC 节点名称, CZJG 操作结果, the opinion a desk usually writes)
STEP_NAMES = {
    "101": ("收件", "已收件", "申请材料已收取"),
    "102": ("受理", "受理", "申请材料齐全，符合法定形式，予以受理"),
    "103": ("不予受理", "不予受理", "申请事项不属于本机关职权范围，不予受理"),
    "104": ("补正告知", "退回补正", "请补正宗地界址图及权属来源证明"),
    "105": ("补正接收", "已补正", "补正材料已收取"),
    "201": ("审查", "通过", "经审查，符合国土空间规划和用地政策"),
    "301": ("审批", "准予许可", "同意核发"),
    "302": ("登簿", "准予登记", "同意登记，予以登簿"),
    "401": ("核发证书", "已发证", "已核发证书"),
    "402": ("缮证发证", "已发证", "已缮证并发放不动产权证书"),
    "501": ("办结", "办结", None),
    "901": ("受理回执", "受理", "网上申请已接收，予以受理"),
}

# catalogue item -> its steps (规划许可 and 选址 start at the window, 首次登记 at 受理)
FLOWS = {
    "000116001000": ("101", "102", "201", "301", "401", "501"),
    "000116002000": ("101", "102", "201", "301", "401", "501"),
    "000116003000": ("102", "201", "302", "402", "501"),
}


def make_parcel_code(region: str, district: int, sub: int, feature: str, serial: int) -> str:
    code = f"{region}{district:03d}{sub:03d}{feature}{serial:05d}"
    if len(code) != 19:
        raise ValueError(f"a 宗地代码 has 19 characters, made {len(code)}")
    return code


def spoil_resident_id(number: str) -> str:
    """The same resident ID with a wrong check character (a typo in the last place)."""
    chars = "0123456789X"
    return number[:-1] + chars[(chars.index(number[-1].upper()) + 3) % 11]
