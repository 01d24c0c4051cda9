"""Equipment register use cases: the only code that writes the register's instruments and
their calibration, verification and out-of-service records.

An instrument is usable on a day that some calibration or verification covers (both ends
included: a calibration valid until the test date still covers it) and no out-of-service
period does. ``calibrated_on``/``calibration_due``, which the marketplace shows and booking
checks, follow the latest calibration or verification whenever there is one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal
from tichub.core.ids import today
from tichub.core.messages import Msg
from tichub.market.equipment.schemas import EquipmentIn, EquipmentPatch, EventIn
from tichub.market.models import Instrument, InstrumentEvent, InstrumentEventKind
from tichub.registry.models import Institution
from tichub.supervision.registers import access

SCOPE = "market:write"
VALIDITY = (InstrumentEventKind.calibration, InstrumentEventKind.verification)


def _missing() -> errors.Problem:
    return errors.Problem(404, "Not found", detail=Msg("There is no such instrument."))


# --- for other domains ----------------------------------------------------------------------

def instrument_by_asset(db: Session, org_id: str, asset_no: str) -> Instrument | None:
    """The organisation's instrument with this asset number (as the lab writes it, spaces
    at the ends ignored), or None."""
    return db.scalar(select(Instrument).where(Instrument.org_id == org_id,
                                              Instrument.asset_no == asset_no.strip()))


def usable(events: list[InstrumentEvent], day: date) -> bool:
    """The rule, on events already read (for callers that check many days)."""
    covered = any(e.valid_from <= day and (e.valid_until is None or day <= e.valid_until)
                  for e in events if e.kind in VALIDITY)
    out = any(e.valid_from <= day and (e.valid_until is None or day <= e.valid_until)
              for e in events if e.kind is InstrumentEventKind.out_of_service)
    return covered and not out


def equipment_usable_on(db: Session, instrument_id: str, day: date) -> bool:
    """True if on ``day`` a calibration or verification of the instrument was valid (ends
    included) and it was not out of service. An instrument with no such record at all is
    not usable: nothing shows it was calibrated. An unknown id is not usable."""
    events = list(db.scalars(select(InstrumentEvent).where(
        InstrumentEvent.instrument_id == instrument_id, InstrumentEvent.valid_from <= day,
        or_(InstrumentEvent.valid_until.is_(None), InstrumentEvent.valid_until >= day))))
    return usable(events, day)


# --- reading ----------------------------------------------------------------------------------

def list_equipment(db: Session, principal: Principal, institution_id: str, *,
                   q: str = "", include_retired: bool = False) -> list[Instrument]:
    inst = access.for_reading(db, principal, institution_id)
    query = select(Instrument).where(Instrument.institution_id == inst.id)
    if not include_retired:
        query = query.where(Instrument.active)
    if q.strip():
        like = f"%{q.strip()}%"
        query = query.where(or_(Instrument.asset_no.ilike(like), Instrument.name.ilike(like),
                                Instrument.kind.ilike(like), Instrument.model.ilike(like)))
    return list(db.scalars(query.order_by(Instrument.asset_no, Instrument.name)))


def _institution_of(db: Session, item: Instrument) -> Institution:
    if item.institution_id is None:  # shared by a company, not a lab's register entry
        raise _missing()
    return access.institution(db, item.institution_id)


def get_equipment(db: Session, principal: Principal, instrument_id: str) -> Instrument:
    item = db.get(Instrument, instrument_id)
    if item is None:
        raise _missing()
    access.check_read(db, principal, _institution_of(db, item))
    return item


def events_of(db: Session, instrument_id: str) -> list[InstrumentEvent]:
    return list(db.scalars(select(InstrumentEvent)
                           .where(InstrumentEvent.instrument_id == instrument_id)
                           .order_by(InstrumentEvent.valid_from.desc(),
                                     InstrumentEvent.created_at.desc())))


def due_within(items: list[Instrument], days: int, on: date | None = None) -> list[Instrument]:
    """Instruments whose calibration runs out within ``days`` (or already has)."""
    on = on or today()
    return [i for i in items if i.calibration_due is not None
            and (i.calibration_due - on).days <= days]


# --- writing ----------------------------------------------------------------------------------

def _check_asset(db: Session, org_id: str, asset_no: str, instrument_id: str | None = None,
                 row: int | None = None) -> None:
    q = select(Instrument.id).where(Instrument.org_id == org_id,
                                    Instrument.asset_no == asset_no)
    if instrument_id:
        q = q.where(Instrument.id != instrument_id)
    if db.scalar(q) is not None:
        raise errors.conflict("asset_no", Msg("asset number {asset_no} is already in the "
                                              "register", asset_no=asset_no))


def add_equipment(db: Session, principal: Principal, data: EquipmentIn,
                  commit: bool = True) -> Instrument:
    inst = access.for_writing(db, principal, data.institution_id, SCOPE)
    asset_no = data.asset_no.strip()
    _check_asset(db, inst.org_id, asset_no)
    values = data.model_dump(exclude={"institution_id", "asset_no"})
    item = Instrument(org_id=inst.org_id, institution_id=inst.id, asset_no=asset_no,
                      district=inst.district, active=True, hourly_rate_fen=0,
                      daily_rate_fen=0, **values)
    if not item.location:
        item.location = inst.address
    db.add(item)
    db.flush()
    audit.record(db, action="equipment.added", object_type="instrument", object_id=item.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"asset_no": asset_no, "shared": item.shared}, summary=item.name)
    if commit:
        db.commit()
    return item


def update_equipment(db: Session, principal: Principal, instrument_id: str,
                     patch: EquipmentPatch, commit: bool = True) -> Instrument:
    item = get_equipment(db, principal, instrument_id)
    inst = access.for_writing(db, principal, _institution_of(db, item).id, SCOPE)
    changes: dict[str, Any] = {k: v for k, v in patch.model_dump(exclude_unset=True).items()
                               if v is not None or k in ("tests_per_day", "hours_per_test")}
    if "asset_no" in changes:
        changes["asset_no"] = changes["asset_no"].strip()
        _check_asset(db, inst.org_id, changes["asset_no"], item.id)
    # One capacity measure at a time: giving one clears the other.
    if changes.get("tests_per_day") is not None:
        changes["hours_per_test"] = None
    elif changes.get("hours_per_test") is not None:
        changes["tests_per_day"] = None
    before = {k: getattr(item, k) for k in changes}
    for key, value in changes.items():
        setattr(item, key, value)
    audit.record(db, action="equipment.updated", object_type="instrument", object_id=item.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"before": {k: str(v) for k, v in before.items()},
                       "after": {k: str(v) for k, v in changes.items()}}, summary=item.name)
    if commit:
        db.commit()
    return item


def sync_calibration(db: Session, item: Instrument) -> None:
    """Derives the dates the marketplace shows from the latest calibration or
    verification (by start, then by when it was recorded)."""
    db.flush()
    latest = db.scalar(select(InstrumentEvent).where(
        InstrumentEvent.instrument_id == item.id, InstrumentEvent.kind.in_(VALIDITY))
        .order_by(InstrumentEvent.valid_from.desc(), InstrumentEvent.created_at.desc(),
                  InstrumentEvent.id.desc()).limit(1))
    if latest is not None:
        item.calibrated_on, item.calibration_due = latest.valid_from, latest.valid_until


def check_event(data: EventIn, row: int | None = None) -> list[errors.FieldError]:
    errs = []
    if data.kind in VALIDITY and data.valid_until is None:
        errs.append(errors.FieldError("valid_until", Msg(
            "a calibration or verification needs the last day it is valid"), row))
    if data.valid_until is not None and data.valid_until < data.valid_from:
        errs.append(errors.FieldError("valid_until", Msg("is before the start"), row))
    return errs


def add_event(db: Session, principal: Principal, instrument_id: str, data: EventIn,
              commit: bool = True) -> InstrumentEvent:
    item = get_equipment(db, principal, instrument_id)
    inst = access.for_writing(db, principal, _institution_of(db, item).id, SCOPE)
    errs = check_event(data)
    if errs:
        raise errors.Problem(422, "Invalid input", errors=errs)
    event = InstrumentEvent(instrument_id=item.id, org_id=inst.org_id, **data.model_dump())
    db.add(event)
    sync_calibration(db, item)
    audit.record(db, action=f"equipment.{data.kind.value}", object_type="instrument",
                 object_id=item.id, actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"event_id": event.id, "from": data.valid_from.isoformat(),
                       "until": data.valid_until.isoformat() if data.valid_until else None,
                       "certificate_no": data.certificate_no}, summary=item.name)
    if commit:
        db.commit()
    return event


def end_outage(db: Session, principal: Principal, event_id: str, on: date) -> InstrumentEvent:
    """Records the last day of an open out-of-service period: back in service after it."""
    event = db.get(InstrumentEvent, event_id)
    if event is None or event.kind is not InstrumentEventKind.out_of_service:
        raise errors.Problem(404, "Not found", detail=Msg("There is no such outage."))
    item = get_equipment(db, principal, event.instrument_id)
    inst = access.for_writing(db, principal, _institution_of(db, item).id, SCOPE)
    if event.valid_until is not None:
        raise errors.conflict("on", Msg("this outage has already ended"))
    if on < event.valid_from:
        raise errors.invalid("on", Msg("is before the start"))
    event.valid_until = on
    audit.record(db, action="equipment.back_in_service", object_type="instrument",
                 object_id=item.id, actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"event_id": event.id, "until": on.isoformat()}, summary=item.name)
    db.commit()
    return event


def counts(db: Session, institution_id: str) -> dict[str, int]:
    """How many instruments the register holds, and how many are shared (for pages)."""
    total, shared = db.execute(select(func.count(), func.count().filter(Instrument.shared))
                               .where(Instrument.institution_id == institution_id,
                                      Instrument.active)).one()
    return {"total": int(total or 0), "shared": int(shared or 0)}
