"""The regulator's dashboard figures as JSON: /api/supervision/dashboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from tichub.core.auth import DB, Principal, access
from tichub.supervision.dashboard import service

router = APIRouter(prefix="/api/supervision", tags=["supervision: dashboard"])

Supervisor = Annotated[Principal, access(
    "user", scope="supervision:read", note="supervisors; a district bureau sees its district")]


@router.get("/dashboard")
def dashboard(db: DB, principal: Supervisor) -> dict[str, Any]:
    """Tiers and open signals by district, the tier mix and signals per month over the
    last 12 months, inspections planned and commitment checks due."""
    return service.as_json(service.build(db, principal))
