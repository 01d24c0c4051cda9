"""Marketplace use cases: the only place that writes instruments, bookings, voucher
programmes, vouchers and their ledger.

Races are settled by the database, never by a read followed by a write: an overlapping
booking is refused by the exclusion constraint (PostgreSQL) or trigger (SQLite); a
redemption decrements a voucher's balance only where it suffices, and issuing raises a
programme's allocation only within its budget.
"""

from __future__ import annotations

import calendar
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core import service as core_service
from tichub.core.auth import Principal, can, require_member
from tichub.core.db import claim_transition
from tichub.core.ids import today as ids_today
from tichub.core.ids import utcnow
from tichub.core.messages import Msg
from tichub.core.models import Organisation, OrgKind, Role
from tichub.core.notify import notify
from tichub.core.web import BEIJING
from tichub.market.models import (
    ApplicationStatus,
    Booking,
    BookingStatus,
    Instrument,
    LedgerEntry,
    LedgerTransaction,
    ListingStatus,
    Programme,
    ProgrammeProvider,
    Redemption,
    Voucher,
    VoucherApplication,
    VoucherStatus,
)
from tichub.market.schemas import (
    ApplicationDecisionIn,
    ApplicationIn,
    BookingIn,
    InstrumentIn,
    ProgrammeIn,
    RedeemIn,
    VoucherIn,
)
from tichub.registry import service as registry


def _missing(message: Msg) -> errors.Problem:
    return errors.Problem(404, "Not found", detail=message)


OWNER_KINDS = (OrgKind.lab, OrgKind.certification_body, OrgKind.enterprise)
SCOPE = "market:write"
HOLDING = (BookingStatus.requested, BookingStatus.confirmed, BookingStatus.completed,
           BookingStatus.no_show)
NO_SHOW_WINDOW = timedelta(days=90)


_org = core_service.named_organisation


# --- instruments ---------------------------------------------------------------------------

def add_instrument(db: Session, principal: Principal, data: InstrumentIn) -> Instrument:
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    org = _org(db, data.org_id)
    if org.kind not in OWNER_KINDS:
        raise errors.invalid("org_id", Msg("instruments are shared by labs, certification "
                                           "bodies and companies"))
    inst = Instrument(**data.model_dump())
    # A lab's shared instrument is an entry of its equipment register: it belongs to the
    # lab's institution when the organisation keeps exactly one.
    owned = registry.institution_ids_of(db, org.id)
    inst.institution_id = owned[0] if len(owned) == 1 else None
    inst.shared = True
    db.add(inst)
    db.flush()
    audit.record(db, action="instrument.listed", object_type="instrument", object_id=inst.id,
                 actor_user_id=principal.user_id, org_id=org.id, summary=inst.name)
    db.commit()
    return inst


def get_instrument(db: Session, instrument_id: str) -> Instrument:
    """A shared instrument: the register's other entries are not the marketplace's."""
    inst = db.get(Instrument, instrument_id)
    if inst is None or not inst.active or not inst.shared:
        raise _missing(Msg("There is no such instrument."))
    return inst


def list_instruments(db: Session, kind: str | None = None) -> list[Instrument]:
    q = (select(Instrument).where(Instrument.active, Instrument.shared)
         .order_by(Instrument.kind, Instrument.name))
    if kind:
        q = q.where(Instrument.kind == kind)
    return list(db.scalars(q))


# --- bookings ------------------------------------------------------------------------------

def price_of(inst: Instrument, starts_at: datetime, ends_at: datetime) -> int:
    """Whole days at the daily rate (when it has one and it is cheaper), the rest by the
    hour, rounded to the fen."""
    minutes = -int(-(ends_at - starts_at).total_seconds() // 60)  # a started minute counts
    hourly = (inst.hourly_rate_fen * minutes + 30) // 60
    if inst.daily_rate_fen and minutes >= 24 * 60:
        days, rest = divmod(minutes, 24 * 60)
        by_day = days * inst.daily_rate_fen + (inst.hourly_rate_fen * rest + 30) // 60
        return min(hourly, by_day)
    return hourly


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def _month(moment: datetime) -> tuple[datetime, datetime]:
    first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days = calendar.monthrange(first.year, first.month)[1]
    return first, first + timedelta(days=days)


def _booked_hours(db: Session, inst: Instrument, start: datetime, end: datetime,
                  org_id: str | None = None, kinds: tuple[OrgKind, ...] = ()) -> float:
    q = select(Booking.starts_at, Booking.ends_at).where(
        Booking.instrument_id == inst.id, Booking.status.in_(HOLDING),
        Booking.starts_at < end, Booking.ends_at > start)
    if org_id:
        q = q.where(Booking.org_id == org_id)
    if kinds:
        q = q.join(Organisation, Organisation.id == Booking.org_id).where(
            Organisation.kind.in_(kinds))
    return sum(_hours(max(a, start), min(b, end)) for a, b in db.execute(q))


def barred_until(db: Session, inst: Instrument, org_id: str, now: datetime) -> datetime | None:
    """When an organisation that missed too many booked slots of this owner may book again."""
    missed = list(db.scalars(
        select(Booking.starts_at).join(Instrument, Instrument.id == Booking.instrument_id)
        .where(Instrument.org_id == inst.org_id, Booking.org_id == org_id,
               Booking.status == BookingStatus.no_show,
               Booking.starts_at >= now - NO_SHOW_WINDOW)
        .order_by(Booking.starts_at.desc())))
    if len(missed) < inst.no_show_limit:
        return None
    until = missed[0] + timedelta(days=inst.bar_days)
    return until if until > now else None


def book(db: Session, principal: Principal, instrument_id: str, data: BookingIn,
         now: datetime | None = None) -> Booking:
    """Books a slot by the owner's rules; the database refuses it if another booking holds
    any of that time, however close together the two requests came."""
    now = now or utcnow()
    inst = get_instrument(db, instrument_id)
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    org = _org(db, data.org_id)
    # Bookings of one instrument are decided one at a time: this touch of its row takes
    # its lock (PostgreSQL) or the database's writer lock (SQLite) before the quota and
    # share are counted, so two bookings cannot both fit in what only one fits.
    db.execute(update(Instrument).where(Instrument.id == inst.id)
               .values(active=Instrument.active))
    # Months, dates and calibration days are Beijing's, whatever zone the request used.
    start, end = data.starts_at.astimezone(BEIJING), data.ends_at.astimezone(BEIJING)
    if inst.calibration_due is not None and inst.calibration_due < end.date():
        raise errors.conflict("calibration_due", Msg(
            "the instrument's calibration is due {due}: it cannot be booked beyond it until "
            "recalibrated", due=inst.calibration_due.isoformat()))
    if start < now + timedelta(hours=inst.min_lead_hours):
        raise errors.invalid("starts_at", Msg("book at least {hours} hours ahead",
                                                 hours=inst.min_lead_hours)
                             if inst.min_lead_hours else Msg("the time has passed"))
    if start > now + timedelta(days=inst.max_advance_days):
        raise errors.invalid("starts_at", Msg("book at most {days} days ahead",
                                                 days=inst.max_advance_days))
    barred = barred_until(db, inst, org.id, now)
    if barred is not None:
        raise errors.forbidden(Msg(
            "after {limit} missed bookings this organisation may book this owner's "
            "instruments again from {day}", limit=inst.no_show_limit,
            day=barred.date().isoformat()))
    first, last = _month(start)
    if end > last:
        raise errors.invalid("ends_at", Msg("a booking stays within one calendar month"))
    hours = _hours(start, end)
    if inst.quota_hours_per_month is not None:
        used = _booked_hours(db, inst, first, last, org_id=org.id)
        if used + hours > inst.quota_hours_per_month:
            raise errors.conflict("ends_at", Msg(
                "this organisation's quota is {quota} hours a month; {used} are booked",
                quota=inst.quota_hours_per_month, used=format(used, "g")))
    if inst.enterprise_share_pct and org.kind is not OrgKind.enterprise:
        capacity = inst.hours_per_day * (last - first).days
        open_to_others = capacity * (100 - inst.enterprise_share_pct) / 100
        others = _booked_hours(db, inst, first, last, kinds=(
            OrgKind.lab, OrgKind.certification_body, OrgKind.regulator, OrgKind.operator))
        if others + hours > open_to_others:
            raise errors.conflict("org_id", Msg(
                "{share} % of this instrument's hours are kept for enterprises this month",
                share=inst.enterprise_share_pct))
    booking = Booking(
        instrument_id=inst.id, org_id=org.id,
        booked_by=principal.user_id if principal.user_id != "cli" else None,
        on_behalf_of=data.on_behalf_of, starts_at=start, ends_at=end,
        status=BookingStatus.confirmed if inst.auto_approve else BookingStatus.requested,
        price_fen=price_of(inst, start, end), purpose=data.purpose, changed_at=now)
    db.add(booking)
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        if "no_overlap" in str(exc.orig):
            raise errors.conflict("starts_at", Msg("the instrument is already booked for "
                                                      "part of that time")) from None
        raise
    audit.record(db, action="booking.created", object_type="booking", object_id=booking.id,
                 actor_user_id=principal.user_id, org_id=org.id,
                 data={"instrument_id": inst.id, "status": booking.status.value,
                       "price_fen": booking.price_fen})
    if inst.org_id != org.id:
        notify(db, inst.org_id, "booking.created",
               Msg("{instrument}: new booking from {start} (Beijing time), awaiting your "
                   "approval", instrument=inst.name, start=_beijing(start))
               if booking.status is BookingStatus.requested else
               Msg("{instrument}: new booking from {start} (Beijing time)",
                   instrument=inst.name, start=_beijing(start)),
               body=f"{org.name}: {booking.purpose}", link=f"/market/instruments/{inst.id}")
    db.commit()
    return booking


def get_booking(db: Session, booking_id: str) -> tuple[Booking, Instrument]:
    booking = db.get(Booking, booking_id)
    if booking is None:
        raise _missing(Msg("There is no such booking."))
    return booking, db.get_one(Instrument, booking.instrument_id)


def _change(db: Session, principal: Principal, booking: Booking, to: BookingStatus,
            now: datetime, **data: Any) -> Booking:
    before = booking.status
    if not claim_transition(db, Booking, booking.id, before, to, changed_at=now):
        db.rollback()
        raise errors.conflict("status", Msg("the booking changed meanwhile; reload it"))
    booking.status = to
    booking.changed_at = now
    audit.record(db, action=f"booking.{to.value}", object_type="booking", object_id=booking.id,
                 actor_user_id=principal.user_id, org_id=booking.org_id,
                 data={"from": before.value, **data})
    notify(db, booking.org_id, f"booking.{to.value}",
           Msg("Booking from {start} (Beijing time): {status}",
               start=_beijing(booking.starts_at), status=to),
           link=f"/market/instruments/{booking.instrument_id}")
    db.commit()
    return booking


def decide(db: Session, principal: Principal, booking_id: str, approve: bool,
           now: datetime | None = None) -> Booking:
    """The owner approves or declines a booking that waits for it."""
    booking, inst = get_booking(db, booking_id)
    require_member(principal, Role.editor, org=inst.org_id, scope=SCOPE)
    if booking.status is not BookingStatus.requested:
        raise errors.conflict("status", Msg("the booking is {status}", status=booking.status))
    return _change(db, principal, booking, BookingStatus.confirmed if approve
                   else BookingStatus.declined, now or utcnow())


def cancel(db: Session, principal: Principal, booking_id: str,
           now: datetime | None = None) -> Booking:
    """The booker cancels before the slot starts (late inside the owner's window, which the
    audit log records); the owner may cancel too."""
    now = now or utcnow()
    booking, inst = get_booking(db, booking_id)
    if not (can(principal, Role.editor, org=booking.org_id, scope=SCOPE)
            or can(principal, Role.editor, org=inst.org_id, scope=SCOPE)):
        require_member(principal, Role.editor, org=booking.org_id, scope=SCOPE)
    if booking.status not in (BookingStatus.requested, BookingStatus.confirmed):
        raise errors.conflict("status", Msg("the booking is {status}", status=booking.status))
    if booking.starts_at <= now:
        raise errors.conflict("starts_at", Msg("the slot has started; the owner records "
                                                   "whether it was used"))
    late = booking.starts_at - now < timedelta(hours=inst.cancel_hours)
    return _change(db, principal, booking, BookingStatus.cancelled, now, late=late)


def record_outcome(db: Session, principal: Principal, booking_id: str, outcome: str,
                   now: datetime | None = None) -> Booking:
    """After the slot has started the owner records it used, or missed (a no-show)."""
    now = now or utcnow()
    booking, inst = get_booking(db, booking_id)
    require_member(principal, Role.editor, org=inst.org_id, scope=SCOPE)
    if booking.status is not BookingStatus.confirmed:
        raise errors.conflict("status", Msg("the booking is {status}", status=booking.status))
    if booking.starts_at > now:
        raise errors.conflict("starts_at", Msg("the slot has not started yet"))
    return _change(db, principal, booking, BookingStatus(outcome), now)


def calendar_of(db: Session, instrument_id: str, start: datetime,
                end: datetime) -> list[Booking]:
    get_instrument(db, instrument_id)
    return list(db.scalars(select(Booking).where(
        Booking.instrument_id == instrument_id, Booking.status.in_(HOLDING),
        Booking.starts_at < end, Booking.ends_at > start).order_by(Booking.starts_at)))


def bookings_of(db: Session, org_ids: list[str], limit: int = 100
                ) -> list[tuple[Booking, Instrument]]:
    """The organisations' bookings still to come (or running), soonest first."""
    if not org_ids:
        return []
    rows = db.execute(select(Booking, Instrument).join(Instrument, Instrument.id ==
                                                       Booking.instrument_id)
                      .where(Booking.org_id.in_(org_ids), Booking.ends_at > utcnow(),
                             Booking.status.in_((BookingStatus.requested,
                                                 BookingStatus.confirmed)))
                      .order_by(Booking.starts_at).limit(limit))
    return [(b, i) for b, i in rows]


def sees_booking(principal: Principal, booking: Booking, inst: Instrument) -> bool:
    return booking.org_id in principal.roles or inst.org_id in principal.roles or (
        principal.is_operator or principal.is_regulator)


# --- voucher programmes and the ledger ----------------------------------------------------

def _post(db: Session, programme_id: str, kind: str, entries: list[tuple[str, int]],
          principal: Principal, memo: str = "", reference: str | None = None
          ) -> LedgerTransaction:
    """One balanced ledger transaction."""
    if sum(amount for _, amount in entries) != 0 or any(a == 0 for _, a in entries):
        raise ValueError(f"unbalanced ledger transaction {entries}")
    txn = LedgerTransaction(programme_id=programme_id, kind=kind, memo=memo,
                            actor_user_id=principal.user_id, reference=reference)
    db.add(txn)
    db.flush()
    db.add_all(LedgerEntry(transaction_id=txn.id, programme_id=programme_id, account=account,
                           amount_fen=amount) for account, amount in entries)
    return txn


def _operator_of(principal: Principal, programme: Programme) -> None:
    require_member(principal, Role.editor, org=programme.operator_org_id, scope=SCOPE)


def create_programme(db: Session, principal: Principal, data: ProgrammeIn) -> Programme:
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    org = _org(db, data.org_id)
    if org.kind not in (OrgKind.operator, OrgKind.regulator):
        raise errors.invalid("org_id", Msg("voucher programmes are run by the platform "
                                           "operator or a government body"))
    if db.scalar(select(Programme.id).where(Programme.code == data.code)):
        raise errors.conflict("code", Msg("a programme {code} exists already", code=data.code))
    programme = Programme(operator_org_id=org.id, allocated_fen=0,
                          **data.model_dump(exclude={"org_id"}))
    db.add(programme)
    db.flush()
    _post(db, programme.id, "funded", [("source", -data.budget_fen),
                                       ("funds", data.budget_fen)], principal,
          memo=f"budget of {data.code}")
    audit.record(db, action="voucher.programme.created", object_type="voucher_programme",
                 object_id=programme.id, actor_user_id=principal.user_id, org_id=org.id,
                 data={"budget_fen": data.budget_fen})
    db.commit()
    return programme


def get_programme(db: Session, programme_id: str) -> Programme:
    programme = db.get(Programme, programme_id)
    if programme is None:
        raise _missing(Msg("There is no such voucher programme."))
    return programme


def apply_as_provider(db: Session, principal: Principal, programme_id: str,
                      org_id: str) -> ProgrammeProvider:
    programme = get_programme(db, programme_id)
    require_member(principal, Role.editor, org=org_id, scope=SCOPE)
    org = _org(db, org_id)
    if org.kind not in (OrgKind.lab, OrgKind.certification_body):
        raise errors.invalid("org_id", Msg("service providers are labs and certification bodies"))
    if db.scalar(select(ProgrammeProvider.id).where(ProgrammeProvider.programme_id ==
                                                    programme.id,
                                                    ProgrammeProvider.org_id == org_id)):
        raise errors.conflict("org_id", Msg("this organisation has applied already"))
    row = ProgrammeProvider(programme_id=programme.id, org_id=org_id,
                            status=ListingStatus.applied)
    db.add(row)
    db.flush()
    audit.record(db, action="voucher.provider.applied", object_type="voucher_provider",
                 object_id=row.id, actor_user_id=principal.user_id, org_id=org_id)
    db.commit()
    return row


def review_provider(db: Session, principal: Principal, provider_id: str, approve: bool,
                    today: date | None = None) -> ProgrammeProvider:
    """The operator approves a provider after its checks; it is listed, and may be paid by
    vouchers, once the public-notice period has passed without objection."""
    row = db.get(ProgrammeProvider, provider_id)
    if row is None:
        raise _missing(Msg("There is no such application."))
    programme = get_programme(db, row.programme_id)
    _operator_of(principal, programme)
    if row.status is not ListingStatus.applied:
        raise errors.conflict("status", Msg("already decided: {status}", status=row.status))
    to = ListingStatus.approved if approve else ListingStatus.rejected
    if not claim_transition(db, ProgrammeProvider, row.id, ListingStatus.applied, to):
        db.rollback()
        raise errors.conflict("status", Msg("decided meanwhile; reload"))
    row.status = to
    if approve:
        row.listed_from = (today or ids_today()) + timedelta(days=programme.notice_days)
    audit.record(db, action=f"voucher.provider.{row.status.value}",
                 object_type="voucher_provider", object_id=row.id,
                 actor_user_id=principal.user_id, org_id=row.org_id,
                 data={"listed_from": row.listed_from.isoformat() if row.listed_from else None})
    db.commit()
    return row


def _voucher_number(programme: Programme) -> str:
    return f"{programme.code}-{secrets.token_hex(4).upper()}"


def issue_voucher(db: Session, principal: Principal, programme_id: str,
                  data: VoucherIn, commit: bool = True) -> Voucher:
    """Issues a voucher to an approved enterprise out of the programme's budget."""
    programme = get_programme(db, programme_id)
    _operator_of(principal, programme)
    holder = _org(db, data.holder_org_id, "holder_org_id")
    if holder.kind is not OrgKind.enterprise:
        raise errors.invalid("holder_org_id", Msg("vouchers go to enterprises"))
    if data.valid_until > programme.valid_until:
        raise errors.invalid("valid_until", Msg("a voucher cannot outlive its programme "
                                                  "({until})",
                                                  until=programme.valid_until.isoformat()))
    # Allocate within the budget in one conditional statement: concurrent issuers cannot
    # both take the last of it.
    taken = db.execute(update(Programme).where(
        Programme.id == programme.id,
        Programme.allocated_fen + data.face_fen <= Programme.budget_fen,
    ).values(allocated_fen=Programme.allocated_fen + data.face_fen))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        raise errors.conflict("face_fen", Msg("the programme's budget does not cover this voucher"))
    voucher = Voucher(programme_id=programme.id, holder_org_id=holder.id,
                      number=_voucher_number(programme), face_fen=data.face_fen,
                      balance_fen=data.face_fen, valid_until=data.valid_until,
                      status=VoucherStatus.active)
    db.add(voucher)
    db.flush()
    _post(db, programme.id, "issued", [("funds", -data.face_fen),
                                       (f"voucher:{voucher.id}", data.face_fen)], principal,
          reference=voucher.number)
    audit.record(db, action="voucher.issued", object_type="voucher", object_id=voucher.id,
                 actor_user_id=principal.user_id, org_id=holder.id,
                 data={"number": voucher.number, "face_fen": data.face_fen})
    notify(db, holder.id, "voucher.issued",
           Msg("Voucher {number} issued: {amount} yuan", number=voucher.number,
               amount=f"{data.face_fen / 100:,.2f}"),
           link=f"/market/vouchers/{voucher.id}")
    if commit:
        db.commit()
    return voucher


def get_voucher(db: Session, voucher_id: str) -> Voucher:
    voucher = db.get(Voucher, voucher_id)
    if voucher is None:
        raise _missing(Msg("There is no such voucher."))
    return voucher


def redeem(db: Session, principal: Principal, voucher_id: str, data: RedeemIn,
           today: date | None = None, commit: bool = True,
           service_kind: str | None = None) -> Redemption:
    """The holder pays part of an order with its voucher. The balance is decremented only
    where it suffices, in one statement, so concurrent redemptions never overspend.
    ``commit=False`` leaves the transaction to the caller (accepting an order)."""
    today = today or ids_today()
    voucher = get_voucher(db, voucher_id)
    require_member(principal, Role.editor, org=voucher.holder_org_id, scope=SCOPE)
    programme = get_programme(db, voucher.programme_id)
    if voucher.status is not VoucherStatus.active:
        raise errors.conflict("voucher", Msg("the voucher is {status}", status=voucher.status))
    if voucher.valid_until < today or programme.valid_until < today:
        raise errors.conflict("voucher", Msg("the voucher expired on {day}", day=min(
            voucher.valid_until, programme.valid_until).isoformat()))
    if programme.valid_from > today:
        raise errors.conflict("voucher", Msg("the programme has not started"))
    listed = db.scalar(select(ProgrammeProvider).where(
        ProgrammeProvider.programme_id == programme.id,
        ProgrammeProvider.org_id == data.provider_org_id))
    if listed is None or listed.status is not ListingStatus.approved or (
            listed.listed_from is not None and listed.listed_from > today):
        raise errors.conflict("provider_org_id", Msg(
            "this provider is not listed in the programme (or its public-notice period has "
            "not passed)"))
    eligible = {k.strip() for k in programme.eligible_kinds.split(",") if k.strip()}
    if service_kind is not None and eligible and service_kind not in eligible:
        raise errors.conflict("voucher", Msg(
            "the programme does not pay for this kind of service"))
    cap = data.order_amount_fen * programme.max_share_pct // 100
    if data.amount_fen > cap:
        raise errors.invalid("amount_fen", Msg(
            "a voucher pays at most {percent} % of an order: {limit} yuan here",
            percent=programme.max_share_pct, limit=format(cap / 100, ",.2f")))
    spent = db.execute(update(Voucher).where(
        Voucher.id == voucher.id, Voucher.status == VoucherStatus.active,
        Voucher.balance_fen >= data.amount_fen,
    ).values(balance_fen=Voucher.balance_fen - data.amount_fen))
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        raise errors.conflict("amount_fen", Msg("the voucher's balance does not cover this amount"))
    txn = _post(db, programme.id, "redeemed", [
        (f"voucher:{voucher.id}", -data.amount_fen),
        (f"provider:{data.provider_org_id}", data.amount_fen)], principal,
        reference=data.reference)
    row = Redemption(voucher_id=voucher.id, provider_org_id=data.provider_org_id,
                     reference=data.reference, amount_fen=data.amount_fen,
                     transaction_id=txn.id)
    db.add(row)
    audit.record(db, action="voucher.redeemed", object_type="voucher", object_id=voucher.id,
                 actor_user_id=principal.user_id, org_id=voucher.holder_org_id,
                 data={"amount_fen": data.amount_fen, "reference": data.reference,
                       "provider_org_id": data.provider_org_id})
    try:
        db.commit() if commit else db.flush()
    except IntegrityError:
        db.rollback()
        raise errors.conflict("reference", Msg("this voucher has paid for that order "
                                                      "already")) from None
    return row


def reverse_redemption(db: Session, principal: Principal, reference: str,
                       provider_org_id: str) -> int:
    """Gives back what a voucher paid for a cancelled order, inside the caller's
    transaction: to the voucher if it is still active, else to the programme's funds.
    Refused once the provider has been paid."""
    row = db.scalar(select(Redemption).where(Redemption.reference == reference,
                                             Redemption.provider_org_id == provider_org_id,
                                             Redemption.reversed.is_(False)))
    if row is None:
        return 0
    voucher = get_voucher(db, row.voucher_id)
    # Conditional, like every money movement: a settlement racing with this wins or loses.
    taken = db.execute(update(Redemption).where(
        Redemption.id == row.id, Redemption.settled.is_(False), Redemption.reversed.is_(False))
        .values(reversed=True))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise errors.conflict("action", Msg(
            "the voucher's payment for this order has been settled with the provider; raise "
            "a dispute instead"))
    back = db.execute(update(Voucher).where(
        Voucher.id == voucher.id, Voucher.status == VoucherStatus.active)
        .values(balance_fen=Voucher.balance_fen + row.amount_fen))
    if back.rowcount == 1:  # type: ignore[attr-defined]
        target = f"voucher:{voucher.id}"
    else:  # revoked meanwhile: the money returns to the programme
        target = "funds"
        db.execute(update(Programme).where(Programme.id == voucher.programme_id)
                   .values(allocated_fen=Programme.allocated_fen - row.amount_fen))
    _post(db, voucher.programme_id, "reversed", [(f"provider:{provider_org_id}",
                                                  -row.amount_fen),
                                                 (target, row.amount_fen)], principal,
          reference=reference)
    audit.record(db, action="voucher.reversed", object_type="voucher", object_id=voucher.id,
                 actor_user_id=principal.user_id, org_id=voucher.holder_org_id,
                 data={"amount_fen": row.amount_fen, "reference": reference})
    return row.amount_fen


def revoke(db: Session, principal: Principal, voucher_id: str) -> Voucher:
    """Ends a voucher; what is left of it returns to the programme's funds."""
    voucher = get_voucher(db, voucher_id)
    programme = get_programme(db, voucher.programme_id)
    _operator_of(principal, programme)
    if voucher.status is not VoucherStatus.active:
        raise errors.conflict("status", Msg("the voucher is {status}", status=voucher.status))
    # Take the balance in the same statement that ends the voucher, so that a redemption
    # racing with this either happened before (and is not returned) or fails.
    left = db.execute(update(Voucher).where(
        Voucher.id == voucher.id, Voucher.status == VoucherStatus.active)
        .values(status=VoucherStatus.revoked).returning(Voucher.balance_fen)).scalar()
    if left is None:
        db.rollback()
        raise errors.conflict("status", Msg("the voucher changed meanwhile; try again"))
    if left:
        db.execute(update(Voucher).where(Voucher.id == voucher.id).values(balance_fen=0))
        db.execute(update(Programme).where(Programme.id == programme.id)
                   .values(allocated_fen=Programme.allocated_fen - left))
        _post(db, programme.id, "revoked", [(f"voucher:{voucher.id}", -left),
                                            ("funds", left)], principal,
              reference=voucher.number)
    audit.record(db, action="voucher.revoked", object_type="voucher", object_id=voucher.id,
                 actor_user_id=principal.user_id, org_id=voucher.holder_org_id,
                 data={"returned_fen": left})
    db.commit()
    db.refresh(voucher)
    return voucher


def settle(db: Session, principal: Principal, programme_id: str,
           provider_org_id: str) -> int:
    """Pays a provider everything vouchers owe it in the programme; returns the amount."""
    programme = get_programme(db, programme_id)
    _operator_of(principal, programme)
    rows = list(db.scalars(select(Redemption).join(Voucher, Voucher.id == Redemption.voucher_id)
                           .where(Voucher.programme_id == programme.id,
                                  Redemption.provider_org_id == provider_org_id,
                                  Redemption.settled.is_(False),
                                  Redemption.reversed.is_(False))))
    total = sum(r.amount_fen for r in rows)
    if not total:
        raise errors.conflict("provider_org_id", Msg("nothing is owed to this provider"))
    marked = db.execute(update(Redemption).where(
        Redemption.id.in_([r.id for r in rows]), Redemption.settled.is_(False),
        Redemption.reversed.is_(False)).values(settled=True))
    if marked.rowcount != len(rows):  # type: ignore[attr-defined]
        db.rollback()
        raise errors.conflict("provider_org_id", Msg("a settlement of these ran meanwhile"))
    _post(db, programme.id, "settled", [(f"provider:{provider_org_id}", -total),
                                        ("settled", total)], principal,
          memo=f"{len(rows)} redemption(s)")
    audit.record(db, action="voucher.settled", object_type="voucher_programme",
                 object_id=programme.id, actor_user_id=principal.user_id,
                 org_id=provider_org_id, data={"amount_fen": total, "count": len(rows)})
    notify(db, provider_org_id, "voucher.settled",
           Msg("{programme}: {amount} yuan settled", programme=programme.name,
               amount=f"{total / 100:,.2f}"))
    db.commit()
    return total


def balances(db: Session, programme_id: str) -> dict[str, int]:
    """Every account's balance in a programme; they sum to zero at all times."""
    rows = db.execute(select(LedgerEntry.account, func.sum(LedgerEntry.amount_fen))
                      .where(LedgerEntry.programme_id == programme_id)
                      .group_by(LedgerEntry.account))
    return {account: int(total) for account, total in rows}


# --- enterprises' applications, providers' claims, the programme's figures ---------------

def apply_for_voucher(db: Session, principal: Principal, programme_id: str,
                      data: ApplicationIn, today: date | None = None) -> VoucherApplication:
    programme = get_programme(db, programme_id)
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    org = _org(db, data.org_id)
    if org.kind is not OrgKind.enterprise:
        raise errors.invalid("org_id", Msg("vouchers go to enterprises"))
    slug, fault = registry.check_district(data.district)
    if fault:
        raise errors.invalid("district", fault.message)
    if programme.valid_until < (today or ids_today()):
        raise errors.conflict("programme_id", Msg("the programme has ended"))
    if db.scalar(select(VoucherApplication.id).where(
            VoucherApplication.programme_id == programme.id,
            VoucherApplication.org_id == org.id)):
        raise errors.conflict("org_id", Msg("this enterprise has applied to the programme already"))
    row = VoucherApplication(programme_id=programme.id, org_id=org.id,
                             requested_fen=data.requested_fen, purpose=data.purpose,
                             district=slug or data.district, sector=data.sector,
                             status=ApplicationStatus.applied)
    db.add(row)
    db.flush()
    audit.record(db, action="voucher.applied", object_type="voucher_application",
                 object_id=row.id, actor_user_id=principal.user_id, org_id=org.id,
                 data={"requested_fen": data.requested_fen})
    notify(db, programme.operator_org_id, "voucher.applied",
           Msg("{programme}: a new voucher application", programme=programme.name),
           body=org.name,
           link=f"/market/programmes/{programme.id}")
    db.commit()
    return row


def decide_application(db: Session, principal: Principal, application_id: str,
                       data: ApplicationDecisionIn) -> VoucherApplication:
    """The operator approves (issuing the voucher) or rejects an application."""
    row = db.get(VoucherApplication, application_id)
    if row is None:
        raise _missing(Msg("There is no such application."))
    programme = get_programme(db, row.programme_id)
    _operator_of(principal, programme)
    if row.status is not ApplicationStatus.applied:
        raise errors.conflict("status", Msg("already decided: {status}", status=row.status))
    # Claimed first, so that two approvals racing cannot issue two vouchers.
    to = ApplicationStatus.approved if data.approve else ApplicationStatus.rejected
    if not claim_transition(db, VoucherApplication, row.id, ApplicationStatus.applied, to):
        db.rollback()
        raise errors.conflict("status", Msg("decided meanwhile; reload"))
    if data.valid_until is not None and data.valid_until < ids_today():
        db.rollback()
        raise errors.invalid("valid_until", Msg("has passed"))
    if data.approve:
        if programme.valid_until < ids_today():
            db.rollback()
            raise errors.conflict("status", Msg("the programme has ended"))
        try:
            voucher = issue_voucher(db, principal, programme.id, VoucherIn(
                holder_org_id=row.org_id, face_fen=data.face_fen or row.requested_fen,
                valid_until=data.valid_until or programme.valid_until), commit=False)
        except errors.Problem:
            db.rollback()
            raise
        row.voucher_id = voucher.id
    row.status = ApplicationStatus.approved if data.approve else ApplicationStatus.rejected
    row.decided_at = utcnow()
    audit.record(db, action=f"voucher.application.{row.status.value}",
                 object_type="voucher_application", object_id=row.id,
                 actor_user_id=principal.user_id, org_id=row.org_id)
    if not data.approve:
        notify(db, row.org_id, "voucher.rejected",
               Msg("{programme}: your application was not approved",
                   programme=programme.name))
    db.commit()
    return row


def owed(db: Session, programme_id: str, provider_org_id: str) -> int:
    return int(db.scalar(select(func.coalesce(func.sum(Redemption.amount_fen), 0))
                         .join(Voucher, Voucher.id == Redemption.voucher_id)
                         .where(Voucher.programme_id == programme_id,
                                Redemption.provider_org_id == provider_org_id,
                                Redemption.settled.is_(False),
                                Redemption.reversed.is_(False))) or 0)


def claim(db: Session, principal: Principal, programme_id: str, provider_org_id: str) -> int:
    """A provider claims settlement of what vouchers owe it; the operator is told."""
    programme = get_programme(db, programme_id)
    require_member(principal, Role.editor, org=provider_org_id, scope=SCOPE)
    amount = owed(db, programme.id, provider_org_id)
    if not amount:
        raise errors.conflict("provider_org_id", Msg("nothing is owed to this provider"))
    org = _org(db, provider_org_id)
    audit.record(db, action="voucher.claimed", object_type="voucher_programme",
                 object_id=programme.id, actor_user_id=principal.user_id,
                 org_id=provider_org_id, data={"amount_fen": amount})
    notify(db, programme.operator_org_id, "voucher.claimed",
           Msg("{programme}: {provider} claims settlement of {amount} yuan",
               programme=programme.name, provider=org.name, amount=f"{amount / 100:,.2f}"),
           link=f"/market/programmes/{programme.id}")
    db.commit()
    return amount


def programme_figures(db: Session, principal: Principal, programme_id: str
                      ) -> list[dict[str, Any]]:
    """Issued, redeemed and settled, by the holders' district and sector."""
    programme = get_programme(db, programme_id)
    if not (programme.operator_org_id in principal.roles or principal.is_operator
            or principal.is_regulator):
        raise errors.forbidden("the programme's figures are for its operator and supervision")
    rows = db.execute(
        select(VoucherApplication.district, VoucherApplication.sector, Voucher.id,
               Voucher.face_fen)
        .join(Voucher, Voucher.id == VoucherApplication.voucher_id)
        .where(VoucherApplication.programme_id == programme.id))
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    by_voucher: dict[str, tuple[str, str]] = {}
    for district, sector, voucher_id, face in rows:
        g = groups.setdefault((district, sector), {
            "district": district, "sector": sector, "vouchers": 0, "issued_fen": 0,
            "redeemed_fen": 0, "settled_fen": 0})
        g["vouchers"] += 1
        g["issued_fen"] += face
        by_voucher[voucher_id] = (district, sector)
    if by_voucher:
        for voucher_id, amount, settled in db.execute(
                select(Redemption.voucher_id, Redemption.amount_fen, Redemption.settled)
                .where(Redemption.voucher_id.in_(list(by_voucher)))):
            g = groups[by_voucher[voucher_id]]
            g["redeemed_fen"] += amount
            if settled:
                g["settled_fen"] += amount
    return sorted(groups.values(), key=lambda g: (g["district"], g["sector"]))


def applications(db: Session, programme_id: str) -> list[VoucherApplication]:
    return list(db.scalars(select(VoucherApplication).where(
        VoucherApplication.programme_id == programme_id).order_by(VoucherApplication.created_at)))


def _beijing(moment: datetime) -> str:
    """A time as people here read it in a notification: Beijing time, to the minute."""
    return f"{moment.astimezone(BEIJING):%Y-%m-%d %H:%M}"
