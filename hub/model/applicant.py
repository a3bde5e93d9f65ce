"""申请人: who applies, a person or an organisation, with a verified identifier."""
from __future__ import annotations

import re
from enum import StrEnum

from pydantic import ValidationInfo, field_validator, model_validator

from . import ids
from .common import CanonicalModel

_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


class ApplicantKind(StrEnum):
    person = "person"
    organisation = "organisation"


class IdType(StrEnum):
    resident_id = "resident_id"      # 居民身份证, GB 11643
    uscc = "uscc"                    # 统一社会信用代码, GB 32100
    passport = "passport"
    other = "other"


class Applicant(CanonicalModel):
    kind: ApplicantKind
    name: str
    id_type: IdType
    id_number: str
    phone: str | None = None

    # Field validators, not one model validator, so that an error names applicant.id_number.
    @field_validator("id_number")
    @classmethod
    def _check_id_number(cls, v: str, info: ValidationInfo) -> str:
        id_type = info.data.get("id_type")
        if id_type == IdType.resident_id:
            return ids.resident_id(v)
        if id_type == IdType.uscc:
            return ids.credit_code(v)
        return v

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v):
            raise ValueError("phone must be an 11-digit mobile number or a landline with area code")
        return v

    @model_validator(mode="after")
    def _kind_matches_id(self) -> "Applicant":
        if self.kind == ApplicantKind.person and self.id_type == IdType.uscc:
            raise ValueError("a person cannot be identified by a unified social credit code")
        return self
