"""Signal pages: the supervisors' list (filters, exports, each rule's precision) and a
signal's page (explanation, basis, evidence rows, triage and ask forms, the lab's answer);
the lab's own signals and its answer form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tichub.core import errors, fields, limits
from tichub.core.auth import DB, SignedIn
from tichub.core.exports import download
from tichub.core.flash import flash
from tichub.core.i18n import request_locale
from tichub.core.messages import Msg, enum_label, translate
from tichub.core.web import render
from tichub.registry.districts import BY_SLUG, DISTRICTS
from tichub.registry.models import Institution
from tichub.supervision import jurisdiction
from tichub.supervision.models import Severity, SignalStatus
from tichub.supervision.signals import rules, service

router = APIRouter(include_in_schema=False)

fields.register({"status": Msg("Decision"), "reason": Msg("Reason"),
                 "question": Msg("Question to the lab"), "answer": Msg("Answer"),
                 "files": Msg("Files")}, under="/supervision/signals")
fields.register({"answer": Msg("Answer"), "files": Msg("Files")},
                under="/supervision/mine/signals")
PER_PAGE = 50
MAX_BODY = limits.upload(service.MAX_FILES * service.MAX_FILE_BYTES)


def _filters(district: str, code: str, severity: str, status: str,
             institution: str) -> service.Filters:
    return service.Filters(
        district or None, code if code in rules.BY_CODE else None,
        Severity(severity) if severity in Severity.__members__ else None,
        SignalStatus(status) if status in SignalStatus.__members__ else None,
        institution or None)


def _names(db: DB, ids: set[str]) -> dict[str, str]:
    from sqlalchemy import select

    if not ids:
        return {}
    return dict(db.execute(select(Institution.id, Institution.name_zh)
                           .where(Institution.id.in_(ids))).all())


Text = Annotated[str, Query(max_length=40)]


def _district_name(slug: str, locale: str) -> str:
    d = BY_SLUG.get(slug)
    return slug if d is None else (d.zh if locale == "zh" else d.en)


@router.get("/supervision/signals", response_class=HTMLResponse, response_model=None)
def signals_page(request: Request, db: DB, principal: SignedIn, district: Text = "",
                 code: Text = "", severity: Text = "", status: Text = "",
                 institution: Text = "", page: Annotated[int, Query(ge=1, le=10**6)] = 1,
                 format: Annotated[str, Query(pattern="^(|csv|xlsx)$")] = ""
                 ) -> Response:
    f = _filters(district, code, severity, status, institution)
    if format:
        return _export(request, db, principal, f, format)
    items, total = service.list_signals(db, principal, f, (page - 1) * PER_PAGE, PER_PAGE)
    seen = jurisdiction.districts(db, principal)
    districts = [d for d in DISTRICTS if seen is None or d.slug in seen]
    precision = service.precision_by_rule(db, seen)
    return render(request, "supervision/signals/list.html", principal, items=items,
                  total=total, page=page, pages=max(1, -(-total // PER_PAGE)), f=f,
                  districts=districts, rules=rules.RULES, by_code=rules.BY_CODE,
                  severities=list(Severity), statuses=list(SignalStatus),
                  precision=precision, names=_names(db, {s.institution_id for s in items}),
                  explain=service.explanation, query=request.url.query)


def _export(request: Request, db: DB, principal: Any, f: service.Filters,
            fmt: str) -> Response:
    locale = request_locale(request)
    header = [translate(m, locale) for m in (
        Msg("Signal"), Msg("Rule"), Msg("Title"), Msg("Severity"), Msg("Status"),
        Msg("District"), Msg("Institution"), Msg("Report"), Msg("Explanation"),
        Msg("Legal basis"), Msg("Raised"))]

    def rows() -> Any:
        for s in service.iter_signals(db, principal, f):
            rule = rules.rule(s.code)
            yield [s.id, s.code, translate(rule.title, locale),
                   translate(enum_label(s.severity), locale),
                   translate(enum_label(s.status), locale), s.district, s.institution_id,
                   s.number or "", translate(service.explanation(s), locale),
                   translate(enum_label(rule.basis), locale),
                   s.created_at.isoformat(timespec="seconds")]

    return download(fmt, "signals", header, rows(), sheet="signals")  # type: ignore[arg-type]


@router.get("/supervision/signals/{signal_id}", response_class=HTMLResponse,
            response_model=None)
def signal_page(request: Request, signal_id: str, db: DB, principal: SignedIn) -> Response:
    s = service.get_signal(db, principal, signal_id)
    if not service.is_supervisor_of(db, principal, s):
        return RedirectResponse(f"/supervision/mine/signals/{s.id}", status_code=303)
    rule = rules.rule(s.code)
    return render(request, "supervision/signals/detail.html", principal, s=s, rule=rule,
                  explanation=service.explanation(s), rows=service.evidence_rows(db, s),
                  files=service.files_of(db, s), names=_names(db, {s.institution_id}),
                  district_name=_district_name(s.district, request_locale(request)),
                  statuses=[SignalStatus.under_review, SignalStatus.confirmed,
                            SignalStatus.dismissed], decided=s.status in service.DECIDED)


@router.post("/supervision/signals/{signal_id}/decision", response_model=None)
def decide(request: Request, signal_id: str, db: DB, principal: SignedIn,
           status: Annotated[str, Form(max_length=20)],
           reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    if status not in ("under_review", "confirmed", "dismissed"):
        raise errors.invalid("status", Msg("choose a decision"))
    s = service.decide(db, principal, signal_id, SignalStatus(status), reason)
    return flash(request, RedirectResponse(f"/supervision/signals/{s.id}", status_code=303),
                 Msg("Signal {code}: {status}", code=s.code, status=s.status))


@router.post("/supervision/signals/{signal_id}/question", response_model=None)
def ask(request: Request, signal_id: str, db: DB, principal: SignedIn,
        question: Annotated[str, Form(max_length=2000)] = "") -> Response:
    s = service.ask(db, principal, signal_id, question)
    return flash(request, RedirectResponse(f"/supervision/signals/{s.id}", status_code=303),
                 Msg("The lab was asked to explain"))


@router.get("/supervision/mine/signals", response_class=HTMLResponse)
def my_signals(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    items = service.lab_signals(db, principal)
    return render(request, "supervision/signals/mine.html", principal, items=items,
                  by_code=rules.BY_CODE, explain=service.explanation,
                  names=_names(db, {s.institution_id for s in items}))


@router.get("/supervision/mine/signals/{signal_id}", response_class=HTMLResponse)
def my_signal(request: Request, signal_id: str, db: DB, principal: SignedIn) -> HTMLResponse:
    s = service.get_signal(db, principal, signal_id)
    if not service.lab_sees(principal, s):
        raise errors.not_found(Msg("signal"))
    rule = rules.rule(s.code)
    return render(request, "supervision/signals/mine_detail.html", principal, s=s, rule=rule,
                  explanation=service.explanation(s), files=service.files_of(db, s),
                  can_answer=s.asked_at is not None and s.status not in service.DECIDED)


@router.post("/supervision/mine/signals/{signal_id}/answer", response_model=None,
             max_body_size=MAX_BODY)
async def answer(request: Request, signal_id: str, db: DB, principal: SignedIn) -> Response:
    form = await request.form(max_files=service.MAX_FILES + 1)
    text = form.get("answer", "")
    if not isinstance(text, str) or len(text) > 5000:
        raise errors.invalid("answer", Msg("at most {n} characters", n=5000))
    uploads = []
    for f in form.getlist("files"):
        if isinstance(f, UploadFile) and f.filename:
            uploads.append(service.Upload(f.filename, f.content_type or "",
                                          await f.read(service.MAX_FILE_BYTES + 1)))
    s = service.answer(db, principal, signal_id, text.replace("\x00", ""), uploads)
    return flash(request, RedirectResponse(f"/supervision/mine/signals/{s.id}",
                                           status_code=303),
                 Msg("Your answer was sent to the regulator"))
