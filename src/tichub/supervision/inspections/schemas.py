"""What supervisors send to keep inspectors, plan and draw inspections and record findings,
and what the public plan document looks like."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from tichub.core.schemas import InputModel
from tichub.supervision.models import FindingOutcome, InspectionStatus, PlanStatus

Id = Annotated[str, Field(min_length=26, max_length=26)]
TierName = Annotated[str, Field(pattern=r"^[ABCD]$")]


class ConflictReason(enum.StrEnum):
    former_employer = "former_employer"
    relative = "relative"
    recent_audit = "recent_audit"


class ConflictIn(InputModel):
    institution_id: Id
    reason: ConflictReason
    until: date | None = Field(None, description="the last day the conflict holds; none: "
                                                 "for good")


class InspectorIn(InputModel):
    bureau_org_id: Id | None = Field(None, description="the bureau; needed only by someone "
                                                       "acting for several")
    name: Annotated[str, Field(min_length=1, max_length=100)]
    user_id: Id | None = None
    conflicts: list[ConflictIn] = Field(default_factory=list, max_length=200)


class ConflictsIn(InputModel):
    conflicts: list[ConflictIn] = Field(max_length=200)


class InspectorOut(BaseModel):
    id: str
    bureau_org_id: str
    name: str
    user_id: str | None
    conflicts: list[dict[str, Any]]
    active: bool


class ItemIn(InputModel):
    code: Annotated[str, Field(min_length=1, max_length=40)]
    description: Annotated[str, Field(max_length=500)] = ""


class PlanIn(InputModel):
    bureau_org_id: Id | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)]
    items: list[ItemIn] = Field(min_length=1, max_length=50)
    tier_shares: dict[TierName, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] | None = \
        Field(None, description="the share of each tier to draw, 0-1 (to 0.01 %); default "
                                "A 0.03, B 0.10, C 0.30, D 1.0")

    @model_validator(mode="after")
    def _distinct_items(self) -> PlanIn:
        codes = [i.code for i in self.items]
        if len(set(codes)) != len(codes):
            raise ValueError("items: each item has its own code")
        return self


class CheckpointOut(BaseModel):
    size: int
    root_hash: str = Field(description="hex")
    note: str = Field(description="the log's signed checkpoint (C2SP signed note)")


class InspectionOut(BaseModel):
    id: str
    plan_id: str | None
    institution_id: str
    institution: str
    inspector_ids: list[str]
    status: InspectionStatus
    done_on: date | None
    summary: str
    findings: list[dict[str, Any]]


class PlanOut(BaseModel):
    """A plan as published: the frozen document and its digest, the checkpoint that seeded
    the draw and the picks (recompute them with ``tichub supervision draw --verify``), and
    the results once published."""

    id: str
    bureau_org_id: str
    district: str | None
    title: str
    status: PlanStatus
    items: list[dict[str, Any]]
    tier_shares: dict[str, float]
    frozen: dict[str, Any] | None
    frozen_at: datetime | None
    digest: str | None
    checkpoint: CheckpointOut | None
    picks: list[dict[str, Any]] | None
    completed_on: date | None
    publication_due: date | None
    published_at: datetime | None
    results: list[InspectionOut] | None = None
    log_key: str | None = Field(None, description="the log's verifier key (pin your own copy "
                                                  "of it rather than trust this one)")


class FindingIn(InputModel):
    item: Annotated[str, Field(min_length=1, max_length=40)]
    outcome: FindingOutcome
    note: Annotated[str, Field(max_length=4000)] = ""
    files: list[Id] = Field(default_factory=list, max_length=20)


class FinishIn(InputModel):
    summary: Annotated[str, Field(max_length=4000)] = ""


class FileOut(BaseModel):
    id: str
    name: str
    content_type: str
    size: int
    sha256: str
