"""Staff register routes under /api/registers/staff: private to the institution and the
supervisors of its district."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tichub.core import exports, limits
from tichub.core.auth import DB, Principal, Public, access
from tichub.core.i18n import request_locale
from tichub.core.pagination import Page, PageParams, page_params
from tichub.registry.models import StaffRole
from tichub.registry.schemas import ImportReport
from tichub.registry.staff import importer, service
from tichub.registry.staff.schemas import StaffIn, StaffOut, StaffPatch
from tichub.supervision.registers.templates import template

router = APIRouter(prefix="/api/registers/staff", tags=["registers"])

MAX_FILE = 5 * limits.MiB
READ_NOTE = ("the institution's own members, and the supervisors of its district (the city "
             "bureau: every district); anyone else gets 404")
Reader = Annotated[Principal, access("user", note=READ_NOTE)]
Writer = Annotated[Principal, access("user", scope="registry:write",
                                     note="editors of the institution's organisation")]
InstitutionId = Annotated[str, Query(min_length=26, max_length=26)]
EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, exports.XLSX_TYPE: {}}}}


@router.get("", response_model=Page[StaffOut])
def list_staff(db: DB, principal: Reader, institution_id: InstitutionId,
               page: Annotated[PageParams, Depends(page_params)],
               q: Annotated[str, Query(max_length=100)] = "",
               role: StaffRole | None = None,
               employed_on: Annotated[date | None, Query(
                   description="only people employed that day")] = None) -> Page[StaffOut]:
    rows = service.list_staff(db, principal, institution_id, q=q, role=role,
                              current_on=employed_on)
    return Page[StaffOut].of([StaffOut.model_validate(r)
                              for r in rows[page.offset:page.offset + page.per_page]],
                             len(rows), page)


@router.post("", response_model=StaffOut, status_code=201)
def add_staff(body: StaffIn, db: DB, principal: Writer) -> Any:
    return service.add_staff(db, principal, body)


@router.get("/template.{fmt}", response_class=Response, responses=EXPORTED)
def import_template(fmt: exports.Format, request: Request, principal: Public) -> Response:
    """A blank import file with one example row; headers in the reader's language."""
    zh = request_locale(request, request.app.state.settings.default_locale) == "zh"
    return template(fmt, "staff", importer.COLUMNS, importer.HEADERS_ZH, importer.EXAMPLE, zh)


@router.post("/import", response_model=ImportReport, status_code=201,
             max_body_size=limits.upload(MAX_FILE),
             responses={422: {"description": "row-by-row errors; nothing was imported"}})
async def import_staff(
    db: DB, principal: Writer, institution_id: InstitutionId,
    file: Annotated[UploadFile, File(description="CSV or .xlsx: staff_no, name, roles, "
                                                 "employed_from, ...")],
) -> ImportReport:
    data = await file.read()
    n = await run_in_threadpool(importer.import_staff_file, db, principal, institution_id,
                                file.filename or "", data)
    return ImportReport(imported=n, errors=[])


@router.get("/{staff_id}", response_model=StaffOut)
def get_staff(staff_id: str, db: DB, principal: Reader) -> Any:
    return service.get_staff(db, principal, staff_id)


@router.patch("/{staff_id}", response_model=StaffOut)
def update_staff(staff_id: str, body: StaffPatch, db: DB, principal: Writer) -> Any:
    return service.update_staff(db, principal, staff_id, body)


@router.post("/{staff_id}/end", response_model=StaffOut)
def end_employment(staff_id: str, db: DB, principal: Writer,
                   on: Annotated[date, Query(description="the last day of employment")]
                   ) -> Any:
    """Records the person's last day; a signatory's authorisation ends with it."""
    return service.end_employment(db, principal, staff_id, on)
