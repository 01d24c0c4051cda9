"""Credit-risk tiers in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from tichub.core.schemas import InputModel
from tichub.supervision.models import AppealStatus

Id = Annotated[str, Field(min_length=1, max_length=26)]


class RecomputeIn(InputModel):
    institution_id: Id | None = None


class RecomputeOut(BaseModel):
    scored: int


class ContributionOut(BaseModel):
    key: str
    count: int
    weight: float
    points: float


class ScoreOut(BaseModel):
    id: str
    institution_id: str
    computed_at: datetime
    period: str
    trigger: str
    rule_version: str
    score: float
    tier: str
    contributions: list[ContributionOut]
    inputs: dict[str, int]


class InstitutionTierOut(BaseModel):
    institution_id: str
    name_zh: str
    district: str
    tier: str  # "B" when never scored
    latest: ScoreOut | None
    history: list[ScoreOut]


class TierRowOut(BaseModel):
    institution_id: str
    name_zh: str
    district: str
    tier: str
    score: float | None


class TierPageOut(BaseModel):
    items: list[TierRowOut]
    total: int
    page: int
    per_page: int


class VerifyOut(BaseModel):
    score_id: str
    matches: bool
    stored: dict[str, Any]
    recomputed: dict[str, Any]


class AppealIn(InputModel):
    score_id: Id
    text: Annotated[str, Field(min_length=1, max_length=5000)]


class DecisionIn(InputModel):
    upheld: bool
    answer: Annotated[str, Field(min_length=1, max_length=5000)]


class AppealOut(BaseModel):
    id: str
    score_id: str
    institution_id: str
    text: str
    files: list[str]
    status: AppealStatus
    answer: str
    created_at: datetime
    decided_at: datetime | None
