"""What owners, bookers and voucher operators send, and what they get back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tichub.core.schemas import InputModel

Fen = Annotated[int, Field(ge=0, le=10**13, description="an amount in fen (1/100 yuan)")]
OrgId = Annotated[str, Field(min_length=26, max_length=26)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give the time with its zone, e.g. 2026-12-01T09:00+08:00")
    return value


class InstrumentIn(InputModel):
    org_id: OrgId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Annotated[str, Field(min_length=1, max_length=100)]
    maker: Annotated[str, Field(max_length=100)] = ""
    model: Annotated[str, Field(max_length=100)] = ""
    location: Annotated[str, Field(max_length=300)] = ""
    district: Annotated[str, Field(max_length=20)] = ""
    measures: Annotated[str, Field(max_length=2000)] = ""
    hourly_rate_fen: Fen = 0
    daily_rate_fen: Fen = 0
    calibrated_on: date | None = None
    calibration_due: date | None = None
    operator_required: bool = False
    auto_approve: bool = True
    min_lead_hours: Annotated[int, Field(ge=0, le=24 * 90)] = 0
    max_advance_days: Annotated[int, Field(ge=1, le=730)] = 90
    quota_hours_per_month: Annotated[int | None, Field(ge=1, le=744)] = None
    enterprise_share_pct: Annotated[int, Field(ge=0, le=100)] = 0
    hours_per_day: Annotated[int, Field(ge=1, le=24)] = 8
    cancel_hours: Annotated[int, Field(ge=0, le=24 * 30)] = 24
    no_show_limit: Annotated[int, Field(ge=1, le=100)] = 3
    bar_days: Annotated[int, Field(ge=0, le=365)] = 30


class InstrumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    name: str
    kind: str
    maker: str
    model: str
    location: str
    district: str
    measures: str
    hourly_rate_fen: int
    daily_rate_fen: int
    calibrated_on: date | None
    calibration_due: date | None
    operator_required: bool
    auto_approve: bool
    min_lead_hours: int
    max_advance_days: int
    quota_hours_per_month: int | None
    enterprise_share_pct: int
    hours_per_day: int
    cancel_hours: int
    no_show_limit: int
    bar_days: int
    active: bool


class BookingIn(InputModel):
    org_id: OrgId
    starts_at: datetime
    ends_at: datetime
    on_behalf_of: Annotated[str, Field(max_length=200)] = ""
    purpose: Annotated[str, Field(max_length=500)] = ""

    _zone = field_validator("starts_at", "ends_at")(_aware)

    @model_validator(mode="after")
    def _order(self) -> BookingIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: a booking ends after it starts")
        return self


class BookingOut(BaseModel):
    """A booking; others than the booker and the owner see only that the time is taken."""

    id: str
    instrument_id: str
    starts_at: datetime
    ends_at: datetime
    status: str
    org_id: str | None = None
    on_behalf_of: str | None = None
    purpose: str | None = None
    price_fen: int | None = None


class DecisionIn(InputModel):
    approve: bool


class OutcomeIn(InputModel):
    outcome: Annotated[str, Field(pattern="^(completed|no_show)$")]


class ProgrammeIn(InputModel):
    org_id: OrgId
    code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][\w.-]*$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    budget_fen: Annotated[int, Field(gt=0, le=10**13)]
    max_share_pct: Annotated[int, Field(ge=1, le=100)] = 50
    valid_from: date
    valid_until: date
    eligible_kinds: Annotated[str, Field(max_length=300)] = "test"
    notice_days: Annotated[int, Field(ge=0, le=60)] = 7

    @model_validator(mode="after")
    def _period(self) -> ProgrammeIn:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until: the programme ends after it starts")
        return self


class ProgrammeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    operator_org_id: str
    code: str
    name: str
    budget_fen: int
    allocated_fen: int
    max_share_pct: int
    valid_from: date
    valid_until: date
    eligible_kinds: str
    notice_days: int


class ProviderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    programme_id: str
    org_id: str
    status: str
    listed_from: date | None


class VoucherIn(InputModel):
    holder_org_id: OrgId
    face_fen: Annotated[int, Field(gt=0, le=10**11)]
    valid_until: date


class VoucherOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    programme_id: str
    holder_org_id: str
    number: str
    face_fen: int
    balance_fen: int
    valid_until: date
    status: str


class RedeemIn(InputModel):
    provider_org_id: OrgId
    reference: Annotated[str, Field(min_length=1, max_length=100)]
    order_amount_fen: Annotated[int, Field(gt=0, le=10**13)]
    amount_fen: Annotated[int, Field(gt=0, le=10**13)]


class RedemptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    voucher_id: str
    provider_org_id: str
    reference: str
    amount_fen: int
    settled: bool


class ProviderIn(InputModel):
    org_id: OrgId


class SettleIn(InputModel):
    provider_org_id: OrgId
