"""Sanction pages: the form (with the 2026 thresholds beside it), a sanction's public page."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from tichub.core import errors, fields
from tichub.core.auth import DB, Public, SignedIn
from tichub.core.bounds import whole_number
from tichub.core.flash import flash
from tichub.core.messages import Msg, enum_label
from tichub.core.models import Organisation, Role
from tichub.core.web import render
from tichub.supervision.inspections.service import institutions_named
from tichub.supervision.jurisdiction import bureau_orgs
from tichub.supervision.models import SanctionKind
from tichub.supervision.sanctions import service
from tichub.supervision.sanctions.schemas import LiftIn, SanctionIn
from tichub.supervision.signals.rules import Basis

router = APIRouter(include_in_schema=False)

fields.register({
    "kind": Msg("Sanction"), "decision_no": Msg("Decision number"),
    "decided_on": Msg("Decided on"), "deadline": Msg("Deadline"), "fine_fen": Msg("Fine (yuan)"),
    "reason": Msg("Reason"), "basis": Msg("Legal basis"),
    "false_numbers": Msg("Reports found false"), "key_field": Msg("Key field"),
    "qualification_id": Msg("Qualification"), "institution_id": Msg("Institution"),
    "on": Msg("Date"),
}, under="/supervision/sanctions")


def _date(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise errors.invalid(field, Msg("must be a date (YYYY-MM-DD)")) from None


@router.get("/supervision/sanctions/new", response_class=HTMLResponse)
def new_sanction(request: Request, db: DB, principal: SignedIn,
                 institution: Annotated[str, Query(max_length=26)] = "",
                 numbers: Annotated[str, Query(max_length=2000)] = "") -> HTMLResponse:
    inst = service.institution_for(db, principal, institution, Role.editor)
    orgs = bureau_orgs(principal, Role.editor)
    return render(request, "supervision/sanction_new.html", principal, inst=inst,
                  kinds=list(SanctionKind), bases=list(Basis),
                  thresholds=service.thresholds(db, inst.id),
                  past=service.of_institution(db, inst.id), numbers=numbers,
                  bureaus={o: (db.get(Organisation, o) or Organisation(name=o)).name
                           for o in orgs})


@router.post("/supervision/sanctions", response_model=None)
def record_sanction(
    request: Request, db: DB, principal: SignedIn,
    institution_id: Annotated[str, Form(max_length=26)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    decision_no: Annotated[str, Form(max_length=1000)] = "",
    decided_on: Annotated[str, Form(max_length=40)] = "",
    deadline: Annotated[str, Form(max_length=40)] = "",
    fine_yuan: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=8000)] = "",
    basis: Annotated[str, Form(max_length=200)] = "",
    false_numbers: Annotated[str, Form(max_length=30000)] = "",
    key_field: Annotated[str, Form(max_length=10)] = "",
    bureau_org_id: Annotated[str, Form(max_length=26)] = "",
) -> Response:
    fine = whole_number(fine_yuan, "fine_fen", 0)
    decided = _date(decided_on, "decided_on")
    if decided is None:
        raise errors.invalid("decided_on", Msg("is required"))
    try:
        data = SanctionIn(
            institution_id=institution_id, kind=kind, decision_no=decision_no.strip(),
            decided_on=decided, deadline=_date(
                deadline, "deadline"), fine_fen=fine * 100 if fine else None, reason=reason,
            basis=basis, key_field=bool(key_field), bureau_org_id=bureau_org_id or None,
            false_numbers=[n.strip() for n in false_numbers.replace("，", ",").replace(
                "\n", ",").split(",") if n.strip()])
    except ValidationError as exc:
        raise errors.Problem(422, "Invalid input",
                             errors=errors.field_errors(exc.errors())) from None
    sanction = service.record_sanction(db, principal, request.app.state.log, data)
    return flash(request, RedirectResponse(f"/supervision/sanctions/{sanction.id}",
                                           status_code=303),
                 Msg("Sanction recorded (decision {no}); the lab was told",
                     no=sanction.decision_no))


@router.get("/supervision/sanctions/{sanction_id}", response_class=HTMLResponse)
def sanction_page(request: Request, sanction_id: str, db: DB, principal: Public) -> HTMLResponse:
    sanction = service.get_sanction(db, principal, sanction_id)
    can_act = principal.is_operator or sanction.bureau_org_id in bureau_orgs(principal,
                                                                           Role.editor)
    return render(request, "supervision/sanction.html", principal, s=sanction,
                  basis=basis_label(sanction.basis),
                  inst_name=institutions_named(db, [sanction.institution_id]).get(
                      sanction.institution_id, ""), can_act=can_act,
                  liftable=sanction.kind in (SanctionKind.suspension,
                                             SanctionKind.dishonesty_list)
                  and sanction.lifted_on is None,
                  correctable=sanction.kind is SanctionKind.correction
                  and sanction.corrected_on is None)


@router.post("/supervision/sanctions/{sanction_id}/{action}", response_model=None)
def sanction_action(request: Request, sanction_id: str, action: str, db: DB,
                    principal: SignedIn, on: Annotated[str, Form(max_length=40)] = "",
                    reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    when = _date(on, "on")
    if action == "lift":
        service.lift_sanction(db, principal, sanction_id, LiftIn(on=when, reason=reason))
        message = Msg("Sanction lifted")
    elif action == "corrected":
        service.mark_corrected(db, principal, sanction_id, when)
        message = Msg("Correction recorded")
    else:
        raise errors.not_found(Msg("page"))
    return flash(request, RedirectResponse(f"/supervision/sanctions/{sanction_id}",
                                           status_code=303), message)


def basis_label(basis: str) -> str:
    """The legal basis as people name it: one of the named bases, or the text typed."""
    return enum_label(Basis(basis)) if basis in Basis.__members__ else basis
