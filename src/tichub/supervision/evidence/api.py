"""A report's evidence as JSON, for its issuer and the supervisors of its district. Served
under the report registry's prefix, beside the record it belongs to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from tichub.core.auth import DB, Principal, access
from tichub.reports.evidence import service
from tichub.reports.evidence.schemas import EvidenceOut

router = APIRouter(prefix="/api/reports", tags=["reports"])

Reader = Annotated[Principal, access(
    "user", note="members of the issuing organisation (API tokens: scope reports:read) and "
    "the supervisors of its district (scope supervision:read); never public")]


@router.get("/records/{record_id}/evidence", response_model=EvidenceOut)
def evidence(record_id: Annotated[str, Path(min_length=1, max_length=40)], db: DB,
             principal: Reader) -> EvidenceOut:
    """The evidence registered with the record (items tested, sampling, numeric results),
    the register rows its references name, and whether it is what the log's commitment
    holds."""
    return service.evidence_of(db, principal, record_id)
