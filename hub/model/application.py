"""申请: what a citizen or company submits on the unified platform, sent down to a department."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from .applicant import Applicant
from .case import Channel, Material
from .common import AwareDatetime, CanonicalModel, Department, Scalar


class Application(CanonicalModel):
    kind: Literal["application"] = "application"
    application_no: str = Field(min_length=1, description="the platform's 申办流水号")
    item_code: str
    department: Department
    applicant: Applicant
    channel: Channel = Channel.online
    submitted_at: AwareDatetime
    materials: list[Material] = Field(default_factory=list)
    form: dict[str, Scalar] = Field(default_factory=dict)
