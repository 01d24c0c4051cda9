"""What the staff register takes in and gives out."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tichub.core.schemas import InputModel
from tichub.registry.models import StaffRole

Id = Annotated[str, Field(min_length=26, max_length=26)]
Scope = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]],
                  Field(max_length=200, description=(
                      "standards (\"GB 4943.1\") or parameters the person may test or sign "
                      "for; empty: everything in the institution's scope"))]
Roles = Annotated[list[StaffRole], Field(max_length=3)]


class StaffIn(InputModel):
    institution_id: Id
    staff_no: Annotated[str, Field(min_length=1, max_length=60, examples=["ST-001"])] | None = None
    name: Annotated[str, Field(min_length=1, max_length=100, examples=["张明"])]
    title: Annotated[str, Field(max_length=100)] | None = None
    roles: Roles = Field(default_factory=list)
    authorised_for: Scope = Field(default_factory=list)
    employed_from: date
    employed_until: date | None = None
    authorised_from: date | None = Field(default=None, description=(
        "signatory role: first day of the authorisation (default: employed_from)"))
    authorised_until: date | None = None


class StaffPatch(InputModel):
    """Left out: kept. ``employed_until``/``authorised_until`` null: open again."""

    staff_no: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    title: Annotated[str, Field(max_length=100)] | None = None
    roles: Roles | None = None
    authorised_for: Scope | None = None
    employed_from: date | None = None
    employed_until: date | None = None
    authorised_from: date | None = None
    authorised_until: date | None = None


class StaffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    institution_id: str
    staff_no: str | None
    name: str
    title: str | None
    roles: list[StaffRole]
    authorised_for: list[str]
    employed_from: date
    employed_until: date | None
    authorised_from: date | None
    authorised_until: date | None
