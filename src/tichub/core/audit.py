"""Writes to the append-only audit log, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tichub.core.db import table
from tichub.core.models import AuditEvent


def record(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: str,
    actor_user_id: str | None,
    org_id: str | None,
    data: dict[str, Any] | None = None,
    summary: str = "",
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor_user_id=actor_user_id,
        org_id=org_id,
        data=data or {},
        summary=summary,
    )
    session.add(event)
    return event


def record_many(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    """Many events (each with the fields of ``record``) in one multi-row insert, for use
    cases that change many objects at once, such as a batch of registrations."""
    if events:
        session.execute(insert(table(AuditEvent)),
                        [{"data": {}, "summary": "", **e} for e in events])
