"""GB 32100 (法人和其他组织统一社会信用代码编码规则): its registration authorities
(登记管理部门码, character 1) and the categories (机构类别码, character 2) each may give.

The table is GB 32100-2015's (the edition in force carries amendment No. 1 of 2016,
https://my678.cn/download-p27744.html names it) as reproduced at https://osuse.cn/post/10002590.html ("统一社会信用代码解析登记管理部门和
机构类别") and in wenerme/go-gb gb32100/code.go (the domain reference, section 3, cites
the latter). The two agree except on 9 (工商): go-gb also lists 9 其他, the published table
has only 1, 2 and 3; we follow the published table, so a 99 code is refused as a category
error that names authority 9."""
from __future__ import annotations

from . import divisions

# GB 32100 §4.1: the 31 characters a code may use (no I, O, S, V, Z); = stdnum.cn.uscc's alphabet.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

AUTHORITIES = {
    "1": "机构编制", "2": "外交", "3": "司法行政", "4": "文化", "5": "民政", "6": "旅游", "7": "宗教",
    "8": "工会", "9": "工商", "A": "中央军委改革和编制办公室", "N": "农业", "Y": "其他",
}
CATEGORIES = {
    "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    "2": {"1": "外国常驻新闻机构", "9": "其他"},
    "3": {"1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构", "5": "仲裁委员会",
          "9": "其他"},
    "4": {"1": "外国在华文化中心", "9": "其他"},
    "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},
    "6": {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    "7": {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"},
    "8": {"1": "基层工会", "9": "其他"},
    "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
    "A": {"1": "军队事业单位", "9": "其他"},
    "N": {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    "Y": {"1": "其他"},   # 不再具体划分机构类别, 统一用 1
}


def region_plausible(code: str) -> bool:
    """Characters 3-8 are the registering office's GB/T 2260 code. Only its province is
    checked (or 100000, the national offices): offices of development zones and the like
    register under codes of their own that no GB/T 2260 edition lists (~, seen in codes in
    use), and a credit code is refused only for what the standard makes certain."""
    return code == "100000" or divisions.province_known(code)
