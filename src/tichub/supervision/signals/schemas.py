"""Signals in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from tichub.core.schemas import InputModel
from tichub.supervision.models import Severity, SignalStatus

Reason = Annotated[str, Field(max_length=2000)]


class DecisionIn(InputModel):
    status: SignalStatus = Field(description="under_review, confirmed or dismissed")
    reason: Reason = ""


class QuestionIn(InputModel):
    question: Annotated[str, Field(min_length=1, max_length=2000)]


class AnswerIn(InputModel):
    answer: Annotated[str, Field(min_length=1, max_length=5000)]


class FileOut(BaseModel):
    id: str
    name: str
    content_type: str
    size: int
    sha256: str


class SignalOut(BaseModel):
    id: str
    code: str
    title: str
    explanation: str
    basis: str
    basis_label: str
    severity: Severity
    status: SignalStatus
    institution_id: str
    district: str
    record_id: str | None
    number: str | None
    params: dict[str, Any]
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, description="the evidence rows that raised it: table and key "
        "(supervisors only)")
    source: str
    created_at: datetime
    reason: str = ""
    decided_at: datetime | None = None
    question: str = ""
    asked_at: datetime | None = None
    answer: str = ""
    answered_at: datetime | None = None
    files: list[FileOut] = Field(default_factory=list)


class RuleOut(BaseModel):
    code: str
    title: str
    severity: Severity
    basis: str
    basis_label: str
    deterministic: bool
    incremental: bool
    confirmed: int = 0
    dismissed: int = 0
    open: int = 0
    precision: float | None = None


class RunOut(BaseModel):
    id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    records: int
    raised: int
    figures: dict[str, Any]
