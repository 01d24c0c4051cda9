"""What complainants send and what they, and the bureaus, get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from tichub.core.schemas import InputModel
from tichub.supervision.models import ComplaintStatus


class ComplaintIn(InputModel):
    about_number: Annotated[str, Field(max_length=100)] = ""
    institution_id: Annotated[str, Field(max_length=26)] = ""
    text: Annotated[str, Field(min_length=10, max_length=5000)]
    contact_name: Annotated[str, Field(max_length=100)] = ""
    contact: Annotated[str, Field(max_length=254)] = ""


class StatusIn(InputModel):
    status: ComplaintStatus
    outcome: Annotated[str, Field(max_length=5000)] = ""


class ReceiptOut(BaseModel):
    tracking_code: str
    status: ComplaintStatus
    track_url: str


class TrackedOut(BaseModel):
    tracking_code: str
    status: ComplaintStatus
    about_number: str | None
    institution_name: str
    received_at: datetime
    updated_at: datetime
    outcome: str


class ComplaintOut(BaseModel):
    """For the bureau: the complaint with its complainant's contact details."""

    id: str
    tracking_code: str
    status: ComplaintStatus
    about_number: str | None
    institution_id: str | None
    institution_name: str = ""
    district: str
    text: str
    contact_name: str
    contact: str
    signed_in: bool
    outcome: str
    created_at: datetime
    updated_at: datetime
