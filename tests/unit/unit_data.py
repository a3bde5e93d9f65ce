"""Test data of the unit tests: a realistic legacy row and valid / invalid identifiers."""
from __future__ import annotations

import copy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS_DIR = ROOT / "mappings"
SYSTEM = "commerce-registry"

# Valid identifiers (check characters verified with python-stdnum when these were chosen).
USCC = "91330106MA2KQ8R391"             # 杭州瑞博网络科技有限公司, 西湖区
USCC_OLD = "91330102143025168L"         # digit-only organisation code body (pre-2015 firm)
USCC_BAD = "91330106MA2KQ8R395"         # USCC with a wrong check character
RESIDENT_ID = "330106199003071236"
RESIDENT_ID_X = "33010619880512100X"

_ROW = {
    "eventId": 104217,
    "applyNo": "SCJG202600312045",
    "stepNo": 1,
    "eventCode": "01",
    "eventName": "受理",
    "eventTime": "2026-03-05 08:42:17",
    "operator": "陈丽华",
    "opinion": "申请材料齐全，符合法定形式，予以受理",
    "itemCode": "000201001000",
    "itemName": "企业设立登记",
    "contactPhone": "15867123490",
    "registration": {
        "uniscid": USCC,
        "entname": "杭州瑞博网络科技有限公司",
        "name": "沈嘉怡",
        "regcap": "100.000000",
        "regcapcurCn": "人民币",
        "enttype": "1130",
        "enttypeCn": "有限责任公司（自然人投资或控股）",
        "regorg": "330106",
        "regorgCn": "杭州市西湖区市场监督管理局",
        "regstate": "1",
        "regstateCn": "存续（在营、开业、在册）",
        "dom": "浙江省杭州市西湖区文三路478号3幢1205室",
        "opscope": "网络技术服务；软件开发；信息系统集成服务",
        "estdate": "2026-03-06",
        "apprdate": "2026-03-06",
        "opfrom": "2026-03-06",
        "opto": "长期",
    },
    "updatedAt": "2026-03-05T08:42:19.204511",
}


def commerce_row(step: int = 1, **changes) -> dict:
    """A fresh legacy change-feed row (受理 by default; step 3 adds the licence fields)."""
    row = copy.deepcopy(_ROW)
    if step == 2:
        row.update(eventId=104388, stepNo=2, eventCode="02", eventName="核准", eventTime="2026-03-06 09:05:00",
                   opinion="准予设立登记", updatedAt="2026-03-06T09:05:41.877020")
    elif step == 3:
        row.update(eventId=104402, stepNo=3, eventCode="03", eventName="发照", eventTime="2026-03-06 10:53:10",
                   opinion="已核发营业执照", updatedAt="2026-03-06T10:53:12.031877",
                   licenceNo=USCC, validFrom="2026-03-06", validTo="长期")
    row.update(changes)
    return row

