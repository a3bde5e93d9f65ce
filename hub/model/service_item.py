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
