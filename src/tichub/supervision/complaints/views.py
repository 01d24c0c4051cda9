"""Complaint pages: filing and tracking (anyone), the bureau's list and one complaint."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from tichub.core import errors, fields
from tichub.core.auth import DB, Public, SignedIn
from tichub.core.flash import flash
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.core.pagination import PageNumber
from tichub.core.web import render
from tichub.registry.models import Institution
from tichub.supervision import jurisdiction
from tichub.supervision.complaints import service
from tichub.supervision.complaints.api import client_address
from tichub.supervision.complaints.schemas import ComplaintIn, StatusIn
from tichub.supervision.models import ComplaintStatus

router = APIRouter(include_in_schema=False)
PER_PAGE = 50

fields.register({"about_number": Msg("Report number"), "institution_id": Msg("Institution"),
                 "text": Msg("What is wrong"), "contact_name": Msg("Your name"),
                 "contact": Msg("Telephone or e-mail"), "status": Msg("Status"),
                 "outcome": Msg("Outcome")}, under="/supervision/complaints")


@router.get("/supervision/complaints/new", response_class=HTMLResponse)
def new_form(request: Request, db: DB, principal: Public, number: str = "",
             institution: str = "") -> HTMLResponse:
    inst = db.get(Institution, institution[:26]) if institution else None
    return render(request, "supervision/complaints/new.html", principal, number=number[:100],
                  inst=inst if inst is not None and inst.published else None)


@router.post("/supervision/complaints/new", response_model=None)
def file_complaint(
    request: Request, db: DB, principal: Public,
    about_number: Annotated[str, Form(max_length=100)] = "",
    institution_id: Annotated[str, Form(max_length=26)] = "",
    text: Annotated[str, Form(max_length=5000)] = "",
    contact_name: Annotated[str, Form(max_length=100)] = "",
    contact: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    try:
        data = ComplaintIn(about_number=about_number.strip(), institution_id=institution_id,
                           text=text, contact_name=contact_name, contact=contact)
    except ValidationError as exc:
        raise errors.Problem(422, "Invalid input",
                             errors=errors.field_errors(exc.errors())) from None
    item = service.submit(db, principal, data, client_address(request))
    return flash(request, RedirectResponse(
        f"/supervision/complaints/track?code={item.tracking_code}", status_code=303),
        Msg("Complaint received. Keep your tracking code: {code}", code=item.tracking_code))


@router.get("/supervision/complaints/track", response_class=HTMLResponse)
def track(request: Request, db: DB, principal: Public, code: str = "") -> HTMLResponse:
    found, missing = None, False
    if code.strip():
        try:
            found = service.track(db, code[:40])
        except errors.Problem:
            missing = True
    return render(request, "supervision/complaints/track.html", principal, code=code[:40],
                  found=found, missing=missing)


@router.get("/supervision/complaints", response_class=HTMLResponse)
def bureau_list(request: Request, db: DB, principal: SignedIn, page: PageNumber = 1,
                status: str = "") -> HTMLResponse:
    chosen = ComplaintStatus(status) if status in ComplaintStatus.__members__ else None
    rows, total = service.list_for(db, principal, chosen, (page - 1) * PER_PAGE, PER_PAGE)
    return render(request, "supervision/complaints/list.html", principal, rows=rows,
                  total=total, page=page, pages=max(1, -(-total // PER_PAGE)), status=chosen,
                  statuses=list(ComplaintStatus))


@router.get("/supervision/complaints/{complaint_id}", response_class=HTMLResponse)
def one(request: Request, complaint_id: str, db: DB, principal: SignedIn) -> HTMLResponse:
    item = service.get(db, principal, complaint_id[:26])
    inst = db.get(Institution, item.institution_id) if item.institution_id else None
    try:
        jurisdiction.require_supervisor(db, principal, item.district, Role.editor)
        can_work = True
    except errors.Problem:
        can_work = False
    return render(request, "supervision/complaints/one.html", principal, item=item,
                  inst=inst, can_work=can_work, next_steps=service.NEXT.get(item.status, ()))


@router.post("/supervision/complaints/{complaint_id}", response_model=None)
def work(request: Request, complaint_id: str, db: DB, principal: SignedIn,
         status: Annotated[str, Form(max_length=20)] = "",
         outcome: Annotated[str, Form(max_length=5000)] = "") -> Response:
    if status not in ComplaintStatus.__members__:
        raise errors.invalid("status", Msg("is not one of the choices"))
    item = service.set_status(db, principal, complaint_id[:26],
                              StatusIn(status=ComplaintStatus(status), outcome=outcome))
    return flash(request, RedirectResponse(f"/supervision/complaints/{item.id}",
                                           status_code=303),
                 Msg("Complaint now: {status}", status=item.status))
