"""The staff register's pages (/registers/staff): the institution's people, their roles and
employment; supervisors of its district read them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from tichub.core import fields
from tichub.core.auth import DB, SignedIn
from tichub.core.ids import today
from tichub.core.messages import Msg
from tichub.core.web import render
from tichub.registry.models import StaffRole
from tichub.registry.staff import importer, service
from tichub.registry.staff.schemas import StaffIn, StaffPatch
from tichub.supervision.registers import access, cells, forms

router = APIRouter(include_in_schema=False)
ROLE_NAMES = {r.value: r for r in StaffRole}

fields.register({
    "staff_no": Msg("Staff number"), "name": Msg("Name"), "title": Msg("Title"),
    "roles": Msg("Roles"), "authorised_for": Msg("Authorised for"),
    "employed_from": Msg("Employed from"), "employed_until": Msg("Employed until"),
    "authorised_from": Msg("Signs from"), "authorised_until": Msg("Signs until"),
    "on": Msg("Last day"), "file": Msg("File"),
}, under="/registers/staff")


def _person_form(form: Any) -> dict[str, Any]:
    return {
        "staff_no": forms.opt(form, "staff_no"), "name": forms.text(form, "name"),
        "title": forms.opt(form, "title"),
        "roles": [r for r in form.getlist("roles") if isinstance(r, str)][:3],
        "authorised_for": cells.listed(forms.text(form, "authorised_for"))[:200],
        "employed_from": forms.opt(form, "employed_from"),
        "employed_until": forms.opt(form, "employed_until"),
        "authorised_from": forms.opt(form, "authorised_from"),
        "authorised_until": forms.opt(form, "authorised_until"),
    }


@router.get("/registers/staff", response_class=HTMLResponse)
def staff_page(request: Request, db: DB, principal: SignedIn,
               institution: Annotated[str | None, Query(max_length=26)] = None,
               q: Annotated[str, Query(max_length=100)] = "",
               role: StaffRole | None = None,
               current: Annotated[str, Query(max_length=3)] = "") -> HTMLResponse:
    inst = access.pick(db, principal, institution)
    on = today()
    people = service.list_staff(db, principal, inst.id, q=q, role=role,
                                current_on=on if current == "yes" else None)
    return render(request, "registers/staff.html", principal, inst=inst, people=people, q=q,
                  role=role, current=current == "yes", roles=list(StaffRole),
                  writable=access.may_write(principal, inst), today=on,
                  employed={s.id for s in people if service.employed_on(s, on)},
                  signing={s.id for s in people if service.authorised_on(s, on)},
                  own=access.own_institutions(db, principal), role_names=ROLE_NAMES)


@router.post("/registers/staff", response_model=None)
async def add_staff(request: Request, db: DB, principal: SignedIn) -> Response:
    form = await request.form()
    values = _person_form(form)
    institution_id = forms.text(form, "institution_id")

    def act() -> Any:
        return forms.run(lambda: service.add_staff(db, principal, StaffIn(
            institution_id=institution_id, **values)))

    person = await run_in_threadpool(act)
    return forms.done(request, f"/registers/staff?institution={institution_id}",
                      Msg("{name} added to the register", name=person.name))


@router.post("/registers/staff/import", response_model=None)
async def import_staff(request: Request, db: DB, principal: SignedIn) -> Response:
    form = await request.form()
    institution_id = forms.text(form, "institution_id")
    filename, data = await forms.upload(form)
    n = await run_in_threadpool(importer.import_staff_file, db, principal, institution_id,
                                filename, data)
    return forms.done(request, f"/registers/staff?institution={institution_id}",
                      Msg("{count} people imported", count=n))


@router.get("/registers/staff/{staff_id}", response_class=HTMLResponse)
def person_page(request: Request, staff_id: str, db: DB, principal: SignedIn) -> HTMLResponse:
    person = service.get_staff(db, principal, staff_id)
    inst = access.institution(db, person.institution_id)
    return render(request, "registers/person.html", principal, inst=inst, person=person,
                  roles=list(StaffRole), writable=access.may_write(principal, inst),
                  today=today().isoformat(), role_names=ROLE_NAMES)


@router.post("/registers/staff/{staff_id}", response_model=None)
async def update_staff(request: Request, staff_id: str, db: DB,
                       principal: SignedIn) -> Response:
    form = await request.form()
    values = _person_form(form)
    if not values["employed_from"]:
        values.pop("employed_from")

    def act() -> Any:
        return forms.run(lambda: service.update_staff(db, principal, staff_id,
                                                      StaffPatch(**values)))

    await run_in_threadpool(act)
    return forms.done(request, f"/registers/staff/{staff_id}", Msg("Changes saved"))


@router.post("/registers/staff/{staff_id}/end", response_model=None)
def end_employment(request: Request, staff_id: str, db: DB, principal: SignedIn,
                   on: Annotated[date, Form()]) -> Response:
    person = forms.run(lambda: service.end_employment(db, principal, staff_id, on))
    return forms.done(request, f"/registers/staff/{staff_id}",
                      Msg("{name}'s employment ends on {day}", name=person.name,
                          day=on.isoformat()))
