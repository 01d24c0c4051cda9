"""The demo's evidence: the demo lab's reports carry consistent evidence linked to its
registers; three other labs carry one planted irregularity of each kind."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select

from tichub.demo import seed as demo
from tichub.demo.evidence import BEIJING, INSTRUMENTS, SAMPLERS, TESTERS, seed_evidence
from tichub.demo.reports import seed_reports
from tichub.market.models import Instrument, InstrumentEvent, InstrumentEventKind
from tichub.registry.models import Staff
from tichub.reports.evidence import service as evidence
from tichub.reports.models import EvidenceItem, EvidenceResult, EvidenceSampling, ReportRecord

PLANTED = {"INSTRUMENT_UNCALIBRATED", "INSTRUMENT_OUT_OF_SERVICE", "INSTRUMENT_NOT_REGISTERED",
           "INSTRUMENT_OVERLAP", "INSTRUMENT_OVER_CAPACITY", "STAFF_TRAVEL",
           "STAFF_NOT_EMPLOYED", "SIGNATORY_INVALID", "ISSUED_BEFORE_TESTED",
           "TESTED_BEFORE_RECEIPT", "STANDARD_NOT_IN_FORCE", "LAB_DAILY_VOLUME",
           "DUPLICATE_RESULTS", "TRAILING_DIGITS", "NOT_SIGNED_BY_ISSUER"}


def _demo_registers(db, inst_id: str, org_id: str) -> None:  # type: ignore[no-untyped-def]
    """What the registers' demo makes for the demo lab (another branch), in its codes."""
    for code in INSTRUMENTS:
        row = Instrument(org_id=org_id, institution_id=inst_id, asset_no=code, name=code,
                         kind="demo", shared=False, tests_per_day=10)
        db.add(row)
        db.flush()
        db.add(InstrumentEvent(instrument_id=row.id, org_id=org_id,
                               kind=InstrumentEventKind.calibration,
                               valid_from=date(2025, 6, 1), valid_until=date(2027, 6, 1)))
    for n in range(3, 11):
        db.add(Staff(institution_id=inst_id, org_id=org_id, staff_no=f"ST-{n:03d}",
                     name=f"员工{n}", roles=["tester", "sampler"],
                     employed_from=date(2020, 1, 1)))
    db.commit()


def test_demo_evidence_is_consistent_and_plants_every_kind(app) -> None:  # type: ignore[no-untyped-def]
    log = app.state.log
    with app.state.sessionmaker() as db:
        demo.seed(db, scale=0.3, seed=2027)
        seed_reports(db, log, count=20)
        first = db.scalar(select(ReportRecord).where(ReportRecord.number == "DEMO-2026-00001"))
        assert first is not None
        # Registered before the registers exist: references kept, pointing nowhere yet.
        assert db.scalar(select(EvidenceItem.instrument_id).where(
            EvidenceItem.record_id == first.id).limit(1)) is None
        _demo_registers(db, first.institution_id, first.org_id)
        planted = seed_evidence(db, log)
        assert set(planted) == PLANTED

        lab = first.institution_id
        items = db.scalars(select(EvidenceItem).where(EvidenceItem.institution_id == lab)).all()
        samplings = db.scalars(select(EvidenceSampling)
                               .where(EvidenceSampling.institution_id == lab)).all()
        assert len(items) >= 40 and len(samplings) >= 15
        # Every reference now names its register row.
        assert all(i.instrument_id and i.tester_id for i in items)
        assert all(s.sampler_id for s in samplings)
        assert {i.instrument_ref for i in items} <= set(INSTRUMENTS)
        assert {i.tester_ref for i in items} <= set(TESTERS)
        assert {s.sampler_ref for s in samplings} <= set(SAMPLERS)
        # One item per instrument a day, one sampling per sampler a day, two items per tester.
        def day(moment):  # type: ignore[no-untyped-def]
            return moment.astimezone(BEIJING).date()
        assert max(Counter((i.instrument_ref, day(i.started_at)) for i in items).values()) == 1
        assert max(Counter((s.sampler_ref, day(s.at)) for s in samplings).values()) == 1
        assert max(Counter((i.tester_ref, day(i.started_at)) for i in items).values()) <= 2
        records = {r.id: r for r in db.scalars(select(ReportRecord).where(
            ReportRecord.institution_id == lab))}
        for i in items:
            dates = records[i.record_id].public["dates"]
            assert dates["tested_from"] <= day(i.started_at).isoformat()
            assert day(i.ended_at).isoformat() <= dates["tested_to"] < dates["issued"]
        for s in samplings:
            assert day(s.at).isoformat() == records[s.record_id].public["dates"][
                "sample_received"]
        for r in records.values():
            assert evidence.commitment_matches(r)
        values = db.scalars(select(EvidenceResult.value_text)
                            .where(EvidenceResult.institution_id == lab)).all()
        assert len(values) == len(set(values))  # no two results alike, let alone vectors

        # The planted ones: registered, with evidence, in three other labs.
        numbers = [n for p in planted.values() for n in p["numbers"]]
        found = dict(db.execute(select(ReportRecord.number, ReportRecord.institution_id)
                                .where(ReportRecord.number.in_(numbers))).all())
        assert set(found) == set(numbers)
        assert len({p["institution_id"] for p in planted.values()}) == 3
        assert lab not in {p["institution_id"] for p in planted.values()}
        travel = planted["STAFF_TRAVEL"]["numbers"]
        pair = db.execute(select(EvidenceSampling.at, EvidenceSampling.latitude)
                          .join(ReportRecord, ReportRecord.id == EvidenceSampling.record_id)
                          .where(ReportRecord.number.in_(travel))
                          .order_by(EvidenceSampling.at)).all()
        assert pair[1][0] - pair[0][0] == timedelta(minutes=65)
        assert abs(pair[1][1] - pair[0][1]) > 0.8  # about 98 km north to south
        unsigned = db.scalar(select(ReportRecord.flags).where(
            ReportRecord.number == planted["NOT_SIGNED_BY_ISSUER"]["numbers"][0]))
        assert unsigned == ["not_signed_by_issuer"]
