"""The seed's targets (the city's plan) by period, and what each figure means.

The plan states the stages (网上可办率 at least 60 %, then 70 %, then 100 %; 最多跑一次 60 % then
100 %; 材料减少 30 % then 60 %; 进驻大厅 70 %; 一窗分类受理 50 % then 70 %) but this code does not
know the plan's dates: the months a stage starts are assumptions, set in one place, TARGETS.
A 100 % target excludes the items the city government let stay out (本级政府批准)."""
from __future__ import annotations

# figure -> [(first month "YYYY-MM", target)], in order; a month takes the last stage started
TARGETS: dict[str, list[tuple[str, float]]] = {
    "online": [("0000-01", 0.60), ("2027-01", 0.70), ("2028-01", 1.00)],
    "one_visit": [("0000-01", 0.60), ("2027-01", 1.00)],
    "materials": [("0000-01", 0.30), ("2027-01", 0.60)],
    "in_hall": [("0000-01", 0.70)],
    "one_window": [("0000-01", 0.50), ("2027-01", 0.70)],
}

FIGURES = {
    "online": {
        "label": "网上可办率", "en": "online-processable rate", "kind": "item",
        "numerator": "目录中网上办理深度达到网上预审(三级)或全程网办(四级)的事项数",
        "denominator": "目录中的事项数",
    },
    "one_visit": {
        "label": "最多跑一次", "en": "at most one visit", "kind": "case",
        "numerator": "本月办结、申请人到现场不超过1次的办件数",
        "denominator": "本月办结的办件数(撤件不计)",
    },
    "materials": {
        "label": "材料减少", "en": "materials reduced", "kind": "case",
        "numerator": "本月办结办件中由电子证照或共享数据复用、申请人免交的材料数",
        "denominator": "本月办结办件应交材料总数(撤件不计)",
    },
    "in_hall": {
        "label": "进驻综合性实体政务大厅", "en": "served in the integrated hall", "kind": "item",
        "numerator": "目录中进驻综合性实体政务大厅的事项数(未填报的按未进驻计)",
        "denominator": "目录中的事项数",
    },
    "one_window": {
        "label": "一窗分类受理", "en": "one-window acceptance", "kind": "case",
        "numerator": "本月窗口受理的办件中在综合窗口一窗分类受理的办件数",
        "denominator": "本月窗口受理的办件数(撤件不计)",
    },
}
ORDER = ("online", "one_visit", "materials", "in_hall", "one_window")
EXCEPTION_NOTE = "目标为100%时,经本级政府批准不纳入的事项不计入分子和分母"
OVERDUE = {
    "label": "超期办件", "en": "overdue cases",
    "numerator": "承诺期限(受理后工作日)落在本月、办结晚于期限或到月底未办结的办件数",
    "denominator": "承诺期限落在本月的办件数(撤件不计)",
}


def target(figure: str, month: str) -> float:
    value = None
    for first, t in TARGETS[figure]:
        if month >= first:
            value = t
    if value is None:
        raise KeyError(f"no target for {figure} in {month}")
    return value
