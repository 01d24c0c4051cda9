"""Equipment register routes under /api/registers/equipment: private to the lab and the
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
from tichub.core.ids import today
from tichub.core.pagination import Page, PageParams, page_params
from tichub.market.equipment import importer, service
from tichub.market.equipment.schemas import (
    EquipmentDetail,
    EquipmentIn,
    EquipmentOut,
    EquipmentPatch,
    EventIn,
    EventOut,
)
from tichub.market.models import Instrument
from tichub.registry.schemas import ImportReport
from tichub.supervision.registers.templates import template

router = APIRouter(prefix="/api/registers/equipment", tags=["registers"])

MAX_FILE = 5 * limits.MiB
READ_NOTE = ("the institution's own members, and the supervisors of its district (the city "
             "bureau: every district); anyone else gets 404")
Reader = Annotated[Principal, access("user", note=READ_NOTE)]
Writer = Annotated[Principal, access("user", scope="market:write",
                                     note="editors of the institution's organisation")]
InstitutionId = Annotated[str, Query(min_length=26, max_length=26)]
EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, exports.XLSX_TYPE: {}}}}


def detail(db: Any, item: Instrument) -> EquipmentDetail:
    events = service.events_of(db, item.id)
    return EquipmentDetail(**EquipmentOut.model_validate(item).model_dump(),
                           events=[EventOut.model_validate(e) for e in events],
                           usable_today=service.usable(events, today()))


@router.get("", response_model=Page[EquipmentOut])
def list_equipment(db: DB, principal: Reader, institution_id: InstitutionId,
                   page: Annotated[PageParams, Depends(page_params)],
                   q: Annotated[str, Query(max_length=100)] = "",
                   include_retired: bool = False) -> Page[EquipmentOut]:
    """The institution's instruments, by asset number."""
    rows = service.list_equipment(db, principal, institution_id, q=q,
                                  include_retired=include_retired)
    return Page[EquipmentOut].of([EquipmentOut.model_validate(r)
                                  for r in rows[page.offset:page.offset + page.per_page]],
                                 len(rows), page)


@router.post("", response_model=EquipmentDetail, status_code=201)
def add_equipment(body: EquipmentIn, db: DB, principal: Writer) -> EquipmentDetail:
    return detail(db, service.add_equipment(db, principal, body))


@router.get("/template.{fmt}", response_class=Response, responses=EXPORTED)
def import_template(fmt: exports.Format, request: Request, principal: Public) -> Response:
    """A blank import file with one example row; headers in the reader's language."""
    zh = request_locale(request, request.app.state.settings.default_locale) == "zh"
    return template(fmt, "equipment", importer.COLUMNS, importer.HEADERS_ZH,
                    importer.EXAMPLE, zh)


@router.post("/import", response_model=ImportReport, status_code=201,
             max_body_size=limits.upload(MAX_FILE),
             responses={422: {"description": "row-by-row errors; nothing was imported"}})
async def import_equipment(
    db: DB, principal: Writer, institution_id: InstitutionId,
    file: Annotated[UploadFile, File(description="CSV or .xlsx: asset_no, name, kind, ... and "
                                                 "optionally one calibration per row")],
) -> ImportReport:
    data = await file.read()
    n = await run_in_threadpool(importer.import_equipment_file, db, principal, institution_id,
                                file.filename or "", data)
    return ImportReport(imported=n, errors=[])


@router.get("/{instrument_id}", response_model=EquipmentDetail)
def get_equipment(instrument_id: str, db: DB, principal: Reader) -> EquipmentDetail:
    return detail(db, service.get_equipment(db, principal, instrument_id))


@router.patch("/{instrument_id}", response_model=EquipmentDetail)
def update_equipment(instrument_id: str, body: EquipmentPatch, db: DB,
                     principal: Writer) -> EquipmentDetail:
    """Changes the entry; ``shared`` lists it in the marketplace or takes it out."""
    return detail(db, service.update_equipment(db, principal, instrument_id, body))


@router.post("/{instrument_id}/events", response_model=EventOut, status_code=201)
def add_event(instrument_id: str, body: EventIn, db: DB, principal: Writer) -> EventOut:
    """Records a calibration or verification with its validity, or an out-of-service
    period."""
    return EventOut.model_validate(service.add_event(db, principal, instrument_id, body))


@router.post("/events/{event_id}/end", response_model=EventOut)
def end_outage(event_id: str, db: DB, principal: Writer,
               on: Annotated[date, Query(description="the last day out of service")]
               ) -> EventOut:
    return EventOut.model_validate(service.end_outage(db, principal, event_id, on))
