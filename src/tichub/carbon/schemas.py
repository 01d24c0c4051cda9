"""What the carbon API takes and gives: factors, product models, studies and their
certification."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tichub.carbon import gwp, uncertainty
from tichub.core.schemas import InputModel

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Unit = Annotated[str, Field(min_length=1, max_length=40)]
Key = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
ProcessKey = Annotated[str, Field(min_length=1, max_length=40,
                                  pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
OrgId = Annotated[str, Field(min_length=26, max_length=26)]
Stage = Literal["raw_materials", "production", "distribution", "use", "end_of_life"]
Category = Literal["fossil", "biogenic", "biogenic_removal", "dluc", "land_management",
                   "aircraft"]
Gas = Literal[gwp.GASES]  # type: ignore[valid-type]


class UncertaintyIn(InputModel):
    kind: Literal["fixed", "lognormal", "normal", "triangular", "uniform", "pedigree"] = "fixed"
    gsd: Annotated[float, Field(ge=1, le=100)] = 1.0
    sd: Annotated[float, Field(ge=0, le=10)] = 0.0
    low: Annotated[float, Field(ge=0, le=1)] = 1.0
    high: Annotated[float, Field(ge=1, le=100)] = 1.0
    pedigree: list[Annotated[int, Field(ge=1, le=5)]] = Field(default_factory=list,
                                                             max_length=5)
    basic: Annotated[float, Field(ge=1, le=100)] = 1.05

    @model_validator(mode="after")
    def _complete(self) -> UncertaintyIn:
        if self.kind == "pedigree" and len(self.pedigree) != 5:
            raise ValueError("pedigree needs five scores: reliability, completeness, "
                             "temporal, geographical, technological")
        return self

    def core(self) -> uncertainty.Uncertainty:
        return uncertainty.Uncertainty(self.kind, self.gsd, self.sd, self.low, self.high,
                                       tuple(self.pedigree), self.basic)


class GasIn(InputModel):
    gas: Gas
    category: Category = "fossil"
    amount: Finite


class FactorIn(InputModel):
    key: Key
    name_zh: Annotated[str, Field(max_length=300)] = ""
    name_en: Annotated[str, Field(max_length=300)] = ""
    unit: Unit
    gases: list[GasIn] = Field(min_length=1, max_length=20)
    basis: Literal["", "AR5", "AR6"] = ""
    region: Annotated[str, Field(max_length=60)] = ""
    year: Annotated[int | None, Field(ge=1900, le=2100)] = None
    source: Annotated[str, Field(min_length=1, max_length=2000)]
    source_url: Annotated[str, Field(max_length=500)] = ""
    uncertainty: UncertaintyIn = Field(default_factory=UncertaintyIn)
    notes: Annotated[str, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _basis(self) -> FactorIn:
        if any(g.gas == "CO2e" for g in self.gases) and not self.basis:
            raise ValueError("a CO2e amount needs the GWP basis its source used (AR5 or AR6)")
        return self


class FactorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    key: str
    version: int
    current: bool
    org_id: str | None
    name_zh: str
    name_en: str
    unit: str
    gases: list[dict[str, Any]]
    basis: str
    region: str
    year: int | None
    source: str
    source_url: str
    uncertainty: dict[str, Any]
    notes: str
    created_at: datetime


class ImportSummary(BaseModel):
    added: int  # new keys
    new_versions: int  # keys whose values changed
    unchanged: int
    keys: list[str]


class InputIn(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    amount: Finite
    unit: Unit
    kind: Literal["material", "energy", "transport", "waste", "service", "emission"] = \
        "material"
    factor: Key | None = None
    process: ProcessKey | None = None
    model: OrgId | None = None
    gas: Gas | None = None
    category: Category = "fossil"
    primary: bool = False
    uncertainty: UncertaintyIn = Field(default_factory=UncertaintyIn)
    note: Annotated[str, Field(max_length=1000)] = ""

    @model_validator(mode="after")
    def _one_source(self) -> InputIn:
        if sum(x is not None for x in (self.factor, self.process, self.model, self.gas)) != 1:
            raise ValueError("an input comes from exactly one of: factor, process, model, "
                             "or is a direct emission (gas)")
        return self


class CoProductIn(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    amount: Positive
    unit: Unit
    mass_kg: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    price: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    displaces: Key | None = None


class ProcessIn(InputModel):
    key: ProcessKey
    name: Annotated[str, Field(min_length=1, max_length=200)]
    stage: Stage
    output_amount: Positive
    output_unit: Unit
    allocation: Literal["physical", "economic", "system_expansion"] = "physical"
    output_mass_kg: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    output_price: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    inputs: list[InputIn] = Field(default_factory=list, max_length=500)
    coproducts: list[CoProductIn] = Field(default_factory=list, max_length=20)


class ModelIn(InputModel):
    org_id: OrgId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    product: Annotated[str, Field(max_length=200)] = ""
    category: Annotated[str, Field(max_length=60)] = ""
    cn_code: Annotated[str, Field(max_length=20, pattern=r"^[0-9 ]*$")] = ""
    declared_amount: Positive = 1.0
    declared_unit: Unit = "piece"
    mass_kg: Annotated[float | None, Field(gt=0, allow_inf_nan=False, description="product "
                                           "mass per declared unit, kg (PACT asks for it)")] \
        = None
    functional_unit: Annotated[str, Field(max_length=2000)] = ""
    boundary: Literal["cradle_to_gate", "cradle_to_grave"] = "cradle_to_gate"
    basis: Literal["AR5", "AR6"] = "AR6"
    standard: Literal["GB/T 24067-2024", "ISO 14067:2018", "PACT"] = "GB/T 24067-2024"
    period_start: date | None = None
    period_end: date | None = None
    geography: Annotated[str, Field(max_length=60)] = "CN"
    cut_off: Annotated[str, Field(max_length=2000)] = ""
    description: Annotated[str, Field(max_length=5000)] = ""
    reference: ProcessKey | Literal[""] = ""
    processes: list[ProcessIn] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _period(self) -> ModelIn:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("the reference period ends before it starts")
        return self


class ModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    name: str
    product: str
    category: str
    cn_code: str
    declared_amount: float
    declared_unit: str
    mass_kg: float | None
    functional_unit: str
    boundary: str
    basis: str
    standard: str
    period_start: date | None
    period_end: date | None
    geography: str
    cut_off: str
    description: str
    reference: str
    processes: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class ComputeIn(InputModel):
    title: Annotated[str, Field(max_length=300)] = ""
    iterations: Annotated[int, Field(ge=0, le=20000)] = 1000
    seed: Annotated[int, Field(ge=0, le=2**31)] = 0


class StudyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    model_id: str
    title: str
    status: str
    factors: list[str]
    total: float
    excluding_biogenic: float
    results: dict[str, Any]
    uncertainty: dict[str, Any]
    cb_org_id: str | None
    cb_institution_id: str | None
    submitted_at: datetime | None
    checklist: dict[str, Any]
    decided_at: datetime | None
    decision_note: str
    certificate_number: str | None
    valid_from: date | None
    valid_until: date | None
    pact_id: str | None
    shared: bool
    created_at: datetime



# --- carbon-label certification --------------------------------------------------------------

# What a certification body checks before it certifies (ISO 14067 clause 6.3 and the
# verification points of ISO 14064-3 that apply to a product footprint).
CHECKS = ("boundary", "cut_off", "data_quality", "allocation")
Check = Literal["boundary", "cut_off", "data_quality", "allocation"]
Topic = Literal["boundary", "cut_off", "data_quality", "allocation", "general"]


class SubmitIn(InputModel):
    institution_id: Annotated[str, Field(min_length=26, max_length=26,
                                         description="the certification body (registry)")]


class CheckIn(InputModel):
    verdict: Literal["pending", "conforms", "finding", "not_applicable"] = "pending"
    note: Annotated[str, Field(max_length=2000)] = ""


class ChecklistIn(InputModel):
    items: dict[Check, CheckIn]


class MessageIn(InputModel):
    topic: Topic = "general"
    text: Annotated[str, Field(min_length=1, max_length=5000)]


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    study_id: str
    org_id: str
    topic: str
    text: str
    created_at: datetime


class DecisionIn(InputModel):
    decision: Literal["certify", "reject"]
    note: Annotated[str, Field(max_length=2000)] = ""
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> DecisionIn:
        if self.decision == "certify":
            if self.valid_until is None:
                raise ValueError("valid_until: a certificate states how long it is valid")
            if self.valid_from and self.valid_until <= self.valid_from:
                raise ValueError("valid_until: comes after valid_from")
        return self
