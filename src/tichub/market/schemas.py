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


Standard = Annotated[str, Field(min_length=1, max_length=100)]
Delivery = Annotated[str, Field(pattern="^(drop_off|pickup|mail)$")]


class ListingIn(InputModel):
    org_id: OrgId
    institution_id: OrgId
    title: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Annotated[str, Field(pattern="^(test|inspection|calibration|certification)$")] = "test"
    standards: list[Standard] = Field(min_length=1, max_length=50)
    parameters: Annotated[str, Field(max_length=5000)] = ""
    sample_requirements: Annotated[str, Field(max_length=5000)] = ""
    turnaround_days: Annotated[int, Field(ge=1, le=365)] = 7
    price_fen: Fen
    tax_rate_pct: Annotated[int, Field(ge=0, le=100)] = 6
    capacity_per_month: Annotated[int | None, Field(ge=1, le=1_000_000)] = None
    accredited: bool = Field(True, description=(
        "claim the service lies in the institution's valid CMA or CNAS scope (checked); "
        "false lists it plainly as unaccredited"))


class ListingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    institution_id: str
    title: str
    kind: str
    standards: list[str]
    parameters: str
    sample_requirements: str
    turnaround_days: int
    price_fen: int
    tax_rate_pct: int
    capacity_per_month: int | None
    accredited: bool
    active: bool


class RequestIn(InputModel):
    org_id: OrgId  # the company
    product: Annotated[str, Field(min_length=1, max_length=300)]
    standards: list[Standard] = Field(default_factory=list, max_length=50)
    target_markets: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=30)
    quantity: Annotated[int, Field(ge=1, le=100_000)] = 1
    needed_by: date | None = None
    description: Annotated[str, Field(max_length=5000)] = ""
    institution_ids: list[OrgId] = Field(min_length=1, max_length=20, description=(
        "the labs (institutions) asked to quote, e.g. picked from the directory's search"))
    sample_delivery: Delivery = "drop_off"
    sample_return: bool = False


class OrderIn(InputModel):
    """A listed service ordered directly: the listing's price is the quote."""

    org_id: OrgId
    product: Annotated[str, Field(min_length=1, max_length=300)]
    quantity: Annotated[int, Field(ge=1, le=100_000)] = 1
    needed_by: date | None = None
    sample_delivery: Delivery = "drop_off"
    sample_return: bool = False
    notes: Annotated[str, Field(max_length=5000)] = ""


class ActionIn(InputModel):
    """One step of an order; the fields an action needs: ``quote`` amount_fen (and
    tax_fen, valid_until); ``issue_report`` report_number (registered by the lab);
    ``amend`` any of quantity, needed_by, sample_delivery, sample_return, notes;
    ``accept`` optionally voucher_id and voucher_fen."""

    action: Annotated[str, Field(min_length=1, max_length=30)]
    note: Annotated[str, Field(max_length=2000)] = ""
    amount_fen: Annotated[int | None, Field(ge=0, le=10**13)] = None
    tax_fen: Annotated[int | None, Field(ge=0, le=10**13)] = None
    valid_until: date | None = None
    report_number: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    quantity: Annotated[int | None, Field(ge=1, le=100_000)] = None
    needed_by: date | None = None
    sample_delivery: Delivery | None = None
    sample_return: bool | None = None
    notes: Annotated[str | None, Field(max_length=5000)] = None
    voucher_id: Annotated[str | None, Field(min_length=26, max_length=26)] = None
    voucher_fen: Annotated[int | None, Field(gt=0, le=10**13)] = None


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    number: str
    company_org_id: str
    lab_org_id: str
    institution_id: str
    listing_id: str | None
    request_id: str | None
    product: str
    standards: list[str]
    quantity: int
    needed_by: date | None
    sample_delivery: str
    sample_return: bool
    notes: str
    status: str
    amount_fen: int | None
    tax_fen: int | None
    quote_valid_until: date | None
    voucher_fen: int
    report_number: str | None
    report_record_id: str | None
    rating: int | None
    review: str
    updated_at: datetime
    actions: list[str] = Field(default_factory=list, description="what the caller may do next")


class RatingIn(InputModel):
    rating: Annotated[int, Field(ge=1, le=5)]
    review: Annotated[str, Field(max_length=2000)] = ""


class ApplicationIn(InputModel):
    org_id: OrgId
    requested_fen: Annotated[int, Field(gt=0, le=10**11)]
    purpose: Annotated[str, Field(max_length=2000)] = ""
    district: Annotated[str, Field(min_length=1, max_length=20)]
    sector: Annotated[str, Field(min_length=1, max_length=50)]


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    programme_id: str
    org_id: str
    requested_fen: int
    purpose: str
    district: str
    sector: str
    status: str
    voucher_id: str | None


class ApplicationDecisionIn(InputModel):
    approve: bool
    face_fen: Annotated[int | None, Field(gt=0, le=10**11)] = None
    valid_until: date | None = None


Tag = Annotated[str, Field(min_length=1, max_length=100)]


class ExpertIn(InputModel):
    org_id: OrgId
    name: Annotated[str, Field(min_length=1, max_length=100)]
    title: Annotated[str, Field(max_length=200)] = ""
    fields: list[Tag] = Field(min_length=1, max_length=20)
    committees: list[Tag] = Field(default_factory=list, max_length=20)
    languages: list[Tag] = Field(default_factory=lambda: ["zh"], max_length=10)
    fee_fen_per_hour: Fen = 0
    bio: Annotated[str, Field(max_length=5000)] = ""


class ExpertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    name: str
    title: str
    fields: list[str]
    committees: list[str]
    languages: list[str]
    fee_fen_per_hour: int
    bio: str


class ConsultationIn(InputModel):
    org_id: OrgId  # the client
    topic: Annotated[str, Field(min_length=1, max_length=300)]
    question: Annotated[str, Field(max_length=5000)] = ""
    preferred_times: Annotated[str, Field(max_length=500)] = ""


class ConsultationStepIn(InputModel):
    """``schedule`` (scheduled_at, minutes), ``decline``, ``cancel``, or ``advise``
    (advice, minutes: what was advised and how long it took, which sets the fee)."""

    action: Annotated[str, Field(pattern="^(schedule|decline|cancel|advise)$")]
    scheduled_at: datetime | None = None
    minutes: Annotated[int | None, Field(ge=5, le=600)] = None
    advice: Annotated[str, Field(max_length=20000)] = ""


class ConsultationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    expert_id: str
    client_org_id: str
    topic: str
    question: str
    preferred_times: str
    status: str
    scheduled_at: datetime | None
    minutes: int | None
    advice: str
    fee_fen: int | None
