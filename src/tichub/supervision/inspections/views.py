"""Pages of double-random inspections: the public disclosure page (/supervision) and a plan's
public page; for supervisors, plans and inspectors, and an inspection's findings."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from tichub.core import errors, fields, limits
from tichub.core.auth import DB, Public, SignedIn
from tichub.core.exports import download
from tichub.core.flash import flash
from tichub.core.messages import Msg
from tichub.core.models import Organisation, Role
from tichub.core.web import render
from tichub.supervision.inspections import service
from tichub.supervision.inspections.schemas import (
    ConflictIn,
    ConflictReason,
    FindingIn,
    InspectorIn,
    ItemIn,
    PlanIn,
)
from tichub.supervision.jurisdiction import bureau_orgs
from tichub.supervision.models import FindingOutcome, InspectionStatus, PlanStatus
from tichub.supervision.sanctions import service as sanctions

router = APIRouter(include_in_schema=False)

fields.register({
    "title": Msg("Title"),
    "items": Msg("Inspection items"), "tier_shares": Msg("Shares by tier"),
    "bureau_org_id": Msg("Bureau"), "inspectors": Msg("Inspectors"),
    "institutions": Msg("Institutions"), "conflicts": Msg("Declared conflicts"),
    "name": Msg("Name"), "item": Msg("Item"), "outcome": Msg("Outcome"), "note": Msg("Note"),
    "file": Msg("Evidence file"), "findings": Msg("Findings"), "status": Msg("Status"),
}, under="/supervision")


def _invalid(exc: ValidationError) -> errors.Problem:
    return errors.Problem(422, "Invalid input", errors=errors.field_errors(exc.errors()))


def _institution_names(db: Session, ids: list[str]) -> dict[str, str]:
    return service.institutions_named(db, ids)


# --- public ----------------------------------------------------------------------------------

def disclosure_rows(db: Session) -> list[list[Any]]:
    """The disclosure page's table as rows for the export: published results, sanctions."""
    rows: list[list[Any]] = []
    for plan in service.published_plans(db):
        if plan.status is not PlanStatus.published:
            continue
        inspections = service.plan_inspections(db, plan)
        found = service.findings_of(db, [i.id for i in inspections])
        names = _institution_names(db, [i.institution_id for i in inspections])
        for i in inspections:
            worst = _worst([f.outcome for f in found[i.id]])
            rows.append(["inspection", names.get(i.institution_id, ""), plan.title,
                         i.done_on.isoformat() if i.done_on else "", worst.value if worst else "",
                         ""])
    sanction_rows = sanctions.public_sanctions(db)
    names = _institution_names(db, [s.institution_id for s in sanction_rows])
    for s in sanction_rows:
        rows.append(["sanction", names.get(s.institution_id, ""), s.kind.value,
                     s.decided_on.isoformat(), s.decision_no,
                     s.lifted_on.isoformat() if s.lifted_on else ""])
    return rows


def _worst(outcomes: list[FindingOutcome]) -> FindingOutcome | None:
    order = [FindingOutcome.compliant, FindingOutcome.minor, FindingOutcome.serious]
    return max(outcomes, key=order.index) if outcomes else None


@router.get("/supervision", response_class=HTMLResponse)
def disclosure(request: Request, db: DB, principal: Public) -> HTMLResponse:
    plans = service.published_plans(db)
    results = []
    for plan in plans:
        if plan.status is PlanStatus.published:
            inspections = service.plan_inspections(db, plan)
            found = service.findings_of(db, [i.id for i in inspections])
            results.append((plan, [(i, _worst([f.outcome for f in found[i.id]]))
                                   for i in inspections]))
    sanction_rows = sanctions.public_sanctions(db, 200)
    listed = sanctions.dishonesty_list(db)
    names = _institution_names(db, [s.institution_id for s in sanction_rows + listed]
                               + [i.institution_id for _, rows in results for i, _ in rows])
    return render(request, "supervision/disclosure.html", principal, plans=plans,
                  results=results, sanctions=sanction_rows, listed=listed, names=names,
                  supervisor=bool(principal.is_regulator or principal.is_operator))


@router.get("/supervision/export", response_model=None)
def disclosure_export(db: DB, principal: Public,
                      format: Annotated[Literal["csv", "xlsx"], Query()] = "csv") -> Response:
    return download(format, "supervision-disclosure",
                    ["what", "institution", "plan or kind", "date", "outcome or decision",
                     "lifted on"], disclosure_rows(db), sheet="disclosure")


@router.get("/supervision/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: str, db: DB, principal: Public) -> HTMLResponse:
    plan = service.get_plan(db, principal, plan_id)
    supervisor = service.supervises_plan(db, principal, plan)
    inspections = service.plan_inspections(db, plan) if plan.picks is not None else []
    show_results = plan.status is PlanStatus.published or supervisor
    found = service.findings_of(db, [i.id for i in inspections]) if show_results else {}
    ids = [p["institution_id"] for p in plan.picks or []]
    names = _institution_names(db, ids)
    inspectors = {x["id"]: x["name"] for x in (plan.frozen or {}).get("inspectors", [])}
    return render(request, "supervision/plan.html", principal, plan=plan,
                  supervisor=supervisor, can_act=supervisor and service.acts_for(
                      principal, plan.bureau_org_id),
                  inspections=inspections, findings=found, show_results=show_results,
                  names=names, inspectors=inspectors, note=service.seeding_note(db, plan),
                  due=service.publication_due(plan), overdue=service.overdue(plan),
                  worst=_worst, pool_size=len((plan.frozen or {}).get("institutions", [])))


# --- supervisors: plans and inspectors -------------------------------------------------------

@router.get("/supervision/plans", response_class=HTMLResponse)
def plans_page(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    plans = service.list_plans(db, principal)
    inspectors = service.list_inspectors(db, principal)
    orgs = bureau_orgs(principal)
    bureau_names = {o: (db.get(Organisation, o) or Organisation(name=o)).name for o in orgs}
    return render(request, "supervision/plans.html", principal, plans=plans,
                  inspectors=inspectors, due=service.publications_due(db, principal),
                  open_inspections=service.open_inspections(db, principal),
                  names=_institution_names(db, [i.institution_id for i in
                                                service.open_inspections(db, principal)]),
                  bureaus=bureau_names, reasons=list(ConflictReason),
                  defaults=service.DEFAULT_SHARES)


def _items(text: str) -> list[ItemIn]:
    """One item a line: code, description."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        code, _, description = line.replace("，", ",").partition(",")
        try:
            out.append(ItemIn(code=code.strip(), description=description.strip()))
        except ValidationError:
            raise errors.invalid("items", Msg("line {line} is not: code, description",
                                              line=n), n) from None
    return out


def _percent(text: str, field: str) -> float | None:
    text = text.strip().rstrip("%").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise errors.invalid(field, Msg("'{text}' is not a number", text=text[:40])) from None
    if not 0 <= value <= 100:
        raise errors.invalid(field, Msg("must be between 0 and 100"))
    return value / 100


def _shares_form(a: str, b: str, c: str, d: str) -> dict[str, float]:
    return {t: v for t, raw in (("A", a), ("B", b), ("C", c), ("D", d))
            if (v := _percent(raw, f"share_{t.lower()}")) is not None}


@router.post("/supervision/plans", response_model=None)
def create_plan(
    request: Request, db: DB, principal: SignedIn,
    title: Annotated[str, Form(max_length=1000)] = "",
    items: Annotated[str, Form(max_length=30000)] = "",
    bureau_org_id: Annotated[str, Form(max_length=26)] = "",
    share_a: Annotated[str, Form(max_length=20)] = "",
    share_b: Annotated[str, Form(max_length=20)] = "",
    share_c: Annotated[str, Form(max_length=20)] = "",
    share_d: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    shares = _shares_form(share_a, share_b, share_c, share_d)
    try:
        data = PlanIn(title=title, items=_items(items), bureau_org_id=bureau_org_id or None,
                      tier_shares=shares or None)
    except ValidationError as exc:
        raise _invalid(exc) from None
    plan = service.create_plan(db, principal, data)
    return flash(request, RedirectResponse(f"/supervision/plans/{plan.id}", status_code=303),
                 Msg("Plan created: freeze it when its items and shares are final"))


@router.get("/supervision/plans/{plan_id}/edit", response_class=HTMLResponse)
def edit_plan_page(request: Request, plan_id: str, db: DB, principal: SignedIn) -> HTMLResponse:
    plan = service.own_plan(db, principal, plan_id)
    if plan.status is not PlanStatus.draft:
        raise errors.conflict("status", Msg("a frozen plan cannot be changed"))
    return render(request, "supervision/plan_edit.html", principal, plan=plan,
                  items="\n".join(f"{i['code']}, {i['description']}" for i in plan.items))


@router.post("/supervision/plans/{plan_id}/edit", response_model=None)
def edit_plan(
    request: Request, plan_id: str, db: DB, principal: SignedIn,
    title: Annotated[str, Form(max_length=1000)] = "",
    items: Annotated[str, Form(max_length=30000)] = "",
    share_a: Annotated[str, Form(max_length=20)] = "",
    share_b: Annotated[str, Form(max_length=20)] = "",
    share_c: Annotated[str, Form(max_length=20)] = "",
    share_d: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    plan = service.own_plan(db, principal, plan_id)
    try:
        data = PlanIn(title=title, items=_items(items), bureau_org_id=plan.bureau_org_id,
                      tier_shares=_shares_form(share_a, share_b, share_c, share_d) or None)
    except ValidationError as exc:
        raise _invalid(exc) from None
    service.update_plan(db, principal, plan_id, data)
    return flash(request, RedirectResponse(f"/supervision/plans/{plan_id}", status_code=303),
                 Msg("Plan saved"))


@router.post("/supervision/plans/{plan_id}/{action}", response_model=None)
def plan_action(request: Request, plan_id: str, action: str, db: DB,
                principal: SignedIn) -> Response:
    if action == "freeze":
        service.freeze_plan(db, principal, plan_id)
        message = Msg("Plan frozen and published; the draw waits for the log's next checkpoint")
    elif action == "draw":
        plan = service.draw_plan(db, principal, plan_id)
        message = Msg("Drawn: {n} institution(s) to inspect", n=len(plan.picks or []))
    elif action == "publish":
        service.publish_plan(db, principal, plan_id)
        message = Msg("Plan and results published")
    else:
        raise errors.not_found(Msg("page"))
    return flash(request, RedirectResponse(f"/supervision/plans/{plan_id}", status_code=303),
                 message)


def _conflict_lines(text: str) -> list[ConflictIn]:
    """One conflict a line: institution id, reason, last day (optional)."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        try:
            out.append(ConflictIn(institution_id=parts[0], reason=parts[1] if len(parts) > 1
                                  else "", until=date.fromisoformat(parts[2])
                                  if len(parts) > 2 and parts[2] else None))
        except (ValidationError, ValueError):
            raise errors.invalid("conflicts", Msg(
                "line {line} is not: institution id, reason, last day", line=n), n) from None
    return out


@router.post("/supervision/inspectors", response_model=None)
def create_inspector(
    request: Request, db: DB, principal: SignedIn,
    name: Annotated[str, Form(max_length=1000)] = "",
    conflicts: Annotated[str, Form(max_length=30000)] = "",
    bureau_org_id: Annotated[str, Form(max_length=26)] = "",
) -> Response:
    try:
        data = InspectorIn(name=name, conflicts=_conflict_lines(conflicts),
                           bureau_org_id=bureau_org_id or None)
    except ValidationError as exc:
        raise _invalid(exc) from None
    inspector = service.create_inspector(db, principal, data)
    return flash(request, RedirectResponse("/supervision/plans#inspectors", status_code=303),
                 Msg("Inspector {name} added", name=inspector.name))


# --- an inspection ---------------------------------------------------------------------------

@router.get("/supervision/inspections/{inspection_id}", response_class=HTMLResponse)
def inspection_page(request: Request, inspection_id: str, db: DB,
                    principal: SignedIn) -> HTMLResponse:
    inspection = service.get_inspection(db, principal, inspection_id)
    plan = service.get_plan(db, principal, inspection.plan_id) if inspection.plan_id else None
    names = _institution_names(db, [inspection.institution_id])
    inspectors = {x["id"]: x["name"] for x in ((plan.frozen if plan else None) or {})
                  .get("inspectors", [])}
    findings = {f.item: f for f in service.findings_of(db, [inspection.id])[inspection.id]}
    can_act = service.acts_for(principal, inspection.bureau_org_id) and \
        inspection.status is not InspectionStatus.done
    return render(request, "supervision/inspection.html", principal, inspection=inspection,
                  plan=plan, inst_name=names.get(inspection.institution_id, ""),
                  inspectors=inspectors, findings=findings, items=service.items_of(db, inspection),
                  outcomes=list(FindingOutcome), can_act=can_act,
                  supervisor=service.acts_for(principal, inspection.bureau_org_id,
                                               Role.viewer))


@router.post("/supervision/inspections/{inspection_id}/findings", response_model=None,
             max_body_size=limits.upload(service.MAX_FILE))
async def record_finding(request: Request, inspection_id: str, db: DB,
                         principal: SignedIn) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    upload = form.get("file")
    files: list[str] = []
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(service.MAX_FILE + 1)
        if data:
            files.append(service.add_file(db, principal, inspection_id, upload.filename,
                                          upload.content_type or "", data).id)
    existing = {f.item: f for f in service.findings_of(db, [inspection_id]).get(
        inspection_id, [])}
    item = text("item")[:100]
    if item in existing:
        files = [*existing[item].files, *files][:20]
    try:
        data_in = FindingIn(item=item, outcome=text("outcome") or "", note=text("note")[:5000],
                            files=files)
    except ValidationError as exc:
        raise _invalid(exc) from None
    service.record_finding(db, principal, inspection_id, data_in)
    return flash(request, RedirectResponse(f"/supervision/inspections/{inspection_id}",
                                           status_code=303),
                 Msg("Finding on item {item} recorded", item=item))


@router.post("/supervision/inspections/{inspection_id}/done", response_model=None)
def finish_inspection(request: Request, inspection_id: str, db: DB, principal: SignedIn,
                      summary: Annotated[str, Form(max_length=4000)] = "") -> Response:
    service.finish_inspection(db, principal, inspection_id, summary)
    return flash(request, RedirectResponse(f"/supervision/inspections/{inspection_id}",
                                           status_code=303),
                 Msg("Inspection closed; the institution was told"))
