"""Approval pages: a lab's applications (apply, sign the commitment), the bureau's due list
and an application's page with the check or the decision."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from tichub.core import errors, fields
from tichub.core.auth import DB, Principal, SignedIn
from tichub.core.errors import FieldError
from tichub.core.exports import download
from tichub.core.flash import flash
from tichub.core.i18n import request_locale
from tichub.core.ids import today
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.core.pagination import PageNumber, PageParams
from tichub.core.tables import read_table
from tichub.core.web import render
from tichub.registry import importer
from tichub.registry import service as registry
from tichub.registry.schemas import ScopeLineIn
from tichub.supervision import jurisdiction
from tichub.supervision.approval import service
from tichub.supervision.approval.schemas import (
    MAX_SCOPE_LINES,
    ApplicationIn,
    CheckIn,
    Conditions,
    DecisionIn,
    KeyInstrument,
)
from tichub.supervision.models import ApplicationKind, ApplicationRoute, ApplicationStatus

router = APIRouter(include_in_schema=False)

fields.register({
    "institution_id": Msg("Institution"), "route": Msg("Route"),
    "kind": Msg("Kind of application"), "outcome": Msg("Outcome"),
    "qualification_id": Msg("Qualification"), "site_address": Msg("Site address"),
    "staff_count": Msg("Staff count"), "key_instruments": Msg("Key instruments"),
    "scope": Msg("Scope applied for"), "commitment": Msg("Commitment"),
    "checked_on": Msg("Date of the on-site check"), "note": Msg("Note"),
    "sign": Msg("Commitment"),
}, under="/supervision")

PER_PAGE = 20
MAX_UPLOAD = 2 * 1024 * 1024
MAX_TEXT = 200_000


def _invalid(exc: ValidationError) -> errors.Problem:
    return errors.Problem(422, "Invalid input", errors=errors.field_errors(exc.errors()))


def _pages(total: int) -> int:
    return max(1, -(-total // PER_PAGE))


# --- the lab's side ----------------------------------------------------------------------

@router.get("/supervision/mine/applications", response_class=HTMLResponse)
def my_applications(request: Request, db: DB, principal: SignedIn,
                    page: PageNumber = 1) -> HTMLResponse:
    params = PageParams(page=page, per_page=PER_PAGE)
    rows, total = service.list_mine(db, principal, service.Filters(), params)
    return render(request, "supervision/approval/mine.html", principal,
                  apps=[service.to_out(db, a) for a in rows], total=total, page=page,
                  pages=_pages(total), can_apply=bool(service.own_institutions(db, principal)))


def _choice(value: str, kind: type[ApplicationKind] | type[ApplicationRoute],
            default: str) -> str:
    return value if value in {m.value for m in kind} else default


@router.get("/supervision/mine/applications/new", response_class=HTMLResponse)
def new_application(
    request: Request, db: DB, principal: SignedIn,
    institution_id: Annotated[str, Query(max_length=26)] = "",
    route: Annotated[str, Query(max_length=20)] = "commitment",
    kind: Annotated[str, Query(max_length=20)] = "first",
) -> HTMLResponse:
    institutions = service.own_institutions(db, principal)
    if not institutions:
        raise errors.forbidden(Msg("only the editors of a laboratory or certification body "
                                   "apply for its qualification"))
    inst = next((i for i in institutions if i.id == institution_id), institutions[0])
    route_ = ApplicationRoute(_choice(route, ApplicationRoute, "commitment"))
    kind_ = ApplicationKind(_choice(kind, ApplicationKind, "first"))
    locale = request_locale(request)
    barred = service.barred_until(db, inst.id)
    return render(request, "supervision/approval/new.html", principal,
                  institutions=institutions, inst=inst, route=route_, kind=kind_,
                  routes=list(ApplicationRoute), kinds=list(ApplicationKind),
                  quals=service.cma_qualifications(db, [inst.id]), barred=barred,
                  commitment=service.commitment_text(inst.name_zh, kind_, locale),
                  check_months=service.CHECK_MONTHS)


def _instruments(text: str) -> list[KeyInstrument]:
    """One instrument a line: name, model, asset number (the last two optional)."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        try:
            out.append(KeyInstrument(name=parts[0], model=parts[1] if len(parts) > 1 else "",
                                     asset_no=parts[2] if len(parts) > 2 else ""))
        except ValidationError as exc:
            raise errors.Problem(422, "Invalid input", errors=[
                FieldError("key_instruments", e.message, n)
                for e in errors.field_errors(exc.errors())]) from None
    return out


SCOPE_COLUMNS = {k: v for k, v in importer.COLUMNS.items() if k != "qualification"}
SCOPE_REQUIRED = ("standard", "product", "parameter")


def _scope(text: str, upload: tuple[str, bytes] | None) -> list[ScopeLineIn]:
    """The scope lines typed (standard, product, parameter[, method clause] a line) or a
    CSV or Excel file with the registry's scope headers; any bad line refuses the lot."""
    faults: list[FieldError] = []
    lines: list[ScopeLineIn] = []
    if upload is not None:
        rows, faults = read_table(upload[0], upload[1], SCOPE_COLUMNS, SCOPE_REQUIRED)
        cells_of = [(n, cells) for n, cells in rows]
    else:
        cells_of = []
        reader = csv.reader(io.StringIO(text.replace("，", ",")))
        for n, row in enumerate(reader, start=1):
            if not any(c.strip() for c in row):
                continue
            parts = [c.strip() for c in row]
            if len(parts) < 3:
                faults.append(FieldError("scope", Msg(
                    "write each line as: standard, product, parameter[, method clause]"), n))
                continue
            cells_of.append((n, {"standard": parts[0], "product": parts[1],
                                 "parameter": parts[2],
                                 "method_clause": parts[3] if len(parts) > 3 else ""}))
    if len(cells_of) > MAX_SCOPE_LINES:
        raise errors.invalid("scope", Msg("takes at most {n} lines", n=MAX_SCOPE_LINES))
    for n, cells in cells_of:
        empty = [FieldError(f, Msg("must not be empty"), n) for f in SCOPE_REQUIRED
                 if not cells.get(f)]
        if empty:
            faults += empty
            continue
        try:
            line = ScopeLineIn(**{k: v or None if k not in SCOPE_REQUIRED else v
                                  for k, v in cells.items()})
        except ValidationError as exc:
            faults += [FieldError("scope", f"{e.field}: {e.message}", n)
                       for e in errors.field_errors(exc.errors())]
            continue
        # The registry's own checks (a standard's number), so every bad line is named at once.
        faults += registry.scope_row(line, row=n)[1]
        lines.append(line)
    if faults:
        faults.sort(key=lambda e: e.row or 0)
        raise errors.Problem(422, "Invalid input", detail=Msg(
            "{n} error(s) in the scope; nothing was filed", n=len(faults)), errors=faults)
    return lines


@router.post("/supervision/mine/applications", response_model=None)
async def create_application(request: Request, db: DB, principal: SignedIn) -> Response:
    form = await request.form()

    def text(name: str, limit: int = 4_000) -> str:
        value = form.get(name, "")
        if not isinstance(value, str):
            return ""
        if len(value) > limit:
            raise errors.invalid(name, Msg("must have at most {n} characters", n=limit))
        return value.strip()

    upload = None
    file = form.get("scope_file")
    if isinstance(file, UploadFile) and file.filename:
        data = await file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise errors.invalid("scope", Msg("the file is larger than {n} MB", n=2))
        upload = (file.filename, data)
    staff = text("staff_count", 20)
    if not staff.isdigit():
        raise errors.invalid("staff_count", Msg("must be a whole number"))
    route = text("route", 20)
    try:
        data_in = ApplicationIn(
            institution_id=text("institution_id", 26), route=route, kind=text("kind", 20),
            qualification_id=text("qualification_id", 26) or None,
            conditions=Conditions(site_address=text("site_address", 300),
                                  staff_count=int(staff),
                                  key_instruments=_instruments(text("key_instruments",
                                                                    MAX_TEXT)),
                                  scope=_scope(text("scope", MAX_TEXT), upload)),
            # The text shown on the form is what is signed, and only when ticked.
            commitment=text("commitment") if form.get("sign") == "yes" else "")
    except ValidationError as exc:
        raise _invalid(exc) from None
    if data_in.route is ApplicationRoute.commitment and form.get("sign") != "yes":
        raise errors.invalid("sign", Msg("tick the box to sign the commitment"))
    app = service.apply(db, principal, data_in)
    message = (Msg("Qualification granted on commitment: the on-site check is due by {date}",
                   date=app.check_due.isoformat()) if app.check_due
               else Msg("Application filed: the bureau will decide"))
    return flash(request, RedirectResponse(f"/supervision/mine/applications/{app.id}",
                                           status_code=303), message)


@router.get("/supervision/mine/applications/{application_id}", response_class=HTMLResponse)
def my_application(request: Request, application_id: str, db: DB,
                   principal: SignedIn) -> HTMLResponse:
    app = service.get_application(db, principal, application_id)
    return _detail(request, db, principal, app.id, bureau=False)


# --- the bureau's side -------------------------------------------------------------------

STATUS_FILTERS = ("", *(s.value for s in ApplicationStatus), "due")


def _bureau_filters(status: str) -> service.Filters:
    if status == "due":
        return service.Filters(due_within=30)
    if status in {s.value for s in ApplicationStatus}:
        return service.Filters(status=ApplicationStatus(status))
    return service.Filters()


@router.get("/supervision/applications", response_class=HTMLResponse)
def applications(request: Request, db: DB, principal: SignedIn, page: PageNumber = 1,
                 status: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    params = PageParams(page=page, per_page=PER_PAGE)
    rows, total = service.list_for_bureau(db, principal, _bureau_filters(status), params)
    return render(request, "supervision/approval/bureau.html", principal,
                  apps=[service.to_out(db, a) for a in rows], total=total, page=page,
                  pages=_pages(total), status=status, filters=STATUS_FILTERS,
                  statuses={s.value: s for s in ApplicationStatus})


@router.get("/supervision/applications.{fmt}", response_model=None)
def export(request: Request, fmt: str, db: DB, principal: SignedIn,
           status: Annotated[str, Query(max_length=20)] = "") -> Response:
    if fmt not in ("csv", "xlsx"):
        raise errors.not_found(Msg("page"))
    rows, _ = service.list_for_bureau(db, principal, _bureau_filters(status),
                                      PageParams(page=1, per_page=10_000))
    out = [service.to_out(db, a) for a in rows]
    header = ["id", "institution", "district", "route", "kind", "status", "qualification",
              "signed_at", "check_due", "overdue", "checked_on"]
    return download("xlsx" if fmt == "xlsx" else "csv", "applications", header, [
        [a.id, a.institution_name, a.district, a.route.value, a.kind.value, a.status.value,
         a.qualification_number or "", a.signed_at.isoformat() if a.signed_at else "",
         a.check_due.isoformat() if a.check_due else "", "yes" if a.overdue else "",
         a.checked_on.isoformat() if a.checked_on else ""] for a in out])


@router.get("/supervision/applications/{application_id}", response_class=HTMLResponse)
def application_page(request: Request, application_id: str, db: DB,
                     principal: SignedIn) -> HTMLResponse:
    jurisdiction.require_supervisor(db, principal)
    return _detail(request, db, principal, application_id, bureau=True)


def _detail(request: Request, db: DB, principal: Principal, application_id: str,
            bureau: bool) -> HTMLResponse:
    app = service.get_application(db, principal, application_id)
    out = service.to_out(db, app)
    inst = service._institution(db, app.institution_id)
    may_decide = bureau and (principal.is_operator
                             or bool(jurisdiction.bureau_orgs(principal, Role.editor)))
    return render(request, "supervision/approval/detail.html", principal, app=out,
                  inst=inst, bureau=bureau, may_decide=may_decide,
                  today=today().isoformat())


@router.post("/supervision/applications/{application_id}/check", response_model=None)
def check(request: Request, application_id: str, db: DB, principal: SignedIn,
          outcome: Annotated[str, Form(max_length=10)] = "",
          checked_on: Annotated[str, Form(max_length=20)] = "",
          note: Annotated[str, Form(max_length=4_000)] = "") -> Response:
    if outcome not in ("passed", "failed"):
        raise errors.invalid("outcome", Msg("choose passed or failed"))
    try:
        on = date.fromisoformat(checked_on) if checked_on else None
    except ValueError:
        raise errors.invalid("checked_on", Msg("must be a date (YYYY-MM-DD)")) from None
    app = service.record_check(db, principal, application_id,
                               CheckIn(passed=outcome == "passed", checked_on=on, note=note))
    message = (Msg("Commitment verified on site") if app.status is ApplicationStatus.verified
               else Msg("Check failed: the qualification is revoked"))
    return flash(request, RedirectResponse(f"/supervision/applications/{app.id}",
                                           status_code=303), message)


@router.post("/supervision/applications/{application_id}/decision", response_model=None)
def decision(request: Request, application_id: str, db: DB, principal: SignedIn,
             outcome: Annotated[str, Form(max_length=10)] = "",
             note: Annotated[str, Form(max_length=4_000)] = "") -> Response:
    if outcome not in ("approved", "rejected"):
        raise errors.invalid("outcome", Msg("choose approve or reject"))
    app = service.decide(db, principal, application_id,
                         DecisionIn(approved=outcome == "approved", note=note))
    message = (Msg("Application approved") if app.status is ApplicationStatus.approved
               else Msg("Application rejected"))
    return flash(request, RedirectResponse(f"/supervision/applications/{app.id}",
                                           status_code=303), message)
