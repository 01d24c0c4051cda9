"""/standards/editions: the public list of standards' editions and their dates, with a
filter; the operator and the market regulator import them here."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from tichub.core import fields
from tichub.core.auth import DB, Public, SignedIn
from tichub.core.ids import today
from tichub.core.messages import Msg
from tichub.core.pagination import PageNumber, PageParams
from tichub.core.web import render
from tichub.registry.editions import service
from tichub.registry.editions.api import Status
from tichub.supervision.registers import forms

router = APIRouter(include_in_schema=False)
PER_PAGE = 50

fields.register({"file": Msg("File"), "number": Msg("Standard number"),
                 "source": Msg("Source")}, under="/standards/editions")


@router.get("/standards/editions", response_class=HTMLResponse)
def editions_page(request: Request, db: DB, principal: Public,
                  q: Annotated[str, Query(max_length=100)] = "",
                  status: Status | None = None, on: date | None = None,
                  page: PageNumber = 1) -> HTMLResponse:
    day = on or today()
    rows, total = service.list_editions(db, PageParams(page=page, per_page=PER_PAGE), q=q,
                                        status=status or "", on=day)
    return render(request, "registers/editions.html", principal, rows=rows, total=total,
                  q=q, status=status or "", on=day, page=page,
                  pages=max(1, -(-total // PER_PAGE)),
                  states={e.id: service.status_on(e, day) for e in rows},
                  may_import=service.may_import(principal))


@router.post("/standards/editions/import", response_model=None)
async def import_editions(request: Request, db: DB, principal: SignedIn) -> Response:
    form = await request.form()
    filename, data = await forms.upload(form)
    n = await run_in_threadpool(service.import_editions, db, principal, filename, data)
    return forms.done(request, "/standards/editions", Msg("{count} editions imported", count=n))
