"""办件 and 办件过程: a case and the steps it goes through."""
from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from .applicant import Applicant
from .common import AwareDatetime, CanonicalModel, Department, Scalar

# The store keeps a case number in 100 characters (hub/store/schema.py CASE_NO); a longer one
# is no case number, and on PostgreSQL it would fail the message log insert on every re-read.
CASE_NO_MAX = 100


class Channel(StrEnum):
    online = "online"
    window = "window"
    mobile = "mobile"
    self_service = "self_service"


class EventType(StrEnum):
    submitted = "submitted"                        # 收件
    prejudged = "prejudged"                        # 预审
    accepted = "accepted"                          # 受理
    rejected = "rejected"                          # 不予受理
    supplement_requested = "supplement_requested"  # 补正
    supplemented = "supplemented"                  # 补正结束
    in_review = "in_review"                        # 承办/审查
    decided = "decided"                            # 决定
    certificate_issued = "certificate_issued"      # 发证
    completed = "completed"                        # 办结
    withdrawn = "withdrawn"                        # 撤件
    suspended = "suspended"                        # 特别程序/中止


EVENT_LABELS = {
    "submitted": "收件", "prejudged": "预审", "accepted": "受理", "rejected": "不予受理",
    "supplement_requested": "补正", "supplemented": "补正结束", "in_review": "审查",
    "decided": "决定", "certificate_issued": "发证", "completed": "办结",
    "withdrawn": "撤件", "suspended": "特别程序",
}


class Material(CanonicalModel):
    name: str
    required: bool = True
    provided: bool = True
    reused_certificate: str | None = Field(default=None, description="number of the e-certificate reused instead of paper")
    # 材料减少: a material the applicant did not have to bring because the hub found it in an
    # e-certificate (电子证照) or in another department's shared data (共享数据). Optional: None
    # means not reused (or, with reused_certificate set, from an e-certificate).
    reused_from: Literal["certificate", "shared_data"] | None = Field(
        default=None, description="电子证照 / 共享数据复用")

    @property
    def reused(self) -> bool:
        return self.reused_from is not None or self.reused_certificate is not None


class Case(CanonicalModel):
    kind: Literal["case"] = "case"
    case_no: str = Field(min_length=1, max_length=CASE_NO_MAX)
    item_code: str
    department: Department
    applicant: Applicant
    channel: Channel
    submitted_at: AwareDatetime
    accepted_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    status: EventType
    visits: int = Field(default=0, ge=0)
    materials: list[Material] = Field(default_factory=list)
    # For the monthly supervision report: the time limit promised for this case (承诺时限,
    # working days; None: the item's) and whether it was accepted at the integrated window
    # (一窗分类受理; None: unknown).
    promised_days: int | None = Field(default=None, ge=0)
    one_window: bool | None = None


Attribute = Scalar


class CaseEvent(CanonicalModel):
    kind: Literal["case_event"] = "case_event"
    case_no: str = Field(min_length=1, max_length=CASE_NO_MAX)
    sequence: int = Field(ge=1, description="per-case step number, 1-based")
    type: EventType
    occurred_at: AwareDatetime
    department: Department
    item_code: str | None = None
    handler: str | None = None
    opinion: str | None = None
    applicant: Applicant | None = None
    # Department-specific facts the platform shows but the canonical core does not
    # model (e.g. registered capital). Flat and scalar so that comparisons stay simple.
    attributes: dict[str, Attribute] = Field(default_factory=dict)
    materials: list[Material] = Field(default_factory=list)
    # For the monthly supervision report (hub/report/feed.py folds a case's events into one
    # row): what the department's system knows of the case at this step. Optional: a system
    # that does not send them leaves them unknown, and the report counts such a case as not
    # meeting the figure (a gap shows instead of flattering it).
    channel: Channel | None = Field(default=None, description="申请渠道 / 受理方式")
    submitted_at: AwareDatetime | None = Field(default=None, description="申请(收件)时间, when the first step is not 收件")
    visits: int | None = Field(default=None, ge=0, description="到现场次数 made so far")
    promised_days: int | None = Field(default=None, ge=0, description="承诺时限 (working days)")
    one_window: bool | None = Field(default=None, description="一窗分类受理")


class Certificate(CanonicalModel):
    kind: Literal["certificate"] = "certificate"
    number: str = Field(min_length=1)
    type: str = Field(description="证照类型, e.g. 营业执照")
    holder: Applicant
    issuer: str
    issued_at: AwareDatetime
    valid_from: AwareDatetime
    valid_to: AwareDatetime | None = Field(default=None, description="None means long-term (长期)")
    case_no: str = Field(max_length=CASE_NO_MAX)
    department: Department

    # A field validator (valid_to comes after valid_from), so the error names valid_to.
    @field_validator("valid_to")
    @classmethod
    def _validity_order(cls, v, info: ValidationInfo):
        start = info.data.get("valid_from")
        if v is not None and start is not None and v < start:
            raise ValueError("valid_to is before valid_from")
        return v
