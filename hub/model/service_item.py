"""事项: a service that can be applied for, as the provincial catalogue lists it."""
from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from .common import CanonicalModel, Department


class ServiceCategory(StrEnum):
    licensing = "licensing"            # 行政许可
    benefit = "benefit"                # 行政给付
    confirmation = "confirmation"      # 行政确认
    reward = "reward"                  # 行政奖励
    adjudication = "adjudication"      # 行政裁决
    public_service = "public_service"  # 公共服务


CATEGORY_LABELS = {
    "licensing": "行政许可", "benefit": "行政给付", "confirmation": "行政确认",
    "reward": "行政奖励", "adjudication": "行政裁决", "public_service": "公共服务",
}


class ServiceLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    town = "town"


class ServiceItem(CanonicalModel):
    kind: Literal["service_item"] = "service_item"
    catalogue_code: str = Field(min_length=1, description="基本编码")
    implementation_code: str = Field(min_length=1, description="实施编码")
    name: str
    category: ServiceCategory
    level: ServiceLevel
    department: Department
    online_depth: int = Field(ge=0, le=4, description="网上办理深度 0-4")
    promised_days: int = Field(ge=0, description="承诺办结时限 (working days)")
    statutory_days: int = Field(ge=0, description="法定办结时限 (working days)")
    required_visits: int = Field(ge=0, description="到现场次数")
    one_window: bool = Field(default=True, description="一窗受理")
    # For the monthly supervision report (hub/report/). Optional: a catalogue that does not
    # send them leaves them unknown (None / empty), and the report counts such an item as
    # not meeting the figure, so a gap in the catalogue shows instead of flattering it.
    in_hall: bool | None = Field(default=None, description="进驻综合性实体政务大厅")
    materials: list[str] = Field(default_factory=list, description="申请材料目录 (names)")
    approval_exception: bool = Field(
        default=False, description="经本级政府批准不纳入 (excluded from the 100 % targets)")


# 网上办理深度 (online depth, 0-4) as the seed's three kinds of item: 4 全程网办 (the whole
# case online), 3 网上预审 (materials checked online, one visit to finish), below that 线下.
ONLINE_MODE_LABELS = {"full_online": "全程网办", "online_prejudge": "网上预审", "offline": "线下"}
ONLINE_PROCESSABLE_DEPTH = 3   # 网上可办: at least 网上预审


def online_mode(depth: int) -> str:
    return "full_online" if depth >= 4 else "online_prejudge" if depth >= ONLINE_PROCESSABLE_DEPTH else "offline"
