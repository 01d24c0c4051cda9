"""Marketplace routes: shared instruments and bookings under /api/instruments, voucher
programmes under /api/vouchers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from tichub.core import errors
from tichub.core.auth import DB, Principal, Public, access
from tichub.core.exports import download
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.core.pagination import Page, PageParams, page_params
from tichub.market import consulting, order_flow, orders, service
from tichub.market.models import Booking, Instrument, Order
from tichub.market.schemas import (
    ActionIn,
    ApplicationDecisionIn,
    ApplicationIn,
    ApplicationOut,
    BookingIn,
    BookingOut,
    ConsultationIn,
    ConsultationOut,
    ConsultationStepIn,
    DecisionIn,
    ExpertIn,
    ExpertOut,
    InstrumentIn,
    InstrumentOut,
    ListingIn,
    ListingOut,
    OrderIn,
    OrderOut,
    OutcomeIn,
    ProgrammeIn,
    ProgrammeOut,
    ProviderIn,
    ProviderOut,
    RatingIn,
    RequestIn,
    SettleIn,
    VoucherIn,
    VoucherOut,
)

router = APIRouter(prefix="/api", tags=["marketplace"])

Editor = Annotated[Principal, access(
    "member", role=Role.editor, scope="market:write",
    note="editors of the organisation the action is for (owner, booker, holder or operator)")]


@router.get("/instruments", response_model=list[InstrumentOut])
def list_instruments(db: DB, principal: Public,
                     kind: Annotated[str | None, Query(max_length=100)] = None) -> list[Any]:
    """Shared instruments, with their rates, calibration and the owner's booking rules."""
    return service.list_instruments(db, kind)


@router.post("/instruments", response_model=InstrumentOut, status_code=201)
def add_instrument(body: InstrumentIn, db: DB, principal: Editor) -> Any:
    """Lists an instrument for sharing."""
    return service.add_instrument(db, principal, body)


@router.get("/instruments/{instrument_id}", response_model=InstrumentOut)
def get_instrument(instrument_id: str, db: DB, principal: Public) -> Any:
    return service.get_instrument(db, instrument_id)


def booking_out(b: Booking, inst: Instrument, principal: Principal) -> BookingOut:
    if not service.sees_booking(principal, b, inst):
        return BookingOut(id=b.id, instrument_id=b.instrument_id, starts_at=b.starts_at,
                          ends_at=b.ends_at, status="busy")
    return BookingOut(id=b.id, instrument_id=b.instrument_id, starts_at=b.starts_at,
                      ends_at=b.ends_at, status=b.status.value, org_id=b.org_id,
                      on_behalf_of=b.on_behalf_of, purpose=b.purpose, price_fen=b.price_fen)


@router.get("/instruments/{instrument_id}/calendar", response_model=list[BookingOut])
def instrument_calendar(instrument_id: str, db: DB, principal: Public,
                        start: datetime, end: datetime) -> list[BookingOut]:
    """The time taken between ``start`` and ``end``: to the public only as busy slots; the
    owner and each booker see their own bookings in full."""
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise errors.invalid("start", "give start < end, each with its time zone")
    if (end - start).days > 92:
        raise errors.invalid("end", "at most three months at a time")
    inst = service.get_instrument(db, instrument_id)
    return [booking_out(b, inst, principal)
            for b in service.calendar_of(db, instrument_id, start, end)]


@router.post("/instruments/{instrument_id}/bookings", response_model=BookingOut,
             status_code=201)
def book(instrument_id: str, body: BookingIn, db: DB, principal: Editor) -> BookingOut:
    """Books a slot (or days of rental) by the owner's rules: calibration, lead time, how
    far ahead, monthly quota, the enterprise share, no-show bars. Two bookings of one
    instrument never overlap: a losing racer gets 409."""
    b = service.book(db, principal, instrument_id, body)
    return booking_out(b, service.get_instrument(db, instrument_id), principal)


@router.post("/bookings/{booking_id}/decision", response_model=BookingOut)
def decide(booking_id: str, body: DecisionIn, db: DB, principal: Editor) -> BookingOut:
    """The owner approves or declines a booking that waits for approval."""
    b = service.decide(db, principal, booking_id, body.approve)
    return booking_out(b, service.get_booking(db, b.id)[1], principal)


@router.post("/bookings/{booking_id}/cancel", response_model=BookingOut)
def cancel(booking_id: str, db: DB, principal: Editor) -> BookingOut:
    """The booker (or the owner) cancels before the slot starts."""
    b = service.cancel(db, principal, booking_id)
    return booking_out(b, service.get_booking(db, b.id)[1], principal)


@router.post("/bookings/{booking_id}/outcome", response_model=BookingOut)
def outcome(booking_id: str, body: OutcomeIn, db: DB, principal: Editor) -> BookingOut:
    """The owner records a started slot as used (``completed``) or missed (``no_show``)."""
    b = service.record_outcome(db, principal, booking_id, body.outcome)
    return booking_out(b, service.get_booking(db, b.id)[1], principal)


@router.post("/vouchers/programmes", response_model=ProgrammeOut, status_code=201)
def create_programme(body: ProgrammeIn, db: DB, principal: Editor) -> Any:
    """An operator opens a voucher programme with its budget and rules."""
    return service.create_programme(db, principal, body)


@router.get("/vouchers/programmes/{programme_id}", response_model=ProgrammeOut)
def get_programme(programme_id: str, db: DB, principal: Public) -> Any:
    return service.get_programme(db, programme_id)


@router.post("/vouchers/programmes/{programme_id}/providers", response_model=ProviderOut,
             status_code=201)
def apply_as_provider(programme_id: str, body: ProviderIn, db: DB,
                      principal: Editor) -> Any:
    """A lab applies to be paid by the programme's vouchers."""
    return service.apply_as_provider(db, principal, programme_id, body.org_id)


@router.post("/vouchers/providers/{provider_id}/decision", response_model=ProviderOut)
def review_provider(provider_id: str, body: DecisionIn, db: DB, principal: Editor) -> Any:
    """The operator approves (listed after the notice period) or rejects a provider."""
    return service.review_provider(db, principal, provider_id, body.approve)


@router.post("/vouchers/programmes/{programme_id}/vouchers", response_model=VoucherOut,
             status_code=201)
def issue(programme_id: str, body: VoucherIn, db: DB, principal: Editor) -> Any:
    """Issues a voucher to an enterprise out of the programme's budget."""
    return service.issue_voucher(db, principal, programme_id, body)


@router.get("/vouchers/{voucher_id}", response_model=VoucherOut)
def get_voucher(voucher_id: str, db: DB, principal: Annotated[Principal, access(
        "user", note="the holder and the programme's operator")]) -> Any:
    voucher = service.get_voucher(db, voucher_id)
    programme = service.get_programme(db, voucher.programme_id)
    if not ({voucher.holder_org_id, programme.operator_org_id} & set(principal.roles)
            or principal.is_operator or principal.is_regulator):
        raise errors.forbidden("a voucher is its holder's and its operator's business")
    return voucher


@router.post("/vouchers/{voucher_id}/revoke", response_model=VoucherOut)
def revoke(voucher_id: str, db: DB, principal: Editor) -> Any:
    """The operator ends a voucher; its balance returns to the programme."""
    return service.revoke(db, principal, voucher_id)


@router.post("/vouchers/programmes/{programme_id}/settlements")
def settle(programme_id: str, body: SettleIn, db: DB, principal: Editor) -> dict[str, int]:
    """The operator pays a provider what vouchers owe it."""
    return {"amount_fen": service.settle(db, principal, programme_id, body.provider_org_id)}


@router.get("/vouchers/programmes/{programme_id}/ledger")
def ledger(programme_id: str, db: DB, principal: Annotated[Principal, access(
        "user", note="the programme's operator and supervision")]) -> dict[str, int]:
    """Every account's balance; they sum to zero."""
    programme = service.get_programme(db, programme_id)
    if not (programme.operator_org_id in principal.roles or principal.is_operator
            or principal.is_regulator):
        raise errors.forbidden("the ledger is for the programme's operator and supervision")
    return service.balances(db, programme_id)


@router.post("/vouchers/programmes/{programme_id}/applications",
             response_model=ApplicationOut, status_code=201)
def apply_for_voucher(programme_id: str, body: ApplicationIn, db: DB,
                      principal: Editor) -> Any:
    """An enterprise applies for a voucher, with the district and sector it reports under."""
    return service.apply_for_voucher(db, principal, programme_id, body)


@router.get("/vouchers/programmes/{programme_id}/applications",
            response_model=list[ApplicationOut])
def list_applications(programme_id: str, db: DB, principal: Annotated[Principal, access(
        "user", note="the programme's operator and supervision")]) -> list[Any]:
    programme = service.get_programme(db, programme_id)
    if not (programme.operator_org_id in principal.roles or principal.is_operator
            or principal.is_regulator):
        raise errors.forbidden("applications are for the programme's operator and supervision")
    return service.applications(db, programme_id)


@router.post("/vouchers/applications/{application_id}/decision",
             response_model=ApplicationOut)
def decide_application(application_id: str, body: ApplicationDecisionIn, db: DB,
                       principal: Editor) -> Any:
    """The operator approves (issuing the voucher, by default for the amount asked) or
    rejects an application."""
    return service.decide_application(db, principal, application_id, body)


@router.post("/vouchers/programmes/{programme_id}/claims")
def claim(programme_id: str, body: SettleIn, db: DB, principal: Editor) -> dict[str, int]:
    """A provider claims settlement of what vouchers owe it; the operator is told."""
    return {"amount_fen": service.claim(db, principal, programme_id, body.provider_org_id)}


FIGURES = ["district", "sector", "vouchers", "issued_fen", "redeemed_fen", "settled_fen"]


@router.get("/vouchers/programmes/{programme_id}/figures")
def figures(programme_id: str, db: DB, principal: Annotated[Principal, access(
        "user", note="the programme's operator and supervision")]) -> list[dict[str, Any]]:
    """Issued, redeemed and settled (fen) by district and sector."""
    return service.programme_figures(db, principal, programme_id)


@router.get("/vouchers/programmes/{programme_id}/figures.{fmt}")
def figures_export(programme_id: str, fmt: str, db: DB, principal: Annotated[
        Principal, access("user", note="the programme's operator and supervision")]
                   ) -> Response:
    """The same figures as CSV or Excel."""
    if fmt not in ("csv", "xlsx"):
        raise errors.not_found(Msg("format"))
    rows = service.programme_figures(db, principal, programme_id)
    code = service.get_programme(db, programme_id).code
    return download(fmt, f"{code}-figures.{fmt}", FIGURES,  # type: ignore[arg-type]
                    [[r[k] for k in FIGURES] for r in rows], sheet="figures")


# --- catalogue and orders ------------------------------------------------------------------

@router.get("/services", response_model=list[ListingOut])
def list_services(db: DB, principal: Public,
                  standard: Annotated[str | None, Query(max_length=100)] = None,
                  org_id: Annotated[str | None, Query(max_length=26)] = None) -> list[Any]:
    """The service catalogue: each service with its standards, price (fen, tax included),
    turnaround and whether it lies in the lab's accredited scope."""
    return orders.list_listings(db, standard, org_id)


@router.post("/services", response_model=ListingOut, status_code=201)
def add_service(body: ListingIn, db: DB, principal: Editor) -> Any:
    """A lab lists a service; its standards must lie in the institution's valid CMA or
    CNAS scope unless it is listed as unaccredited (``accredited: false``)."""
    return orders.add_listing(db, principal, body)


def order_out(order: Order, principal: Principal) -> OrderOut:
    out = OrderOut.model_validate(order)
    side = orders.side_of(principal, order)
    out.actions = order_flow.allowed(order.status.value, side) if side else []
    if side == "company" and order.status.value == "completed" and order.rating is None:
        out.actions.append("rate")
    return out


@router.post("/services/{listing_id}/orders", response_model=OrderOut, status_code=201)
def order_service(listing_id: str, body: OrderIn, db: DB, principal: Editor) -> OrderOut:
    """A company orders a listed service; the listing's price stands as the quote."""
    return order_out(orders.order_listing(db, principal, listing_id, body), principal)


@router.post("/requests", response_model=list[OrderOut], status_code=201)
def create_request(body: RequestIn, db: DB, principal: Editor) -> list[OrderOut]:
    """A company's request for tests, sent to the labs it picked: one order each, to quote;
    accepting one quote cancels the others."""
    return [order_out(o, principal) for o in orders.create_request(db, principal, body)]


@router.get("/orders", response_model=Page[OrderOut])
def list_orders(db: DB, principal: Annotated[Principal, access(
                    "member", scope="market:write", note="members of the organisation")],
                org_id: Annotated[str, Query(min_length=26, max_length=26)],
                page: Annotated[PageParams, Depends(page_params)],
                status: Annotated[str | None, Query(max_length=20)] = None) -> Page[OrderOut]:
    """An organisation's orders, newest change first: a lab's inbox or a company's orders."""
    rows, total = orders.inbox(db, principal, org_id, status, page.offset, page.per_page)
    return Page.of([order_out(o, principal) for o in rows], total, page)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: str, db: DB, principal: Annotated[Principal, access(
        "user", note="the company, the lab and supervision")]) -> OrderOut:
    order = orders.get_order(db, order_id)
    if not orders.sees(principal, order):
        raise errors.forbidden("an order is the company's and the lab's business")
    return order_out(order, principal)


@router.get("/orders/{order_id}/events")
def order_events(order_id: str, db: DB, principal: Annotated[Principal, access(
        "user", note="the company, the lab and supervision")]) -> list[dict[str, Any]]:
    """Every transition of the order: when, by whom, from what to what."""
    order = orders.get_order(db, order_id)
    if not orders.sees(principal, order):
        raise errors.forbidden("an order is the company's and the lab's business")
    return [{"at": e.at, "action": e.action, "from": e.from_status, "to": e.to_status,
             "by_org": e.actor_org_id, "note": e.note} for e in orders.events(db, order)]


@router.post("/orders/{order_id}/actions", response_model=OrderOut)
def act(order_id: str, body: ActionIn, db: DB, principal: Editor) -> OrderOut:
    """One step of the order's state machine (``quote``, ``decline``, ``accept``, ``amend``,
    ``cancel``, ``receive_sample``, ``start_testing``, ``issue_report``, ``complete``,
    ``dispute``), by the side whose step it is; a wrong step is refused with the reason."""
    return order_out(orders.act(db, principal, order_id, body), principal)


@router.post("/orders/{order_id}/rating", response_model=OrderOut)
def rate(order_id: str, body: RatingIn, db: DB, principal: Editor) -> OrderOut:
    """The company that completed the order rates it (1-5) and may review it, once."""
    return order_out(orders.rate(db, principal, order_id, body.rating, body.review), principal)


# --- expert consulting ---------------------------------------------------------------------

@router.get("/experts", response_model=list[ExpertOut])
def list_experts(db: DB, principal: Public,
                 field: Annotated[str | None, Query(max_length=100)] = None) -> list[Any]:
    """Experts offered for consultation: fields, standards committees, languages, fee."""
    return consulting.list_experts(db, field)


@router.post("/experts", response_model=ExpertOut, status_code=201)
def add_expert(body: ExpertIn, db: DB, principal: Editor) -> Any:
    return consulting.add_expert(db, principal, body)


@router.post("/experts/{expert_id}/consultations", response_model=ConsultationOut,
             status_code=201)
def request_consultation(expert_id: str, body: ConsultationIn, db: DB,
                         principal: Editor) -> Any:
    """An organisation asks an expert for a consultation; the expert's side is told."""
    return consulting.request(db, principal, expert_id, body)


@router.get("/consultations/{consultation_id}", response_model=ConsultationOut)
def get_consultation(consultation_id: str, db: DB, principal: Annotated[Principal, access(
        "user", note="the client and the expert's organisation")]) -> Any:
    return consulting.get(db, principal, consultation_id)[0]


@router.post("/consultations/{consultation_id}/steps", response_model=ConsultationOut)
def consultation_step(consultation_id: str, body: ConsultationStepIn, db: DB,
                      principal: Editor) -> Any:
    """``schedule`` and ``decline`` (the expert's side), ``cancel`` (the client), and
    ``advise``: the record of the advice given, which sets the fee by the time taken."""
    return consulting.step(db, principal, consultation_id, body)
