"""Registry routes: search, institutions, qualifications, scopes and their import."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tichub.core import exports, limits
from tichub.core.auth import DB, Principal, Public, access
from tichub.core.i18n import request_locale
from tichub.core.models import OrgKind, Role
from tichub.core.pagination import Page, PageParams, page_params
from tichub.registry import importer, institution_import, search, service
from tichub.registry.models import QualificationKind, QualificationStatus
from tichub.registry.schemas import (
    ImportReport,
    InstitutionIn,
    InstitutionOut,
    InstitutionPatch,
    QualificationIn,
    QualificationOut,
    ScopeLineIn,
    ScopeLineOut,
    SearchOut,
    SignatoryIn,
    SignatoryOut,
)

router = APIRouter(prefix="/api/registry", tags=["registry"])

Writer = Annotated[Principal, access("member", role=Role.editor, scope="registry:write")]


def search_query(
    q: Annotated[str, Query(max_length=200, description="free text (中文 or English) or a "
                                                        "standard number")] = "",
    standard: Annotated[str, Query(max_length=100)] = "",
    product: Annotated[str, Query(max_length=100)] = "",
    parameter: Annotated[str, Query(max_length=100)] = "",
    district: Annotated[list[str] | None, Query(description="district slug; repeatable")] = None,
    kind: Annotated[list[QualificationKind] | None, Query(description="qualification kind")] = None,
    status: Annotated[list[QualificationStatus] | None, Query()] = None,
) -> search.Query:
    return service.build_query(q=q, standard=standard, product=product, parameter=parameter,
                               districts=district or [], kinds=kind or [],
                               statuses=status or [])


SearchParams = Annotated[search.Query, Depends(search_query)]


@router.get("/search", response_model=SearchOut)
def search_institutions(
    query: SearchParams, db: DB, principal: Public,
    page: Annotated[PageParams, Depends(page_params)],
) -> SearchOut:
    return service.search_page(db, principal, query, page)


EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, exports.XLSX_TYPE: {}}}}


@router.get("/search.csv", response_class=Response, responses=EXPORTED)
def export_search_csv(query: SearchParams, db: DB, principal: Public) -> Response:
    """The whole search (not one page), best first; at most 50,000 institutions."""
    return exports.download("csv", "tichub-institutions", service.EXPORT_HEADER,
                            service.search_export_rows(db, principal, query))


@router.get("/search.xlsx", response_class=Response, responses=EXPORTED)
def export_search_xlsx(query: SearchParams, db: DB, principal: Public) -> Response:
    """The same as ``search.csv``, as an Excel workbook."""
    return exports.download("xlsx", "tichub-institutions", service.EXPORT_HEADER,
                            service.search_export_rows(db, principal, query),
                            sheet="institutions")


def _scope_download(
    fmt: exports.Format, request: Request, db: DB, principal: Principal, institution_id: str,
    standard: str | None,
) -> Response:
    rows = service.scope_export_rows(db, principal, institution_id, standard)
    # Chinese headers for Chinese readers; the importer takes either language back.
    zh = request_locale(request, request.app.state.settings.default_locale) == "zh"
    header = [importer.HEADERS_ZH[f] if zh else f for f in service.SCOPE_EXPORT_FIELDS]
    return exports.download(fmt, f"scope-{institution_id}", header, rows, sheet="scope")


@router.get("/institutions/{institution_id}/scope.csv", response_class=Response,
            responses=EXPORTED)
def export_scope_csv(
    institution_id: str, request: Request, db: DB, principal: Public,
    standard: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """An institution's scope in the scope importer's columns, so it can be edited and
    imported again."""
    return _scope_download("csv", request, db, principal, institution_id, standard)


@router.get("/institutions/{institution_id}/scope.xlsx", response_class=Response,
            responses=EXPORTED)
def export_scope_xlsx(
    institution_id: str, request: Request, db: DB, principal: Public,
    standard: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The same as ``scope.csv``, as an Excel workbook."""
    return _scope_download("xlsx", request, db, principal, institution_id, standard)


@router.get("/institutions/{institution_id}", response_model=InstitutionOut)
def get_institution(institution_id: str, db: DB, principal: Public) -> InstitutionOut:
    return service.to_out(service.get_institution(db, principal, institution_id), principal)


@router.get("/institutions/{institution_id}/scope", response_model=Page[ScopeLineOut])
def get_scope(
    institution_id: str, db: DB, principal: Public,
    page: Annotated[PageParams, Depends(page_params)],
    qualification_id: str | None = None, standard: str | None = None,
) -> Page[ScopeLineOut]:
    rows, total = service.scope_lines(db, principal, institution_id, page,
                                      qualification_id=qualification_id, standard=standard)
    return Page[ScopeLineOut].of([ScopeLineOut.model_validate(r) for r in rows], total, page)


@router.post("/orgs/{org_id}/institutions", response_model=InstitutionOut, status_code=201)
def create_institution(org_id: str, body: InstitutionIn, db: DB,
                       principal: Writer) -> InstitutionOut:
    inst = service.create_institution(db, principal, org_id, body)
    return service.to_out(inst, principal)


@router.patch("/institutions/{institution_id}", response_model=InstitutionOut)
def update_institution(institution_id: str, body: InstitutionPatch, db: DB,
                       principal: Writer) -> InstitutionOut:
    return service.to_out(service.update_institution(db, principal, institution_id, body),
                          principal)


@router.post("/institutions/{institution_id}/qualifications", response_model=QualificationOut,
             status_code=201)
def add_qualification(institution_id: str, body: QualificationIn, db: DB,
                      principal: Writer) -> QualificationOut:
    return service.qualification_out(
        service.add_qualification(db, principal, institution_id, body))


@router.get("/institutions/{institution_id}/signatories", response_model=list[SignatoryOut])
def signatories(institution_id: str, db: DB, principal: Public) -> list[SignatoryOut]:
    """The institution's authorised signatories, past and present (public, as CNAS and CMA
    publish them)."""
    return [service.signatory_out(s)
            for s in service.list_signatories(db, principal, institution_id)]


@router.post("/institutions/{institution_id}/signatories", response_model=SignatoryOut,
             status_code=201)
def add_signatory(institution_id: str, body: SignatoryIn, db: DB,
                  principal: Writer) -> SignatoryOut:
    return service.signatory_out(
        service.add_signatory(db, principal, institution_id, body))


@router.post("/signatories/{signatory_id}/end", response_model=SignatoryOut)
def end_signatory(signatory_id: str, db: DB, principal: Writer,
                  on: Annotated[date, Query(description="the last day of authorisation")]
                  ) -> SignatoryOut:
    """Ends an authorisation; reports signed before the end still verify."""
    return service.signatory_out(service.end_signatory(db, principal, signatory_id, on))


@router.put("/qualifications/{qualification_id}", response_model=QualificationOut)
def update_qualification(qualification_id: str, body: QualificationIn, db: DB,
                         principal: Writer) -> QualificationOut:
    return service.qualification_out(
        service.update_qualification(db, principal, qualification_id, body))


@router.put("/qualifications/{qualification_id}/scope", response_model=ImportReport,
            max_body_size=limits.TABLE_IMPORT)
def replace_scope(qualification_id: str, body: list[ScopeLineIn], db: DB,
                  principal: Writer) -> ImportReport:
    n = service.replace_scope(db, principal, qualification_id, body)
    return ImportReport(imported=n, errors=[])


@router.post("/institutions/import", response_model=ImportReport, status_code=201,
             max_body_size=limits.TABLE_IMPORT,
             responses={422: {"description": "row-by-row errors; nothing was imported"}})
async def import_institutions(
    db: DB, principal: Annotated[Principal, access("operator", kinds=(OrgKind.operator,),
                                                   scope="registry:write")],
    file: Annotated[UploadFile, File(description="CSV or .xlsx, one row per qualification")],
) -> ImportReport:
    data = await file.read()
    # Long work leaves the event loop, which keeps serving everyone else meanwhile.
    n = await run_in_threadpool(institution_import.import_institutions_file, db, principal,
                                file.filename or "", data)
    return ImportReport(imported=n, errors=[])


@router.post("/institutions/{institution_id}/scope/import", response_model=ImportReport,
             max_body_size=limits.TABLE_IMPORT,
             responses={422: {"description": "row-by-row errors; nothing was imported"}})
async def import_scope(institution_id: str, db: DB, principal: Writer,
                       file: Annotated[UploadFile, File(description="CSV or .xlsx")]
                       ) -> ImportReport:
    data = await file.read()
    n = await run_in_threadpool(importer.import_scope_file, db, principal, institution_id,
                                file.filename or "", data)
    return ImportReport(imported=n, errors=[])
