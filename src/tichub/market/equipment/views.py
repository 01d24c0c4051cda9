"""The equipment register's pages (/registers/equipment): the lab's own list, one
instrument with its calibrations and outages; supervisors of its district read them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from tichub.core import fields
from tichub.core.auth import DB, SignedIn
from tichub.core.ids import today
from tichub.core.messages import Msg
from tichub.core.web import render
from tichub.market.equipment import importer, service
from tichub.market.equipment.schemas import EquipmentIn, EquipmentPatch, EventIn
from tichub.market.models import InstrumentEventKind
from tichub.supervision.registers import access, forms

router = APIRouter(include_in_schema=False)

fields.register({
    "asset_no": Msg("Asset number"), "name": Msg("Name"), "kind": Msg("Kind"),
    "maker": Msg("Maker"), "model": Msg("Model"), "location": Msg("Location"),
    "tests_per_day": Msg("Tests per day"), "hours_per_test": Msg("Hours per test"),
    "shared": Msg("Shared in the marketplace"), "valid_from": Msg("From"),
    "valid_until": Msg("Until"), "certificate_no": Msg("Certificate number"),
    "performed_by": Msg("Performed by"), "note": Msg("Note"), "on": Msg("Date"),
    "event_kind": Msg("Record"), "file": Msg("File"),
}, under="/registers/equipment")

SOON_DAYS = 30  # a calibration running out within this many days is shown as due soon


def _number(raw: str) -> str | None:
    return raw.strip() or None


@router.get("/registers/equipment", response_class=HTMLResponse)
def equipment_page(request: Request, db: DB, principal: SignedIn,
                   institution: Annotated[str | None, Query(max_length=26)] = None,
                   q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    inst = access.pick(db, principal, institution)
    items = service.list_equipment(db, principal, inst.id, q=q)
    on = today()
    return render(request, "registers/equipment.html", principal, inst=inst, items=items,
                  q=q, writable=access.may_write(principal, inst),
                  due={i.id for i in service.due_within(items, SOON_DAYS, on)},
                  lapsed={i.id for i in items
                          if i.calibration_due is not None and i.calibration_due < on},
                  counts=service.counts(db, inst.id),
                  own=access.own_institutions(db, principal))


@router.post("/registers/equipment", response_model=None)
def add_equipment(request: Request, db: DB, principal: SignedIn,
                  institution_id: Annotated[str, Form(max_length=26)],
                  asset_no: Annotated[str, Form(max_length=200)],
                  name: Annotated[str, Form(max_length=400)],
                  kind: Annotated[str, Form(max_length=200)],
                  maker: Annotated[str, Form(max_length=200)] = "",
                  model: Annotated[str, Form(max_length=200)] = "",
                  location: Annotated[str, Form(max_length=600)] = "",
                  tests_per_day: Annotated[str, Form(max_length=20)] = "",
                  hours_per_test: Annotated[str, Form(max_length=20)] = "",
                  shared: Annotated[str, Form(max_length=10)] = "") -> Response:
    item = forms.run(lambda: service.add_equipment(db, principal, EquipmentIn(
        institution_id=institution_id, asset_no=asset_no, name=name, kind=kind, maker=maker,
        model=model, location=location, tests_per_day=_number(tests_per_day),
        hours_per_test=_number(hours_per_test), shared=shared == "yes")))
    return forms.done(request, f"/registers/equipment/{item.id}",
                      Msg("Instrument {asset_no} added to the register", asset_no=item.asset_no))


@router.post("/registers/equipment/import", response_model=None)
async def import_equipment(request: Request, db: DB, principal: SignedIn) -> Response:
    form = await request.form()
    institution_id = forms.text(form, "institution_id")
    filename, data = await forms.upload(form)
    n = await run_in_threadpool(importer.import_equipment_file, db, principal,
                                institution_id, filename, data)
    return forms.done(request, f"/registers/equipment?institution={institution_id}",
                      Msg("{count} instruments imported", count=n))


@router.get("/registers/equipment/{instrument_id}", response_class=HTMLResponse)
def instrument_page(request: Request, instrument_id: str, db: DB,
                    principal: SignedIn) -> HTMLResponse:
    item = service.get_equipment(db, principal, instrument_id)
    inst = access.institution(db, item.institution_id or "")
    events = service.events_of(db, item.id)
    on = today()
    return render(request, "registers/instrument.html", principal, inst=inst, item=item,
                  events=events, usable=service.usable(events, on), today=on.isoformat(),
                  writable=access.may_write(principal, inst),
                  kinds=list(InstrumentEventKind))


@router.post("/registers/equipment/{instrument_id}", response_model=None)
def update_equipment(request: Request, instrument_id: str, db: DB, principal: SignedIn,
                     asset_no: Annotated[str, Form(max_length=200)],
                     name: Annotated[str, Form(max_length=400)],
                     kind: Annotated[str, Form(max_length=200)],
                     maker: Annotated[str, Form(max_length=200)] = "",
                     model: Annotated[str, Form(max_length=200)] = "",
                     location: Annotated[str, Form(max_length=600)] = "",
                     tests_per_day: Annotated[str, Form(max_length=20)] = "",
                     hours_per_test: Annotated[str, Form(max_length=20)] = "",
                     shared: Annotated[str, Form(max_length=10)] = "",
                     active: Annotated[str, Form(max_length=10)] = "yes") -> Response:
    forms.run(lambda: service.update_equipment(db, principal, instrument_id, EquipmentPatch(
        asset_no=asset_no, name=name, kind=kind, maker=maker, model=model, location=location,
        tests_per_day=_number(tests_per_day), hours_per_test=_number(hours_per_test),
        shared=shared == "yes", active=active == "yes")))
    return forms.done(request, f"/registers/equipment/{instrument_id}", Msg("Changes saved"))


@router.post("/registers/equipment/{instrument_id}/events", response_model=None)
def add_event(request: Request, instrument_id: str, db: DB, principal: SignedIn,
              kind: Annotated[str, Form(max_length=40)],
              valid_from: Annotated[str, Form(max_length=20)],
              valid_until: Annotated[str, Form(max_length=20)] = "",
              certificate_no: Annotated[str, Form(max_length=200)] = "",
              performed_by: Annotated[str, Form(max_length=400)] = "",
              note: Annotated[str, Form(max_length=1000)] = "") -> Response:
    event = forms.run(lambda: service.add_event(db, principal, instrument_id, EventIn(
        kind=kind, valid_from=valid_from, valid_until=valid_until or None,
        certificate_no=certificate_no, performed_by=performed_by, note=note)))
    message = (Msg("Outage recorded") if event.kind is InstrumentEventKind.out_of_service
               else Msg("Calibration recorded"))
    return forms.done(request, f"/registers/equipment/{instrument_id}", message)


@router.post("/registers/equipment/events/{event_id}/end", response_model=None)
def end_outage(request: Request, event_id: str, db: DB, principal: SignedIn,
               on: Annotated[date, Form()]) -> Response:
    event = forms.run(lambda: service.end_outage(db, principal, event_id, on))
    return forms.done(request, f"/registers/equipment/{event.instrument_id}",
                      Msg("Back in service after {day}", day=on.isoformat()))
