"""What the equipment register takes in and gives out."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from tichub.core.schemas import InputModel
from tichub.market.models import InstrumentEventKind

Id = Annotated[str, Field(min_length=26, max_length=26)]
TestsPerDay = Annotated[int, Field(ge=1, le=100_000, description="tests it can do in a day")]
HoursPerTest = Annotated[float, Field(gt=0, le=10_000, description="hours one test takes")]


def _one_capacity(tests: int | None, hours: float | None) -> None:
    if tests is not None and hours is not None:
        raise ValueError("give tests_per_day or hours_per_test, not both")


class EquipmentIn(InputModel):
    institution_id: Id
    asset_no: Annotated[str, Field(min_length=1, max_length=60, examples=["EQ-001"])]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Annotated[str, Field(min_length=1, max_length=100, examples=["ICP-MS"])]
    maker: Annotated[str, Field(max_length=100)] = ""
    model: Annotated[str, Field(max_length=100)] = ""
    location: Annotated[str, Field(max_length=300)] = ""
    measures: Annotated[str, Field(max_length=2000)] = ""
    tests_per_day: TestsPerDay | None = None
    hours_per_test: HoursPerTest | None = None
    shared: bool = Field(default=False, description="listed in the marketplace for booking")

    @field_validator("hours_per_test")
    @classmethod
    def _capacity(cls, value: float | None, info: ValidationInfo) -> float | None:
        _one_capacity(info.data.get("tests_per_day"), value)
        return value


class EquipmentPatch(InputModel):
    """Left out: kept. Capacity: give the one that applies; the other is cleared."""

    asset_no: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    kind: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    maker: Annotated[str, Field(max_length=100)] | None = None
    model: Annotated[str, Field(max_length=100)] | None = None
    location: Annotated[str, Field(max_length=300)] | None = None
    measures: Annotated[str, Field(max_length=2000)] | None = None
    tests_per_day: TestsPerDay | None = None
    hours_per_test: HoursPerTest | None = None
    shared: bool | None = None
    active: bool | None = Field(default=None, description="false: retired from the register")

    @field_validator("hours_per_test")
    @classmethod
    def _capacity(cls, value: float | None, info: ValidationInfo) -> float | None:
        _one_capacity(info.data.get("tests_per_day"), value)
        return value


class EventIn(InputModel):
    kind: InstrumentEventKind
    valid_from: date
    valid_until: date | None = Field(default=None, description=(
        "calibration or verification: last day it is valid (required); out of service: "
        "last day out, or empty while it still is"))
    certificate_no: Annotated[str, Field(max_length=100)] = ""
    performed_by: Annotated[str, Field(max_length=200)] = ""
    note: Annotated[str, Field(max_length=500)] = ""


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    instrument_id: str
    kind: InstrumentEventKind
    valid_from: date
    valid_until: date | None
    certificate_no: str
    performed_by: str
    note: str


class EquipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    institution_id: str | None
    asset_no: str | None
    name: str
    kind: str
    maker: str
    model: str
    location: str
    measures: str
    tests_per_day: int | None
    hours_per_test: float | None
    shared: bool
    active: bool
    calibrated_on: date | None = Field(description="from the latest calibration or "
                                                   "verification, when there is one")
    calibration_due: date | None


class EquipmentDetail(EquipmentOut):
    events: list[EventOut]
    usable_today: bool
