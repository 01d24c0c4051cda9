"""Catalogue, requests and orders: the use cases that write them.

Every order transition goes through ``act``: the state machine (``order_flow``) says
whether it is allowed, the caller's role in the company or the lab says whether it is
theirs to take, and the change, its ``OrderEvent`` and its audit event are stored together.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core import service as core_service
from tichub.core.auth import Principal, can, require, require_member
from tichub.core.db import claim_transition
from tichub.core.ids import BEIJING, utcnow
from tichub.core.ids import today as ids_today
from tichub.core.messages import Msg, MsgC
from tichub.core.models import Organisation, OrgKind, Role
from tichub.core.notify import notify
from tichub.market import order_flow
from tichub.market.models import (
    Order,
    OrderEvent,
    OrderStatus,
    ServiceListing,
    ServiceRequest,
)
from tichub.market.schemas import ActionIn, ListingIn, OrderIn, RedeemIn, RequestIn
from tichub.registry import service as registry
from tichub.registry.models import QualificationKind
from tichub.reports import for_orders

SCOPE = "market:write"
LAB_KINDS = (OrgKind.lab, OrgKind.certification_body)


def missing(message: Msg) -> errors.Problem:
    """A 404 whose words are for people (``errors.not_found`` takes a bare noun)."""
    return errors.Problem(404, "Not found", detail=message)


def _org(db: Session, org_id: str, kinds: tuple[OrgKind, ...], what: str) -> Organisation:
    return core_service.named_organisation(db, org_id, kinds=kinds, why=what)


# --- the catalogue -------------------------------------------------------------------------

def add_listing(db: Session, principal: Principal, data: ListingIn) -> ServiceListing:
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    _org(db, data.org_id, LAB_KINDS, "services are offered by labs and certification bodies")
    inst = registry.get_institution(db, principal, data.institution_id)
    if inst.org_id != data.org_id:
        raise errors.invalid("institution_id", Msg("is not an institution of this "
                                                 "organisation"))
    on = ids_today()
    faults = {kind: registry.accreditation_faults(db, inst.id, kind, data.standards, on)
              for kind in (QualificationKind.cma, QualificationKind.cnas)}
    accredited = any(not f for f in faults.values())
    if data.accredited and not accredited:
        found = [f for fs in faults.values() for f in fs]
        raise errors.Problem(422, "Invalid input", detail=Msg(
            "not within a valid CMA or CNAS scope of the institution; offer it as "
            "unaccredited instead"), errors=found)
    listing = ServiceListing(**data.model_dump(exclude={"accredited"}),
                             accredited=accredited and data.accredited)
    db.add(listing)
    db.flush()
    audit.record(db, action="service.listed", object_type="service_listing",
                 object_id=listing.id, actor_user_id=principal.user_id, org_id=data.org_id,
                 data={"accredited": listing.accredited, "standards": data.standards})
    db.commit()
    return listing


def list_listings(db: Session, standard: str | None = None,
                  org_id: str | None = None) -> list[ServiceListing]:
    q = select(ServiceListing).where(ServiceListing.active).order_by(ServiceListing.title)
    if org_id:
        q = q.where(ServiceListing.org_id == org_id)
    rows = list(db.scalars(q))
    if standard:
        wanted = standard.replace(" ", "").upper()
        rows = [r for r in rows if any(wanted in s.replace(" ", "").upper()
                                       for s in r.standards)]
    return rows


def get_listing(db: Session, listing_id: str) -> ServiceListing:
    listing = db.get(ServiceListing, listing_id)
    if listing is None or not listing.active:
        raise missing(Msg("This service is not offered."))
    return listing


# --- requests and orders -------------------------------------------------------------------

ACTION_WORDS: dict[str, Msg] = {
    "submitted": MsgC("order event", "new request"), "quote": MsgC("order event", "quoted"),
    "decline": MsgC("order event", "declined by the lab"),
    "accept": MsgC("order event", "quote accepted"), "amend": MsgC("order event", "amended"),
    "cancel": MsgC("order event", "cancelled"),
    "receive_sample": MsgC("order event", "sample received"),
    "start_testing": MsgC("order event", "testing started"),
    "issue_report": MsgC("order event", "report issued"),
    "complete": MsgC("order event", "completed"), "dispute": MsgC("order event", "disputed"),
    "rated": MsgC("order event", "rated"),
}


def _number(now: datetime) -> str:
    return f"ORD-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _event(db: Session, order: Order, principal: Principal, action: str,
           before: str | None, note: str = "", side_org: str | None = None,
           data: dict[str, Any] | None = None) -> None:
    now = utcnow()
    order.updated_at = now
    db.add(OrderEvent(order_id=order.id, at=now, actor_user_id=principal.user_id,
                      actor_org_id=side_org, action=action, from_status=before,
                      to_status=order.status.value, note=note))
    audit.record(db, action=f"order.{action}", object_type="order", object_id=order.id,
                 actor_user_id=principal.user_id, org_id=side_org,
                 data={"number": order.number, "from": before, "to": order.status.value,
                       **(data or {})}, summary=note)
    other = order.lab_org_id if side_org == order.company_org_id else order.company_org_id
    notify(db, other, f"order.{action}",
           Msg("Order {number}: {what}", number=order.number,
               what=ACTION_WORDS.get(action, MsgC("order event", "changed"))),
           body=f"{order.product}" + (f"\n{note}" if note else ""),
           link=f"/market/orders/{order.id}")


def create_request(db: Session, principal: Principal, data: RequestIn) -> list[Order]:
    """A company's request, sent to the labs it chose: one order per lab, each to quote."""
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    _org(db, data.org_id, (OrgKind.enterprise,), "requests are made by companies")
    if len(set(data.institution_ids)) != len(data.institution_ids):
        raise errors.invalid("institution_ids", Msg("choose each laboratory once"))
    institutions = [registry.get_institution(db, principal, i) for i in data.institution_ids]
    request = ServiceRequest(company_org_id=data.org_id, product=data.product,
                             standards=data.standards, target_markets=data.target_markets,
                             quantity=data.quantity, needed_by=data.needed_by,
                             description=data.description)
    db.add(request)
    db.flush()
    now = utcnow()
    orders = []
    for inst in institutions:
        order = Order(number=_number(now), company_org_id=data.org_id, lab_org_id=inst.org_id,
                      institution_id=inst.id, request_id=request.id, product=data.product,
                      standards=data.standards, quantity=data.quantity,
                      needed_by=data.needed_by, sample_delivery=data.sample_delivery,
                      sample_return=data.sample_return, notes=data.description,
                      status=OrderStatus.submitted, updated_at=now)
        db.add(order)
        db.flush()
        _event(db, order, principal, "submitted", None, side_org=data.org_id)
        orders.append(order)
    db.commit()
    return orders


def order_listing(db: Session, principal: Principal, listing_id: str, data: OrderIn) -> Order:
    """A listed service ordered directly: its price is the standing quote."""
    listing = get_listing(db, listing_id)
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    _org(db, data.org_id, (OrgKind.enterprise,), "orders are placed by companies")
    now = utcnow()
    amount = listing.price_fen * data.quantity
    order = Order(number=_number(now), company_org_id=data.org_id, lab_org_id=listing.org_id,
                  institution_id=listing.institution_id, listing_id=listing.id,
                  product=data.product, standards=listing.standards, quantity=data.quantity,
                  needed_by=data.needed_by, sample_delivery=data.sample_delivery,
                  sample_return=data.sample_return, notes=data.notes,
                  status=OrderStatus.submitted, updated_at=now)
    db.add(order)
    db.flush()
    _event(db, order, principal, "submitted", None, side_org=data.org_id)
    order.status = OrderStatus.quoted
    order.amount_fen = amount
    order.tax_fen = _tax(amount, listing.tax_rate_pct)
    _event(db, order, principal, "quote", "submitted", note="the listing's price",
           side_org=listing.org_id, data={"amount_fen": amount})
    db.commit()
    return order


def _tax(gross: int, pct: int) -> int:
    """The tax inside a tax-inclusive price, to the fen (half up)."""
    return (gross * pct * 2 + (100 + pct)) // (2 * (100 + pct))


def get_order(db: Session, order_id: str) -> Order:
    order = db.get(Order, order_id)
    if order is None:
        raise missing(Msg("There is no such order."))
    return order


def side_of(principal: Principal, order: Order, role: Role = Role.editor
            ) -> order_flow.Side | None:
    if can(principal, role, org=order.company_org_id, scope=SCOPE) and (
            order.company_org_id in principal.roles):
        return "company"
    if can(principal, role, org=order.lab_org_id, scope=SCOPE) and (
            order.lab_org_id in principal.roles):
        return "lab"
    return None


def sees(principal: Principal, order: Order) -> bool:
    return bool({order.company_org_id, order.lab_org_id} & set(principal.roles)) or (
        principal.is_operator or principal.is_regulator)


def act(db: Session, principal: Principal, order_id: str, data: ActionIn,
        today: date | None = None) -> Order:
    """One step of an order, by the side whose step it is; nothing changes if refused."""
    order = get_order(db, order_id)
    side = side_of(principal, order)
    if side is None:
        require(principal, Role.editor, org=order.company_org_id, scope=SCOPE)  # says why
        raise errors.forbidden(Msg("an order is the company's and the lab's business"))
    before = order.status.value
    if data.action not in order_flow.STEPS:
        raise errors.invalid("action", Msg("this is not a step of an order"))
    try:
        after = order_flow.next_status(data.action, before, side)
    except order_flow.FlowError as exc:
        if exc.wrong_side:
            raise errors.forbidden(exc.message) from None
        raise errors.conflict("action", exc.message) from None
    # Take the order from ``before`` to ``after`` first, conditionally: a racing step
    # (the company cancelling as the lab starts testing) loses instead of overwriting.
    if not claim_transition(db, Order, order.id, OrderStatus(before), OrderStatus(after),
                            updated_at=utcnow()):
        db.rollback()
        raise errors.conflict("action", Msg("the order changed meanwhile; reload it"))
    try:
        extra = _apply(db, principal, order, data, before, after, today)
    except (errors.Problem, ValidationError) as exc:
        db.rollback()
        if isinstance(exc, ValidationError):
            raise errors.Problem(422, "Invalid input",
                                 errors=errors.field_errors(exc.errors())) from None
        raise
    order.status = OrderStatus(after)
    _event(db, order, principal, data.action, before, data.note,
           side_org=order.company_org_id if side == "company" else order.lab_org_id,
           data=extra)
    db.commit()
    return order


def _apply(db: Session, principal: Principal, order: Order, data: ActionIn, before: str,
           after: str, today: date | None) -> dict[str, Any]:
    """What an action changes besides the status; raises to refuse it."""
    extra: dict[str, Any] = {}
    match data.action:
        case "quote":
            if data.amount_fen is None:
                raise _refuse(db, "amount_fen", Msg("a quote names its price, tax included"),
                              422)
            order.amount_fen = data.amount_fen
            order.tax_fen = data.tax_fen if data.tax_fen is not None else _tax(
                data.amount_fen, 6)
            if order.tax_fen > data.amount_fen:
                raise _refuse(db, "tax_fen", Msg("the tax is part of the price"), 422)
            order.quote_valid_until = data.valid_until
            extra = {"amount_fen": data.amount_fen}
        case "accept":
            if order.quote_valid_until and order.quote_valid_until < (today or ids_today()):
                raise _refuse(db, "action", Msg("the quote has expired; ask for a new one"))
            if data.amount_fen is not None and data.amount_fen != order.amount_fen:
                raise _refuse(db, "amount_fen", Msg("the quote has changed since you saw it; "
                                                   "reload and accept the new one"))
            if data.voucher_id:
                extra = _pay_with_voucher(db, principal, order, data)
            _close_other_quotes(db, principal, order)
        case "amend":
            changes = {k: v for k in ("quantity", "needed_by", "sample_delivery",
                                      "sample_return", "notes")
                       if (v := getattr(data, k)) is not None}
            if not changes:
                raise _refuse(db, "action", Msg(
                    "an amendment changes at least one of: the quantity, the date needed "
                    "by, the sample delivery or return, the notes"), 422)
            if "quantity" in changes and before not in ("submitted", "quoted"):
                raise _refuse(db, "quantity", Msg("the quantity is part of the accepted price; "
                                                   "cancel and ask again to change it"))
            for k, v in changes.items():
                setattr(order, k, v)
            if after == "submitted":
                order.amount_fen = order.tax_fen = None
            extra = {"changed": sorted(changes)}
        case "issue_report":
            if not data.report_number:
                raise _refuse(db, "report_number", Msg("name the report registered for it"), 422)
            record = _report_of(db, order, data.report_number)
            order.report_number = data.report_number
            order.report_record_id = record
            extra = {"report_number": data.report_number}
    if data.action in ("cancel", "decline") and order.voucher_fen:
        extra = _refund_voucher(db, principal, order)
    return extra


def _refuse(db: Session, field: str, message: Msg, status: int = 409) -> errors.Problem:
    """A refusal after the order's transition was claimed: undo the claim with it."""
    db.rollback()
    return errors.Problem(status, "Conflict" if status == 409 else "Invalid input",
                          detail=f"{field}: {message}",
                          errors=[errors.FieldError(field, message)])


def _refund_voucher(db: Session, principal: Principal, order: Order) -> dict[str, Any]:
    """A cancelled order gives back what a voucher paid for it (not yet settled)."""
    from tichub.market import service as market

    refunded = market.reverse_redemption(db, principal, order.number, order.lab_org_id)
    order.voucher_fen = 0
    return {"voucher_refunded_fen": refunded}


def report_since(db: Session, order: Order) -> date | None:
    """The first day a report for the order may bear: the day the lab received the sample
    (Beijing time), or the day the quote was accepted when no receipt was recorded."""
    for action in ("receive_sample", "accept"):
        at = db.scalar(select(OrderEvent.at).where(OrderEvent.order_id == order.id,
                                                   OrderEvent.action == action)
                       .order_by(OrderEvent.at.desc()).limit(1))
        if at is not None:
            return at.astimezone(BEIJING).date()
    return None


def matching_reports(db: Session, order: Order) -> list[for_orders.Candidate]:
    """The lab's registered reports that may close the order (offered on its page)."""
    return for_orders.matching(db, order.lab_org_id, order.standards,
                               report_since(db, order))


def report_fault(db: Session, order: Order, number: str
                 ) -> tuple[for_orders.Candidate | None, Msg | None]:
    """The report that closes the order, or why ``number`` cannot: it must be registered
    and valid, the order's lab's own, name one of the order's standards, and be issued no
    earlier than the lab had the sample."""
    found = for_orders.find(db, number)
    if not found:
        return None, Msg("no report {number} is registered; register it first",
                         number=number)
    own = [c for c in found if c.org_id == order.lab_org_id]
    if not own:
        return None, Msg("report {number} was issued by another laboratory, not by this "
                         "order's laboratory", number=number)
    valid = [c for c in own if c.valid]
    if not valid:
        return None, Msg("report {number} has been withdrawn, revoked, suspended or "
                         "replaced; it is no longer valid", number=number)
    report = valid[0]
    if not for_orders.names_any(report.standards, order.standards):
        return None, Msg("report {number} names none of the order's standards ({standards})",
                         number=number, standards=", ".join(order.standards) or "—")
    since = report_since(db, order)
    if since is not None and (report.issued_on is None or report.issued_on < since):
        received = db.scalar(select(OrderEvent.id).where(
            OrderEvent.order_id == order.id, OrderEvent.action == "receive_sample"))
        issued = report.issued_on.isoformat() if report.issued_on else "—"
        if received:
            return None, Msg("report {number} was issued on {issued}, before the sample was "
                             "received on {since}", number=number, issued=issued,
                             since=since.isoformat())
        return None, Msg("report {number} was issued on {issued}, before the order was "
                         "accepted on {since}", number=number, issued=issued,
                         since=since.isoformat())
    return report, None


def _report_of(db: Session, order: Order, number: str) -> str:
    report, fault = report_fault(db, order, number)
    if fault is not None or report is None:
        raise _refuse(db, "report_number", fault or Msg("name the report registered for it"),
                      422)
    if db.scalar(select(Order.id).where(Order.report_record_id == report.record_id,
                                        Order.id != order.id)):
        raise _refuse(db, "report_number", Msg("report {number} was issued for another "
                                               "order", number=number), 422)
    return report.record_id


def _pay_with_voucher(db: Session, principal: Principal, order: Order,
                      data: ActionIn) -> dict[str, Any]:
    from tichub.market import service as market

    if not data.voucher_fen:
        raise errors.invalid("voucher_fen", Msg("say how much the voucher pays"))
    assert order.amount_fen is not None
    redemption = market.redeem(db, principal, data.voucher_id or "", RedeemIn(
        provider_org_id=order.lab_org_id, reference=order.number,
        order_amount_fen=order.amount_fen, amount_fen=data.voucher_fen), commit=False,
        service_kind=db.get_one(ServiceListing, order.listing_id).kind if order.listing_id
        else "test")
    order.voucher_fen = redemption.amount_fen
    return {"voucher_fen": redemption.amount_fen, "voucher_id": data.voucher_id}


def _close_other_quotes(db: Session, principal: Principal, order: Order) -> None:
    """Accepting one lab's quote for a request cancels what the other labs were asked."""
    if order.request_id is None:
        return
    for other in db.scalars(select(Order).where(
            Order.request_id == order.request_id, Order.id != order.id,
            Order.status.in_((OrderStatus.submitted, OrderStatus.quoted)))):
        before = other.status.value
        other.status = OrderStatus.cancelled
        _event(db, other, principal, "cancel", before, "another lab's quote was accepted",
               side_org=order.company_org_id)


def rate(db: Session, principal: Principal, order_id: str, rating: int, review: str) -> Order:
    """Only the company that completed the order rates it, once."""
    order = get_order(db, order_id)
    require_member(principal, Role.editor, org=order.company_org_id, scope=SCOPE)
    if order.status is not OrderStatus.completed:
        raise errors.conflict("rating", Msg("an order is rated once it is completed"))
    if order.rating is not None:
        raise errors.conflict("rating", Msg("this order has been rated"))
    if not 1 <= rating <= 5:  # the page's form reaches here without the API's schema
        raise errors.invalid("rating", Msg("is from 1 to 5"))
    order.rating, order.review = rating, review
    _event(db, order, principal, "rated", order.status.value, review,
           side_org=order.company_org_id, data={"rating": rating})
    db.commit()
    return order


def events(db: Session, order: Order) -> list[OrderEvent]:
    return list(db.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                           .order_by(OrderEvent.at, OrderEvent.id)))


def inbox(db: Session, principal: Principal, org_id: str, status: str | None = None,
          offset: int = 0, limit: int = 50) -> tuple[list[Order], int]:
    """An organisation's orders, newest change first: a lab's inbox or a company's list."""
    require(principal, Role.viewer, org=org_id, scope=SCOPE)
    org = db.get(Organisation, org_id)
    # An organisation is on one side of its orders: a lab's inbox, a company's list.
    side = Order.company_org_id if org is not None and org.kind is OrgKind.enterprise \
        else Order.lab_org_id
    where: list[Any] = [side == org_id]
    if status:
        try:
            where.append(Order.status == OrderStatus(status))
        except ValueError:
            raise errors.invalid("status", Msg("not a status of an order")) from None
    total = db.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    rows = list(db.scalars(select(Order).where(*where).order_by(
        Order.updated_at.desc(), Order.id.desc()).offset(offset).limit(limit)))
    return rows, total


def ratings(db: Session, institution_id: str) -> tuple[float | None, int]:
    """An institution's average rating and how many completed orders rated it."""
    avg, n = db.execute(select(func.avg(Order.rating), func.count(Order.rating)).where(
        Order.institution_id == institution_id, Order.rating.is_not(None))).one()
    return (float(avg) if avg is not None else None), int(n)


def active_listing_count(db: Session) -> int:
    """How many services are listed now (the home page's figure)."""
    return int(db.scalar(select(func.count()).select_from(ServiceListing)
                         .where(ServiceListing.active.is_(True))) or 0)
