"""Marketplace pages: the catalogue and instruments, a company's requests and orders, a
lab's inbox and calendar, the voucher operator's programme dashboard."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tichub.core import errors
from tichub.core.auth import DB, Principal, Public, SignedIn
from tichub.core.bounds import whole_number
from tichub.core.i18n import request_locale
from tichub.core.ids import BEIJING
from tichub.core.models import Organisation, OrgKind, Role
from tichub.core.pagination import PageNumber
from tichub.core.service import organisation_names as org_names
from tichub.core.web import html_to_pdf, render, templates_for
from tichub.market import consulting, order_flow, orders, service
from tichub.market.models import (
    ApplicationStatus,
    Booking,
    ListingStatus,
    Programme,
    ProgrammeProvider,
    Voucher,
    VoucherStatus,
)
from tichub.market.schemas import (
    ActionIn,
    ApplicationDecisionIn,
    ApplicationIn,
    BookingIn,
    ConsultationIn,
    ConsultationStepIn,
    ExpertIn,
    InstrumentIn,
    ListingIn,
    OrderIn,
    ProgrammeIn,
    RequestIn,
)
from tichub.registry import service as registry
from tichub.registry.districts import DISTRICTS

router = APIRouter(include_in_schema=False)


def _orgs(db: Session, principal: Principal, kinds: tuple[OrgKind, ...],
          role: Role = Role.editor) -> list[tuple[str, str]]:
    ids = [o for o, r in principal.roles.items()
           if r.rank >= role.rank and principal.kinds.get(o) in kinds]
    if not ids:
        return []
    rows = db.execute(select(Organisation.id, Organisation.name)
                      .where(Organisation.id.in_(ids)).order_by(Organisation.name))
    return [(i, n) for i, n in rows]


def _fen(text: str, name: str) -> int:
    """Yuan as typed (12,800.50) into fen."""
    cleaned = text.replace(",", "").replace("，", "").strip()
    try:
        exact = Decimal(cleaned)
    except InvalidOperation:
        raise errors.invalid(name, f"{text!r} is not an amount in yuan") from None
    if not exact.is_finite() or abs(exact) > Decimal(10) ** 11:
        raise errors.invalid(name, f"{text!r} is not an amount in yuan")
    value = int((exact * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if value < 0:
        raise errors.invalid(name, "must not be negative")
    return value


def _invalid(exc: ValidationError) -> errors.Problem:
    return errors.Problem(422, "Invalid input", errors=errors.field_errors(exc.errors()))


def _back(request: Request, db: Session, action: Callable[[], Any], ok: str,
          page: Callable[[str], Response]) -> Response:
    """Runs a use case from a form: on success back to ``ok``; a refusal is shown on the
    page it came from, with nothing changed."""
    try:
        action()
    except errors.Problem as exc:
        db.rollback()
        response = page(str(exc))
        response.status_code = exc.status
        return response
    except ValidationError as exc:
        db.rollback()
        response = page(str(_invalid(exc)))
        response.status_code = 422
        return response
    return RedirectResponse(ok, status_code=303)


# --- home: catalogue and instruments -------------------------------------------------------

@router.get("/market", response_class=HTMLResponse)
def home(request: Request, db: DB, principal: Public,
         standard: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    listings = orders.list_listings(db, standard or None)
    insts = {}
    for inst_id in {s.institution_id for s in listings}:
        with suppress(errors.Problem):  # an unpublished institution shows no name
            insts[inst_id] = registry.get_institution(db, principal, inst_id)
    return render(request, "market/home.html", principal, listings=listings, insts=insts,
                  standard=standard, instruments=service.list_instruments(db),
                  labs=_orgs(db, principal, orders.LAB_KINDS),
                  owners=_orgs(db, principal, service.OWNER_KINDS),
                  companies=_orgs(db, principal, (OrgKind.enterprise,)),
                  institutions=registry.list_own_institutions(db, principal)
                  if principal.authenticated else [])


@router.post("/market/services", response_model=None)
def add_service(request: Request, db: DB, principal: SignedIn,
                org_id: Annotated[str, Form()], institution_id: Annotated[str, Form()],
                title: Annotated[str, Form()], standards: Annotated[str, Form()],
                price: Annotated[str, Form()], turnaround_days: Annotated[int, Form()] = 7,
                accredited: Annotated[str, Form()] = "yes",
                sample_requirements: Annotated[str, Form()] = "") -> Response:
    try:
        data = ListingIn(org_id=org_id, institution_id=institution_id, title=title,
                         standards=[s.strip() for s in standards.split(",") if s.strip()],
                         price_fen=_fen(price, "price"), turnaround_days=turnaround_days,
                         sample_requirements=sample_requirements,
                         accredited=accredited == "yes")
    except ValidationError as exc:
        raise _invalid(exc) from None
    orders.add_listing(db, principal, data)
    return RedirectResponse("/market", status_code=303)


@router.get("/market/services/{listing_id}", response_class=HTMLResponse)
def service_page(request: Request, listing_id: str, db: DB, principal: Public,
                 error: str | None = None) -> HTMLResponse:
    listing = orders.get_listing(db, listing_id)
    inst = registry.get_institution(db, principal, listing.institution_id)
    avg, n = orders.ratings(db, inst.id)
    return render(request, "market/service.html", principal, listing=listing, inst=inst,
                  rating=avg, rated=n, error=error,
                  companies=_orgs(db, principal, (OrgKind.enterprise,)))


@router.post("/market/services/{listing_id}/orders", response_model=None)
def order_service(request: Request, listing_id: str, db: DB, principal: SignedIn,
                  org_id: Annotated[str, Form()], product: Annotated[str, Form()],
                  quantity: Annotated[int, Form()] = 1,
                  sample_delivery: Annotated[str, Form()] = "drop_off",
                  notes: Annotated[str, Form()] = "") -> Response:
    made: list[str] = []

    def run() -> None:
        made.append(orders.order_listing(db, principal, listing_id, OrderIn(
            org_id=org_id, product=product, quantity=quantity,
            sample_delivery=sample_delivery, notes=notes)).id)

    response = _back(request, db, run, "", lambda e: service_page(
        request, listing_id, db, principal, e))
    return RedirectResponse(f"/market/orders/{made[0]}", status_code=303) if made else response


# --- requests and orders -------------------------------------------------------------------

@router.get("/market/requests/new", response_class=HTMLResponse)
def new_request(request: Request, db: DB, principal: SignedIn,
                standard: Annotated[str, Query(max_length=100)] = "",
                error: str | None = None) -> HTMLResponse:
    """The request form; labs able to test to the standard are found in the directory."""
    hits: list[Any] = []
    if standard:
        _, found = registry.search_institutions(
            db, principal, registry.build_query(standard=standard), 0, 20)
        hits = [inst for _, inst in found]
    return render(request, "market/request.html", principal, standard=standard, hits=hits,
                  companies=_orgs(db, principal, (OrgKind.enterprise,)), error=error)


@router.post("/market/requests", response_model=None)
async def create_request(request: Request, db: DB, principal: SignedIn) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        v = form.get(name, "")
        return v.strip() if isinstance(v, str) else ""

    def run() -> None:
        orders.create_request(db, principal, RequestIn(
            org_id=text("org_id"), product=text("product"),
            standards=[s.strip() for s in text("standards").split(",") if s.strip()],
            target_markets=[m.strip() for m in text("target_markets").split(",")
                            if m.strip()],
            quantity=whole_number(text("quantity"), "quantity", 1),
            needed_by=text("needed_by") or None,
            description=text("description"),
            institution_ids=[str(v) for v in form.getlist("institution_ids")],
            sample_delivery=text("sample_delivery") or "drop_off",
            sample_return=text("sample_return") == "yes"))

    return _back(request, db, run, "/market/orders", lambda e: new_request(
        request, db, principal, text("standards").split(",")[0], e))


@router.get("/market/orders", response_class=HTMLResponse)
def my_orders(request: Request, db: DB, principal: SignedIn,
              status: Annotated[str, Query(max_length=20)] = "",
              page: PageNumber = 1) -> HTMLResponse:
    mine = _orgs(db, principal, (OrgKind.enterprise, *orders.LAB_KINDS), Role.viewer)
    lists = []
    for org_id, name in mine:
        rows, total = orders.inbox(db, principal, org_id, status or None, (page - 1) * 50, 50)
        lists.append((org_id, name, rows, total))
    names = org_names(db, {o.company_org_id for _, _, rows, _ in lists for o in rows}
                   | {o.lab_org_id for _, _, rows, _ in lists for o in rows})
    return render(request, "market/orders.html", principal, lists=lists, names=names,
                  status=status, page=page, statuses=[s.value for s in orders.OrderStatus],
                  bookings=service.bookings_of(db, [o for o, _ in mine]))


def _order_page(request: Request, db: Session, principal: Principal, order_id: str,
                error: str | None = None) -> HTMLResponse:
    order = orders.get_order(db, order_id)
    if not orders.sees(principal, order):
        raise errors.forbidden("an order is the company's and the lab's business")
    side = orders.side_of(principal, order)
    vouchers = []
    if side == "company":
        vouchers = list(db.scalars(select(Voucher).where(
            Voucher.holder_org_id == order.company_org_id,
            Voucher.status == VoucherStatus.active, Voucher.balance_fen > 0)))
    return render(request, "market/order.html", principal, order=order, side=side,
                  actions=order_flow.allowed(order.status.value, side) if side else [],
                  events=orders.events(db, order), error=error, vouchers=vouchers,
                  names=org_names(db, {order.company_org_id, order.lab_org_id}),
                  can_rate=side == "company" and order.status.value == "completed"
                  and order.rating is None)


@router.get("/market/orders/{order_id}", response_class=HTMLResponse)
def order_page(request: Request, order_id: str, db: DB, principal: SignedIn) -> HTMLResponse:
    return _order_page(request, db, principal, order_id)


@router.post("/market/orders/{order_id}/actions", response_model=None)
async def order_action(request: Request, order_id: str, db: DB,
                       principal: SignedIn) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        v = form.get(name, "")
        return v.strip() if isinstance(v, str) else ""

    def run() -> None:
        fields: dict[str, Any] = {"action": text("action"), "note": text("note")}
        if text("amount"):
            fields["amount_fen"] = _fen(text("amount"), "amount")
        if text("expected_fen"):  # the price the company saw when accepting
            fields["amount_fen"] = whole_number(text("expected_fen"), "expected_fen", 0)
        if text("valid_until"):
            fields["valid_until"] = text("valid_until")
        if text("report_number"):
            fields["report_number"] = text("report_number")
        if text("quantity"):
            fields["quantity"] = text("quantity")
        if text("voucher_id") and text("voucher_amount"):
            fields["voucher_id"] = text("voucher_id")
            fields["voucher_fen"] = _fen(text("voucher_amount"), "voucher_amount")
        if fields["action"] == "rate":
            orders.rate(db, principal, order_id, whole_number(text("rating"), "rating", 0),
                        text("note"))
            return
        orders.act(db, principal, order_id, ActionIn.model_validate(fields))

    return _back(request, db, run, f"/market/orders/{order_id}",
                 lambda e: _order_page(request, db, principal, order_id, e))


@router.get("/market/orders/{order_id}/{kind}.pdf")
async def order_document(request: Request, order_id: str, kind: str, db: DB,
                         principal: SignedIn) -> Response:
    """The order's invoice (once accepted) or receipt (once completed), as a PDF, for the
    company and the lab."""
    if kind not in ("invoice", "receipt"):
        raise errors.not_found("document")
    order = orders.get_order(db, order_id)
    if orders.side_of(principal, order, Role.viewer) is None and not (
            principal.is_operator or principal.is_regulator):
        raise errors.forbidden("an order's papers are the company's and the lab's")
    wanted = ("accepted", "sample_received", "testing", "report_issued", "completed") \
        if kind == "invoice" else ("completed",)
    if order.status.value not in wanted or order.amount_fen is None:
        raise errors.conflict("status", f"an order that is {order.status.value} has no {kind}")
    names = org_names(db, {order.company_org_id, order.lab_org_id})
    locale = request_locale(request, request.app.state.settings.default_locale)
    titles = {"invoice": ("费用通知单", "Invoice"), "receipt": ("收款收据", "Receipt")}
    html = templates_for(locale).get_template("market/invoice.html").render(
        request=request, principal=principal, locale=locale, csrf="", order=order,
        title=titles[kind][0 if locale == "zh" else 1], paid=kind == "receipt",
        issued=order.updated_at, lab_name=names.get(order.lab_org_id, ""),
        company_name=names.get(order.company_org_id, ""))
    pdf = await run_in_threadpool(html_to_pdf, html)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{order.number}-{kind}.pdf"'})


# --- instruments and bookings --------------------------------------------------------------

@router.post("/market/instruments", response_model=None)
def add_instrument(request: Request, db: DB, principal: SignedIn,
                   org_id: Annotated[str, Form()], name: Annotated[str, Form()],
                   kind: Annotated[str, Form()], hourly_rate: Annotated[str, Form()] = "0",
                   calibration_due: Annotated[str, Form()] = "",
                   auto_approve: Annotated[str, Form()] = "yes",
                   location: Annotated[str, Form()] = "") -> Response:
    try:
        data = InstrumentIn(org_id=org_id, name=name, kind=kind, location=location,
                            hourly_rate_fen=_fen(hourly_rate, "hourly_rate"),
                            calibration_due=calibration_due or None,
                            auto_approve=auto_approve == "yes")
    except ValidationError as exc:
        raise _invalid(exc) from None
    inst = service.add_instrument(db, principal, data)
    return RedirectResponse(f"/market/instruments/{inst.id}", status_code=303)


def _instrument_page(request: Request, db: Session, principal: Principal, instrument_id: str,
                     error: str | None = None) -> HTMLResponse:
    inst = service.get_instrument(db, instrument_id)
    now = datetime.now(BEIJING)
    slots = service.calendar_of(db, inst.id, now - timedelta(days=7), now + timedelta(days=60))
    owner = inst.org_id in principal.roles
    mine = set(principal.roles)
    return render(request, "market/instrument.html", principal, inst=inst, slots=slots,
                  owner=owner, mine=mine, error=error, now=now,
                  bookers=_orgs(db, principal, (OrgKind.enterprise, *orders.LAB_KINDS)),
                  names=org_names(db, {b.org_id for b in slots}) if owner else {},
                  today=now.date().isoformat())


@router.get("/market/instruments/{instrument_id}", response_class=HTMLResponse)
def instrument_page(request: Request, instrument_id: str, db: DB,
                    principal: Public) -> HTMLResponse:
    return _instrument_page(request, db, principal, instrument_id)


@router.post("/market/instruments/{instrument_id}/bookings", response_model=None)
def book(request: Request, instrument_id: str, db: DB, principal: SignedIn,
         org_id: Annotated[str, Form()], day: Annotated[str, Form()],
         start: Annotated[str, Form()], end: Annotated[str, Form()],
         on_behalf_of: Annotated[str, Form()] = "",
         purpose: Annotated[str, Form()] = "") -> Response:
    def run() -> None:
        try:
            starts = datetime.fromisoformat(f"{day}T{start}").replace(tzinfo=BEIJING)
            ends = datetime.fromisoformat(f"{day}T{end}").replace(tzinfo=BEIJING)
        except ValueError:
            raise errors.invalid("day", "give a date and the start and end times") from None
        service.book(db, principal, instrument_id, BookingIn(
            org_id=org_id, starts_at=starts, ends_at=ends, on_behalf_of=on_behalf_of,
            purpose=purpose))

    return _back(request, db, run, f"/market/instruments/{instrument_id}",
                 lambda e: _instrument_page(request, db, principal, instrument_id, e))


@router.post("/market/bookings/{booking_id}/{step}", response_model=None)
def booking_step(request: Request, booking_id: str, step: str, db: DB,
                 principal: SignedIn) -> Response:
    booking = db.get(Booking, booking_id)
    if booking is None:
        raise errors.not_found("booking")
    steps: dict[str, Callable[[], Any]] = {
        "approve": lambda: service.decide(db, principal, booking_id, True),
        "decline": lambda: service.decide(db, principal, booking_id, False),
        "cancel": lambda: service.cancel(db, principal, booking_id),
        "completed": lambda: service.record_outcome(db, principal, booking_id, "completed"),
        "no_show": lambda: service.record_outcome(db, principal, booking_id, "no_show"),
    }
    if step not in steps:
        raise errors.not_found("action")
    where = booking.instrument_id
    return _back(request, db, steps[step], f"/market/instruments/{where}",
                 lambda e: _instrument_page(request, db, principal, where, e))


# --- expert consulting ---------------------------------------------------------------------

@router.get("/market/experts", response_class=HTMLResponse)
def experts_page(request: Request, db: DB, principal: Public,
                 field: Annotated[str, Query(max_length=100)] = "",
                 error: str | None = None) -> HTMLResponse:
    experts = consulting.list_experts(db, field or None)
    return render(request, "market/experts.html", principal, experts=experts, field=field,
                  error=error, clients=_orgs(db, principal, tuple(OrgKind)),
                  owners=_orgs(db, principal, tuple(OrgKind)))


@router.post("/market/experts", response_model=None)
def add_expert(request: Request, db: DB, principal: SignedIn,
               org_id: Annotated[str, Form()], name: Annotated[str, Form()],
               fields: Annotated[str, Form()], title: Annotated[str, Form()] = "",
               committees: Annotated[str, Form()] = "", languages: Annotated[str, Form()] = "zh",
               fee: Annotated[str, Form()] = "0", bio: Annotated[str, Form()] = "") -> Response:
    def split(text: str) -> list[str]:
        return [t.strip() for t in text.replace("，", ",").split(",") if t.strip()]

    def run() -> None:
        consulting.add_expert(db, principal, ExpertIn(
            org_id=org_id, name=name, title=title, fields=split(fields),
            committees=split(committees), languages=split(languages) or ["zh"],
            fee_fen_per_hour=_fen(fee, "fee"), bio=bio))

    return _back(request, db, run, "/market/experts",
                 lambda e: experts_page(request, db, principal, "", e))


@router.post("/market/experts/{expert_id}/consultations", response_model=None)
def request_consultation(request: Request, expert_id: str, db: DB, principal: SignedIn,
                         org_id: Annotated[str, Form()], topic: Annotated[str, Form()],
                         question: Annotated[str, Form()] = "",
                         preferred_times: Annotated[str, Form()] = "") -> Response:
    made: list[str] = []

    def run() -> None:
        made.append(consulting.request(db, principal, expert_id, ConsultationIn(
            org_id=org_id, topic=topic, question=question,
            preferred_times=preferred_times)).id)

    response = _back(request, db, run, "", lambda e: experts_page(request, db, principal,
                                                                  "", e))
    return RedirectResponse(f"/market/consultations/{made[0]}", status_code=303) \
        if made else response


def _consultation_page(request: Request, db: Session, principal: Principal,
                       consultation_id: str, error: str | None = None) -> HTMLResponse:
    c, expert = consulting.get(db, principal, consultation_id)
    return render(request, "market/consultation.html", principal, c=c, expert=expert,
                  error=error, expert_side=expert.org_id in principal.roles,
                  client_side=c.client_org_id in principal.roles,
                  names=org_names(db, {c.client_org_id, expert.org_id}))


@router.get("/market/consultations/{consultation_id}", response_class=HTMLResponse)
def consultation_page(request: Request, consultation_id: str, db: DB,
                      principal: SignedIn) -> HTMLResponse:
    return _consultation_page(request, db, principal, consultation_id)


@router.post("/market/consultations/{consultation_id}/steps", response_model=None)
def consultation_step(request: Request, consultation_id: str, db: DB, principal: SignedIn,
                      action: Annotated[str, Form()], day: Annotated[str, Form()] = "",
                      time: Annotated[str, Form()] = "", minutes: Annotated[str, Form()] = "",
                      advice: Annotated[str, Form()] = "") -> Response:
    def run() -> None:
        when = None
        if day and time:
            try:
                when = datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=BEIJING)
            except ValueError:
                raise errors.invalid("day", "give a date and a time") from None
        consulting.step(db, principal, consultation_id, ConsultationStepIn(
            action=action, scheduled_at=when, minutes=whole_number(minutes, "minutes", 0) or None,
            advice=advice))

    return _back(request, db, run, f"/market/consultations/{consultation_id}",
                 lambda e: _consultation_page(request, db, principal, consultation_id, e))


# --- vouchers ------------------------------------------------------------------------------

@router.get("/market/vouchers", response_class=HTMLResponse)
def vouchers_home(request: Request, db: DB, principal: SignedIn,
                  error: str | None = None) -> HTMLResponse:
    programmes = list(db.scalars(select(Programme).order_by(Programme.valid_from.desc())))
    companies = _orgs(db, principal, (OrgKind.enterprise,))
    labs = _orgs(db, principal, orders.LAB_KINDS)
    operators = _orgs(db, principal, (OrgKind.operator, OrgKind.regulator))
    held = list(db.scalars(select(Voucher).where(
        Voucher.holder_org_id.in_([c for c, _ in companies])))) if companies else []
    owed = {(p.id, lab): service.owed(db, p.id, lab) for p in programmes for lab, _ in labs}
    return render(request, "market/vouchers.html", principal, programmes=programmes,
                  companies=companies, labs=labs, operators=operators, held=held, owed=owed,
                  districts=DISTRICTS, error=error, today=date.today().isoformat())


@router.post("/market/vouchers/{what}", response_model=None)
async def voucher_form(request: Request, what: str, db: DB, principal: SignedIn) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        v = form.get(name, "")
        return v.strip() if isinstance(v, str) else ""

    actions: dict[str, Callable[[], Any]] = {
        "programme": lambda: service.create_programme(db, principal, ProgrammeIn(
            org_id=text("org_id"), code=text("code"), name=text("name"),
            budget_fen=_fen(text("budget"), "budget"),
            max_share_pct=whole_number(text("max_share_pct"), "max_share_pct", 50),
            valid_from=text("valid_from"), valid_until=text("valid_until"),
            notice_days=whole_number(text("notice_days"), "notice_days", 7))),
        "apply": lambda: service.apply_for_voucher(db, principal, text("programme_id"),
                                                   ApplicationIn(
            org_id=text("org_id"), requested_fen=_fen(text("amount"), "amount"),
            district=text("district"), sector=text("sector"), purpose=text("purpose"))),
        "provider": lambda: service.apply_as_provider(db, principal, text("programme_id"),
                                                      text("org_id")),
        "claim": lambda: service.claim(db, principal, text("programme_id"), text("org_id")),
    }
    if what not in actions:
        raise errors.not_found("action")
    return _back(request, db, actions[what], "/market/vouchers",
                 lambda e: vouchers_home(request, db, principal, e))


def _programme_page(request: Request, db: Session, principal: Principal, programme_id: str,
                    error: str | None = None) -> HTMLResponse:
    programme = service.get_programme(db, programme_id)
    figures = service.programme_figures(db, principal, programme.id)
    applications = service.applications(db, programme.id)
    providers = list(db.scalars(select(ProgrammeProvider).where(
        ProgrammeProvider.programme_id == programme.id)))
    owed = {p.org_id: service.owed(db, programme.id, p.org_id) for p in providers}
    names = org_names(db, {a.org_id for a in applications} | {p.org_id for p in providers})
    names_zh = {d.slug: d.zh for d in DISTRICTS}
    chart = {"title": "", "labels": [names_zh.get(f["district"], f["district"]) + "·"
                                     + f["sector"] for f in figures],
             "values": [f["issued_fen"] / 100 for f in figures]}
    return render(request, "market/programme.html", principal, programme=programme,
                  figures=figures, applications=applications, providers=providers,
                  owed=owed, names=names, chart=chart, error=error,
                  balances=service.balances(db, programme.id),
                  applied=ApplicationStatus.applied, listing_applied=ListingStatus.applied,
                  districts=names_zh)


@router.get("/market/programmes/{programme_id}", response_class=HTMLResponse)
def programme_page(request: Request, programme_id: str, db: DB,
                   principal: SignedIn) -> HTMLResponse:
    return _programme_page(request, db, principal, programme_id)


@router.post("/market/programmes/{programme_id}/{what}/{item_id}", response_model=None)
async def programme_step(request: Request, programme_id: str, what: str, item_id: str,
                         db: DB, principal: SignedIn) -> Response:
    form = await request.form()
    approve = form.get("approve") == "yes"
    amount = form.get("amount", "")
    actions: dict[str, Callable[[], Any]] = {
        "application": lambda: service.decide_application(
            db, principal, item_id, ApplicationDecisionIn(
                approve=approve,
                face_fen=_fen(amount, "amount") if approve and isinstance(amount, str)
                and amount.strip() else None)),
        "provider": lambda: service.review_provider(db, principal, item_id, approve),
        "settle": lambda: service.settle(db, principal, programme_id, item_id),
    }
    if what not in actions:
        raise errors.not_found("action")
    return _back(request, db, actions[what], f"/market/programmes/{programme_id}",
                 lambda e: _programme_page(request, db, principal, programme_id, e))
