"""The demo seeders act as the demo users, through the ordinary permission checks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.models import Role, User


def acting(db: Session, email: str) -> tuple[Principal, str] | None:
    """The demo user with ``email`` as an admin of its first organisation, and that
    organisation's id; None when the data set has no such user."""
    user = db.scalar(select(User).where(User.email == email))
    if user is None or not user.memberships:
        return None
    org = user.memberships[0].org
    return Principal(user_id=user.id, email=email, roles={org.id: Role.admin},
                     kinds={org.id: org.kind}), org.id
