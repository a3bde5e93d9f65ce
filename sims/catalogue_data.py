"""The provincial item catalogue (事项目录) the simulators share: every legacy simulator
takes its item codes from here, so the catalogue simulator and the departments agree.

基本编码 (catalogue_code) and 实施编码 (implementation_code) follow the shape used by
provincial catalogues (a 12-digit basic code; the implementation code prefixed by the
implementing department's credit code); the codes themselves are invented."""
from __future__ import annotations

# department credit codes of the implementing bureaus (valid GB 32100 check characters
# are not needed here: they only prefix implementation codes)
_DEPT_CODE = {
    "ndrc": "11330100002489001A",
    "housing": "11330100002489002B",
    "commerce": "11330100002489003C",
    "land": "11330100002489004D",
}

# (department, catalogue_code, name, category, online_depth, promised_days, statutory_days, visits)
_ITEMS = [
    ("ndrc", "000115001000", "企业投资项目核准", "licensing", 4, 10, 20, 0),
    ("ndrc", "000115002000", "企业投资项目备案", "confirmation", 4, 1, 5, 0),
    ("ndrc", "000115003000", "政府投资项目可行性研究报告审批", "licensing", 3, 15, 20, 1),
    ("housing", "000117001000", "建筑工程施工许可证核发", "licensing", 4, 5, 15, 0),
    ("housing", "000117002000", "建设工程竣工验收备案", "confirmation", 3, 5, 15, 1),
    ("housing", "000117003000", "商品房预售许可", "licensing", 3, 10, 20, 1),
    ("commerce", "000201001000", "企业设立登记", "licensing", 4, 1, 15, 0),
    ("commerce", "000201002000", "企业变更登记", "licensing", 4, 1, 15, 0),
    ("commerce", "000201003000", "企业注销登记", "licensing", 4, 1, 10, 0),
    ("land", "000116001000", "建设用地规划许可证核发", "licensing", 3, 10, 20, 1),
    ("land", "000116002000", "建设项目用地预审与选址意见书核发", "licensing", 3, 10, 20, 1),
    ("land", "000116003000", "国有建设用地使用权首次登记", "confirmation", 3, 5, 30, 1),
]


# For the monthly supervision report: which items are served in the integrated hall
# (进驻大厅), which the city government let stay out (本级政府批准, excluded from the 100 %
# targets), and each item's materials (申请材料). Invented, like the codes; the field names
# (inHall, approvalException, materialList) too: no public catalogue schema was found.
_NOT_IN_HALL = {"000115003000", "000116003000"}
_APPROVAL_EXCEPTION = {"000116003000"}
_MATERIALS = {
    "ndrc": ["项目申请报告", "项目单位营业执照", "规划选址意见", "用地预审意见", "节能审查意见"],
    "housing": ["施工许可申请表", "建设用地规划许可证", "建设工程规划许可证", "施工合同", "监理合同", "资金证明"],
    "commerce": ["登记申请书", "公司章程", "股东身份证明", "住所使用证明", "法定代表人任职文件"],
    "land": ["申请书", "身份证明", "土地出让合同", "宗地图", "完税凭证"],
}


def item_materials(department: str, code: str) -> list[str]:
    base = _MATERIALS[department]
    return base[: 3 + int(code[-4]) % (len(base) - 2)]


def items() -> list[dict]:
    """The catalogue in the provincial system's own field names (camelCase JSON)."""
    out = []
    for dept, code, name, category, depth, promised, statutory, visits in _ITEMS:
        out.append({
            "basicCode": code,
            "implementCode": f"{_DEPT_CODE[dept]}{code}000",
            "itemName": name,
            "itemType": category,
            "implementLevel": "city",
            "deptCode": dept,
            "onlineDepth": depth,
            "promiseDays": promised,
            "legalDays": statutory,
            "visitTimes": visits,
            "oneWindow": True,
            "inHall": code not in _NOT_IN_HALL,
            "approvalException": code in _APPROVAL_EXCEPTION,
            "materialList": item_materials(dept, code),
        })
    return out


def codes_for(department: str) -> list[tuple[str, str]]:
    """(catalogue_code, name) of a department's items, for the department simulators."""
    return [(code, name) for dept, code, name, *_ in _ITEMS if dept == department]
