"""Account data in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tichub.core.models import OrgKind, Role


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    kind: OrgKind


class MembershipOut(BaseModel):
    org: OrgOut
    role: Role


class MeOut(BaseModel):
    id: str
    email: str
    display_name: str
    memberships: list[MembershipOut]
    scopes: list[str] | None = Field(
        description="the API token's scopes; null for a browser session"
    )


class MemberOut(BaseModel):
    user_id: str
    email: str
    display_name: str
    role: Role


class TokenIn(BaseModel):
    name: str = Field(max_length=100)
    scopes: list[str]
    expires_at: datetime | None = None


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="shown once; store it now")


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    at: datetime
    actor_user_id: str | None
    action: str
    object_type: str
    object_id: str
    data: dict[str, Any]
