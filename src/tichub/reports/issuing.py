"""A lab's pages for its own documents: register a report (with its PDF), see the log's
receipt, list what it issued, amend (supersede by a new document) and withdraw.

The same use cases as the API (``service.register`` under an idempotency key), so a page
and a LIMS register alike; a double-click sends the form's one key twice and registers once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from tichub.core import errors, fields, limits
from tichub.core.auth import DB, Principal, access
from tichub.core.flash import flash
from tichub.core.ids import new_id
from tichub.core.ids import today as ids_today
from tichub.core.messages import Msg, MsgC
from tichub.core.models import OrgKind, Role
from tichub.core.pagination import PageNumber
from tichub.core.web import render
from tichub.registry import service as registry
from tichub.registry.districts import BY_SLUG
from tichub.reports import idempotency, qr, service
from tichub.reports.evidence import service as evidence
from tichub.reports.models import (
    IdempotencyKey,
    RecordEvent,
    RecordKind,
    ReportPdf,
    ReportRecord,
)
from tichub.reports.schemas import RecordIn

router = APIRouter(include_in_schema=False)

Editor = Annotated[Principal, access(
    "member", role=Role.editor, scope="reports:write",
    kinds=(OrgKind.lab, OrgKind.certification_body),
    note="editors of the issuing institution's organisation")]

MARKS = ("CMA", "CNAS", "ILAC-MRA")
PER_PAGE = 50
MAX_PDF_MB = service.MAX_PDF_BYTES // (1024 * 1024)

fields.register({
    "institution_id": Msg("Issuing institution"),
    "kind": MsgC("document", "Kind"),
    "number": MsgC("document", "Number"),
    "replacement": Msg("Number of the replacing document"),
    "product": Msg("Product"),
    "client": Msg("Client"),
    "sample": Msg("Sample"),
    "standards": Msg("Standards"),
    "sample_received_on": Msg("Sample received on"),
    "tested_from": Msg("Tested from"),
    "tested_to": Msg("Tested to"),
    "issued_on": Msg("Issued on"),
    "valid_until": Msg("Valid until"),
    "signatories": Msg("Signatories"),
    "conclusion": Msg("Conclusion"),
    "marks": Msg("Marks"),
    "pdf": Msg("PDF"),
    "reason": Msg("Reason"),
}, under="/reports")


# --- reading the form -----------------------------------------------------------------------

def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _list(form: FormData, name: str) -> list[str]:
    """A list typed one per line or separated by commas (either width)."""
    raw = _text(form, name).replace("，", ",").replace("\n", ",")
    return [part.strip() for part in raw.split(",") if part.strip()]


def _record_fields(form: FormData) -> dict[str, Any]:
    return {
        "number": _text(form, "number"), "kind": _text(form, "kind"),
        "institution_id": _text(form, "institution_id"),
        "client": _text(form, "client"), "client_public": _text(form, "client_public") == "yes",
        "product": _text(form, "product"), "sample": _text(form, "sample"),
        "standards": _list(form, "standards"),
        **{name: _text(form, name) or None for name in (
            "sample_received_on", "tested_from", "tested_to", "issued_on", "valid_until")},
        "signatories": _list(form, "signatories"), "conclusion": _text(form, "conclusion"),
        "marks": [m for m in form.getlist("marks") if m in MARKS],
    }


def _said(error: dict[str, Any]) -> Msg:
    """Pydantic's refusal in the reader's words, not the library's."""
    kind, ctx = str(error.get("type", "")), error.get("ctx") or {}
    if kind in ("missing", "string_too_short"):
        return Msg("is required")
    if kind == "string_too_long":
        return Msg("is too long: at most {n} characters", n=ctx.get("max_length", ""))
    if kind == "too_long":
        return Msg("has too many entries: at most {n}", n=ctx.get("max_length", ""))
    if kind.startswith("date"):
        return Msg("is not a date (YYYY-MM-DD)")
    if kind in ("enum", "literal_error"):
        return Msg("is not one of the choices")
    text = str(error.get("msg", ""))
    if "issue date" in text:
        return Msg("a document issued has an issue date")
    if "empty" in text:
        return Msg("is required")
    if "character" in text:
        return Msg("holds an invisible or control character that no document number has: "
                   "retype it")
    return Msg("is not valid")


def _refused(exc: ValidationError) -> errors.Problem:
    faults = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        name = loc[0] if loc else "request"
        named = errors.WHOLE_MODEL_CHECK.match(str(e.get("msg", "")))
        if named:  # a check across fields names its field first
            name = named[1]
        faults.append(errors.FieldError(name, _said(dict(e))))
    return errors.Problem(422, "Invalid input", detail="; ".join(
        f"{f.field}: {f.message}" for f in faults), errors=faults)


def _record_in(data: dict[str, Any]) -> RecordIn:
    try:
        return RecordIn.model_validate(data)
    except ValidationError as exc:
        raise _refused(exc) from None


async def _pdf(form: FormData) -> bytes | None:
    """The uploaded PDF's bytes (bounded by the route's body limit), None if none chosen."""
    upload = form.get("pdf")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(service.MAX_PDF_BYTES + 1)
    if not data:
        return None
    if len(data) > service.MAX_PDF_BYTES:
        raise errors.Problem(413, "Invalid input", "pdf: too large", [errors.FieldError(
            "pdf", Msg("is larger than {mb} MB", mb=MAX_PDF_MB))])
    if not data.startswith(b"%PDF-"):
        raise errors.invalid("pdf", Msg("is not a PDF file"))
    return data


def _register(request: Request, db: Session, principal: Principal, items: list[RecordIn],
              key: str, operation: str) -> tuple[list[dict[str, Any]], str]:
    """Registers under the form's key; a resend of the same form gets the first receipts.
    Returns the receipts and the key they are kept under."""
    if not idempotency.KEY.fullmatch(key):
        key = new_id()  # a form without its key still registers, just without the guard
    body = json.dumps([i.model_dump(mode="json") for i in items], sort_keys=True)
    fingerprint = idempotency.fingerprint(operation, body)
    owner = principal.user_id or ""
    # The same form sent again after an edit (the browser's Back, then a new number) is a
    # new registration, not a misused key: it gets a key of its own.
    kept = db.get(IdempotencyKey, (owner, key))
    if kept is not None and kept.fingerprint != fingerprint:
        key = new_id()
    try:
        answer = service.register_once(
            db, principal, request.app.state.log, items,
            idempotency.Request(owner, key, fingerprint),
            lambda receipts: json.dumps([r.model_dump(mode="json") for r in receipts]))
    except errors.Problem as exc:
        # "standards.1" is the form's one "standards" input: the refusal sits beside it.
        for fault in exc.errors:
            fault.field = fault.field.split(".")[0]
        raise
    receipts: list[dict[str, Any]] = json.loads(answer.body)
    return receipts, key


def _receipt_url(record_id: str, key: str) -> str:
    return f"/reports/records/{record_id}?key={key}" if idempotency.KEY.fullmatch(key) \
        else f"/reports/records/{record_id}"


# --- pages ----------------------------------------------------------------------------------

def _form_page(request: Request, db: Session, principal: Principal, *,
               original: ReportRecord | None = None) -> HTMLResponse:
    institutions = [i for i in registry.list_own_institutions(db, principal)
                    if i.org_id in principal.orgs_with(Role.editor)]
    return render(request, "reports/new.html", principal, institutions=institutions,
                  kinds=list(RecordKind), marks=MARKS, key=new_id(), max_mb=MAX_PDF_MB,
                  original=original, today=ids_today().isoformat())


@router.get("/reports/new", response_class=HTMLResponse)
def new_report(request: Request, db: DB, principal: Editor) -> HTMLResponse:
    """The registration form, for editors of a lab's or certification body's organisation."""
    return _form_page(request, db, principal)


@router.post("/reports/new", response_model=None,
             max_body_size=limits.upload(service.MAX_PDF_BYTES))
async def register_report(request: Request, db: DB, principal: Editor) -> Response:
    form = await request.form()
    pdf = await _pdf(form)
    data = _record_fields(form)
    if pdf is not None:
        data["pdf_sha256"] = hashlib.sha256(pdf).hexdigest()
    record = _record_in(data)
    [receipt], key = _register(request, db, principal, [record], _text(form, "key"),
                               "POST /reports/new")
    _store(db, principal, receipt["record_id"], pdf)
    return flash(request, RedirectResponse(_receipt_url(receipt["record_id"], key), 303),
                 Msg("Report {number} registered in the public log", number=record.number))


def _store(db: Session, principal: Principal, record_id: str, pdf: bytes | None) -> None:
    if pdf is not None and db.get(ReportPdf, record_id) is None:
        service.store_pdf(db, principal, record_id, pdf)


@router.get("/reports/mine", response_class=HTMLResponse)
def my_reports(request: Request, db: DB, principal: Editor, page: PageNumber = 1,
               number: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    """The documents the editor's organisations issued, with amend and withdraw."""
    documents, total = service.own_documents(db, principal, (page - 1) * PER_PAGE, PER_PAGE,
                                             number)
    return render(request, "reports/mine.html", principal, documents=documents, total=total,
                  page=page, pages=max(1, -(-total // PER_PAGE)), number=number,
                  key=new_id())


@router.get("/reports/records/{record_id}", response_class=HTMLResponse)
def receipt_page(request: Request, record_id: str, db: DB, principal: Editor,
                 key: str = "") -> HTMLResponse:
    """A registered record with the log's receipt (kept with the form's key for a day)."""
    record = service.own_record(db, principal, record_id)
    receipt = None
    if key and idempotency.KEY.fullmatch(key):
        kept = db.get(IdempotencyKey, (principal.user_id or "", key))
        if kept is not None:
            receipt = next((r for r in json.loads(kept.body) if r["record_id"] == record_id),
                           None)
    shown = evidence.evidence_of(db, principal, record_id) \
        if record.event is RecordEvent.issued else None
    return render(request, "reports/receipt.html", principal, record=record,
                  receipt=receipt, has_pdf=db.get(ReportPdf, record_id) is not None,
                  evidence=shown, districts=BY_SLUG,
                  verify_path=qr.verify_path(record.number, record.leaf_hash))


@router.get("/reports/records/{record_id}/amend", response_class=HTMLResponse)
def amend_form(request: Request, record_id: str, db: DB, principal: Editor) -> HTMLResponse:
    """The form for the replacing document, filled from the one it replaces."""
    record = _issued(db, principal, record_id)
    return _form_page(request, db, principal, original=record)


def _issued(db: Session, principal: Principal, record_id: str) -> ReportRecord:
    record = service.own_record(db, principal, record_id)
    if record.event is not RecordEvent.issued:
        raise errors.invalid("record", Msg("only an issued document can be amended or "
                                           "withdrawn"))
    return record


@router.post("/reports/records/{record_id}/amend", response_model=None,
             max_body_size=limits.upload(service.MAX_PDF_BYTES))
async def amend(request: Request, record_id: str, db: DB, principal: Editor) -> Response:
    """Registers the replacing document and the amendment that points to it, together."""
    original = _issued(db, principal, record_id)
    form = await request.form()
    pdf = await _pdf(form)
    data = _record_fields(form)
    data["institution_id"] = original.institution_id
    if pdf is not None:
        data["pdf_sha256"] = hashlib.sha256(pdf).hexdigest()
    replacing = _record_in(data)
    if replacing.number == original.number:
        raise errors.invalid("number", Msg("the replacing document needs a new number"))
    amendment = _record_in({
        "number": original.number, "kind": original.kind, "event": RecordEvent.amended,
        "institution_id": original.institution_id, "replacement": replacing.number,
        "reason": _text(form, "reason")})
    receipts, key = _register(request, db, principal, [replacing, amendment],
                              _text(form, "key"), f"POST /reports/records/{record_id}/amend")
    _store(db, principal, receipts[0]["record_id"], pdf)
    return flash(request, RedirectResponse(_receipt_url(receipts[0]["record_id"], key), 303),
                 Msg("{old} is amended: {new} replaces it", old=original.number,
                     new=replacing.number))


@router.post("/reports/records/{record_id}/withdraw", response_model=None)
async def withdraw(request: Request, record_id: str, db: DB, principal: Editor) -> Response:
    """Withdraws an issued document; the reason is logged with the withdrawal."""
    original = _issued(db, principal, record_id)
    form = await request.form()
    reason = _text(form, "reason")
    if not reason:
        raise errors.invalid("reason", Msg("say why the document is withdrawn"))
    withdrawal = _record_in({
        "number": original.number, "kind": original.kind, "event": RecordEvent.withdrawn,
        "institution_id": original.institution_id, "reason": reason})
    _register(request, db, principal, [withdrawal], _text(form, "key"),
              f"POST /reports/records/{record_id}/withdraw")
    return flash(request, RedirectResponse("/reports/mine", 303),
                 Msg("{number} is withdrawn", number=original.number))

