"""Registry data in and out of the API."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tichub.core.schemas import InputModel
from tichub.core.schemas import column_length as _len
from tichub.registry.models import (
    Institution,
    InstitutionKind,
    Qualification,
    QualificationKind,
    QualificationStatus,
    RevenueTier,
    ScopeLine,
    Staff,
)

# Lengths come from the columns (core.schemas.column_length); credit_code and district are
# checked and normalised by the service, and limitation is unbounded text.


class InstitutionIn(InputModel):
    kind: InstitutionKind = InstitutionKind.lab
    name_zh: str = Field(min_length=1, max_length=_len(Institution.name_zh))
    name_en: str | None = Field(default=None, max_length=_len(Institution.name_en))
    credit_code: str = Field(description="统一社会信用代码, 18 characters, GB 32100-2015")
    district: str = Field(description="one of Shanghai's 16 districts: slug, code or name")
    address: str = Field(default="", max_length=_len(Institution.address))
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    industrial_park: str | None = Field(default=None, max_length=_len(Institution.industrial_park))
    phone: str | None = Field(default=None, max_length=_len(Institution.phone))
    email: str | None = Field(default=None, max_length=_len(Institution.email),
                              pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    website: str | None = Field(default=None, max_length=_len(Institution.website),
                                pattern=r"^https?://[^\s]+$",
                                description="http:// or https:// address")
    revenue_tier: RevenueTier | None = None
    specialised: bool = False
    headquarters: bool = False
    published: bool = True


class InstitutionPatch(InputModel):
    name_zh: str | None = Field(default=None, min_length=1, max_length=_len(Institution.name_zh))
    name_en: str | None = Field(default=None, max_length=_len(Institution.name_en))
    district: str | None = None
    address: str | None = Field(default=None, max_length=_len(Institution.address))
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    industrial_park: str | None = Field(default=None,
                                        max_length=_len(Institution.industrial_park))
    phone: str | None = Field(default=None, max_length=_len(Institution.phone))
    email: str | None = Field(default=None, max_length=_len(Institution.email),
                              pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    website: str | None = Field(default=None, max_length=_len(Institution.website),
                                pattern=r"^https?://[^\s]+$",
                                description="http:// or https:// address")
    revenue_tier: RevenueTier | None = None
    specialised: bool | None = None
    headquarters: bool | None = None
    published: bool | None = None

    @field_validator("name_zh", "district", "address", "specialised", "headquarters",
                     "published")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Left out means "keep"; null would empty a column that must hold a value.
        if value is None:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value


class QualificationIn(InputModel):
    kind: QualificationKind
    number: str = Field(min_length=1, max_length=_len(Qualification.number),
                        examples=["CNAS L1234"])
    issued_on: date | None = None
    valid_until: date
    status: QualificationStatus = QualificationStatus.valid


class QualificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: QualificationKind
    number: str
    issued_on: date | None
    valid_until: date
    status: QualificationStatus = Field(description="effective today: a lapsed date is expired")
    on_commitment: bool = Field(
        default=False, description="granted on the institution's signed commitment (告知承诺), "
                                   "not yet verified on site by the bureau")


class SignatoryIn(InputModel):
    name: str = Field(min_length=1, max_length=_len(Staff.name), examples=["张明"])
    title: str | None = Field(default=None, max_length=_len(Staff.title))
    authorised_from: date
    authorised_until: date | None = None


class SignatoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    title: str | None
    authorised_from: date
    authorised_until: date | None


class ScopeLineIn(InputModel):
    standard: str = Field(max_length=_len(ScopeLine.standard), examples=["GB 31241-2022"])
    standard_title: str | None = Field(default=None, max_length=_len(ScopeLine.standard_title))
    product: str = Field(min_length=1, max_length=_len(ScopeLine.product))
    parameter: str = Field(min_length=1, max_length=_len(ScopeLine.parameter))
    product_en: str | None = Field(default=None, max_length=_len(ScopeLine.product_en))
    parameter_en: str | None = Field(default=None, max_length=_len(ScopeLine.parameter_en))
    method_clause: str | None = Field(default=None, max_length=_len(ScopeLine.method_clause))
    limitation: str | None = None


class ScopeLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    qualification_id: str
    line_no: int
    standard: str
    standard_title: str | None
    product: str
    parameter: str
    product_en: str | None
    parameter_en: str | None
    method_clause: str | None
    limitation: str | None


class InstitutionOut(BaseModel):
    id: str
    org_id: str
    kind: InstitutionKind
    name_zh: str
    name_en: str | None
    credit_code: str
    district: str
    district_zh: str
    district_en: str
    address: str
    latitude: float | None
    longitude: float | None
    industrial_park: str | None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    specialised: bool
    headquarters: bool
    published: bool
    revenue_tier: RevenueTier | None = Field(
        default=None, description="private: shown to the institution, regulator and operator"
    )
    qualifications: list[QualificationOut]


class MatchOut(BaseModel):
    tier: int = Field(description="3 exact standard (and year), 2 standard of another year, "
                                   "1 a part of the standard or a text match, 0 browsing")
    lines: int = Field(description="matching scope lines (standard searches) or documents")
    valid: bool = Field(description="matched under a valid qualification")


class SearchHit(BaseModel):
    institution: InstitutionOut
    match: MatchOut


class SearchOut(BaseModel):
    items: list[SearchHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]]
    interpreted: dict[str, object] = Field(
        description="how the query was read: standard key and year, words searched"
    )


class ImportReport(BaseModel):
    imported: int
    errors: list[dict[str, object]]
