"""Standard editions under /api/standards/editions: public to read; the operator and
the market regulator add and import them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from tichub.core import limits
from tichub.core.auth import DB, Principal, Public, access
from tichub.core.ids import today
from tichub.core.pagination import Page, PageParams, page_params
from tichub.registry.editions import service
from tichub.registry.editions.service import EditionIn, EditionOut, InForceOut
from tichub.registry.schemas import ImportReport

router = APIRouter(prefix="/api/standards/editions", tags=["standards"])

MAX_FILE = 5 * limits.MiB
Keeper = Annotated[Principal, access("user", note="the platform operator, or editors of a "
                                                  "market regulator's bureau")]
Status = Literal["in_force", "not_yet", "withdrawn"]


@router.get("", response_model=Page[EditionOut])
def list_editions(db: DB, principal: Public, page: Annotated[PageParams, Depends(page_params)],
                  q: Annotated[str, Query(max_length=100)] = "",
                  status: Status | None = None,
                  on: Annotated[date | None, Query(description="the day status refers to; "
                                                               "default today")] = None
                  ) -> Page[EditionOut]:
    rows, total = service.list_editions(db, page, q=q, status=status or "", on=on or today())
    return Page[EditionOut].of([EditionOut.model_validate(r) for r in rows], total, page)


@router.get("/in-force", response_model=InForceOut)
def in_force(db: DB, principal: Public,
             standard: Annotated[str, Query(min_length=1, max_length=100)],
             day: date) -> InForceOut:
    """Whether a standard (edition) was in force on a day; unknown editions count as in
    force."""
    ok, reason = service.edition_in_force(db, standard, day)
    found = service.edition_of(db, standard)
    return InForceOut(standard=standard, day=day, in_force=ok, reason=reason,
                      edition=EditionOut.model_validate(found) if found else None)


@router.post("", response_model=EditionOut, status_code=201)
def save_edition(body: EditionIn, db: DB, principal: Keeper) -> Any:
    """Adds an edition, or replaces the dates of the one with that number."""
    return service.save_edition(db, principal, body)


@router.post("/import", response_model=ImportReport, status_code=201,
             max_body_size=limits.upload(MAX_FILE),
             responses={422: {"description": "row-by-row errors; nothing was imported"}})
async def import_editions(
    db: DB, principal: Keeper,
    file: Annotated[UploadFile, File(description="CSV or .xlsx: number, title, published_on, "
                                                 "implemented_on, withdrawn_on, replaced_by, "
                                                 "source")],
) -> ImportReport:
    data = await file.read()
    n = await run_in_threadpool(service.import_editions, db, principal, file.filename or "",
                                data)
    return ImportReport(imported=n, errors=[])
