"""Approval applications in and out of the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tichub.core.schemas import InputModel
from tichub.registry.schemas import ScopeLineIn
from tichub.supervision.models import ApplicationKind, ApplicationRoute, ApplicationStatus

MAX_SCOPE_LINES = 2_000
MAX_INSTRUMENTS = 500


class KeyInstrument(InputModel):
    name: str = Field(min_length=1, max_length=200, examples=["电感耦合等离子体质谱仪"])
    model: str = Field(default="", max_length=100)
    asset_no: str = Field(default="", max_length=60, description="the lab's own code, EQ-001")


class Conditions(InputModel):
    """What the institution states it has, and commits to being true."""

    site_address: str = Field(min_length=1, max_length=300)
    staff_count: int = Field(ge=1, le=100_000)
    key_instruments: list[KeyInstrument] = Field(default_factory=list,
                                                 max_length=MAX_INSTRUMENTS)
    scope: list[ScopeLineIn] = Field(
        default_factory=list, max_length=MAX_SCOPE_LINES,
        description="the scope lines applied for: needed for a first application and for "
                    "added parameters")


class ApplicationIn(InputModel):
    institution_id: str = Field(min_length=1, max_length=26)
    route: ApplicationRoute
    kind: ApplicationKind
    qualification_id: str | None = Field(
        default=None, max_length=26,
        description="the CMA qualification renewed, extended or moved: all kinds but first")
    conditions: Conditions
    commitment: str = Field(
        default="", max_length=4_000,
        description="commitment route: the commitment text exactly as GET "
                    "/api/supervision/applications/commitment gives it (zh or en); "
                    "sending it signs it")


class CheckIn(InputModel):
    passed: bool
    checked_on: date | None = Field(default=None, description="the on-site check's date; "
                                                              "default today (Beijing)")
    note: str = Field(default="", max_length=4_000)


class DecisionIn(InputModel):
    approved: bool
    note: str = Field(default="", max_length=4_000)


class CommitmentText(BaseModel):
    locale: str
    text: str


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    institution_id: str
    institution_name: str = ""
    district: str = ""
    route: ApplicationRoute
    kind: ApplicationKind
    status: ApplicationStatus
    conditions: dict[str, Any]
    commitment: str
    signed_by: str | None
    signed_at: datetime | None
    created_at: datetime
    qualification_id: str | None
    qualification_number: str | None = None
    check_due: date | None = Field(description="commitment route: the on-site check's deadline")
    checked_on: date | None = Field(
        description="the day of the on-site check (commitment) or of the decision (general)")
    check_note: str
    overdue: bool = False
    barred_until: date | None = Field(
        default=None, description="a failed check: the commitment route is closed to the "
                                  "institution until this day")
