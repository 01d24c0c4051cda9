"""CBAM installations: embedded emissions, default values and the operator's communication."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tichub.carbon import cbam_service as service
from tichub.carbon.cbam_schemas import (
    CommunicationOut,
    DefaultOut,
    InstallationIn,
    InstallationOut,
    InstallationSummary,
    ResultsOut,
)
from tichub.core import errors, limits
from tichub.core.auth import DB, Principal, Public, SignedIn, access
from tichub.core.exports import XLSX_TYPE
from tichub.core.models import Role

router = APIRouter(prefix="/api/carbon/cbam", tags=["carbon"])

Editor = Annotated[Principal, access(
    "member", role=Role.editor, scope="carbon:write",
    note="editors of the organisation the installation belongs to")]
Reader = Annotated[Principal, access(
    "user", note="the installation's organisation, regulators and the platform's operators; "
                 "to others it does not exist (404)")]
OrgId = Annotated[str, Query(min_length=26, max_length=26)]
Year = Annotated[int | None, Query(ge=2026, le=2100, description="whose mark-up the default "
                                   "values carry; by default the year the period ends, "
                                   "from 2026")]


@router.post("/installations", response_model=InstallationOut, status_code=201)
def create_installation(body: InstallationIn, db: DB, principal: Editor) -> Any:
    """An installation making CBAM goods, for one reporting period: identity, source
    streams, production processes with their goods, purchased precursors, carbon prices."""
    return service.output(service.create_installation(db, principal, body))


@router.get("/installations", response_model=list[InstallationSummary])
def list_installations(db: DB, principal: SignedIn, org_id: OrgId) -> list[Any]:
    """The organisation's installations (its members, regulators, operators)."""
    return [service.summary(r) for r in service.list_installations(db, principal, org_id)]


@router.get("/installations/{installation_id}", response_model=InstallationOut)
def get_installation(installation_id: str, db: DB, principal: Reader) -> Any:
    return service.output(service.get_installation(db, principal, installation_id))


@router.put("/installations/{installation_id}", response_model=InstallationOut)
def update_installation(installation_id: str, body: InstallationIn, db: DB,
                        principal: Editor) -> Any:
    """Replaces the installation's document as a whole."""
    return service.output(service.update_installation(db, principal, installation_id, body))


@router.get("/installations/{installation_id}/results", response_model=ResultsOut)
def results(installation_id: str, db: DB, principal: Reader, year: Year = None) -> Any:
    """Specific embedded emissions of each good (direct, indirect, total, what counts),
    compared with the default value for the installation's country with the year's
    mark-up, and the warnings on estimates."""
    return service.results(db, principal, installation_id, year)


@router.get("/installations/{installation_id}/communication.xlsx",
            response_class=Response, responses={200: {"content": {XLSX_TYPE: {}}}})
def communication(installation_id: str, db: DB, principal: Reader) -> Response:
    """The operator's communication to EU importers (A_InstData, Summary_Products,
    CarbonPrice and Summary_Communication sheets)."""
    name, data = service.communication(db, principal, installation_id)
    return Response(data, media_type=XLSX_TYPE, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


@router.post("/communications/read", response_model=CommunicationOut,
             max_body_size=limits.upload(service.MAX_UPLOAD))
async def read_communication(
    principal: SignedIn,
    file: Annotated[UploadFile, File(description="a communication (.xlsx) with a "
                                     "Summary_Communication sheet")],
    year: Annotated[int, Form(ge=2026, le=2100)] = service.FIRST_YEAR,
) -> Any:
    """Reads a communication, a supplier's or one's own, into data: the installation, its
    period and its goods, each checked and set against its default value. Stores nothing."""
    data = await file.read(service.MAX_UPLOAD + 1)
    if len(data) > service.MAX_UPLOAD:
        raise errors.invalid("file", f"is larger than {service.MAX_UPLOAD // 1024 // 1024} MiB")
    return await run_in_threadpool(service.read_communication, data, year)


@router.get("/defaults", response_model=list[DefaultOut])
def defaults(principal: Public,
             cn: Annotated[str, Query(min_length=4, max_length=14)],
             country: Annotated[str, Query(min_length=2, max_length=7)],
             year: Annotated[int, Query(ge=2026, le=2100)] = service.FIRST_YEAR) -> list[Any]:
    """The Commission's default values for a good (CN code) from a country, with the
    year's mark-up; the act each comes from is named. A country without its own table takes
    "other countries"; UNKNOWN gives Annex IV, for a precursor of unknown origin."""
    return service.lookup_defaults(cn, country, year)
