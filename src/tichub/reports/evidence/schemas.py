"""What a lab may send with a report it registers: the evidence behind it (issue 15).

Every list and text is bounded: a registration call holds up to 1,000 records, and each
record's evidence is checked before anything is stored. A refusal names the field by its path
(``evidence.items.3.ended_at``), the position counted from 0 as in every other list."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from tichub.core.schemas import InputModel, column_length
from tichub.registry.districts import find_district
from tichub.reports.models import EvidenceItem, EvidenceResult, EvidenceSampling

MAX_ITEMS = 200
MAX_SAMPLINGS = 200
MAX_RESULTS = 500
# A result as a lab reports it: a decimal number, its trailing zeros kept (they say how
# precisely it was measured), optionally with an exponent. "<0.01" is not a number.
NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$")
# Times a test could have happened at: outside them, a typo (and PostgreSQL's range).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _text(column: object, minimum: int = 0) -> object:
    return Field(min_length=minimum, max_length=column_length(column))


Time = Annotated[AwareDatetime, Field(description="with its zone, e.g. 2026-03-02T09:30:00+08:00")]


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 2000 and 2099")
    return value.astimezone(UTC)


class ItemIn(InputModel):
    """A parameter tested: with which instrument, by whom, from when to when."""

    parameter: Annotated[str, _text(EvidenceItem.parameter, 1)]
    standard: Annotated[str | None, Field(max_length=column_length(EvidenceItem.standard))] = None
    instrument: Annotated[str, _text(EvidenceItem.instrument_ref)] = Field(
        "", description="the instrument's asset number in the lab's equipment register")
    tester: Annotated[str, _text(EvidenceItem.tester_ref)] = Field(
        "", description="the tester's staff number in the lab's staff register, or their name")
    started_at: Time
    ended_at: Time

    @field_validator("started_at", "ended_at")
    @classmethod
    def _bounded(cls, value: datetime) -> datetime:
        return _in_range(value)

    @model_validator(mode="after")
    def _order(self) -> ItemIn:
        if self.ended_at < self.started_at:
            raise ValueError("ended_at: ends before it started")
        return self


class SamplingIn(InputModel):
    """A sample taken: what, by whom, where and when."""

    what: Annotated[str, _text(EvidenceSampling.what)] = ""
    sampler: Annotated[str, _text(EvidenceSampling.sampler_ref)] = Field(
        "", description="the sampler's staff number, or their name")
    district: Annotated[str, Field(max_length=40, description=(
        "one of Shanghai's districts: its slug (pudong), code or name"))] = ""
    latitude: Annotated[float | None, Field(ge=-90, le=90)] = None
    longitude: Annotated[float | None, Field(ge=-180, le=180)] = None
    at: Time

    @field_validator("at")
    @classmethod
    def _bounded(cls, value: datetime) -> datetime:
        return _in_range(value)

    @field_validator("district")
    @classmethod
    def _district(cls, value: str) -> str:
        if not value.strip():
            return ""
        found = find_district(value)
        if found is None:
            raise ValueError("is not one of Shanghai's districts")
        return found.slug

    @model_validator(mode="after")
    def _both(self) -> SamplingIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("longitude: give both coordinates or neither")
        return self


class ResultIn(InputModel):
    """A numeric result, its value exactly as reported."""

    parameter: Annotated[str, _text(EvidenceResult.parameter, 1)]
    value: Annotated[str, Field(min_length=1, max_length=column_length(
        EvidenceResult.value_text), description='as printed, trailing zeros kept: "0.0250"')]
    unit: Annotated[str, _text(EvidenceResult.unit)] = ""

    @field_validator("value", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        # A JSON number has lost its trailing zeros already; take it as it came.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return repr(value)
        return value

    @field_validator("value")
    @classmethod
    def _number(cls, value: str) -> str:
        value = value.strip()
        if not NUMBER.match(value) or not math.isfinite(float(value)):
            raise ValueError("is not a number")
        return value


class EvidenceIn(InputModel):
    items: list[ItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    samplings: list[SamplingIn] = Field(default_factory=list, max_length=MAX_SAMPLINGS)
    results: list[ResultIn] = Field(default_factory=list, max_length=MAX_RESULTS)


class ItemOut(BaseModel):
    seq: int
    parameter: str
    standard: str | None
    instrument: str
    instrument_id: str | None = Field(description="the register row it names; null: none")
    tester: str
    tester_id: str | None
    started_at: datetime
    ended_at: datetime


class SamplingOut(BaseModel):
    seq: int
    what: str
    sampler: str
    sampler_id: str | None
    district: str
    latitude: float | None
    longitude: float | None
    at: datetime


class ResultOut(BaseModel):
    seq: int
    parameter: str
    value: str
    unit: str


class EvidenceOut(BaseModel):
    """A record's evidence as stored, and whether it is what the log's commitment holds."""

    record_id: str
    number: str
    institution_id: str
    items: list[ItemOut]
    samplings: list[SamplingOut]
    results: list[ResultOut]
    commitment_matches: bool = Field(description="the stored private fields, evidence "
                                     "included, open the commitment in the record's leaf, "
                                     "and the evidence rows are the committed ones")
