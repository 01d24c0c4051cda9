"""Marketplace pages: the catalogue and instruments, a company's requests and orders, a
lab's inbox and calendar, the voucher operator's programme dashboard."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tichub.core import errors
from tichub.core import fields as field_labels
from tichub.core.auth import DB, Principal, Public, SignedIn
from tichub.core.bounds import whole_number
from tichub.core.flash import flash
from tichub.core.i18n import request_locale
from tichub.core.ids import BEIJING
from tichub.core.ids import today as ids_today
from tichub.core.messages import Msg, MsgC
from tichub.core.models import Organisation, OrgKind, Role
from tichub.core.pagination import PageNumber
from tichub.core.service import organisation_names as org_names
from tichub.core.web import html_to_pdf, render, templates_for
from tichub.market import consulting, order_flow, orders, service
from tichub.market.models import (
    ApplicationStatus,
    Booking,
    ListingStatus,
    OrderStatus,
    Programme,
    ProgrammeProvider,
    ServiceRequest,
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
from tichub.registry.models import QualificationKind

router = APIRouter(include_in_schema=False)

field_labels.register({
    "report_number": Msg("Report number"), "amount": Msg("Price (yuan, tax included)"),
    "amount_fen": Msg("Price (yuan, tax included)"), "tax_fen": Msg("Tax"),
    "voucher_amount": Msg("Voucher amount (yuan)"), "voucher_id": Msg("Voucher"),
    "expected_fen": Msg("Price (yuan, tax included)"), "quantity": Msg("Quantity"),
    "valid_until": Msg("Valid until"), "needed_by": Msg("Needed by"),
    "rating": Msg("Rating"), "institution_ids": Msg("Laboratories"),
    "institution_id": MsgC("market", "Institution"), "product": Msg("Product"),
    "standards": Msg("Standards"), "target_markets": Msg("Target markets"),
    "price": Msg("Price (yuan)"), "turnaround_days": Msg("Turnaround (days)"),
    "hourly_rate": Msg("Hourly rate (yuan)"), "calibration_due": Msg("Calibration due"),
    "day": Msg("Date"), "start": Msg("From"), "end": Msg("To"),
    "starts_at": Msg("From"), "ends_at": Msg("To"), "fee": Msg("Fee per hour (yuan)"),
    "budget": Msg("Budget (yuan)"), "max_share_pct": Msg("Most of an order paid (%)"),
    "notice_days": Msg("Notice (days)"), "valid_from": Msg("Valid from"),
    "programme_id": MsgC("programme", "Programme"), "district": Msg("District"),
    "sector": Msg("Sector"), "minutes": Msg("Minutes"), "advice": Msg("Advice"),
    "scheduled_at": Msg("Date"), "topic": Msg("Topic"), "org_id": Msg("Organisation"),
}, under="/market")

# What each form says once its step is done, on the page it returns to.
DONE: dict[str, Msg] = {
    "quote": Msg("Quote sent"), "decline": Msg("Request declined"),
    "accept": Msg("Quote accepted"), "amend": Msg("Order amended"),
    "cancel": Msg("Order cancelled"), "receive_sample": Msg("Sample receipt recorded"),
    "start_testing": Msg("Testing started"), "issue_report": Msg("Report recorded on the order"),
    "complete": Msg("Order completed"), "dispute": Msg("Dispute recorded"),
    "rate": Msg("Thank you for rating"),
}
BOOKING_DONE: dict[str, Msg] = {
    "approve": Msg("Booking approved"), "decline": Msg("Booking declined"),
    "cancel": Msg("Booking cancelled"), "completed": Msg("Use recorded"),
    "no_show": Msg("No-show recorded"),
}
VOUCHER_DONE: dict[str, Msg] = {
    "programme": Msg("Programme opened"), "apply": Msg("Application sent"),
    "provider": Msg("Application as a provider sent"), "claim": Msg("Claim sent"),
}
PROGRAMME_DONE: dict[str, Msg] = {
    "application": Msg("Application approved"), "provider": Msg("Provider approved"),
    "settle": Msg("Settled"),
}


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
        raise errors.invalid(name, Msg("{text} is not an amount in yuan", text=text)) from None
    if not exact.is_finite() or abs(exact) > Decimal(10) ** 11:
        raise errors.invalid(name, Msg("{text} is not an amount in yuan", text=text))
    value = int((exact * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if value < 0:
        raise errors.invalid(name, Msg("must not be negative"))
    return value


def _invalid(exc: ValidationError) -> errors.Problem:
    return errors.Problem(422, "Invalid input", errors=errors.field_errors(exc.errors()))


# The use cases name the API's fields; the forms type yuan into their own inputs.
FORM_NAMES = {"amount_fen": "amount", "voucher_fen": "voucher_amount", "price_fen": "price",
              "hourly_rate_fen": "hourly_rate", "fee_fen_per_hour": "fee",
              "budget_fen": "budget", "requested_fen": "amount", "face_fen": "amount",
              "starts_at": "start", "ends_at": "end", "scheduled_at": "day"}


def _run(action: Callable[[], Any]) -> Any:
    """Runs a use case from a form. A refusal propagates (app.js shows it beside the field
    at fault, keeping what was typed; without JavaScript the error page says it), its
    fields named as the form names them."""
    try:
        return action()
    except ValidationError as exc:
        problem = _invalid(exc)
    except errors.Problem as exc:
        problem = exc
    for e in problem.errors:
        e.field = FORM_NAMES.get(e.field, e.field)
    raise problem


def _done(request: Request, url: str, message: Msg) -> Response:
    """Back to ``url`` after a form's use case, with ``message`` shown there."""
    return flash(request, RedirectResponse(url, status_code=303), message)


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
    listing = _run(lambda: orders.add_listing(db, principal, ListingIn(
        org_id=org_id, institution_id=institution_id, title=title,
        standards=[s.strip() for s in standards.split(",") if s.strip()],
        price_fen=_fen(price, "price"), turnaround_days=turnaround_days,
        sample_requirements=sample_requirements, accredited=accredited == "yes")))
    return _done(request, f"/market/services/{listing.id}", Msg("Service listed"))


@router.get("/market/services/{listing_id}", response_class=HTMLResponse)
def service_page(request: Request, listing_id: str, db: DB, principal: Public) -> HTMLResponse:
    listing = orders.get_listing(db, listing_id)
    inst = registry.get_institution(db, principal, listing.institution_id)
    avg, n = orders.ratings(db, inst.id)
    return render(request, "market/service.html", principal, listing=listing, inst=inst,
                  rating=avg, rated=n,
                  companies=_orgs(db, principal, (OrgKind.enterprise,)))


@router.post("/market/services/{listing_id}/orders", response_model=None)
def order_service(request: Request, listing_id: str, db: DB, principal: SignedIn,
                  org_id: Annotated[str, Form()], product: Annotated[str, Form()],
                  quantity: Annotated[int, Form()] = 1,
                  sample_delivery: Annotated[str, Form()] = "drop_off",
                  notes: Annotated[str, Form()] = "") -> Response:
    order = _run(lambda: orders.order_listing(db, principal, listing_id, OrderIn(
        org_id=org_id, product=product, quantity=quantity,
        sample_delivery=sample_delivery, notes=notes)))
    return _done(request, f"/market/orders/{order.id}", Msg("Order placed"))


# --- requests and orders -------------------------------------------------------------------

@router.get("/market/requests/new", response_class=HTMLResponse)
def new_request(request: Request, db: DB, principal: SignedIn,
                standard: Annotated[str, Query(max_length=100)] = "",
                product: Annotated[str, Query(max_length=300)] = "",
                description: Annotated[str, Query(max_length=2000)] = "",
                target_markets: Annotated[str, Query(max_length=300)] = "",
                quantity: Annotated[str, Query(max_length=10)] = "",
                needed_by: Annotated[str, Query(max_length=10)] = "",
                institution: Annotated[str, Query(max_length=40)] = "") -> HTMLResponse:
    """The request form; labs able to test to the standard are found in the directory.
    ``institution``: the lab whose page the company came from ("request a quote"), listed
    first and ticked."""
    hits: list[Any] = []
    if standard:
        _, found = registry.search_institutions(
            db, principal, registry.build_query(standard=standard), 0, 20)
        hits = [inst for _, inst in found]
    chosen = None
    if institution:
        with suppress(errors.Problem):  # an unknown or unpublished one is simply not listed
            chosen = registry.get_institution(db, principal, institution)
    if chosen is not None:
        hits = [chosen, *[h for h in hits if h.id != chosen.id]]
    return render(request, "market/request.html", principal, standard=standard, hits=hits,
                  companies=_orgs(db, principal, (OrgKind.enterprise,)),
                  offers=_offers(db, [h.id for h in hits], standard),
                  typed={"product": product, "description": description,
                         "target_markets": target_markets, "quantity": quantity,
                         "needed_by": needed_by},
                  chosen=chosen.id if chosen is not None else "")


def _offers(db: Session, institution_ids: list[str], standard: str) -> dict[str, Any]:
    """What a company weighs when choosing labs: each lab's accreditation for the standard
    (CMA, CNAS), and its listed price and turnaround for it, where known."""
    on = ids_today()
    out: dict[str, Any] = {}
    listings = orders.list_listings(db, standard or None) if standard else []
    for inst_id in institution_ids:
        marks = [kind.value.upper() for kind in (QualificationKind.cma, QualificationKind.cnas)
                 if standard and not registry.accreditation_faults(
                     db, inst_id, kind, [standard], on)]
        offered = [x for x in listings if x.institution_id == inst_id]
        cheapest = min(offered, key=lambda x: x.price_fen) if offered else None
        out[inst_id] = {"marks": marks,
                        "price_fen": cheapest.price_fen if cheapest else None,
                        "turnaround_days": cheapest.turnaround_days if cheapest else None}
    return out


@router.get("/market/requests/labs", response_class=HTMLResponse)
def request_labs(request: Request, db: DB, principal: SignedIn,
                 standards: Annotated[str, Query(max_length=300)] = "") -> HTMLResponse:
    """The lab checklist of a request, for the standard typed: swapped into the form by
    htmx, so that nothing else typed is lost."""
    standard = standards.replace("，", ",").split(",")[0].strip()
    hits: list[Any] = []
    if standard:
        _, found = registry.search_institutions(
            db, principal, registry.build_query(standard=standard), 0, 20)
        hits = [inst for _, inst in found]
    return render(request, "market/_labs.html", principal, hits=hits, standard=standard,
                  offers=_offers(db, [h.id for h in hits], standard))


@router.post("/market/requests", response_model=None)
async def create_request(request: Request, db: DB, principal: SignedIn) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        v = form.get(name, "")
        return v.strip() if isinstance(v, str) else ""

    def run() -> Any:
        return orders.create_request(db, principal, RequestIn(
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

    _run(run)
    return _done(request, "/market/orders", Msg("Request sent to the laboratories chosen"))


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
                  status=status, page=page, statuses=list(orders.OrderStatus),
                  bookings=service.bookings_of(db, [o for o, _ in mine]))


def _order_page(request: Request, db: Session, principal: Principal,
                order_id: str) -> HTMLResponse:
    order = orders.get_order(db, order_id)
    if not orders.sees(principal, order):
        raise errors.forbidden(Msg("an order is the company's and the lab's business"))
    side = orders.side_of(principal, order)
    actions = order_flow.allowed(order.status.value, side) if side else []
    vouchers = []
    if side == "company":
        vouchers = list(db.scalars(select(Voucher).where(
            Voucher.holder_org_id == order.company_org_id,
            Voucher.status == VoucherStatus.active, Voucher.balance_fen > 0)))
    return render(request, "market/order.html", principal, order=order, side=side,
                  actions=actions, events=orders.events(db, order), vouchers=vouchers,
                  step_labels=order_flow.STEP_LABELS,
                  statuses={s.value: s for s in OrderStatus},
                  request_of=db.get(ServiceRequest, order.request_id)
                  if order.request_id else None,
                  reports=orders.matching_reports(db, order)
                  if "issue_report" in actions else [],
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

    action = text("action")

    def run() -> None:
        fields: dict[str, Any] = {"action": action, "note": text("note")}
        if text("amount"):
            fields["amount_fen"] = _fen(text("amount"), "amount")
        if text("expected_fen"):  # the price the company saw when accepting
            fields["amount_fen"] = whole_number(text("expected_fen"), "expected_fen", 0)
        if text("valid_until"):
            fields["valid_until"] = text("valid_until")
        # The number typed wins over the one chosen from the lab's matching reports.
        if text("report_number") or text("report_choice"):
            fields["report_number"] = text("report_number") or text("report_choice")
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

    _run(run)
    return _done(request, f"/market/orders/{order_id}",
                 DONE.get(action, Msg("Order updated")))


@router.get("/market/orders/{order_id}/{kind}.pdf")
async def order_document(request: Request, order_id: str, kind: str, db: DB,
                         principal: SignedIn) -> Response:
    """The order's invoice (once accepted) or receipt (once completed), as a PDF, for the
    company and the lab."""
    if kind not in ("invoice", "receipt"):
        raise orders.missing(Msg("There is no such document."))
    order = orders.get_order(db, order_id)
    if orders.side_of(principal, order, Role.viewer) is None and not (
            principal.is_operator or principal.is_regulator):
        raise errors.forbidden(Msg("an order's papers are the company's and the lab's"))
    wanted = ("accepted", "sample_received", "testing", "report_issued", "completed") \
        if kind == "invoice" else ("completed",)
    if order.status.value not in wanted or order.amount_fen is None:
        raise errors.conflict("status", Msg(
            "an order that is {status} has no invoice or receipt yet", status=order.status))
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
    inst = _run(lambda: service.add_instrument(db, principal, InstrumentIn(
        org_id=org_id, name=name, kind=kind, location=location,
        hourly_rate_fen=_fen(hourly_rate, "hourly_rate"),
        calibration_due=calibration_due or None, auto_approve=auto_approve == "yes")))
    return _done(request, f"/market/instruments/{inst.id}", Msg("Instrument shared"))


def _instrument_page(request: Request, db: Session, principal: Principal,
                     instrument_id: str) -> HTMLResponse:
    inst = service.get_instrument(db, instrument_id)
    now = datetime.now(BEIJING)
    slots = service.calendar_of(db, inst.id, now - timedelta(days=7), now + timedelta(days=60))
    owner = inst.org_id in principal.roles
    mine = set(principal.roles)
    return render(request, "market/instrument.html", principal, inst=inst, slots=slots,
                  owner=owner, mine=mine, now=now,
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
            raise errors.invalid("day", Msg("give a date and the start and end times")
                                 ) from None
        service.book(db, principal, instrument_id, BookingIn(
            org_id=org_id, starts_at=starts, ends_at=ends, on_behalf_of=on_behalf_of,
            purpose=purpose))

    _run(run)
    return _done(request, f"/market/instruments/{instrument_id}", Msg("Booking requested"))


@router.post("/market/bookings/{booking_id}/{step}", response_model=None)
def booking_step(request: Request, booking_id: str, step: str, db: DB,
                 principal: SignedIn) -> Response:
    booking = db.get(Booking, booking_id)
    if booking is None:
        raise orders.missing(Msg("There is no such booking."))
    steps: dict[str, Callable[[], Any]] = {
        "approve": lambda: service.decide(db, principal, booking_id, True),
        "decline": lambda: service.decide(db, principal, booking_id, False),
        "cancel": lambda: service.cancel(db, principal, booking_id),
        "completed": lambda: service.record_outcome(db, principal, booking_id, "completed"),
        "no_show": lambda: service.record_outcome(db, principal, booking_id, "no_show"),
    }
    if step not in steps:
        raise orders.missing(Msg("There is no such step."))
    _run(steps[step])
    return _done(request, f"/market/instruments/{booking.instrument_id}",
                 BOOKING_DONE[step])


# --- expert consulting ---------------------------------------------------------------------

@router.get("/market/experts", response_class=HTMLResponse)
def experts_page(request: Request, db: DB, principal: Public,
                 field: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    experts = consulting.list_experts(db, field or None)
    return render(request, "market/experts.html", principal, experts=experts, field=field,
                  clients=_orgs(db, principal, tuple(OrgKind)),
                  owners=_orgs(db, principal, tuple(OrgKind)))


@router.post("/market/experts", response_model=None)
def add_expert(request: Request, db: DB, principal: SignedIn,
               org_id: Annotated[str, Form()], name: Annotated[str, Form()],
               fields: Annotated[str, Form()], title: Annotated[str, Form()] = "",
               committees: Annotated[str, Form()] = "", languages: Annotated[str, Form()] = "zh",
               fee: Annotated[str, Form()] = "0", bio: Annotated[str, Form()] = "") -> Response:
    def split(text: str) -> list[str]:
        return [t.strip() for t in text.replace("，", ",").split(",") if t.strip()]

    def run() -> Any:
        return consulting.add_expert(db, principal, ExpertIn(
            org_id=org_id, name=name, title=title, fields=split(fields),
            committees=split(committees), languages=split(languages) or ["zh"],
            fee_fen_per_hour=_fen(fee, "fee"), bio=bio))

    _run(run)
    return _done(request, "/market/experts", Msg("Expert listed"))


@router.post("/market/experts/{expert_id}/consultations", response_model=None)
def request_consultation(request: Request, expert_id: str, db: DB, principal: SignedIn,
                         org_id: Annotated[str, Form()], topic: Annotated[str, Form()],
                         question: Annotated[str, Form()] = "",
                         preferred_times: Annotated[str, Form()] = "") -> Response:
    c = _run(lambda: consulting.request(db, principal, expert_id, ConsultationIn(
        org_id=org_id, topic=topic, question=question, preferred_times=preferred_times)))
    return _done(request, f"/market/consultations/{c.id}", Msg("Consultation requested"))


def _consultation_page(request: Request, db: Session, principal: Principal,
                       consultation_id: str) -> HTMLResponse:
    c, expert = consulting.get(db, principal, consultation_id)
    return render(request, "market/consultation.html", principal, c=c, expert=expert,
                  expert_side=expert.org_id in principal.roles,
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
                raise errors.invalid("day", Msg("give a date and a time")) from None
        consulting.step(db, principal, consultation_id, ConsultationStepIn(
            action=action, scheduled_at=when, minutes=whole_number(minutes, "minutes", 0) or None,
            advice=advice))

    _run(run)
    return _done(request, f"/market/consultations/{consultation_id}",
                 Msg("Consultation updated"))


# --- vouchers ------------------------------------------------------------------------------

@router.get("/market/vouchers", response_class=HTMLResponse)
def vouchers_home(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    programmes = list(db.scalars(select(Programme).order_by(Programme.valid_from.desc())))
    companies = _orgs(db, principal, (OrgKind.enterprise,))
    labs = _orgs(db, principal, orders.LAB_KINDS)
    operators = _orgs(db, principal, (OrgKind.operator, OrgKind.regulator))
    held = list(db.scalars(select(Voucher).where(
        Voucher.holder_org_id.in_([c for c, _ in companies])))) if companies else []
    owed = {(p.id, lab): service.owed(db, p.id, lab) for p in programmes for lab, _ in labs}
    return render(request, "market/vouchers.html", principal, programmes=programmes,
                  companies=companies, labs=labs, operators=operators, held=held, owed=owed,
                  districts=DISTRICTS, today=ids_today().isoformat())


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
        raise orders.missing(Msg("There is no such step."))
    _run(actions[what])
    return _done(request, "/market/vouchers", VOUCHER_DONE[what])


def _programme_page(request: Request, db: Session, principal: Principal,
                    programme_id: str) -> HTMLResponse:
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
                  owed=owed, names=names, chart=chart,
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
        raise orders.missing(Msg("There is no such step."))
    _run(actions[what])
    done = PROGRAMME_DONE[what]
    if what == "application" and not approve:
        done = Msg("Application rejected")
    elif what == "provider" and not approve:
        done = Msg("Provider refused")
    return _done(request, f"/market/programmes/{programme_id}", done)
