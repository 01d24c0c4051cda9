"""Complaints under /api/supervision/complaints: filing and tracking (anyone), working
them (the district's bureau)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from tichub.core.auth import DB, Principal, Public, access
from tichub.core.pagination import Page, PageParams, page_params
from tichub.supervision.complaints import service
from tichub.supervision.complaints.schemas import (
    ComplaintIn,
    ComplaintOut,
    ReceiptOut,
    StatusIn,
    TrackedOut,
)
from tichub.supervision.models import Complaint, ComplaintStatus

router = APIRouter(prefix="/api/supervision/complaints",
                   tags=["supervision: complaints"])

Bureau = Annotated[Principal, access(
    "user", scope="supervision:read", note="supervisors of the complaint's district")]
Working = Annotated[Principal, access(
    "user", scope="supervision:write", note="editors of the bureau of the complaint's district")]


def complaint_out(c: Complaint, name: str = "") -> ComplaintOut:
    return ComplaintOut(id=c.id, tracking_code=c.tracking_code, status=c.status,
                        about_number=c.about_number, institution_id=c.institution_id,
                        institution_name=name, district=c.district, text=c.text,
                        contact_name=c.contact_name, contact=c.contact,
                        signed_in=c.user_id is not None, outcome=c.outcome,
                        created_at=c.created_at, updated_at=c.updated_at)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("", response_model=ReceiptOut, status_code=201)
def file_complaint(body: ComplaintIn, request: Request, db: DB,
                   principal: Public) -> ReceiptOut:
    """Files a complaint about a report (``about_number``) or an institution. Without
    signing in, ``contact`` is required; it is shown to the bureau only. At most five
    complaints an hour from one address (429 with Retry-After beyond)."""
    item = service.submit(db, principal, body, client_address(request))
    return ReceiptOut(tracking_code=item.tracking_code, status=item.status,
                      track_url=f"/supervision/complaints/track?code={item.tracking_code}")


@router.get("/track/{code}", response_model=TrackedOut)
def track(code: str, db: DB, principal: Public) -> TrackedOut:
    """The complaint's status, and its outcome once decided; nothing about who filed it."""
    t = service.track(db, code[:40])
    return TrackedOut(tracking_code=t.tracking_code, status=t.status,
                      about_number=t.about_number, institution_name=t.institution_name,
                      received_at=t.received_at, updated_at=t.updated_at, outcome=t.outcome)


@router.get("", response_model=Page[ComplaintOut])
def list_complaints(db: DB, principal: Bureau,
                    page: Annotated[PageParams, Depends(page_params)],
                    status: ComplaintStatus | None = None) -> Page[ComplaintOut]:
    rows, total = service.list_for(db, principal, status, page.offset, page.per_page)
    return Page[ComplaintOut].of([complaint_out(c, n) for c, n in rows], total, page)


@router.get("/{complaint_id}", response_model=ComplaintOut)
def get_complaint(complaint_id: str, db: DB, principal: Bureau) -> ComplaintOut:
    return complaint_out(service.get(db, principal, complaint_id))


@router.post("/{complaint_id}/status", response_model=ComplaintOut)
def set_status(complaint_id: str, body: StatusIn, db: DB, principal: Working) -> ComplaintOut:
    """received → investigating → upheld or rejected (with the outcome, which the
    complainant reads by the tracking code)."""
    return complaint_out(service.set_status(db, principal, complaint_id, body))
