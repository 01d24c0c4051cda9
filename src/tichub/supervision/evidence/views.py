"""The supervisor's view of one registered report: its public facts, its private evidence
and whether the evidence is what the record's commitment in the log holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from tichub.core.auth import DB, Principal, access
from tichub.core.web import render
from tichub.registry.districts import BY_SLUG
from tichub.reports import qr
from tichub.reports.evidence import service

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, access(
    "user", note="the supervisors of the issuer's district, and the issuer's own members")]


@router.get("/supervision/records/{record_id}", response_class=HTMLResponse)
def record_page(request: Request, record_id: Annotated[str, Path(max_length=40)], db: DB,
                principal: Reader) -> HTMLResponse:
    record = service.readable_record(db, principal, record_id)
    return render(request, "supervision/evidence/record.html", principal, record=record,
                  evidence=service.evidence_of(db, principal, record_id), districts=BY_SLUG,
                  verify_path=qr.verify_path(record.number, record.leaf_hash))
