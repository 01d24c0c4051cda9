"""Carbon pages: the footprint wizard (product, processes and their inputs, compute), a
study's results (stage waterfall, Sankey, uncertainty) with its certification, and the
certification body's review queue."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tichub.carbon import certification_service as certification
from tichub.carbon import charts, service
from tichub.carbon.footprint import BOUNDARY_LABELS, STAGE_LABELS, STAGES, Notice
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
from tichub.core import errors, fields
from tichub.core.auth import DB, Principal, Public, SignedIn
from tichub.core.bounds import whole_number
from tichub.core.exports import Format, download
from tichub.core.flash import flash
from tichub.core.i18n import request_locale
from tichub.core.messages import Msg
from tichub.core.models import OrgKind, Role
from tichub.core.service import organisation_names as org_names
from tichub.core.web import render
from tichub.registry import service as registry
from tichub.registry.models import InstitutionKind

router = APIRouter(include_in_schema=False)

STAGE_NAMES = STAGE_LABELS
# Words for the data's keys that pages show (the catalogue holds their Chinese).
CATEGORY_NAMES = {"fossil": Msg("fossil"), "biogenic": Msg("biogenic"),
                  "biogenic_removal": Msg("biogenic removals"),
                  "dluc": Msg("direct land-use change"),
                  "land_management": Msg("land management"), "aircraft": Msg("aircraft")}
KIND_NAMES = {"material": Msg("material"), "energy": Msg("energy"),
              "transport": Msg("transport"), "waste": Msg("waste"), "service": Msg("service"),
              "emission": Msg("direct emission"), "avoided": Msg("avoided (credit)")}
UNCERTAINTY_NAMES = {"fixed": Msg("fixed"), "lognormal": Msg("lognormal"),
                     "normal": Msg("normal"), "triangular": Msg("triangular"),
                     "uniform": Msg("uniform"), "pedigree": Msg("pedigree matrix")}
CHECK_NAMES = certification.CHECK_LABELS
VERDICT_NAMES = {"pending": Msg("pending"), "conforms": Msg("conforms"),
                 "finding": Msg("finding"), "not_applicable": Msg("not applicable")}

# Labels of the fields only carbon forms have: the registry is shared by every domain, so
# generic names (name, amount, unit, note) stay unlabelled here; their messages still sit
# beside the field.
fields.register({
    "cn_code": Msg("HS/CN code"), "declared_amount": Msg("Declared unit: amount"),
    "declared_unit": Msg("Declared unit"), "mass_kg": Msg("Product mass per declared unit"),
    "boundary": Msg("System boundary"), "basis": Msg("GWP100 basis"),
    "output_amount": Msg("Output amount"), "output_unit": Msg("Output unit"),
    "factor": Msg("Emission factor"), "gsd": Msg("Geometric standard deviation"),
    "pedigree": Msg("Pedigree scores"), "iterations": Msg("Monte Carlo iterations"),
    "sub-assemblies": Msg("Sub-assemblies"),
}, under="/carbon")
MODEL_FIELDS = ("name", "product", "category", "cn_code", "declared_amount", "declared_unit",
                "mass_kg", "functional_unit", "boundary", "basis", "standard", "period_start",
                "period_end", "geography", "cut_off", "description")


def _invalid(exc: ValidationError) -> errors.Problem:
    return errors.Problem(422, "Invalid input", errors=errors.field_errors(exc.errors()))


def _done(request: Request, url: str, message: Msg) -> Response:
    """Success: the next page, which says what was done."""
    return flash(request, RedirectResponse(url, status_code=303), message)


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
                  studies=studies, queues=queues, boundaries=BOUNDARY_LABELS,
                  unit_label=certification.unit_label)


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
                  form={}, boundaries=BOUNDARY_LABELS)


@router.post("/carbon/models", response_model=None)
async def create_model(request: Request, db: DB, principal: SignedIn) -> Response:
    # A refusal propagates: app.js shows it beside the fields, keeping what was typed.
    form = await _form(request)
    try:
        data = _model_form(form, form.get("org_id", ""), [], "")
    except ValidationError as exc:
        raise _invalid(exc) from None
    row = service.create_model(db, principal, data)
    return _done(request, f"/carbon/models/{row.id}",
                 Msg("Product model created: now add its processes"))


# --- step 2, processes and inputs; step 3, compute ------------------------------------------

def _model_context(db: Session, principal: Principal, row: ProductModel, locale: str
                   ) -> dict[str, Any]:
    factors = service.list_factors(db, principal, limit=1000)
    subs = [m for m in service.list_models(db, principal, row.org_id) if m.id != row.id]
    return {"model": row, "stages": [(s, STAGE_NAMES[s]) for s in STAGES],
            "stage_names": STAGE_NAMES, "boundaries": BOUNDARY_LABELS,
            "categories": CATEGORY_NAMES, "kinds": KIND_NAMES,
            "uncertainties": UNCERTAINTY_NAMES, "unit_label": certification.unit_label,
            "factor_names": {f.key: f.name_zh if locale == "zh" and f.name_zh
                             else f.name_en or f.name_zh for f in factors},
            "process_names": {p["key"]: p["name"] for p in row.processes},
            "factors": factors, "subs": subs, "sub_names": {m.id: m.name for m in subs},
            "studies": [s for s in service.list_studies(db, principal, row.org_id)
                        if s.model_id == row.id],
            "can_edit": principal.roles.get(row.org_id, Role.viewer).rank >= Role.editor.rank}


@router.get("/carbon/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, model_id: str, db: DB, principal: SignedIn) -> HTMLResponse:
    row = service.get_model(db, principal, model_id)
    locale = request_locale(request, request.app.state.settings.default_locale)
    return render(request, "carbon/model.html", principal,
                  **_model_context(db, principal, row, locale))


def _edit(request: Request, db: Session, principal: Principal, model_id: str,
          change: Callable[[ProductModel, list[dict[str, Any]]], ModelIn | None],
          done: Msg) -> Response:
    """Applies a change to the model's document through the use case; a refusal (a Problem)
    propagates to the form, and changes nothing."""
    row = service.get_model(db, principal, model_id)
    try:
        processes = [dict(p) for p in row.processes]
        data = change(row, processes)
        if data is None:
            data = ModelIn.model_validate({**{k: getattr(row, k) for k in MODEL_FIELDS},
                                           "org_id": row.org_id, "reference": row.reference,
                                           "processes": processes})
    except ValidationError as exc:
        raise _invalid(exc) from None
    service.update_model(db, principal, model_id, data)
    return _done(request, f"/carbon/models/{model_id}", done)


@router.post("/carbon/models/{model_id}/details", response_model=None)
async def update_details(request: Request, model_id: str, db: DB,
                         principal: SignedIn) -> Response:
    form = await _form(request)
    return _edit(request, db, principal, model_id, lambda row, procs: _model_form(
        form, row.org_id, procs, form.get("reference", row.reference)),
        Msg("Product details saved"))


def _number(form: dict[str, str], name: str, default: float | None = None) -> float | None:
    raw = form.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise errors.invalid(name, Msg("{value} is not a number", value=raw)) from None


@router.post("/carbon/models/{model_id}/processes", response_model=None)
async def add_process(request: Request, model_id: str, db: DB, principal: SignedIn) -> Response:
    form = await _form(request)

    def change(row: ProductModel, procs: list[dict[str, Any]]) -> None:
        p = ProcessIn(key=form.get("key", "").strip(), name=form.get("name", "").strip(),
                      stage=form.get("stage", ""),
                      output_amount=_number(form, "output_amount", 1.0),
                      output_unit=form.get("output_unit", "").strip() or "piece")
        if any(q["key"] == p.key for q in procs):
            raise errors.invalid("key", Msg("the model has a process {key} already",
                                            key=p.key))
        procs.append(p.model_dump())
    return _edit(request, db, principal, model_id, change,
                 Msg("Process added: now add its inputs"))


@router.post("/carbon/models/{model_id}/processes/{key}/delete", response_model=None)
def delete_process(request: Request, model_id: str, key: str, db: DB,
                   principal: SignedIn) -> Response:
    def change(row: ProductModel, procs: list[dict[str, Any]]) -> None:
        procs[:] = [p for p in procs if p["key"] != key]
    return _edit(request, db, principal, model_id, change, Msg("Process removed"))


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
            raise errors.invalid("process", Msg("the model has no process {key}", key=key))
        target["inputs"] = [*target.get("inputs", []), _input(form).model_dump()]
    return _edit(request, db, principal, model_id, change, Msg("Input added"))


@router.post("/carbon/models/{model_id}/processes/{key}/inputs/{index}/delete",
             response_model=None)
def delete_input(request: Request, model_id: str, key: str, index: int, db: DB,
                 principal: SignedIn) -> Response:
    def change(row: ProductModel, procs: list[dict[str, Any]]) -> None:
        for p in procs:
            if p["key"] == key and 0 <= index < len(p.get("inputs", [])):
                p["inputs"] = [i for n, i in enumerate(p["inputs"]) if n != index]
    return _edit(request, db, principal, model_id, change, Msg("Input removed"))


@router.post("/carbon/models/{model_id}/studies", response_model=None)
def compute(request: Request, model_id: str, db: DB, principal: SignedIn,
            title: Annotated[str, Form(max_length=300)] = "",
            iterations: Annotated[int, Form(ge=0, le=20000)] = 1000) -> Response:
    study = service.compute_study(db, principal, model_id,
                                  ComputeIn(title=title, iterations=iterations))
    return _done(request, f"/carbon/studies/{study.id}", Msg("Footprint computed"))


# --- a study: results and certification ----------------------------------------------------

_SHARE_PLACE = re.compile(r"^(?P<model>.*) / process (?P<process>.*), input (?P<input>.*)$")


def _notices(results: dict[str, Any], locale: str) -> list[str]:
    """What the reader should know about the result, in their language; studies computed
    before notices were kept carry English warnings only, shown as they are."""
    if "notices" in results:
        return [Notice.from_json(n).message(locale).localize(locale)
                for n in results["notices"]]
    return [str(w) for w in results.get("warnings", [])]


def _shown_names(study: Study, locale: str) -> dict[str, str]:
    """The names people know the Sankey's nodes and variance shares by: emission factors by
    their name (not their key), the studied model's processes without its name."""
    results = study.results
    names = {f"factor {label}": n.get(locale) or n.get("en") or label
             for label, n in (results.get("factor_names") or {}).items()}
    root = (study.models.get(study.model_id) or {}).get("name", "")
    for link in results.get("links", []):
        for node in (link["source"], link["target"]):
            if root and node.startswith(root + " / "):
                names.setdefault(node, node[len(root) + 3:])
    for key in (study.uncertainty or {}).get("shares", {}):
        m = _SHARE_PLACE.match(key)
        if m:
            names[key] = (f"{m['process']} · {m['input']}" if m["model"] == root
                          else f"{m['model']} / {m['process']} · {m['input']}")
    return names


def _study_context(request: Request, db: Session, principal: Principal, study: Study
                   ) -> dict[str, Any]:
    locale = request_locale(request, request.app.state.settings.default_locale)
    results = study.results
    declared = results.get("declared", {})
    per = Msg("kg CO2e per {amount} {unit}", amount=f"{declared.get('amount', 1):g}",
              unit=certification.unit_label(str(declared.get("unit", ""))))
    unit = per.localize(locale)
    root = study.models.get(study.model_id, {})
    owner = principal.roles.get(study.org_id, Role.viewer).rank >= Role.editor.rank \
        and study.org_id in principal.roles
    reviewer = certification.is_reviewer(principal, study, Role.editor)
    names = org_names(db, [study.org_id] + ([study.cb_org_id] if study.cb_org_id else []))
    shown = _shown_names(study, locale)
    return {
        "study": study, "root": root, "unit": unit, "owner": owner, "reviewer": reviewer,
        "names": names, "checks": CHECKS, "open": study.status in certification.OPEN,
        "stage_names": STAGE_NAMES, "boundaries": BOUNDARY_LABELS,
        "categories": CATEGORY_NAMES, "check_names": CHECK_NAMES,
        "verdicts": VERDICT_NAMES, "shown": shown,
        "notices": _notices(results, locale),
        "waterfall": charts.waterfall(results.get("by_stage", {}),
                                      {k: v.localize(locale) for k, v in STAGE_NAMES.items()},
                                      Msg("Total").localize(locale)),
        "sankey": charts.sankey(results.get("links", []), results.get("contributions", []),
                                shown),
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
    return render(request, "carbon/study.html", principal,
                  **_study_context(request, db, principal, study))


@router.get("/carbon/studies/{study_id}/contributions.{fmt}", response_model=None)
def export_contributions(study_id: str, fmt: Format, db: DB, principal: SignedIn) -> Response:
    study = service.get_study(db, principal, study_id)
    rows = [(c["stage"], c["process"], c["input"], c["kind"], "yes" if c["primary"] else "no",
             c["co2e"]) for c in study.results.get("contributions", [])]
    return download(fmt, f"footprint-{study.id}", [
        "stage", "process", "input", "kind", "primary data", "kg CO2e per declared unit"], rows,
        sheet="contributions")


def _act(request: Request, study_id: str, action: Callable[[], Any], done: Msg) -> Response:
    """Runs a certification step from a form; a refusal propagates to the form."""
    try:
        action()
    except ValidationError as exc:
        raise _invalid(exc) from None
    return _done(request, f"/carbon/studies/{study_id}", done)


@router.post("/carbon/studies/{study_id}/submit", response_model=None)
def submit(request: Request, study_id: str, db: DB, principal: SignedIn,
           institution_id: Annotated[str, Form()]) -> Response:
    return _act(request, study_id,
                lambda: certification.submit(db, principal, study_id, institution_id),
                Msg("Sent to the certification body"))


@router.post("/carbon/studies/{study_id}/withdraw", response_model=None)
def withdraw(request: Request, study_id: str, db: DB, principal: SignedIn) -> Response:
    return _act(request, study_id, lambda: certification.withdraw(db, principal, study_id),
                Msg("Study withdrawn from review"))


@router.post("/carbon/studies/{study_id}/checklist", response_model=None)
async def checklist(request: Request, study_id: str, db: DB, principal: SignedIn) -> Response:
    form = await _form(request)
    return _act(request, study_id, lambda: certification.save_checklist(
        db, principal, study_id, ChecklistIn(items={
            c: CheckIn(verdict=form.get(f"{c}_verdict", "pending"),
                       note=form.get(f"{c}_note", "")) for c in CHECKS})),
        Msg("Checklist saved"))


@router.post("/carbon/studies/{study_id}/messages", response_model=None)
def message(request: Request, study_id: str, db: DB, principal: SignedIn,
            text: Annotated[str, Form()] = "", topic: Annotated[str, Form()] = "general"
            ) -> Response:
    return _act(request, study_id, lambda: certification.post_message(
        db, principal, study_id, MessageIn(topic=topic, text=text)), Msg("Message sent"))


@router.post("/carbon/studies/{study_id}/decision", response_model=None)
async def decide(request: Request, study_id: str, db: DB, principal: SignedIn) -> Response:
    form = await _form(request)
    certify = form.get("decision") == "certify"
    return _act(request, study_id, lambda: certification.decide(
        db, principal, request.app.state.log, study_id, DecisionIn.model_validate({
            k: form[k] for k in ("decision", "note", "valid_from", "valid_until")
            if form.get(k)})),
        Msg("Certified: the certificate is in the public registry") if certify
        else Msg("Study rejected"))


@router.get("/carbon/reviews", response_class=HTMLResponse)
def reviews(request: Request, db: DB, principal: SignedIn,
            status: Annotated[StudyStatus | None, Query()] = None) -> HTMLResponse:
    bodies = _cb_orgs(db, principal)
    queues = {o: certification.review_queue(db, principal, o, status) for o, _ in bodies}
    companies = org_names(db, [s.org_id for q in queues.values() for s in q])
    return render(request, "carbon/reviews.html", principal, bodies=bodies, queues=queues,
                  companies=companies, status=status, statuses=list(StudyStatus),
                  checks_count=len(CHECKS), unit_label=certification.unit_label)
