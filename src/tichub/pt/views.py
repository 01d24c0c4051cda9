"""Proficiency-testing pages: schemes, a round for its provider and its participants, the
round report (HTML and PDF, Chinese or English) and a laboratory's score history."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tichub.core import errors, fields, limits
from tichub.core.auth import DB, Principal, Public, SignedIn
from tichub.core.exports import download
from tichub.core.flash import flash
from tichub.core.i18n import request_locale
from tichub.core.ids import BEIJING, today
from tichub.core.messages import Msg
from tichub.core.models import Organisation, Role
from tichub.core.service import organisation_names as org_names
from tichub.core.web import render
from tichub.pt import pdfs, report, service, stats
from tichub.pt.models import ParticipantStatus, PtRound, RoundStatus
from tichub.pt.schemas import (
    CorrectiveActionIn,
    MeasurandIn,
    ResultIn,
    RoundIn,
    SchemeIn,
    SettingIn,
)
from tichub.registry import service as registry

router = APIRouter(include_in_schema=False)

# What the PT forms call the fields that refusals name.
fields.register({
    "measurands": Msg("Measurands"), "measurand": Msg("Measurand"),
    "deadline": Msg("Deadline"), "items": Msg("Items"), "scheme": Msg("Scheme"),
    "before": Msg("Results before dispatch"), "after": Msg("Results after the round"),
    "sigma_pt": Msg("σ_pt for the check"), "participants": Msg("Participants"),
    "sigma_kind": Msg("How σ_pt is set"), "assigned_value": Msg("Assigned value"),
    "sigma_value": Msg("σ_pt value"),
    "done_on": Msg("Date done"), "note": Msg("What was done"),
}, under="/pt")

# Deadlines typed into a form are read as Beijing time, as the people typing them mean.
CST = BEIJING
MAX_UPLOAD = 5 * 1024 * 1024


def _lab_orgs(principal: Principal, role: Role = Role.editor) -> list[str]:
    return [o for o, r in principal.roles.items()
            if r.rank >= role.rank and principal.kinds.get(o) in service.PROVIDER_KINDS]


def _invalid(exc: ValidationError) -> errors.Problem:
    return errors.Problem(422, "Invalid input", errors=errors.field_errors(exc.errors()))


@router.get("/pt", response_class=HTMLResponse)
def home(request: Request, db: DB, principal: Public) -> HTMLResponse:
    mine = service.rounds_of(db, principal) if principal.authenticated else []
    orgs = _lab_orgs(principal)
    names = org_names(db, orgs)
    institutions = (registry.list_own_institutions(db, principal)
                    if principal.authenticated and orgs else [])
    schemes = service.list_schemes(db)
    return render(request, "pt/home.html", principal, schemes=schemes, mine=mine,
                  my_orgs=[(o, names.get(o, o)) for o in orgs], institutions=institutions,
                  provider_orgs={s.id for s in schemes if s.provider_org_id in principal.roles})


def _measurands(text: str) -> list[MeasurandIn]:
    """One measurand per line: name, unit[, mass fraction of one unit]."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) < 2:
            raise errors.invalid("measurands", Msg("write each as: name, unit"), n)
        try:
            out.append(MeasurandIn(name=parts[0], unit=parts[1],
                                   mass_fraction_per_unit=float(parts[2])
                                   if len(parts) > 2 and parts[2] else None))
        except (ValidationError, ValueError):
            raise errors.invalid("measurands", Msg(
                "line {line} is not: name, unit[, fraction]", line=n), n) from None
    return out


@router.post("/pt/schemes", response_model=None)
def create_scheme(
    request: Request, db: DB, principal: SignedIn,
    org_id: Annotated[str, Form()], code: Annotated[str, Form()],
    name_zh: Annotated[str, Form()], name_en: Annotated[str, Form()] = "",
    field: Annotated[str, Form()] = "", measurands: Annotated[str, Form()] = "",
    institution_id: Annotated[str, Form()] = "", method_groups: Annotated[str, Form()] = "",
) -> Response:
    try:
        data = SchemeIn(org_id=org_id, code=code, name_zh=name_zh, name_en=name_en,
                        field=field, institution_id=institution_id or None,
                        method_groups=[g.strip() for g in method_groups.replace("，", ",")
                                       .split(",") if g.strip()],
                        measurands=_measurands(measurands))
        scheme = service.create_scheme(db, principal, data)
    except ValidationError as exc:
        raise _invalid(exc) from None
    return flash(request, RedirectResponse(f"/pt/schemes/{scheme.id}", status_code=303),
                 Msg("Scheme {code} created", code=scheme.code))


@router.get("/pt/schemes/{scheme_id}", response_class=HTMLResponse)
def scheme_page(request: Request, scheme_id: str, db: DB, principal: Public) -> HTMLResponse:
    scheme = service.get_scheme(db, scheme_id)
    provider = scheme.provider_org_id in principal.roles or principal.is_operator
    default_deadline = (datetime.now(CST) + timedelta(days=30)).strftime("%Y-%m-%dT17:00")
    # The provider is shown by its institution, which the directory publishes; an
    # organisation's own name is its members' business.
    provider_name = ""
    if scheme.institution_id:
        with suppress(errors.Problem):  # unpublished: no name
            provider_name = registry.get_institution(db, principal, scheme.institution_id).name_zh
    return render(request, "pt/scheme.html", principal, scheme=scheme, provider=provider,
                  rounds=service.list_rounds(db, scheme.id), provider_name=provider_name,
                  default_deadline=default_deadline)


@router.post("/pt/schemes/{scheme_id}/rounds", response_model=None)
async def create_round(request: Request, scheme_id: str, db: DB,
                       principal: SignedIn) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def number(name: str) -> float | None:
        raw = text(name)
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            raise errors.invalid(name, Msg("'{text}' is not a number", text=raw)) from None

    scheme = service.require_provider(db, principal, scheme_id)
    try:
        deadline = datetime.fromisoformat(text("deadline")).replace(tzinfo=CST)
    except ValueError:
        raise errors.invalid("deadline", Msg("give a date and time")) from None
    try:
        settings = [SettingIn(
            measurand=m.name, assigned_kind=text(f"assigned_kind_{m.id}") or "consensus",
            method=text(f"method_{m.id}") or "algorithm-a",
            assigned_value=number(f"assigned_value_{m.id}"),
            assigned_u=number(f"assigned_u_{m.id}"),
            sigma_kind=text(f"sigma_kind_{m.id}") or "robust",
            sigma_value=number(f"sigma_value_{m.id}"))
            for m in scheme.measurands]
        data = RoundIn(code=text("code"), title=text("title"),
                       dispatch_on=text("dispatch_on") or None,
                       items=[i.strip() for i in text("items").replace("，", ",").split(",")
                              if i.strip()] or ["A"],
                       deadline=deadline, score=text("score") or "z",
                       settings=settings)
    except ValidationError as exc:
        raise _invalid(exc) from None
    rnd = await run_in_threadpool(service.create_round, db, principal, scheme_id, data)
    return flash(request, RedirectResponse(f"/pt/rounds/{rnd.id}", status_code=303),
                 Msg("Round {code} created", code=rnd.code))


def _round_context(db: Session, principal: Principal, rnd: PtRound) -> dict[str, Any]:
    provider = service.is_provider(principal, rnd)
    parts = service.participants(db, rnd)
    own = [p for p in parts if p.org_id in principal.roles]
    counts = service.counts(db, rnd) if provider else {}
    names = org_names(db, [p.org_id for p in parts] if provider else [p.org_id for p in own])
    own_results = {p.id: service.results_of(db, p) for p in own}
    settings = {s.id: s for s in rnd.settings}
    candidates: list[tuple[str, str]] = []
    if provider and rnd.status in (RoundStatus.draft, RoundStatus.open):
        taken = {p.org_id for p in parts} | {rnd.scheme.provider_org_id}
        candidates = [(o.id, o.name) for o in db.scalars(
            select(Organisation).where(Organisation.kind.in_(service.PARTICIPANT_KINDS))
            .order_by(Organisation.name).limit(500)) if o.id not in taken]
    joinable = [(o, n) for o, n in org_names(db, _lab_orgs(principal)).items()
                if o not in {p.org_id for p in parts} and o != rnd.scheme.provider_org_id]
    return {"rnd": rnd, "provider": provider, "participants": parts, "own": own,
            "counts": counts, "names": names, "own_results": own_results,
            "settings": settings, "candidates": candidates, "joinable": joinable,
            "open_for_results": rnd.status is RoundStatus.open,
            "past_deadline": datetime.now(CST) > rnd.deadline,
            "accepted": ParticipantStatus.accepted}


@router.get("/pt/rounds/{round_id}", response_class=HTMLResponse)
def round_page(request: Request, round_id: str, db: DB, principal: Public) -> HTMLResponse:
    rnd = service.get_round(db, round_id)
    return render(request, "pt/round.html", principal, **_round_context(db, principal, rnd))


def _act(request: Request, db: Session, round_id: str, action: Callable[[], Msg]) -> Response:
    """Runs a use case from a form and goes back to the round, saying what was done. A
    refusal propagates: app.js shows it beside the fields, keeping what was typed (without
    JavaScript, the error page says why); nothing was changed."""
    try:
        done = action()
    except errors.Problem:
        db.rollback()
        raise
    except ValidationError as exc:
        db.rollback()
        raise _invalid(exc) from None
    return flash(request, RedirectResponse(f"/pt/rounds/{round_id}", status_code=303), done)


@router.post("/pt/rounds/{round_id}/invite", response_model=None)
def invite(request: Request, round_id: str, db: DB, principal: SignedIn,
           org_id: Annotated[str, Form()]) -> Response:
    def run() -> Msg:
        service.invite(db, principal, round_id, org_id)
        return Msg("Invitation sent")

    return _act(request, db, round_id, run)


@router.post("/pt/rounds/{round_id}/join", response_model=None)
def join(request: Request, round_id: str, db: DB, principal: SignedIn,
         org_id: Annotated[str, Form()]) -> Response:
    def run() -> Msg:
        service.request_to_join(db, principal, round_id, org_id)
        return Msg("Request to take part sent to the provider")

    return _act(request, db, round_id, run)


@router.post("/pt/participants/{participant_id}/answer", response_model=None)
def answer(request: Request, participant_id: str, db: DB, principal: SignedIn,
           accept: Annotated[str, Form()], round_id: Annotated[str, Form()]) -> Response:
    def run() -> Msg:
        service.answer(db, principal, participant_id, accept == "yes")
        return Msg("Participation accepted") if accept == "yes" else Msg(
            "Participation declined")

    return _act(request, db, round_id, run)


# Where each field of a result sits in the results form: "<prefix>_<setting>_<item>".
RESULT_INPUTS = {"value": "value", "unit": "unit", "expanded_uncertainty": "U", "U": "U",
                 "coverage_factor": "k", "k": "k", "method": "method",
                 "measurand": "value", "item": "value"}


def _at_inputs(exc: errors.Problem, keys: list[str],
               where: list[Msg]) -> errors.Problem:
    """A refusal of typed results, its faults moved to the inputs they concern: the
    service names an entry by its position (``row``); the form by its inputs' names."""
    faults = []
    for e in exc.errors:
        if e.row is not None and 1 <= e.row <= len(keys):
            # A message naming its measurand says where already.
            named = isinstance(e.message, Msg) and "measurand" in e.message.params
            faults.append(errors.FieldError(
                f"{RESULT_INPUTS.get(e.field, 'value')}_{keys[e.row - 1]}",
                e.message if named else Msg("{where}: {message}", where=where[e.row - 1],
                                            message=e.message)))
        else:
            faults.append(e)
    return errors.Problem(exc.status, exc.title, exc.detail, faults)


def _typed_results(rnd: PtRound, value: Callable[[str], str]) -> tuple[
        list[ResultIn], list[str], list[Msg]]:
    """The results typed into the form, each with its inputs' key and how a person names
    it; every faulty cell refused at once, beside its input."""
    from tichub.pt.sheets import parse_number

    entries: list[ResultIn] = []
    keys: list[str] = []
    where: list[Msg] = []
    faults: list[errors.FieldError] = []
    for s in rnd.settings:
        for item in rnd.items:
            key = f"{s.id}_{item}"
            raw = value(f"value_{key}")
            if not raw:
                continue
            here = Msg("{measurand}, item {item}", measurand=s.measurand.name, item=item)
            found: list[errors.FieldError] = []
            number = parse_number(raw, f"value_{key}", None, found)
            big_u = k = None
            if value(f"U_{key}"):
                big_u = parse_number(value(f"U_{key}"), f"U_{key}", None, found)
                if big_u is not None and big_u < 0:
                    found.append(errors.FieldError(f"U_{key}", Msg("must not be negative")))
            if value(f"k_{key}"):
                k = parse_number(value(f"k_{key}"), f"k_{key}", None, found, positive=True)
                if k is not None and k > 10:
                    found.append(errors.FieldError(f"k_{key}", Msg("must be at most 10")))
            unit, method = value(f"unit_{key}") or s.measurand.unit, value(f"method_{key}")
            if len(unit) > 40:
                found.append(errors.FieldError(f"unit_{key}", Msg("is longer than {n} "
                                                                 "characters", n=40)))
            if len(method) > 200:
                found.append(errors.FieldError(f"method_{key}", Msg("is longer than {n} "
                                                                   "characters", n=200)))
            faults += [errors.FieldError(f.field, Msg("{where}: {message}", where=here,
                                                      message=f.message)) for f in found]
            if found or number is None:
                continue
            entries.append(ResultIn(measurand=s.measurand.name, item=item, value=number,
                                    unit=unit, expanded_uncertainty=big_u,
                                    coverage_factor=k, method=method))
            keys.append(key)
            where.append(here)
    if faults:
        raise errors.Problem(422, Msg("Results refused"), Msg(
            "{count} entries need correcting; nothing was stored", count=len(faults)), faults)
    return entries, keys, where


@router.post("/pt/rounds/{round_id}/results", response_model=None,
             max_body_size=limits.upload(MAX_UPLOAD))
async def submit(request: Request, round_id: str, db: DB, principal: SignedIn) -> Response:
    form = await request.form()
    org_id = str(form.get("org_id", ""))
    upload = form.get("file")
    rnd = service.get_round(db, round_id)

    def value(name: str) -> str:
        v = form.get(name, "")
        return v.strip() if isinstance(v, str) else ""

    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_UPLOAD + 1)

        def from_file() -> Msg:
            service.check_participant(db, principal, round_id, org_id)
            if len(data) > MAX_UPLOAD:
                raise errors.invalid("file", Msg("is larger than {size} MB", size=5))
            entries, rows = service.results_upload(upload.filename or "", data)
            stored = service.submit_results(db, principal, round_id, org_id, entries,
                                            rows_of=rows)
            return Msg("{count} results submitted", count=len(stored))

        return await run_in_threadpool(_act, request, db, round_id, from_file)

    def from_form() -> Msg:
        service.check_participant(db, principal, round_id, org_id)
        entries, keys, where = _typed_results(rnd, value)
        if not entries:
            first = f"value_{rnd.settings[0].id}_{rnd.items[0]}" if rnd.settings else "value"
            raise errors.invalid(first, Msg("enter at least one result"))
        try:
            stored = service.submit_results(db, principal, round_id, org_id, entries)
        except errors.Problem as exc:
            raise _at_inputs(exc, keys, where) from None
        return Msg("{count} results submitted", count=len(stored))

    return await run_in_threadpool(_act, request, db, round_id, from_form)


@router.post("/pt/rounds/{round_id}/homogeneity", response_model=None,
             max_body_size=limits.upload(MAX_UPLOAD))
async def homogeneity(request: Request, round_id: str, db: DB, principal: SignedIn) -> Response:
    form = await request.form()
    upload = form.get("file")
    measurand = str(form.get("measurand", ""))
    data = await upload.read(MAX_UPLOAD + 1) if isinstance(upload, UploadFile) else b""
    name = upload.filename or "" if isinstance(upload, UploadFile) else ""

    def check() -> Msg:
        service.require_provider(db, principal, service.get_round(db, round_id).scheme_id)
        if not data:
            raise errors.invalid("file", Msg("choose the file of replicate measurements"))
        if len(data) > MAX_UPLOAD:
            raise errors.invalid("file", Msg("is larger than {size} MB", size=5))
        service.record_homogeneity(db, principal, round_id, measurand, name, data,
                                   _optional_number(str(form.get("sigma_pt", "")), "sigma_pt"))
        return Msg("Homogeneity check of {measurand} recorded", measurand=measurand)

    return await run_in_threadpool(_act, request, db, round_id, check)


@router.post("/pt/rounds/{round_id}/stability", response_model=None)
def stability(request: Request, round_id: str, db: DB, principal: SignedIn,
              measurand: Annotated[str, Form()], before: Annotated[str, Form()] = "",
              after: Annotated[str, Form()] = "",
              sigma_pt: Annotated[str, Form()] = "") -> Response:
    def check() -> Msg:
        service.require_provider(db, principal, service.get_round(db, round_id).scheme_id)
        service.record_stability(db, principal, round_id, measurand,
                                 _numbers(before, "before"), _numbers(after, "after"),
                                 _optional_number(sigma_pt, "sigma_pt"))
        return Msg("Stability check of {measurand} recorded", measurand=measurand)

    return _act(request, db, round_id, check)


def _optional_number(text: str, field_name: str) -> float | None:
    return _numbers(text, field_name)[0] if text.strip() else None


def _numbers(text: str, field_name: str) -> list[float]:
    from tichub.pt.sheets import parse_number

    faults: list[errors.FieldError] = []
    values = [parse_number(t, field_name, None, faults)
              for t in text.replace("，", ",").replace(",", " ").split()]
    if faults:
        raise errors.Problem(422, "Invalid input", detail=faults[0].message, errors=faults)
    return [v for v in values if v is not None]


# --- the round report ----------------------------------------------------------------------

@router.get("/pt/rounds/{round_id}/report", response_class=HTMLResponse)
async def report_page(request: Request, round_id: str, db: DB,
                      principal: SignedIn) -> HTMLResponse:
    context = await run_in_threadpool(report.context, db, principal, round_id)
    return render(request, "pt/report.html", principal, printable=False, **context)


PDF_STAGES = {pdfs.QUEUED: (1, Msg("Waiting for its turn")),
              pdfs.CHARTS: (2, Msg("Drawing the charts")),
              pdfs.LAYOUT: (3, Msg("Laying out the pages")),
              pdfs.READY: (4, Msg("Ready: the download starts")),
              pdfs.FAILED: (0, Msg("The PDF could not be made; the fault is logged."))}


def _pdf_url(round_id: str, locale: str) -> str:
    return f"/pt/rounds/{round_id}/report.pdf?lang={locale}"


@router.get("/pt/rounds/{round_id}/report.pdf", response_model=None)
async def report_pdf(request: Request, round_id: str, db: DB, principal: SignedIn) -> Response:
    """The report as a PDF, in the page's language (``?lang=en``): from the cache when the
    round has not changed since it was made, else a page that follows its making (202) and
    downloads it when ready."""
    locale = request_locale(request, request.app.state.settings.default_locale)
    status = await run_in_threadpool(pdfs.request, db, request.app.state.sessionmaker,
                                     principal, round_id, locale)
    if status.pdf is not None:
        return Response(status.pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{status.name}"'})
    rnd = service.get_round(db, round_id)
    return render(request, "pt/pdf_progress.html", principal, status_code=202, rnd=rnd,
                  **_progress_context(round_id, locale, status.state))


def _progress_context(round_id: str, locale: str, state: str) -> dict[str, Any]:
    step, label = PDF_STAGES.get(state, PDF_STAGES[pdfs.QUEUED])
    return {"round_id": round_id, "state": state, "step": step, "steps": 4, "label": label,
            "pdf_url": _pdf_url(round_id, locale),
            "poll_url": f"/pt/rounds/{round_id}/report.pdf/progress?lang={locale}"}


@router.get("/pt/rounds/{round_id}/report.pdf/progress", response_class=HTMLResponse)
def report_pdf_progress(request: Request, round_id: str, db: DB,
                        principal: SignedIn) -> HTMLResponse:
    """The progress fragment the waiting page polls; when the PDF is ready, htmx is told
    to go and fetch it."""
    locale = request_locale(request, request.app.state.settings.default_locale)
    state = pdfs.progress(db, principal, round_id, locale)
    response = render(request, "pt/pdf_progress_fragment.html", principal,
                      **_progress_context(round_id, locale, state))
    if state == pdfs.READY:
        response.headers["HX-Redirect"] = _pdf_url(round_id, locale)
    return response


@router.get("/pt/rounds/{round_id}/scores.{fmt}")
def scores_export(request: Request, round_id: str, fmt: str, db: DB,
                  principal: SignedIn) -> Response:
    """Every result and score of the round as CSV or Excel, by participant code: for the
    provider and supervision at any time, for participants once published."""
    if fmt not in ("csv", "xlsx"):
        raise errors.not_found(Msg("format"))
    rnd, measurands, _mine = service.round_report(db, principal, round_id)
    header = ["measurand", "unit", "item", "code", "value", "U", "k", "z", "z_prime", "zeta",
              "en", "assessment", "method"]
    rows = [[m.name, m.unit, it.item, r["code"], r["value"], r["U"], r["k"], r["z"],
             r["z_prime"], r["zeta"], r["en"], r["verdict"], r["method"]]
            for m in measurands for it in m.items for r in it.rows]
    return download(fmt, f"{rnd.scheme.code}-{rnd.code}-scores.{fmt}", header, rows,  # type: ignore[arg-type]
                    sheet="scores")


@router.get("/pt/history", response_class=HTMLResponse)
def history_page(request: Request, db: DB, principal: SignedIn,
                 org: Annotated[str | None, Query(max_length=26)] = None) -> HTMLResponse:
    orgs = [o for o in principal.roles if principal.kinds.get(o) in service.PARTICIPANT_KINDS]
    org_id = org or (orgs[0] if orgs else None)
    if org_id is None:
        raise errors.forbidden(Msg("this page is for laboratories"))
    rows = service.history(db, principal, org_id)
    rounds: list[str] = []
    scores: dict[str, dict[str, float | None]] = {}
    for r in rows:
        label = f"{r['scheme']}/{r['round']}"
        if label not in rounds:
            rounds.append(label)
        scores.setdefault(f"{r['measurand']} ({r['item']})", {})[label] = r[r["score"]]
    chart = {"kind": "scores", "rounds": rounds,
             "series": {k: [v.get(label) for label in rounds] for k, v in scores.items()}}
    rsz = {k: float(stats.rescaled_sum_z([s for s in v.values() if s is not None]))
           for k, v in scores.items() if any(s is not None for s in v.values())}
    held = principal.roles.get(org_id)
    return render(request, "pt/history.html", principal, rows=rows, chart=chart, rsz=rsz,
                  org_id=org_id, org_name=org_names(db, [org_id]).get(org_id, ""),
                  actions=service.corrective_actions_of(db, principal, org_id),
                  may_correct=held is not None and held.rank >= Role.editor.rank,
                  today=today().isoformat())


@router.post("/pt/results/{result_id}/corrective-actions", response_model=None)
def record_corrective_action(request: Request, result_id: str, db: DB, principal: SignedIn,
                             done_on: Annotated[str, Form(max_length=20)] = "",
                             note: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """The form on the score history page; back to that page with what was recorded."""
    try:
        data = CorrectiveActionIn.model_validate({"done_on": done_on or None, "note": note})
        action = service.record_corrective_action(db, principal, result_id, data)
    except errors.Problem:
        db.rollback()
        raise
    except ValidationError as exc:
        db.rollback()
        raise _invalid(exc) from None
    return flash(request, RedirectResponse(f"/pt/history?org={action.org_id}",
                                           status_code=303),
                 Msg("Corrective action of {day} recorded", day=action.recorded_on.isoformat()))


# Last: its path would otherwise take the round's other POST routes.
@router.post("/pt/rounds/{round_id}/{step}", response_model=None)
def step(request: Request, round_id: str, step: str, db: DB,
         principal: SignedIn) -> Response:
    actions: dict[str, tuple[Callable[[], Any], Msg]] = {
        "open": (lambda: service.transition(db, principal, round_id, "open"),
                 Msg("The round is open for results")),
        "close": (lambda: service.transition(db, principal, round_id, "close"),
                  Msg("The round is closed: no more results")),
        "compute": (lambda: service.compute(db, principal, round_id),
                    Msg("Statistics and scores computed")),
        "publish": (lambda: service.publish(db, principal, round_id, request.app.state.log),
                    Msg("The round is published: participants see their scores")),
    }
    if step not in actions:
        raise errors.not_found(Msg("action"))
    run, done = actions[step]

    def act() -> Msg:
        run()
        return done

    return _act(request, db, round_id, act)
