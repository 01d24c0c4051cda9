"""What a supervisor sends to record a sanction, and what the public sees of sanctions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator, model_validator

from tichub.core.bounds import SAFE_INT_MAX
from tichub.core.ids import today
from tichub.core.schemas import InputModel
from tichub.reports import numbers
from tichub.supervision.models import SanctionKind

Id = Annotated[str, Field(min_length=26, max_length=26)]


class SanctionIn(InputModel):
    institution_id: Id
    bureau_org_id: Id | None = Field(None, description="the deciding bureau; needed only by "
                                                       "someone acting for several")
    kind: SanctionKind
    decision_no: Annotated[str, Field(
        min_length=1, max_length=60,
        description="the decision's number, e.g. 沪市监处〔2026〕12号")]
    decided_on: date
    deadline: date | None = Field(None, description="an order to correct: by when; a "
                                                    "suspension: until when")
    fine_fen: Annotated[int | None, Field(ge=1, le=SAFE_INT_MAX)] = None
    reason: Annotated[str, Field(max_length=4000)] = ""
    basis: Annotated[str, Field(max_length=60, description="e.g. order39_art14")] = ""
    inspection_id: Id | None = None
    qualification_id: Id | None = Field(None, description="suspension or revocation: the "
                                        "qualification; default every CMA one in force")
    signal_ids: list[Id] = Field(default_factory=list, max_length=100)
    false_numbers: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=200,
        description="reports found false: each is revoked in the log under this decision")
    key_field: bool = Field(False, description="the false reports are in a key field "
                            "(children's products, vehicles, e-bikes, fire products, "
                            "hazardous chemicals, CCC or licensed products)")

    @field_validator("false_numbers")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for n in value:
            norm = numbers.normalise(n)
            if norm not in out:
                out.append(norm)
        return out

    @model_validator(mode="after")
    def _by_kind(self) -> SanctionIn:
        if self.decided_on > today():
            raise ValueError("decided_on: is in the future")
        if self.kind is SanctionKind.correction and self.deadline is None:
            raise ValueError("deadline: an order to correct names its deadline")
        if self.deadline is not None and self.deadline < self.decided_on:
            raise ValueError("deadline: is before the decision")
        if self.kind is SanctionKind.fine and self.fine_fen is None:
            raise ValueError("fine_fen: a fine has an amount")
        if self.kind is not SanctionKind.fine and self.fine_fen is not None:
            raise ValueError("fine_fen: only a fine has an amount")
        return self


class LiftIn(InputModel):
    on: date | None = None
    reason: Annotated[str, Field(max_length=2000)] = ""


class SanctionOut(BaseModel):
    id: str
    institution_id: str
    institution: str
    bureau_org_id: str
    kind: SanctionKind
    decision_no: str
    decided_on: date
    deadline: date | None
    corrected_on: date | None
    fine_fen: int | None
    reason: str
    basis: str
    false_numbers: list[str]
    key_field: bool
    lifted_on: date | None
    created_at: datetime


class ThresholdsOut(BaseModel):
    institution_id: str
    false_reports: int
    key_field_reports: int
    repeat_within_two_years: bool
    propose_revocation: bool
    reasons: list[str]
