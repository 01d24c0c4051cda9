"""Account data in and out of the API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from tichub.core.models import ApiToken, OrgKind, Role

# C0 controls but tab and newlines, DEL, and lone surrogates: PostgreSQL refuses NUL and
# invalid UTF-8 where SQLite stores them, and none of them belongs in a name or address.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_fault(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    m = _CONTROL.search(value)
    if m is None:
        return None
    code = ord(m.group())
    what = "an unpaired surrogate" if code >= 0xD800 else "a control character"
    return f"must not contain U+{code:04X} ({what})"


def column_length(column: Any) -> int:
    """The length of a ``String(n)`` column (``Model.attribute``): the one place that says
    how long a stored text may be, for the schemas and the importers alike."""
    length = getattr(column.type, "length", None)
    assert isinstance(length, int), f"{column} has no length"
    return length


class InputModel(BaseModel):
    """Base of every input schema: every text in it must be storable on every database."""

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, str) and (fault := text_fault(item)):
                raise ValueError(fault)
        return value


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


class TokenIn(InputModel):
    name: str = Field(max_length=column_length(ApiToken.name))
    scopes: list[str]
    # A time without a zone is ambiguous (and cannot be compared with the clock's UTC).
    expires_at: AwareDatetime | None = None


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
