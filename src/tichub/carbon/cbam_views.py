"""CBAM pages: installations, their embedded emissions and the communication to importers."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from tichub.carbon import cbam_service as service
from tichub.carbon.cbam_schemas import InstallationIn, ResultsOut
from tichub.carbon.models import CbamInstallation
from tichub.core import errors, limits
from tichub.core.auth import DB, Principal, Public, SignedIn
from tichub.core.exports import download
from tichub.core.flash import flash
from tichub.core.i18n import request_locale
from tichub.core.messages import Msg, MsgC, translate
from tichub.core.models import Role
from tichub.core.service import organisation_names as org_names
from tichub.core.web import render

router = APIRouter(include_in_schema=False)

YEARS = (2026, 2027, 2028)
IDENTITY = ("name", "name_en", "country", "city", "address", "unlocode", "economic_activity",
            "latitude", "longitude", "period_start", "period_end")
SECTIONS = ("streams", "processes", "precursors", "carbon_prices")
ROW_FIELD = re.compile(r"^(streams|processes|precursors|carbon_prices)-(\d{1,3})-([a-z_]+)$")
# A row with none of these filled in is an unused row of the form, not a refusal.
SIGNIFICANT = {"streams": ("name", "activity"), "processes": ("key", "name", "cn",
                                                                "activity_level"),
               "precursors": ("key", "name", "cn", "see_direct"),
               "carbon_prices": ("cn", "legal_reference", "price_per_t")}
NUMBERS = {"latitude", "longitude", "activity", "ncv", "ef", "carbon_content", "oxidation",
           "conversion", "biomass", "activity_level", "direct", "electricity_mwh",
           "electricity_ef", "heat_imported", "heat_exported", "waste_gas_imported",
           "waste_gas_exported", "electricity_produced", "see_direct", "see_indirect",
           "electricity_mwh_per_t", "price_per_t", "covered_t_per_t", "rebate_t_per_t",
           "fx_to_eur"}
# Where a refusal points, as the form names it (the catalogue holds the form's own words).
SECTION_LABELS = {"streams": Msg("Source streams"),
                  "processes": Msg("Production processes and their goods"),
                  "precursors": Msg("Purchased precursors"),
                  "carbon_prices": Msg("Carbon prices due in the country of origin")}
IDENTITY_LABELS = {"name": Msg("Installation name"),
                   "name_en": Msg("Name in English (for importers)"),
                   "country": Msg("Country (ISO code)"), "city": Msg("City"),
                   "address": Msg("Address"), "unlocode": Msg("UN/LOCODE"),
                   "economic_activity": Msg("Economic activity"), "latitude": Msg("Latitude"),
                   "longitude": Msg("Longitude"), "period_start": Msg("Reporting period start"),
                   "period_end": Msg("Reporting period end"), "org_id": Msg("Organisation"),
                   "document": Msg("Or upload the document")}
COLUMN_LABELS = {
    "streams": {"name": MsgC("source stream", "Name"), "method": Msg("Method"),
                "activity": Msg("Activity data"), "unit": Msg("Unit"),
                "ncv": Msg("NCV (GJ/t)"), "ef": Msg("Emission factor"),
                "carbon_content": Msg("Carbon content (t C/t)"),
                "oxidation": Msg("Oxidation factor"), "conversion": Msg("Conversion factor"),
                "biomass": Msg("Biomass fraction")},
    "processes": {"key": Msg("Key"), "name": Msg("Good (product name)"), "cn": Msg("CN code"),
                  "route": Msg("Production route"),
                  "activity_level": Msg("Activity level (t produced)"),
                  "direct": Msg("Attributed direct emissions (t CO2e)"),
                  "electricity_mwh": Msg("Electricity consumed (MWh)"),
                  "electricity_ef": Msg("Electricity emission factor (t CO2/MWh)"),
                  "electricity_ef_source": Msg("Source of the electricity factor"),
                  "heat_imported": Msg("Heat imported (t CO2e)"),
                  "heat_exported": Msg("Heat exported (t CO2e)"),
                  "waste_gas_imported": Msg("Waste gas imported (t CO2e)"),
                  "waste_gas_exported": Msg("Waste gas exported (t CO2e)"),
                  "electricity_produced": Msg("Electricity produced (t CO2e)"),
                  "uses": Msg("Precursors consumed")},
    "precursors": {"key": Msg("Key"), "name": MsgC("precursor", "Name"), "cn": Msg("CN code"),
                   "country": Msg("Country"), "see_direct": Msg("SEE direct"),
                   "see_indirect": Msg("SEE indirect"),
                   "electricity_mwh_per_t": Msg("Electricity (MWh/t)"),
                   "electricity_ef": Msg("Electricity factor (t CO2/MWh)"),
                   "default": Msg("Default values")},
    "carbon_prices": {"cn": Msg("CN code"), "instrument": MsgC("carbon pricing", "Instrument"),
                      "legal_reference": Msg("Legal reference"), "currency": Msg("Currency"),
                      "price_per_t": Msg("Price per t CO2e"),
                      "covered_t_per_t": Msg("Covered (t CO2e/t)"),
                      "rebate_t_per_t": Msg("Rebated or free (t CO2e/t)"),
                      "fx_to_eur": Msg("Rate to EUR")}}


def _place(field: str, locale: str) -> str:
    """A refusal's field as people find it on the form: "Source streams, row 2: NCV"; no
    raw path is shown (an unknown one names its section only)."""
    parts = field.split(".")
    if parts[0] in IDENTITY_LABELS:
        return IDENTITY_LABELS[parts[0]].localize(locale)
    if parts[0] not in SECTION_LABELS:
        return ""
    where = SECTION_LABELS[parts[0]]
    if len(parts) < 2 or not parts[1].isdigit():
        return where.localize(locale)
    column = COLUMN_LABELS[parts[0]].get(parts[2]) if len(parts) > 2 else None
    row = Msg("{section}, row {row}", section=where, row=int(parts[1]) + 1)
    return (Msg("{place}: {column}", place=row, column=column) if column else row
            ).localize(locale)


USE_ITEM = re.compile(r"^\s*([^=:：\s]+)\s*[=:：]?\s*(.*?)\s*$")


def _editor_orgs(db: Session, principal: Principal) -> list[tuple[str, str]]:
    ids = principal.orgs_with(Role.editor)
    names = org_names(db, ids)
    return sorted(((i, names.get(i, i)) for i in ids), key=lambda p: p[1])


def _number_text(value: str) -> str:
    # 1,255,000 and 1 255 000 as typed; a decimal comma is not used in zh or en.
    return value.replace(",", "").replace("，", "").replace(" ", "")


def _uses(text: str) -> list[dict[str, str]]:
    """``PP1=20000, P1: 700`` (one per line or comma-separated) into uses."""
    out = []
    for item in re.split(r"[;\n；]|[,，](?=\s*[A-Za-z])", text):
        if not item.strip():
            continue
        m = USE_ITEM.match(item)
        source, mass = (m.group(1), m.group(2)) if m else (item.strip(), "")
        out.append({"source": source, "mass": _number_text(mass)})
    return out


def _from_form(form: FormData) -> tuple[dict[str, Any], dict[str, int]]:
    """The document as the form gave it (texts, for the schema to validate), and how many
    unused rows each section had."""
    doc: dict[str, Any] = {}
    for name in IDENTITY:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            doc[name] = _number_text(value) if name in NUMBERS else value.strip()
    rows: dict[str, dict[int, dict[str, str]]] = {s: {} for s in SECTIONS}
    for name, value in form.multi_items():
        m = ROW_FIELD.match(name)
        if m and isinstance(value, str):
            rows[m.group(1)].setdefault(int(m.group(2)), {})[m.group(3)] = value.strip()
    unused = {}
    for section in SECTIONS:
        kept = []
        for _, raw in sorted(rows[section].items()):
            if not any(raw.get(k) for k in SIGNIFICANT[section]):
                continue
            row: dict[str, Any] = {k: _number_text(v) if k in NUMBERS else v
                                   for k, v in raw.items() if v and k not in ("uses",
                                                                              "default")}
            if section == "processes":
                row["uses"] = _uses(raw.get("uses", ""))
            if section == "precursors":
                row["default"] = raw.get("default") == "yes"
            kept.append(row)
        doc[section] = kept
        unused[section] = len(rows[section]) - len(kept)
    return doc, unused


def _text(value: Any) -> str:
    """A stored value as the form shows it, digits intact: what is saved again unchanged
    computes the same."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _display(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as the form's texts; what does not fit the form (an uploaded file of
    another shape) is left out rather than shown wrong."""
    out: dict[str, Any] = {k: _text(doc.get(k)) for k in IDENTITY}
    for section in SECTIONS:
        given = doc.get(section)
        rows = []
        for row in given if isinstance(given, list) else []:
            if not isinstance(row, dict):
                continue
            shown = {k: v if isinstance(v, bool) else _text(v) for k, v in row.items()
                     if k != "uses"}
            uses = row.get("uses")
            if section == "processes" and isinstance(uses, list):
                shown["uses"] = ", ".join(f"{u.get('source', '')}={_text(u.get('mass'))}"
                                          for u in uses if isinstance(u, dict))
            rows.append(shown)
        out[section] = rows
    return out


def _form_page(request: Request, db: Session, principal: Principal, doc: dict[str, Any], *,
               row: CbamInstallation | None = None, org_id: str = "",
               unused: dict[str, int] | None = None, add: str = "",
               problem: errors.Problem | None = None, status_code: int = 200) -> HTMLResponse:
    blanks = {s: max(1, (unused or {}).get(s, 0)) + (1 if s == add else 0) for s in SECTIONS}
    locale = request_locale(request, request.app.state.settings.default_locale)
    return render(request, "carbon/cbam_form.html", principal, status_code=status_code,
                  doc=_display(doc), row=row, org_id=org_id or (row.org_id if row else ""),
                  orgs=_editor_orgs(db, principal), blanks=blanks,
                  error=str(problem) if problem else None,
                  faults=problem.errors if problem else [],
                  places={e.field: _place(e.field, locale) for e in problem.errors}
                  if problem else {},
                  bad=_marked(problem))


def _marked(problem: errors.Problem | None) -> set[str]:
    """The paths to mark in the form: each field at fault and what holds it (a precursor
    use's fault marks the process's "precursors consumed" box)."""
    out: set[str] = set()
    for e in problem.errors if problem else []:
        parts = e.field.split(".")
        out.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return out


def _invalid(exc: ValidationError) -> errors.Problem:
    faults = errors.field_errors(exc.errors())
    return errors.Problem(422, "Invalid input", detail=Msg("{count} error(s)",
                                                           count=len(faults)), errors=faults)


# --- list and default values ---------------------------------------------------------------

def _lookup(cn: str, country: str, year: int) -> dict[str, Any]:
    if not cn:
        return {"asked": False}
    try:
        rows = service.lookup_defaults(cn, country or "CN", year)
    except errors.Problem as exc:
        return {"asked": True, "rows": [], "error": exc.detail or str(exc)}
    return {"asked": True, "rows": rows, "error": None}


@router.get("/carbon/cbam", response_class=HTMLResponse)
def home(request: Request, db: DB, principal: Public,
         cn: Annotated[str, Query(max_length=14)] = "",
         country: Annotated[str, Query(max_length=7)] = "CN",
         year: Annotated[int, Query(ge=2026, le=2100)] = 2026) -> HTMLResponse:
    """The company's installations, and the default-value lookup anyone may use."""
    names = org_names(db, principal.roles)
    mine = [(org, names.get(org, org), [service.summary(r) for r in
                                        service.list_installations(db, principal, org)])
            for org in sorted(principal.roles, key=lambda o: names.get(o, o))]
    return render(request, "carbon/cbam_home.html", principal, mine=mine,
                  can_create=bool(principal.orgs_with(Role.editor)), years=YEARS,
                  q={"cn": cn, "country": country, "year": year},
                  lookup=_lookup(cn, country, year))


@router.get("/carbon/cbam/defaults", response_class=HTMLResponse)
def defaults_part(request: Request, principal: Public,
                  cn: Annotated[str, Query(max_length=14)] = "",
                  country: Annotated[str, Query(max_length=7)] = "CN",
                  year: Annotated[int, Query(ge=2026, le=2100)] = 2026) -> HTMLResponse:
    """The lookup's answer alone, for htmx to swap in."""
    return render(request, "carbon/cbam_defaults.html", principal,
                  lookup=_lookup(cn, country, year))


# --- create and edit -----------------------------------------------------------------------

@router.get("/carbon/cbam/new", response_class=HTMLResponse)
def new(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    return _form_page(request, db, principal, {})


async def _save(request: Request, db: Session, principal: Principal,
                row: CbamInstallation | None) -> Response:
    form = await request.form()
    doc, unused = _from_form(form)
    org_id = row.org_id if row else str(form.get("org_id", ""))
    add = str(form.get("add", ""))
    if add in SECTIONS:  # "add a row": the same form again, one row longer, nothing saved
        return _form_page(request, db, principal, doc, row=row, org_id=org_id,
                          unused=unused, add=add)
    upload = form.get("document")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(service.MAX_UPLOAD + 1)
        try:
            loaded = json.loads(raw) if len(raw) <= service.MAX_UPLOAD else None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _form_page(request, db, principal, doc, row=row, org_id=org_id,
                              unused=unused, status_code=422, problem=errors.invalid(
                                  "document", Msg("is not a JSON document ({reason})",
                                                  reason=str(exc))))
        if not isinstance(loaded, dict):
            return _form_page(request, db, principal, doc, row=row, org_id=org_id,
                              unused=unused, status_code=422, problem=errors.invalid(
                                  "document", Msg("is not a JSON object of at most 5 MiB")))
        doc = loaded

    def save() -> str:
        data = InstallationIn.model_validate({**doc, "org_id": org_id})
        if row is None:
            return service.create_installation(db, principal, data).id
        return service.update_installation(db, principal, row.id, data).id

    try:
        saved = await run_in_threadpool(save)
    except ValidationError as exc:
        db.rollback()
        return _form_page(request, db, principal, doc, row=row, org_id=org_id, unused=unused,
                          problem=_invalid(exc), status_code=422)
    except errors.Problem as exc:
        db.rollback()
        return _form_page(request, db, principal, doc, row=row, org_id=org_id, unused=unused,
                          problem=exc, status_code=exc.status)
    return flash(request, RedirectResponse(f"/carbon/cbam/installations/{saved}",
                                           status_code=303),
                 Msg("Installation saved and its embedded emissions computed"))


@router.post("/carbon/cbam/installations", response_model=None,
             max_body_size=limits.upload(service.MAX_UPLOAD))
async def create(request: Request, db: DB, principal: SignedIn) -> Response:
    """Creates an installation from the form (or from an uploaded JSON document)."""
    return await _save(request, db, principal, None)


def _editable(db: Session, principal: Principal, installation_id: str) -> CbamInstallation:
    row = service.get_installation(db, principal, installation_id)
    if not service.may_edit(principal, row):
        raise errors.forbidden(Msg("only the installation's organisation's editors change it"))
    return row


@router.get("/carbon/cbam/installations/{installation_id}/edit", response_class=HTMLResponse)
def edit(request: Request, installation_id: str, db: DB, principal: SignedIn) -> HTMLResponse:
    row = _editable(db, principal, installation_id)
    return _form_page(request, db, principal, row.data, row=row)


@router.post("/carbon/cbam/installations/{installation_id}", response_model=None,
             max_body_size=limits.upload(service.MAX_UPLOAD))
async def update(request: Request, installation_id: str, db: DB,
                 principal: SignedIn) -> Response:
    row = await run_in_threadpool(_editable, db, principal, installation_id)
    return await _save(request, db, principal, row)


# --- results -------------------------------------------------------------------------------

def _chart(res: ResultsOut) -> dict[str, Any]:
    """SEE that counts against the default value with the year's mark-up, per good (the
    template adds the series' names in the reader's language)."""
    return {"labels": [f"{g.name} ({g.cn})" for g in res.goods],
            "actual": [round(g.see_compared, 4) for g in res.goods],
            "default": [g.default.with_markup if g.default else None for g in res.goods]}


@router.get("/carbon/cbam/installations/{installation_id}", response_class=HTMLResponse)
def results_page(request: Request, installation_id: str, db: DB, principal: SignedIn,
                 year: Annotated[int | None, Query(ge=2026, le=2100)] = None) -> HTMLResponse:
    row = service.get_installation(db, principal, installation_id)
    doc = service.document(row)
    res = service.compute(doc, year or service.default_year(doc), row.id)
    years = sorted({*YEARS, res.year})
    return render(request, "carbon/cbam_results.html", principal, row=row, res=res,
                  doc=row.data, years=years, editable=service.may_edit(principal, row),
                  org_name=org_names(db, [row.org_id]).get(row.org_id, ""),
                  chart_data=_chart(res))


RESULT_HEADER = ("process", "good", "cn", "category", "route", "activity_level_t",
                 "see_direct", "see_indirect", "see_total", "see_counted", "direct_only",
                 "see_compared", "embedded_electricity_mwh_per_t", "default_share", "default_table",
                 "default_description", "default_total", "year", "markup",
                 "default_with_markup", "saving_per_t", "carbon_price_due_eur_per_t",
                 "warnings")


@router.get("/carbon/cbam/installations/{installation_id}/results.{fmt}")
def results_export(installation_id: str, fmt: str, db: DB, principal: SignedIn,
                   year: Annotated[int | None, Query(ge=2026, le=2100)] = None) -> Response:
    """The results table as CSV or Excel, for the operator's records or an importer."""
    if fmt not in ("csv", "xlsx"):
        raise errors.not_found(Msg("format"))
    res = service.results(db, principal, installation_id, year)
    rows = [[g.process, g.name, g.cn, g.category or "", g.route, g.activity_level,
             g.see_direct, g.see_indirect, g.see_total, g.see_counted,
             "yes" if g.direct_only else "no", g.see_compared, g.embedded_electricity,
             g.default_share,
             g.default.table if g.default else "", g.default.description if g.default else "",
             g.default.total if g.default else None, res.year,
             g.default.markup if g.default else None,
             g.default.with_markup if g.default else None, g.saving_per_t,
             g.carbon_price_due_eur_per_t, "; ".join(w.message for w in g.warnings)]
            for g in res.goods]
    return download(fmt, f"cbam-results-{installation_id}-{res.year}",  # type: ignore[arg-type]
                    RESULT_HEADER, rows, sheet="CBAM results")


# --- communications received ---------------------------------------------------------------

@router.get("/carbon/cbam/communications", response_class=HTMLResponse)
def communication_form(request: Request, principal: SignedIn) -> HTMLResponse:
    return render(request, "carbon/cbam_communication.html", principal, comm=None,
                  error=None, years=YEARS, year=YEARS[0], filename="")


@router.post("/carbon/cbam/communications", response_class=HTMLResponse,
             max_body_size=limits.upload(service.MAX_UPLOAD))
async def communication_read(request: Request, principal: SignedIn) -> HTMLResponse:
    """Shows what a communication file says, checked; stores nothing."""
    form = await request.form()
    upload = form.get("file")
    try:
        year = int(str(form.get("year") or YEARS[0]))
    except ValueError:
        year = YEARS[0]
    year = min(max(year, YEARS[0]), 2100)
    name = upload.filename or "" if isinstance(upload, UploadFile) else ""
    data = await upload.read(service.MAX_UPLOAD + 1) if isinstance(upload, UploadFile) else b""
    try:
        comm = await run_in_threadpool(service.read_communication, data, year)
    except errors.Problem as exc:
        # The page itself is the answer (nothing is stored): the refusal shows on it, in the
        # reader's language.
        locale = request_locale(request, request.app.state.settings.default_locale)
        said = [translate(e.message, locale) for e in exc.errors] or [
            translate(exc.detail or exc.title, locale)]
        return render(request, "carbon/cbam_communication.html", principal,
                      status_code=exc.status, comm=None, error="; ".join(said), years=YEARS,
                      year=year, filename=name)
    return render(request, "carbon/cbam_communication.html", principal, comm=comm,
                  error=None, years=YEARS, year=year, filename=name)
