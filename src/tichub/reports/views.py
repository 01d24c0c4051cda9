"""The public verification page: a report or certificate checked by its number, by the QR
code printed on it, or by its PDF (the file's SHA-256 against the registered ones)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from tichub.carbon.certification_service import conclusion_msg
from tichub.core import errors, limits
from tichub.core.auth import DB, Principal, Public
from tichub.core.messages import Msg
from tichub.core.web import render
from tichub.reports import issuing, numbers, qr, service
from tichub.reports.evidence import views as evidence_views
from tichub.reports.models import RecordEvent
from tichub.reports.schemas import RecordOut, Verdict

router = APIRouter(include_in_schema=False)
# The lab's own pages (register, amend, withdraw) are served with the public ones.
router.include_router(issuing.router)
router.include_router(evidence_views.router)

MAX_PDF = 50 * 1024 * 1024
CHUNK = 1024 * 1024
FORM_MARGIN = 64 * 1024  # the multipart form's own bytes around the file
MAX_NUMBERS = 5  # a PDF registered under more numbers than this is shown in part
Number = Annotated[str | None, Query(max_length=100)]
Prefix = Annotated[str | None, Query(max_length=64, description="the QR code's hash prefix")]


@dataclass(frozen=True)
class Check:
    """One number's verdict, arranged as the page shows it."""

    verdict: Verdict
    document: RecordOut | None = None  # the latest issued record: what the document says
    latest: RecordOut | None = None
    issuers: dict[str, str] = field(default_factory=dict)  # institution id: name
    qr: str | None = None  # "match" or "mismatch" when a scanned code came with the number
    qr_record: RecordOut | None = None


@dataclass(frozen=True)
class PdfCheck:
    sha256: str
    filename: str
    looks_like_pdf: bool
    numbers: list[str]


def _check(db: Session, log: service.Log, number: str, h: str | None = None) -> Check:
    engine = db.get_bind()
    assert isinstance(engine, Engine), "sessions are bound to the engine"
    verdict = service.verdict(engine, number, log=log)
    return _arrange(verdict, h, {r.id: r.leaf_hash for r in verdict.history})


def _arrange(verdict: Verdict, h: str | None, leaf_hashes: dict[str, str]) -> Check:
    history = verdict.history
    qr_record = next((r for r in history if h and qr.prefix_matches(h, leaf_hashes[r.id])),
                     None)
    return Check(
        verdict=verdict,
        document=next((r for r in reversed(history) if r.event is RecordEvent.issued), None),
        latest=history[-1] if history else None,
        issuers={r.institution_id: r.issuer for r in history},
        qr=None if not h else "match" if qr_record else "mismatch",
        qr_record=qr_record)


def _page(request: Request, principal: Principal, status_code: int = 200, *,
          number: str = "", checks: list[Check] | None = None, pdf: PdfCheck | None = None,
          error: str | None = None) -> HTMLResponse:
    return render(request, "reports/verify.html", principal, status_code=status_code,
                  number=number, checks=checks or [], pdf=pdf, error=error,
                  max_mb=MAX_PDF // (1024 * 1024), conclusion=conclusion_msg)


@router.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request, db: DB, principal: Public, number: Number = None,
                h: Prefix = None) -> HTMLResponse:
    typed = (number or "").strip()
    if not typed:
        return _page(request, principal)
    try:  # found by its normalised form: typed full-width, it is the same number
        number = numbers.normalise(typed)
    except numbers.NumberError:
        if not h:
            return _page(request, principal, 422, number=typed, error="bad_number")
        # A scanned code printed before numbers were normalised: found by its key.
        number = numbers.lookup_key(typed)
    checks = [_check(db, request.app.state.log, number, h)]
    return _page(request, principal, number=number, checks=checks)


# --- by the PDF --------------------------------------------------------------------------

def _declared_size(request: Request) -> None:
    # The CSRF check reads the whole form before the route runs: refuse an upload that says
    # it is too large before it is spooled to disk.
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_PDF + FORM_MARGIN:
        raise errors.Problem(413, "Invalid input", f"pdf: the file is larger than "
                             f"{MAX_PDF // (1024 * 1024)} MB",
                             [errors.FieldError("pdf", Msg("is too large"))])


def _uploaded(form: FormData) -> UploadFile | None:
    # The form's field is "pdf"; a script posting the file under another name is served too.
    named = form.get("pdf")
    if isinstance(named, UploadFile):
        return named
    return next((v for v in form.values() if isinstance(v, UploadFile)), None)


async def _sha256(upload: UploadFile) -> tuple[str, int, bool] | None:
    """The file's SHA-256, size and whether it starts as a PDF does; None past MAX_PDF."""
    digest, size, head = hashlib.sha256(), 0, b""
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > MAX_PDF:
            return None
        head = head or chunk[:5]
        digest.update(chunk)
    return digest.hexdigest(), size, head == b"%PDF-"


def _pdf_checks(
    db: Session, log: service.Log, sha256: str
) -> tuple[list[str], list[Check]]:
    numbers = service.numbers_by_pdf(db, sha256, MAX_NUMBERS)
    return numbers, [_check(db, log, n) for n in numbers]


@router.post("/verify", response_class=HTMLResponse, max_body_size=limits.upload(MAX_PDF))
async def verify_pdf(request: Request, _size: Annotated[None, Depends(_declared_size)], db: DB,
                     principal: Public) -> HTMLResponse:
    """Hashes the uploaded PDF (never kept) and shows the documents registered with it."""
    upload = _uploaded(await request.form())
    hashed = await _sha256(upload) if upload is not None else None
    if upload is None or (hashed is not None and hashed[1] == 0):
        return _page(request, principal, 422, error="no_file")
    if hashed is None:
        return _page(request, principal, 413, error="too_large")
    sha256, _, looks_like_pdf = hashed
    numbers, checks = await run_in_threadpool(_pdf_checks, db, request.app.state.log, sha256)
    pdf = PdfCheck(sha256, upload.filename or "", looks_like_pdf, numbers)
    return _page(request, principal, pdf=pdf, checks=checks)


# --- the QR code ---------------------------------------------------------------------------

def _qr_url(request: Request, db: Session, record_id: str) -> str:
    record = service.get_record(db, record_id)
    return qr.verify_url(str(request.base_url), record.number_key, record.leaf_hash)


# A record's code never changes, but its address follows the host the request came to.
QR_CACHE = {"Cache-Control": "public, max-age=86400", "Vary": "Host"}


@router.get("/verify/qr/{record_id}.svg", response_class=Response)
def qr_svg(request: Request, record_id: str, db: DB, principal: Public) -> Response:
    return Response(qr.svg(_qr_url(request, db, record_id)), media_type="image/svg+xml",
                    headers=QR_CACHE)


@router.get("/verify/qr/{record_id}.png", response_class=Response)
def qr_png(request: Request, record_id: str, db: DB, principal: Public) -> Response:
    return Response(qr.png(_qr_url(request, db, record_id)), media_type="image/png",
                    headers=QR_CACHE)
