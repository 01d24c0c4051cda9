"""Carbon pages: the footprint wizard (product, processes and their inputs, compute), a
study's results (stage waterfall, Sankey, uncertainty) with its certification, and the
certification body's review queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tichub.carbon import certification_service as certification
from tichub.carbon import charts, service
from tichub.carbon.footprint import STAGES
from tichub.carbon.models import ProductModel, Study, StudyStatus
from tichub.carbon.schemas import (
    CHECKS,
    CheckIn,
    ChecklistIn,
    ComputeIn,
    DecisionIn,
    InputIn,
    MessageIn,
    ModelIn,
    ProcessIn,
    UncertaintyIn,
)
from tichub.core import errors
from tichub.core.auth import DB, Principal, Public, SignedIn
from tichub.core.bounds import whole_number
from tichub.core.exports import Format, download
from tichub.core.i18n import request_locale, translations
from tichub.core.models import OrgKind, Role
from tichub.core.service import organisation_names as org_names
from tichub.core.web import render
from tichub.registry import service as registry
from tichub.registry.models import InstitutionKind

router = APIRouter(include_in_schema=False)

STAGE_NAMES = {"raw_materials": "Raw materials", "production": "Production",
               "distribution": "Distribution", "use": "Use", "end_of_life": "End of life"}
MODEL_FIELDS = ("name", "product", "category", "cn_code", "declared_amount", "declared_unit",
                "mass_kg", "functional_unit", "boundary", "basis", "standard", "period_start",
                "period_end", "geography", "cut_off", "description")


def _invalid(exc: ValidationError) -> errors.Problem:
    return errors.Problem(422, "Invalid input", errors=errors.field_errors(exc.errors()))


def _editor_orgs(db: Session, principal: Principal) -> list[tuple[str, str]]:
    orgs = [o for o, r in principal.roles.items() if r.rank >= Role.editor.rank]
    return sorted(org_names(db, orgs).items(), key=lambda x: x[1])


def _cb_orgs(db: Session, principal: Principal) -> list[tuple[str, str]]:
    orgs = [o for o in principal.roles if principal.kinds.get(o) is OrgKind.certification_body]
    return sorted(org_names(db, orgs).items(), key=lambda x: x[1])


@router.get("/carbon", response_class=HTMLResponse)
def home(request: Request, db: DB, principal: Public) -> HTMLResponse:
    orgs = _editor_orgs(db, principal) if principal.authenticated else []
    models = {o: service.list_models(db, principal, o) for o, _ in orgs}
    studies = {o: service.list_studies(db, principal, o) for o, _ in orgs}
    queues = {o: certification.review_queue(db, principal, o)
              for o, _ in _cb_orgs(db, principal)}
    return render(request, "carbon/home.html", principal, orgs=orgs, models=models,
                  studies=studies, queues=queues)


# --- the wizard: step 1, the product --------------------------------------------------------

def _model_form(form: dict[str, str], org_id: str, processes: list[Any], reference: str
                ) -> ModelIn:
    data: dict[str, Any] = {k: form[k].strip() for k in MODEL_FIELDS if form.get(k, "").strip()}
    return ModelIn.model_validate({**data, "org_id": org_id, "processes": processes,
                                   "reference": reference})


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


@router.get("/carbon/models/new", response_class=HTMLResponse)
def new_model(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    return render(request, "carbon/model_new.html", principal, orgs=_editor_orgs(db, principal),
                  error=None, form={})


@router.post("/carbon/models", response_model=None)
async def create_model(request: Request, db: DB, principal: SignedIn) -> Response:
    form = await _form(request)
    try:
        row = service.create_model(db, principal, _model_form(form, form.get("org_id", ""), [],
                                                                ""))
    except (errors.Problem, ValidationError) as exc:
        db.rollback()
        problem = _invalid(exc) if isinstance(exc, ValidationError) else exc
        return render(request, "carbon/model_new.html", principal, status_code=problem.status,
                      orgs=_editor_orgs(db, principal), error=str(problem), form=form)
    return RedirectResponse(f"/carbon/models/{row.id}", status_code=303)


# --- step 2, processes and inputs; step 3, compute ------------------------------------------

def _model_context(db: Session, principal: Principal, row: ProductModel) -> dict[str, Any]:
    factors = service.list_factors(db, principal, limit=1000)
    subs = [m for m in service.list_models(db, principal, row.org_id) if m.id != row.id]
    return {"model": row, "stages": [(s, STAGE_NAMES[s]) for s in STAGES],
            "stage_names": STAGE_NAMES,
            "factors": factors, "subs": subs, "sub_names": {m.id: m.name for m in subs},
            "studies": [s for s in service.list_studies(db, principal, row.org_id)
                        if s.model_id == row.id],
            "can_edit": principal.roles.get(row.org_id, Role.viewer).rank >= Role.editor.rank}


@router.get("/carbon/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, model_id: str, db: DB, principal: SignedIn) -> HTMLResponse:
    row = service.get_model(db, principal, model_id)
    return render(request, "carbon/model.html", principal, error=None,
                  **_model_context(db, principal, row))


def _edit(request: Request, db: Session, principal: Principal, model_id: str,
          change: Callable[[ProductModel, list[dict[str, Any]]], ModelIn | None]) -> Response:
    """Applies a change to the model's document through the use case; a refusal shows on
    the model's page and changes nothing."""
    row = service.get_model(db, principal, model_id)
    try:
        processes = [dict(p) for p in row.processes]
        data = change(row, processes)
        if data is None:
            data = ModelIn.model_validate({**{k: getattr(row, k) for k in MODEL_FIELDS},
                                           "org_id": row.org_id, "reference": row.reference,
                                           "processes": processes})
        service.update_model(db, principal, model_id, data)
    except (errors.Problem, ValidationError) as exc:
        db.rollback()
        problem = _invalid(exc) if isinstance(exc, ValidationError) else exc
        row = service.get_model(db, principal, model_id)
        return render(request, "carbon/model.html", principal, status_code=problem.status,
                      error=str(problem), **_model_context(db, principal, row))
    return RedirectResponse(f"/carbon/models/{model_id}", status_code=303)


@router.post("/carbon/models/{model_id}/details", response_model=None)
async def update_details(request: Request, model_id: str, db: DB,
                         principal: SignedIn) -> Response:
    form = await _form(request)
    return _edit(request, db, principal, model_id, lambda row, procs: _model_form(
        form, row.org_id, procs, form.get("reference", row.reference)))


def _number(form: dict[str, str], name: str, default: float | None = None) -> float | None:
    raw = form.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise errors.invalid(name, f"{raw!r} is not a number") from None


@router.post("/carbon/models/{model_id}/processes", response_model=None)
async def add_process(request: Request, model_id: str, db: DB, principal: SignedIn) -> Response:
    form = await _form(request)

    def change(row: ProductModel, procs: list[dict[str, Any]]) -> None:
        p = ProcessIn(key=form.get("key", "").strip(), name=form.get("name", "").strip(),
                      stage=form.get("stage", ""),
                      output_amount=_number(form, "output_amount", 1.0),
                      output_unit=form.get("output_unit", "").strip() or "piece")
        if any(q["key"] == p.key for q in procs):
            raise errors.invalid("key", f"the model has a process {p.key} already")
        procs.append(p.model_dump())
    return _edit(request, db, principal, model_id, change)


@router.post("/carbon/models/{model_id}/processes/{key}/delete", response_model=None)
def delete_process(request: Request, model_id: str, key: str, db: DB,
                   principal: SignedIn) -> Response:
    def change(row: ProductModel, procs: list[dict[str, Any]]) -> None:
        procs[:] = [p for p in procs if p["key"] != key]
    return _edit(request, db, principal, model_id, change)


def _input(form: dict[str, str]) -> InputIn:
    source = form.get("source", "factor")
    ref = form.get(source, "").strip() or None
    kind = form.get("uncertainty", "fixed")
    unc: dict[str, Any] = {"kind": kind}
    if kind == "lognormal":
        unc["gsd"] = _number(form, "gsd", 1.0)
    elif kind == "pedigree":
        unc["pedigree"] = [whole_number(x, "pedigree", 0) for x in form.get(
            "pedigree", "").replace("，", ",").replace("(", "").replace(")", "").split(",")
            if x.strip()]
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(), "amount": _number(form, "amount"),
        "unit": form.get("unit", "").strip(), "kind": form.get("kind", "material"),
        "primary": form.get("primary") == "on", "uncertainty": UncertaintyIn.model_validate(unc),
        "category": form.get("category") or "fossil"}
    if source in ("factor", "process", "model", "gas"):
        data[source] = ref
    return InputIn.model_validate(data)


@router.post("/carbon/models/{model_id}/processes/{key}/inputs", response_model=None)
async def add_input(request: Request, model_id: str, key: str, db: DB,
                    principal: SignedIn) -> Response:
    form = await _form(request)

    def change(row: ProductModel, procs: list[dict[str, Any]]) -> None:
        target = next((p for p in procs if p["key"] == key), None)
        if target is None:
            raise errors.invalid("process", f"no process {key}")
        target["inputs"] = [*target.get("inputs", []), _input(form).model_dump()]
    return _edit(request, db, principal, model_id, change)


@router.post("/carbon/models/{model_id}/processes/{key}/inputs/{index}/delete",
             response_model=None)
def delete_input(request: Request, model_id: str, key: str, index: int, db: DB,
                 principal: SignedIn) -> Response:
    def change(row: ProductModel, procs: list[dict[str, Any]]) -> None:
        for p in procs:
            if p["key"] == key and 0 <= index < len(p.get("inputs", [])):
                p["inputs"] = [i for n, i in enumerate(p["inputs"]) if n != index]
    return _edit(request, db, principal, model_id, change)


@router.post("/carbon/models/{model_id}/studies", response_model=None)
def compute(request: Request, model_id: str, db: DB, principal: SignedIn,
            title: Annotated[str, Form(max_length=300)] = "",
            iterations: Annotated[int, Form(ge=0, le=20000)] = 1000) -> Response:
    try:
        study = service.compute_study(db, principal, model_id,
                                      ComputeIn(title=title, iterations=iterations))
    except errors.Problem as exc:
        db.rollback()
        row = service.get_model(db, principal, model_id)
        return render(request, "carbon/model.html", principal, status_code=exc.status,
                      error=str(exc), **_model_context(db, principal, row))
    return RedirectResponse(f"/carbon/studies/{study.id}", status_code=303)


# --- a study: results and certification ----------------------------------------------------

def _study_context(request: Request, db: Session, principal: Principal, study: Study
                   ) -> dict[str, Any]:
    _ = translations(request_locale(request, request.app.state.settings.default_locale)).gettext
    results = study.results
    declared = results.get("declared", {})
    unit = f"kg CO2e / {declared.get('amount', 1):g} {declared.get('unit', '')}"
    root = study.models.get(study.model_id, {})
    owner = principal.roles.get(study.org_id, Role.viewer).rank >= Role.editor.rank \
        and study.org_id in principal.roles
    reviewer = certification.is_reviewer(principal, study, Role.editor)
    names = org_names(db, [study.org_id] + ([study.cb_org_id] if study.cb_org_id else []))
    return {
        "study": study, "root": root, "unit": unit, "owner": owner, "reviewer": reviewer,
        "names": names, "checks": CHECKS, "open": study.status in certification.OPEN,
        "stage_names": STAGE_NAMES,
        "waterfall": charts.waterfall(results.get("by_stage", {}),
                                      {k: _(v) for k, v in STAGE_NAMES.items()}, _("Total")),
        "sankey": charts.sankey(results.get("links", []), results.get("contributions", [])),
        "histogram": charts.histogram(study.uncertainty.get("histogram", {}), unit)
        if study.uncertainty else None,
        "contributions": sorted(results.get("contributions", []),
                                key=lambda c: -abs(c["co2e"])),
        "messages": certification.messages(db, principal, study.id),
        "bodies": registry.institutions_of_kind(db, InstitutionKind.certification_body)
        if owner else [],
        "certified": study.status is StudyStatus.certified,
    }


@router.get("/carbon/studies/{study_id}", response_class=HTMLResponse)
def study_page(request: Request, study_id: str, db: DB, principal: SignedIn) -> HTMLResponse:
    study = service.get_study(db, principal, study_id)
    return render(request, "carbon/study.html", principal, error=None,
                  **_study_context(request, db, principal, study))


@router.get("/carbon/studies/{study_id}/contributions.{fmt}", response_model=None)
def export_contributions(study_id: str, fmt: Format, db: DB, principal: SignedIn) -> Response:
    study = service.get_study(db, principal, study_id)
    rows = [(c["stage"], c["process"], c["input"], c["kind"], "yes" if c["primary"] else "no",
             c["co2e"]) for c in study.results.get("contributions", [])]
    return download(fmt, f"footprint-{study.id}", [
        "stage", "process", "input", "kind", "primary data", "kg CO2e per declared unit"], rows,
        sheet="contributions")


def _act(request: Request, db: Session, principal: Principal, study_id: str,
         action: Callable[[], Any]) -> Response:
    """Runs a certification step from a form; a refusal shows on the study's page."""
    try:
        action()
    except (errors.Problem, ValidationError) as exc:
        db.rollback()
        problem = _invalid(exc) if isinstance(exc, ValidationError) else exc
        study = service.get_study(db, principal, study_id)
        return render(request, "carbon/study.html", principal, status_code=problem.status,
                      error=str(problem), **_study_context(request, db, principal, study))
    return RedirectResponse(f"/carbon/studies/{study_id}", status_code=303)


@router.post("/carbon/studies/{study_id}/submit", response_model=None)
def submit(request: Request, study_id: str, db: DB, principal: SignedIn,
           institution_id: Annotated[str, Form()]) -> Response:
    return _act(request, db, principal, study_id,
                lambda: certification.submit(db, principal, study_id, institution_id))


@router.post("/carbon/studies/{study_id}/withdraw", response_model=None)
def withdraw(request: Request, study_id: str, db: DB, principal: SignedIn) -> Response:
    return _act(request, db, principal, study_id,
                lambda: certification.withdraw(db, principal, study_id))


@router.post("/carbon/studies/{study_id}/checklist", response_model=None)
async def checklist(request: Request, study_id: str, db: DB, principal: SignedIn) -> Response:
    form = await _form(request)
    return _act(request, db, principal, study_id, lambda: certification.save_checklist(
        db, principal, study_id, ChecklistIn(items={
            c: CheckIn(verdict=form.get(f"{c}_verdict", "pending"),
                       note=form.get(f"{c}_note", "")) for c in CHECKS})))


@router.post("/carbon/studies/{study_id}/messages", response_model=None)
def message(request: Request, study_id: str, db: DB, principal: SignedIn,
            text: Annotated[str, Form()] = "", topic: Annotated[str, Form()] = "general"
            ) -> Response:
    return _act(request, db, principal, study_id, lambda: certification.post_message(
        db, principal, study_id, MessageIn(topic=topic, text=text)))


@router.post("/carbon/studies/{study_id}/decision", response_model=None)
async def decide(request: Request, study_id: str, db: DB, principal: SignedIn) -> Response:
    form = await _form(request)
    return _act(request, db, principal, study_id, lambda: certification.decide(
        db, principal, request.app.state.log, study_id, DecisionIn.model_validate({
            k: form[k] for k in ("decision", "note", "valid_from", "valid_until")
            if form.get(k)})))


@router.get("/carbon/reviews", response_class=HTMLResponse)
def reviews(request: Request, db: DB, principal: SignedIn,
            status: Annotated[StudyStatus | None, Query()] = None) -> HTMLResponse:
    bodies = _cb_orgs(db, principal)
    queues = {o: certification.review_queue(db, principal, o, status) for o, _ in bodies}
    companies = org_names(db, [s.org_id for q in queues.values() for s in q])
    return render(request, "carbon/reviews.html", principal, bodies=bodies, queues=queues,
                  companies=companies, status=status, statuses=list(StudyStatus),
                  checks_count=len(CHECKS))
