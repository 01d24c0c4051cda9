"""Signals under /api/supervision: the supervisors' list, triage and questions; the lab's
own signals and answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import errors, limits
from tichub.core.auth import DB, Principal, access
from tichub.core.i18n import request_locale
from tichub.core.messages import enum_label, translate
from tichub.core.models import OrgKind, Role
from tichub.core.pagination import Page, PageParams, page_params
from tichub.supervision import jurisdiction
from tichub.supervision.models import Severity, Signal, SignalRun, SignalStatus
from tichub.supervision.signals import rules, service
from tichub.supervision.signals.schemas import (
    AnswerIn,
    DecisionIn,
    FileOut,
    QuestionIn,
    RuleOut,
    RunOut,
    SignalOut,
)

router = APIRouter(prefix="/api/supervision", tags=["supervision: signals"])

LABS = (OrgKind.lab, OrgKind.certification_body)
Supervisor = Annotated[Principal, access(
    "member", scope="supervision:read", kinds=(OrgKind.regulator,),
    note="supervisors of the signal's district (the city bureau: every district)")]
Triager = Annotated[Principal, access(
    "member", scope="supervision:write", kinds=(OrgKind.regulator,), role=Role.editor,
    note="editors of the bureau of the signal's district")]
Lab = Annotated[Principal, access(
    "member", scope="supervision:read", kinds=LABS,
    note="the lab's own signals it was asked about, or that were confirmed")]
LabWriter = Annotated[Principal, access(
    "member", scope="supervision:write", kinds=LABS, role=Role.editor,
    note="editors of the lab asked to explain")]
Reader = Annotated[Principal, access(
    "user", scope="supervision:read",
    note="the signal's supervisors, or its lab once asked or confirmed")]
Code = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Z_]+$")]
District = Annotated[str | None, Query(max_length=20)]
MAX_BODY = limits.upload(service.MAX_FILES * service.MAX_FILE_BYTES)


def basis_label(basis: rules.Basis, locale: str) -> str:
    return translate(enum_label(basis), locale)


def signal_out(db: Session, s: Signal, locale: str, supervisor: bool) -> SignalOut:
    rule = rules.rule(s.code)
    return SignalOut(
        id=s.id, code=s.code, title=translate(rule.title, locale),
        explanation=translate(service.explanation(s), locale), basis=rule.basis.value,
        basis_label=basis_label(rule.basis, locale), severity=s.severity, status=s.status,
        institution_id=s.institution_id, district=s.district, record_id=s.record_id,
        number=s.number, params=s.params or {},
        evidence=(s.evidence or []) if supervisor else [], source=s.source,
        created_at=s.created_at, reason=s.reason if supervisor or s.status in
        service.DECIDED else "", decided_at=s.decided_at, question=s.question,
        asked_at=s.asked_at, answer=s.answer, answered_at=s.answered_at,
        files=[FileOut(id=f.id, name=f.name, content_type=f.content_type, size=f.size,
                       sha256=f.sha256) for f in service.files_of(db, s)])


def filters(district: District = None, code: Code = None, severity: Severity | None = None,
            status: SignalStatus | None = None,
            institution: Annotated[str | None, Query(max_length=26)] = None) -> service.Filters:
    return service.Filters(district or None, code or None, severity, status,
                           institution or None)


Filters = Annotated[service.Filters, Depends(filters)]
Paging = Annotated[PageParams, Depends(page_params)]


@router.get("/signals", response_model=Page[SignalOut])
def list_signals(request: Request, db: DB, principal: Supervisor, f: Filters,
                 paging: Paging) -> Page[SignalOut]:
    """Signals in the districts the supervisor sees, newest first; filter by district,
    rule, severity, status or institution."""
    items, total = service.list_signals(db, principal, f, paging.offset, paging.per_page)
    locale = request_locale(request)
    return Page.of([signal_out(db, s, locale, True) for s in items], total, paging)


@router.get("/signals/rules", response_model=list[RuleOut])
def list_rules(request: Request, db: DB, principal: Supervisor) -> list[RuleOut]:
    """Every rule with its basis and severity, and its precision from the decisions of
    the supervisor's districts: confirmed ÷ (confirmed + dismissed)."""
    jurisdiction.require_supervisor(db, principal)
    locale = request_locale(request)
    tally = {p.code: p for p in service.precision_by_rule(
        db, jurisdiction.districts(db, principal))}
    out = []
    for r in rules.RULES:
        p = tally[r.code]
        out.append(RuleOut(code=r.code, title=translate(r.title, locale), severity=r.severity,
                           basis=r.basis.value, basis_label=basis_label(r.basis, locale),
                           deterministic=r.deterministic, incremental=r.incremental,
                           confirmed=p.confirmed, dismissed=p.dismissed, open=p.open,
                           precision=p.precision))
    return out


@router.get("/signals/runs", response_model=list[RunOut])
def list_runs(db: DB, principal: Supervisor) -> list[Any]:
    """The last batch runs with their per-rule figures."""
    jurisdiction.require_supervisor(db, principal)
    return list(db.scalars(select(SignalRun).order_by(SignalRun.started_at.desc())
                           .limit(20)))


@router.get("/signals/{signal_id}", response_model=SignalOut)
def get_signal(request: Request, signal_id: str, db: DB, principal: Reader) -> SignalOut:
    """One signal: its explanation, basis and evidence rows (the evidence to supervisors
    only)."""
    s = service.get_signal(db, principal, signal_id)
    return signal_out(db, s, request_locale(request), service.is_supervisor_of(db, principal, s))


@router.post("/signals/{signal_id}/decision", response_model=SignalOut)
def decide(request: Request, signal_id: str, body: DecisionIn, db: DB,
           principal: Triager) -> SignalOut:
    """open → under_review → confirmed or dismissed (these two with a reason)."""
    s = service.decide(db, principal, signal_id, body.status, body.reason)
    return signal_out(db, s, request_locale(request), True)


@router.post("/signals/{signal_id}/question", response_model=SignalOut)
def ask(request: Request, signal_id: str, body: QuestionIn, db: DB,
        principal: Triager) -> SignalOut:
    """Asks the lab to explain: the lab is notified and from now on sees the signal."""
    s = service.ask(db, principal, signal_id, body.question)
    return signal_out(db, s, request_locale(request), True)


@router.get("/signals/{signal_id}/files/{file_id}", response_class=Response)
def get_file(signal_id: str, file_id: str, db: DB, principal: Reader) -> Response:
    """A file of the lab's answer, for the signal's supervisors and the lab."""
    f = service.get_file(db, principal, signal_id, file_id)
    return Response(f.data, media_type=f.content_type, headers={
        "Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"})


@router.get("/mine/signals", response_model=list[SignalOut])
def my_signals(request: Request, db: DB, principal: Lab,
               org_id: Annotated[str | None, Query(max_length=26)] = None
               ) -> list[SignalOut]:
    """The signals about the lab's institutions that it was asked about, or that were
    confirmed."""
    locale = request_locale(request)
    return [signal_out(db, s, locale, False)
            for s in service.lab_signals(db, principal, org_id)]


@router.post("/mine/signals/{signal_id}/answer", response_model=SignalOut,
             max_body_size=MAX_BODY)
async def answer(request: Request, signal_id: str, db: DB, principal: LabWriter,
                 answer: Annotated[str, Form(min_length=1, max_length=5000)],
                 files: Annotated[list[UploadFile] | None, File(
                     description="up to 5 files of 5 MB: PDF, PNG, JPEG, text, CSV, "
                     "Excel")] = None) -> SignalOut:
    """The lab's answer, with files."""
    try:
        AnswerIn(answer=answer)  # the text must be storable on every database
    except ValidationError as exc:
        raise errors.Problem(422, "Invalid input",
                             errors=errors.field_errors(exc.errors())) from None
    uploads = [service.Upload(f.filename or "file", f.content_type or "",
                              await f.read(service.MAX_FILE_BYTES + 1))
               for f in (files or [])[:service.MAX_FILES + 1]]
    s = service.answer(db, principal, signal_id, answer, uploads)
    return signal_out(db, s, request_locale(request), False)
