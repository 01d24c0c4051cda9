"""A small world for the signal rules' tests: a lab with its registers and reports with
evidence, written straight through the models (the registers' and evidence colleagues'
services land at merge)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from helpers import Account, make_account, make_institution
from tichub.core.ids import BEIJING, new_id
from tichub.market.models import Instrument, InstrumentEvent, InstrumentEventKind
from tichub.registry.models import Staff, StandardEdition
from tichub.reports.models import (
    EvidenceItem,
    EvidenceResult,
    EvidenceSampling,
    RecordEvent,
    RecordKind,
    ReportRecord,
)
from tichub.supervision.models import Signal
from tichub.supervision.signals import batch, incremental


def bj(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A Beijing wall-clock time as the UTC instant stored."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


@dataclass
class Lab:
    account: Account
    institution_id: str
    org_id: str


_serial = [100]


def make_lab(db: Session, email: str, district: str = "pudong") -> Lab:
    acc = make_account(db, email)
    _serial[0] += 1
    inst_id, _ = make_institution(db, acc, name=f"实验室{_serial[0]}", serial=_serial[0],
                                  district=district)
    return Lab(acc, inst_id, acc.org.id)


def instrument(db: Session, lab: Lab, asset: str, *, calibrated: tuple[date, date] | None = (
        date(2026, 1, 1), date(2026, 12, 31)), hours_per_test: float | None = None,
        tests_per_day: int | None = None) -> Instrument:
    ins = Instrument(org_id=lab.org_id, institution_id=lab.institution_id, asset_no=asset,
                     name=f"仪器 {asset}", kind="ICP-MS", shared=False,
                     hours_per_test=hours_per_test, tests_per_day=tests_per_day)
    db.add(ins)
    db.flush()
    if calibrated:
        event(db, ins, InstrumentEventKind.calibration, *calibrated)
    db.commit()
    return ins


def event(db: Session, ins: Instrument, kind: InstrumentEventKind, start: date,
          until: date | None) -> InstrumentEvent:
    e = InstrumentEvent(instrument_id=ins.id, org_id=ins.org_id, kind=kind,
                        valid_from=start, valid_until=until)
    db.add(e)
    db.commit()
    return e


def staff(db: Session, lab: Lab, no: str, name: str, roles: list[str], *,
          employed: tuple[date, date | None] = (date(2020, 1, 1), None),
          authorised_for: list[str] | None = None) -> Staff:
    s = Staff(institution_id=lab.institution_id, org_id=lab.org_id, staff_no=no, name=name,
              roles=roles, employed_from=employed[0], employed_until=employed[1],
              authorised_for=authorised_for or [])
    db.add(s)
    db.commit()
    return s


def edition(db: Session, number: str, implemented: date | None,
            withdrawn: date | None) -> StandardEdition:
    key, _, year = number.rpartition("-")
    e = StandardEdition(std_key=key, year=int(year), number=number,
                        implemented_on=implemented, withdrawn_on=withdrawn)
    db.add(e)
    db.commit()
    return e


def record(db: Session, lab: Lab, number: str, *, issued: date = date(2026, 6, 10),
           received: date | None = None, signatories: list[str] | None = None,
           flags: list[str] | None = None, event: RecordEvent = RecordEvent.issued,
           refers_to: str | None = None, items: list[dict[str, Any]] = (),  # type: ignore
           samplings: list[dict[str, Any]] = (),  # type: ignore[assignment]
           results: list[tuple[str, str]] = (),  # type: ignore[assignment]
           standards: list[str] | None = None, tested: tuple[date | None, date | None]
           = (None, None), check: bool = False) -> ReportRecord:
    """A record with its evidence rows; ``check`` runs the registration rules on it."""
    rid = new_id()
    dates = {"issued": issued.isoformat()}
    if received:
        dates["sample_received"] = received.isoformat()
    for key, day in zip(("tested_from", "tested_to"), tested, strict=True):
        if day:
            dates[key] = day.isoformat()
    public = {"number": number, "dates": dates, "signatories": signatories or [],
              "standards": standards or []}
    leaf = hashlib.sha256(rid.encode()).digest()
    r = ReportRecord(id=rid, number=number, number_key=number, kind=RecordKind.test_report,
                     event=event, institution_id=lab.institution_id, org_id=lab.org_id,
                     issued_on=issued, public=public, private={}, salt="00", commitment="00",
                     leaf=leaf, leaf_hash=leaf.hex(), flags=flags or [], refers_to_id=refers_to)
    db.add(r)
    db.flush()
    for n, it in enumerate(items, start=1):
        db.add(EvidenceItem(record_id=rid, seq=n, institution_id=lab.institution_id,
                            org_id=lab.org_id, parameter=it.get("parameter", "Pb"),
                            standard=it.get("standard"),
                            instrument_id=it["instrument"].id if it.get("instrument") else None,
                            instrument_ref=it.get("instrument_ref", it["instrument"].asset_no
                                                  if it.get("instrument") else ""),
                            tester_id=it["tester"].id if it.get("tester") else None,
                            started_at=it["start"], ended_at=it["end"]))
    for n, sm in enumerate(samplings, start=1):
        db.add(EvidenceSampling(record_id=rid, seq=n, institution_id=lab.institution_id,
                                org_id=lab.org_id, what=sm.get("what", "water"),
                                sampler_id=sm["sampler"].id if sm.get("sampler") else None,
                                district=lab_district(sm), latitude=sm.get("lat"),
                                longitude=sm.get("lon"), at=sm["at"]))
    for n, (param, value) in enumerate(results, start=1):
        db.add(EvidenceResult(record_id=rid, seq=n, institution_id=lab.institution_id,
                              org_id=lab.org_id, parameter=param, value_text=value,
                              value=float(value), unit="mg/kg"))
    db.flush()
    if check:
        incremental.check(db, [rid])
    db.commit()
    return r


def lab_district(sm: dict[str, Any]) -> str:
    return str(sm.get("district", "pudong"))


def item(ins: Instrument | None, start: datetime, hours: float = 2.0, **kw: Any
         ) -> dict[str, Any]:
    return {"instrument": ins, "start": start, "end": start + timedelta(hours=hours), **kw}


def run(db: Session, *codes: str) -> list[Signal]:
    """Runs the batch (only ``codes``), returns the signals of those rules."""
    batch.run(db, codes=list(codes) or None)
    from sqlalchemy import select

    q = select(Signal)
    if codes:
        q = q.where(Signal.code.in_(codes))
    return list(db.scalars(q.order_by(Signal.code, Signal.subject)))


def signals(db: Session, *codes: str) -> list[Signal]:
    from sqlalchemy import select

    db.expire_all()
    return list(db.scalars(select(Signal).where(Signal.code.in_(codes))))
