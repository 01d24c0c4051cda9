"""Evidence registered with a report: its committed form, its rows, who may read it.

The evidence joins the record's private fields (``private["evidence"]``) so that the salted
commitment in the log covers it; records without evidence keep the private fields they
always had, so their commitments still open. The rows in ``report_evidence_*`` are the same
facts in a shape the supervision rules query; each reference to the lab's registers is
resolved once per registration call (``References``), and an unknown one is stored as it
came, with no register row: it is evidence too, and a signal rule flags it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from tichub.core import errors
from tichub.core.auth import Principal, can
from tichub.core.db import table
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.market.models import Instrument
from tichub.registry.models import Institution, Staff
from tichub.reports import leaf
from tichub.reports.evidence.schemas import (
    EvidenceIn,
    EvidenceOut,
    ItemOut,
    ResultOut,
    SamplingOut,
)
from tichub.reports.models import EvidenceItem, EvidenceResult, EvidenceSampling, ReportRecord

KEY = "evidence"  # its key among the record's private fields


def _when(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _coordinate(value: float | None) -> str | None:
    # As text: the commitment's JSON then holds no float, whose canonical form costs more.
    return None if value is None else repr(float(value))


def committed(evidence: EvidenceIn) -> dict[str, Any]:
    """The evidence as the commitment holds it: strings, nulls and lists only, in the
    order the lab gave."""
    return {
        "items": [{"parameter": i.parameter, "standard": i.standard, "instrument": i.instrument,
                   "tester": i.tester, "started_at": _when(i.started_at),
                   "ended_at": _when(i.ended_at)} for i in evidence.items],
        "samplings": [{"what": s.what, "sampler": s.sampler, "district": s.district,
                       "latitude": _coordinate(s.latitude),
                       "longitude": _coordinate(s.longitude), "at": _when(s.at)}
                      for s in evidence.samplings],
        "results": [{"parameter": r.parameter, "value": r.value, "unit": r.unit}
                    for r in evidence.results],
    }


# --- the registers' rows a reference names ----------------------------------------------------
# Read here with two small queries for a whole registration call; at merge they may move to
# the registers' services (instrument_by_asset, staff_by_ref) in batch form.

def instruments_by_asset(db: Session, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Instrument ids by (organisation, asset number)."""
    if not wanted:
        return {}
    orgs = {org for org, _ in wanted}
    assets = {asset for _, asset in wanted}
    return {(org, asset or ""): inst_id for inst_id, org, asset in db.execute(
        select(Instrument.id, Instrument.org_id, Instrument.asset_no)
        .where(Instrument.org_id.in_(orgs), Instrument.asset_no.in_(assets)))
        if (org, asset) in wanted}


def staff_by_ref(db: Session, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Staff ids by (institution, reference): the staff number, else the name when only one
    person of the institution bears it."""
    if not wanted:
        return {}
    institutions = {inst for inst, _ in wanted}
    refs = {ref for _, ref in wanted}
    by_no: dict[tuple[str, str], str] = {}
    by_name: dict[tuple[str, str], list[str]] = {}
    for staff_id, inst, staff_no, name in db.execute(
            select(Staff.id, Staff.institution_id, Staff.staff_no, Staff.name)
            .where(Staff.institution_id.in_(institutions),
                   or_(Staff.staff_no.in_(refs), Staff.name.in_(refs)))):
        if staff_no is not None and (inst, staff_no) in wanted:
            by_no[(inst, staff_no)] = staff_id
        if (inst, name) in wanted:
            by_name.setdefault((inst, name), []).append(staff_id)
    found = {key: ids[0] for key, ids in by_name.items() if len(ids) == 1}
    found.update(by_no)
    return found


@dataclass
class References:
    """The register rows a registration call's evidence names, read once for the call."""

    instruments: dict[tuple[str, str], str] = field(default_factory=dict)
    staff: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def read(cls, db: Session, wanted: Iterable[tuple[str, str, EvidenceIn]]) -> References:
        """``wanted``: (organisation, institution, evidence) of each record with evidence."""
        instruments: set[tuple[str, str]] = set()
        staff: set[tuple[str, str]] = set()
        for org_id, inst_id, evidence in wanted:
            instruments.update((org_id, i.instrument) for i in evidence.items if i.instrument)
            staff.update((inst_id, i.tester) for i in evidence.items if i.tester)
            staff.update((inst_id, s.sampler) for s in evidence.samplings if s.sampler)
        return cls(instruments_by_asset(db, instruments), staff_by_ref(db, staff))


@dataclass
class Rows:
    """Evidence rows of a registration call, inserted with its records."""

    items: list[dict[str, Any]] = field(default_factory=list)
    samplings: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    def add(self, record_id: str, inst_id: str, org_id: str, evidence: EvidenceIn,
            refs: References) -> None:
        own = {"record_id": record_id, "institution_id": inst_id, "org_id": org_id}
        self.items += [{**own, "seq": n, "parameter": i.parameter, "standard": i.standard,
                        "instrument_id": refs.instruments.get((org_id, i.instrument)),
                        "instrument_ref": i.instrument,
                        "tester_id": refs.staff.get((inst_id, i.tester)),
                        "tester_ref": i.tester, "started_at": i.started_at,
                        "ended_at": i.ended_at} for n, i in enumerate(evidence.items)]
        self.samplings += [{**own, "seq": n, "what": s.what,
                            "sampler_id": refs.staff.get((inst_id, s.sampler)),
                            "sampler_ref": s.sampler, "district": s.district,
                            "latitude": s.latitude, "longitude": s.longitude, "at": s.at}
                           for n, s in enumerate(evidence.samplings)]
        self.results += [{**own, "seq": n, "parameter": r.parameter, "value_text": r.value,
                          "value": float(r.value), "unit": r.unit}
                         for n, r in enumerate(evidence.results)]

    def insert(self, db: Session) -> None:
        # Core inserts, as the records': the rows are complete already.
        for model, rows in ((EvidenceItem, self.items), (EvidenceSampling, self.samplings),
                            (EvidenceResult, self.results)):
            if rows:
                db.execute(insert(table(model)), rows)


def relink(db: Session, institution_id: str) -> int:
    """Points the institution's evidence rows that name no register row at the rows their
    references name now (a register filled after the reports were registered); returns how
    many rows changed. The references themselves, which the commitment covers, stay."""
    inst = db.get(Institution, institution_id)
    if inst is None:
        return 0
    changed = 0
    items = db.execute(select(EvidenceItem.record_id, EvidenceItem.seq,
                              EvidenceItem.instrument_ref, EvidenceItem.tester_ref,
                              EvidenceItem.instrument_id, EvidenceItem.tester_id)
                       .where(EvidenceItem.institution_id == institution_id,
                              or_(EvidenceItem.instrument_id.is_(None),
                                  EvidenceItem.tester_id.is_(None)))).all()
    samplings = db.execute(select(EvidenceSampling.record_id, EvidenceSampling.seq,
                                  EvidenceSampling.sampler_ref)
                           .where(EvidenceSampling.institution_id == institution_id,
                                  EvidenceSampling.sampler_id.is_(None))).all()
    instruments = instruments_by_asset(db, {(inst.org_id, r.instrument_ref) for r in items
                                            if r.instrument_ref})
    staff = staff_by_ref(db, {(inst.id, r.tester_ref) for r in items if r.tester_ref}
                         | {(inst.id, s.sampler_ref) for s in samplings if s.sampler_ref})
    for r in items:
        values = {}
        if r.instrument_id is None and (found := instruments.get((inst.org_id,
                                                                  r.instrument_ref))):
            values["instrument_id"] = found
        if r.tester_id is None and (found := staff.get((inst.id, r.tester_ref))):
            values["tester_id"] = found
        if values:
            db.execute(update(EvidenceItem).where(EvidenceItem.record_id == r.record_id,
                                                  EvidenceItem.seq == r.seq).values(**values))
            changed += 1
    for s in samplings:
        if found := staff.get((inst.id, s.sampler_ref)):
            db.execute(update(EvidenceSampling).where(
                EvidenceSampling.record_id == s.record_id,
                EvidenceSampling.seq == s.seq).values(sampler_id=found))
            changed += 1
    return changed


# --- reading -------------------------------------------------------------------------------

def may_read(db: Session, principal: Principal, record: ReportRecord) -> bool:
    """The issuing organisation's members, and the supervisors of the issuer's district
    (the city bureau and the operator: every district). Never anyone else."""
    from tichub.supervision import jurisdiction  # supervision builds on reports, not back

    if not principal.authenticated:
        return False
    if record.org_id in principal.roles and can(principal, Role.viewer, org=record.org_id,
                                                scope="reports:read"):
        return True
    if principal.is_operator:
        return principal.has_scope("reports:read") or principal.has_scope("supervision:read")
    if not principal.has_scope("supervision:read") or not jurisdiction.bureau_orgs(principal):
        return False
    district = db.scalar(select(Institution.district)
                         .where(Institution.id == record.institution_id))
    return district is not None and jurisdiction.supervises(db, principal, district)


def readable_record(db: Session, principal: Principal, record_id: str) -> ReportRecord:
    record = db.get(ReportRecord, record_id)
    if record is None:
        raise errors.not_found(Msg("record not found"))
    if not principal.authenticated:
        raise errors.unauthorized()
    if not may_read(db, principal, record):
        raise errors.forbidden(Msg("a report's evidence is for its issuer and the "
                                   "supervisors of its district only"))
    return record


def _rows_of(db: Session, record_id: str) -> tuple[list[EvidenceItem], list[EvidenceSampling],
                                                   list[EvidenceResult]]:
    return (list(db.scalars(select(EvidenceItem).where(EvidenceItem.record_id == record_id)
                            .order_by(EvidenceItem.seq))),
            list(db.scalars(select(EvidenceSampling)
                            .where(EvidenceSampling.record_id == record_id)
                            .order_by(EvidenceSampling.seq))),
            list(db.scalars(select(EvidenceResult).where(EvidenceResult.record_id == record_id)
                            .order_by(EvidenceResult.seq))))


def _as_committed(items: list[EvidenceItem], samplings: list[EvidenceSampling],
                  results: list[EvidenceResult]) -> dict[str, Any]:
    return {
        "items": [{"parameter": i.parameter, "standard": i.standard,
                   "instrument": i.instrument_ref, "tester": i.tester_ref,
                   "started_at": _when(i.started_at), "ended_at": _when(i.ended_at)}
                  for i in items],
        "samplings": [{"what": s.what, "sampler": s.sampler_ref, "district": s.district,
                       "latitude": _coordinate(s.latitude),
                       "longitude": _coordinate(s.longitude), "at": _when(s.at)}
                      for s in samplings],
        "results": [{"parameter": r.parameter, "value": r.value_text, "unit": r.unit}
                    for r in results],
    }


def commitment_matches(record: ReportRecord, rows: dict[str, Any] | None = None) -> bool:
    """The stored private fields open the commitment the record's leaf carries, and (given)
    the evidence rows are those the private fields hold."""
    try:
        logged = json.loads(record.leaf)
        salt = bytes.fromhex(record.salt)
        opened = (logged.get("private") == record.commitment
                  and leaf.opens(record.commitment, record.private, salt))
    except (ValueError, leaf.LeafError):
        return False
    if rows is not None:
        opened = opened and rows == record.private.get(KEY, _EMPTY)
    return opened


_EMPTY: dict[str, Any] = {"items": [], "samplings": [], "results": []}


def evidence_of(db: Session, principal: Principal, record_id: str) -> EvidenceOut:
    """The record's evidence, for its issuer and its supervisors."""
    record = readable_record(db, principal, record_id)
    return _out(db, record)


def _out(db: Session, record: ReportRecord) -> EvidenceOut:
    items, samplings, results = _rows_of(db, record.id)
    return EvidenceOut(
        record_id=record.id, number=record.number, institution_id=record.institution_id,
        items=[ItemOut(seq=i.seq, parameter=i.parameter, standard=i.standard,
                       instrument=i.instrument_ref, instrument_id=i.instrument_id,
                       tester=i.tester_ref, tester_id=i.tester_id, started_at=i.started_at,
                       ended_at=i.ended_at) for i in items],
        samplings=[SamplingOut(seq=s.seq, what=s.what, sampler=s.sampler_ref,
                               sampler_id=s.sampler_id, district=s.district,
                               latitude=s.latitude, longitude=s.longitude, at=s.at)
                   for s in samplings],
        results=[ResultOut(seq=r.seq, parameter=r.parameter, value=r.value_text, unit=r.unit)
                 for r in results],
        commitment_matches=commitment_matches(record, _as_committed(items, samplings, results)))


def has_evidence(db: Session, record_ids: Sequence[str]) -> set[str]:
    """Which of these records carry evidence rows."""
    found: set[str] = set()
    for model in (EvidenceItem, EvidenceSampling, EvidenceResult):
        found.update(db.scalars(select(model.record_id).where(
            model.record_id.in_(record_ids)).distinct()))
    return found

