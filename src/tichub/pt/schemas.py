"""What PT providers and participants send, and what they get back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from tichub.core.schemas import InputModel
from tichub.pt.analysis import Assigned, AssignedKind, ScoreKind, SigmaKind
from tichub.pt.stats import Method

Name = Annotated[str, Field(min_length=1, max_length=100)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class MeasurandIn(InputModel):
    name: Name
    name_en: Annotated[str, Field(max_length=200)] = ""
    unit: Annotated[str, Field(min_length=1, max_length=40)]
    mass_fraction_per_unit: Annotated[float | None, Field(gt=0, le=1)] = None


class SchemeIn(InputModel):
    org_id: Annotated[str, Field(min_length=26, max_length=26)]
    code: Code
    name_zh: Annotated[str, Field(min_length=1, max_length=200)]
    name_en: Annotated[str, Field(max_length=300)] = ""
    field: Annotated[str, Field(max_length=100)] = ""
    description: Annotated[str, Field(max_length=5000)] = ""
    method_groups: list[Name] = Field(default_factory=list, max_length=50)
    institution_id: Annotated[str | None, Field(min_length=26, max_length=26)] = None
    measurands: list[MeasurandIn] = Field(default_factory=list, max_length=200)


class MeasurandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    name_en: str
    unit: str
    mass_fraction_per_unit: float | None


class SchemeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    provider_org_id: str
    institution_id: str | None
    code: str
    name_zh: str
    name_en: str
    field: str
    description: str
    method_groups: list[str]
    measurands: list[MeasurandOut]


class SettingIn(InputModel):
    """How one measurand's assigned value and σ_pt are set in a round."""

    measurand: Name
    assigned_kind: AssignedKind = "consensus"
    method: Method = "algorithm-a"
    assigned_value: Finite | None = None
    assigned_u: Annotated[float | None, Field(ge=0, allow_inf_nan=False)] = None
    sigma_kind: SigmaKind = "robust"
    sigma_value: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None

    @model_validator(mode="after")
    def _complete(self) -> SettingIn:
        fault = Assigned(self.assigned_kind, self.method, self.assigned_value,
                         self.assigned_u).check()
        if fault:
            raise ValueError(f"assigned_value: {fault}")
        if self.sigma_kind in ("fixed", "previous") and self.sigma_value is None:
            raise ValueError(f"sigma_value: a {self.sigma_kind} σ_pt needs its value")
        return self


class RoundIn(InputModel):
    code: Code
    title: Annotated[str, Field(max_length=300)] = ""
    items: list[Annotated[str, Field(min_length=1, max_length=20,
                                     pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]] = Field(
        default_factory=lambda: ["A"], min_length=1, max_length=20)
    dispatch_on: date | None = None
    deadline: datetime
    score: ScoreKind = "z"
    k_xpt: Annotated[float, Field(gt=0, le=10)] = 2.0
    settings: list[SettingIn] = Field(default_factory=list, max_length=200, description=(
        "per measurand; measurands of the scheme left out use the consensus by Algorithm A "
        "and σ_pt from the robust SD"))

    @field_validator("items")
    @classmethod
    def _distinct(cls, items: list[str]) -> list[str]:
        if len(set(items)) != len(items):
            raise ValueError("item codes must differ")
        return items

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the deadline with its time zone, e.g. 2026-12-31T17:00+08:00")
        return value


class ParticipantOut(BaseModel):
    """Others' places show only their code; id, status, organisation and certificate are
    for the provider, supervision and the participant itself."""

    round_id: str
    code: str
    id: str | None = None
    org_id: str | None = None
    org_name: str | None = None
    status: str | None = None
    certificate_number: str | None = None


class RoundOut(BaseModel):
    id: str
    scheme_id: str
    scheme_code: str
    code: str
    title: str
    status: str
    items: list[str]
    dispatch_on: date | None
    deadline: datetime
    score: str
    measurands: list[dict[str, Any]]
    computed_at: datetime | None
    published_at: datetime | None


class InviteIn(InputModel):
    org_id: Annotated[str, Field(min_length=26, max_length=26)]


class JoinIn(InputModel):
    org_id: Annotated[str, Field(min_length=26, max_length=26)]


class AnswerIn(InputModel):
    accept: bool


class ResultIn(InputModel):
    measurand: Name
    item: Annotated[str, Field(min_length=1, max_length=20)] = "A"
    value: Finite
    unit: Annotated[str, Field(max_length=40)] = ""
    expanded_uncertainty: Annotated[float | None, Field(ge=0, allow_inf_nan=False)] = None
    coverage_factor: Annotated[float | None, Field(gt=0, le=10, allow_inf_nan=False)] = None
    method: Annotated[str, Field(max_length=200)] = ""


class ResultsIn(InputModel):
    org_id: Annotated[str, Field(min_length=26, max_length=26)]
    results: list[ResultIn] = Field(min_length=1, max_length=2000)


class ResultOut(BaseModel):
    id: str
    measurand: str
    item: str
    value: float
    unit: str
    reported_value: float
    reported_unit: str
    expanded_uncertainty: float | None
    coverage_factor: float | None
    method: str
    submitted_at: datetime
    z: float | None = None
    z_prime: float | None = None
    zeta: float | None = None
    en: float | None = None
    verdict: str | None = None


class UnsatisfactoryOut(BaseModel):
    round_id: str
    scheme_code: str
    round_code: str
    org_id: str
    org_name: str
    measurand: str
    item: str
    score: str
    value: float | None
    published_at: datetime | None


class StabilityIn(InputModel):
    measurand: Name
    before: list[Finite] = Field(min_length=1, max_length=1000)
    after: list[Finite] = Field(min_length=1, max_length=1000)
    sigma_pt: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None


class CorrectiveActionIn(InputModel):
    """What a lab did after an unsatisfactory PT result, and on which day (Beijing)."""

    done_on: date = Field(description="the day the corrective action was completed; not in "
                          "the future, not before the round's results were published")
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=2000), Field(description=(
        "what was done: cause found, the correction, how its effect was checked"))]


class CorrectiveActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    result_id: str
    org_id: str
    done_on: date = Field(validation_alias="recorded_on")
    note: str
    created_at: datetime
