"""Signals at scale: a registry of reports with evidence and planted irregularities of every
kind, the batch run over it, what it found against what was planted, and the cost the
signals add to one registration.

The registry has the shape of a real one: labs of Zipf-skewed size, random report numbers,
busy days (bursts), each report with two test items (instrument, tester, start and end), a
third with a sampling event (sampler, place, time) and four numeric results. The clean part
is consistent by construction (calibrated instruments within capacity, employed staff,
samplers with time to travel, dates in order, standards in force), so a deterministic rule
that raises a signal on it is a false positive. The planted part breaks each rule a few
times, in labs of its own.

    python bench/supervision.py                       # 100,000 reports on SQLite
    python bench/supervision.py --scale 1000000 --database-url postgresql://...

The batch run happens in a separate process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from machine import cpu_model, peak_rss_mib
from tichub.core.db import make_engine, make_sessionmaker, table
from tichub.core.ids import BEIJING, new_id
from tichub.core.migrate import upgrade
from tichub.core.models import Organisation, OrgKind
from tichub.market.models import (
    Booking,
    Instrument,
    InstrumentEvent,
    ServiceListing,
)
from tichub.pt.models import (
    PtMeasurand,
    PtParticipant,
    PtResult,
    PtRound,
    PtRoundMeasurand,
    PtScheme,
)
from tichub.registry.models import Institution, Staff, StandardEdition
from tichub.reports.models import (
    EvidenceItem,
    EvidenceResult,
    EvidenceSampling,
    ReportRecord,
)
from tichub.supervision.models import Signal
from tichub.supervision.signals import rules

START = date(2026, 1, 5)
DAYS = 290
BATCH = 5_000
STANDARD = "GB 4943.1-2022"
PARAMS = ("Pb", "Cd", "Hg", "Cr")
DISTRICTS = ("pudong", "xuhui", "minhang", "jiading", "baoshan", "songjiang")


def bj(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


class Builder:
    def __init__(self, db: Session, rng: random.Random) -> None:
        self.db, self.rng = db, rng
        self.serial = 0
        self.records: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []
        self.samplings: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self.written = 0
        self.planted: dict[str, set[str]] = defaultdict(set)  # rule → subjects or record ids

    # --- registers ---------------------------------------------------------------------
    def lab(self, name: str, district: str) -> tuple[str, str]:
        self.serial += 1
        org = Organisation(name=name, kind=OrgKind.lab)
        self.db.add(org)
        self.db.flush()
        inst = Institution(org_id=org.id, seq=self.serial, kind="lab", name_zh=name,
                           credit_code=f"91310{self.serial:013d}", district=district)
        self.db.add(inst)
        self.db.flush()
        return org.id, inst.id

    def instrument(self, org: str, inst: str, asset: str, *, tpd: int | None = None,
                   hpt: float | None = None, calibrated: tuple[date, date] | None = (
                       date(2025, 12, 1), date(2026, 12, 31))) -> str:
        ins = Instrument(org_id=org, institution_id=inst, asset_no=asset, name=asset,
                         kind="ICP-MS", shared=False, tests_per_day=tpd, hours_per_test=hpt)
        self.db.add(ins)
        self.db.flush()
        if calibrated:
            self.db.add(InstrumentEvent(instrument_id=ins.id, org_id=org, kind="calibration",
                                        valid_from=calibrated[0], valid_until=calibrated[1]))
        return ins.id

    def person(self, org: str, inst: str, no: str, roles: list[str],
               until: date | None = None) -> str:
        s = Staff(institution_id=inst, org_id=org, staff_no=no, name=f"人员{no}", roles=roles,
                  employed_from=date(2020, 1, 1), employed_until=until)
        self.db.add(s)
        self.db.flush()
        return s.id

    # --- records -----------------------------------------------------------------------
    def record(self, org: str, inst: str, issued: date, *, received: date | None = None,
               signatory: str = "", flags: list[str] | None = None) -> str:
        rid = new_id()
        number = f"{self.rng.choice('ABCDEFGHJK')}{self.rng.randrange(10**9):09d}-{rid[-6:]}"
        dates = {"issued": issued.isoformat()}
        if received:
            dates["sample_received"] = received.isoformat()
        leaf = hashlib.sha256(rid.encode()).digest()
        self.records.append({
            "id": rid, "number": number, "number_key": number, "kind": "test_report",
            "event": "issued", "refers_to_id": None, "institution_id": inst, "org_id": org,
            "issued_on": issued, "pdf_sha256": None,
            "public": {"number": number, "dates": dates,
                       "signatories": [signatory] if signatory else []},
            "private": {}, "salt": "00", "commitment": "00", "leaf": leaf,
            "leaf_hash": leaf.hex(), "log_index": None, "flags": flags or [],
            "registered_at": bj(issued, 18), "registered_by": None})
        return rid

    def item(self, rid: str, seq: int, org: str, inst: str, instrument: str | None,
             tester: str | None, start: datetime, hours: float, *, ref: str = "",
             standard: str = STANDARD, param: str = "Pb") -> None:
        self.items.append({
            "record_id": rid, "seq": seq, "institution_id": inst, "org_id": org,
            "parameter": param, "standard": standard, "instrument_id": instrument,
            "instrument_ref": ref, "tester_id": tester, "tester_ref": "",
            "started_at": start, "ended_at": start + timedelta(hours=hours)})

    def sampling(self, rid: str, org: str, inst: str, sampler: str, at: datetime,
                 lat: float, lon: float) -> None:
        self.samplings.append({
            "record_id": rid, "seq": 1, "institution_id": inst, "org_id": org,
            "what": "surface water", "sampler_id": sampler, "sampler_ref": "",
            "district": "pudong", "latitude": lat, "longitude": lon, "at": at})

    def result_rows(self, rid: str, org: str, inst: str, values: list[tuple[str, str]]
                    ) -> None:
        for n, (param, value) in enumerate(values, start=1):
            self.results.append({
                "record_id": rid, "seq": n, "institution_id": inst, "org_id": org,
                "parameter": param, "value_text": value, "value": float(value),
                "unit": "mg/kg"})

    def random_results(self) -> list[tuple[str, str]]:
        return [(p, f"{self.rng.uniform(0.1, 99.9):.3f}") for p in PARAMS]

    def flush(self, force: bool = False) -> None:
        if len(self.records) < BATCH and not force:
            return
        self.db.flush()
        for model, rows in ((ReportRecord, self.records), (EvidenceItem, self.items),
                            (EvidenceSampling, self.samplings), (EvidenceResult, self.results)):
            if rows:
                self.db.execute(insert(table(model)), rows)
        self.written += len(self.records)
        self.records, self.items, self.samplings, self.results = [], [], [], []
        self.db.commit()


def build_clean(b: Builder, reports: int) -> int:
    """Labs of Zipf-skewed size; each lab's reports spread over the days with bursts."""
    rng = b.rng
    labs = max(20, reports // 2000)
    weights = [1 / (k + 1) ** 1.1 for k in range(labs)]
    total = sum(weights)
    sizes = [max(10, int(reports * w / total)) for w in weights]
    sizes[0] += reports - sum(sizes)
    day_weights = [3.0 if rng.random() < 0.05 else 1.0 for _ in range(DAYS)]
    made = 0
    for n, size in enumerate(sizes):
        org, inst = b.lab(f"实验室{n:04d}", DISTRICTS[n % len(DISTRICTS)])
        per_day = Counter(rng.choices(range(DAYS), weights=day_weights, k=size))
        peak = max(per_day.values())
        # Registers sized to the lab's busiest day: consistent by construction.
        n_inst = math.ceil(2 * peak / 200) + 1
        tpd = [b.instrument(org, inst, f"EQ-{k:03d}", tpd=200) for k in range(n_inst)]
        fast = b.instrument(org, inst, "EQ-FAST", hpt=0.25)  # one test at a time
        testers = [b.person(org, inst, f"T{k:03d}", ["tester"])
                   for k in range(math.ceil(2 * peak / 20) + 1)]
        samplers = [b.person(org, inst, f"S{k:03d}", ["sampler"])
                    for k in range(math.ceil(peak / 4) + 1)]
        b.person(org, inst, "SIG1", ["signatory"])
        b.db.commit()
        for d in sorted(per_day):
            day = START + timedelta(days=d)
            test_day = day + timedelta(days=1)
            fast_slot = 0
            sampler_slots: Counter[int] = Counter()
            tester_load: Counter[int] = Counter()
            for k in range(per_day[d]):
                sampled = rng.random() < 0.3
                rid = b.record(org, inst, day + timedelta(days=2), received=day,
                               signatory="人员SIG1")
                for seq in (1, 2):
                    t = min(range(len(testers)), key=lambda i: tester_load[i]) \
                        if seq == 1 else (k * 2 + 1) % len(testers)
                    tester_load[t] += 1
                    if fast_slot < 40 and rng.random() < 0.2:
                        start = bj(test_day, 8) + timedelta(minutes=15 * fast_slot)
                        fast_slot += 1
                        b.item(rid, seq, org, inst, fast, testers[t], start, 0.25,
                               param=PARAMS[seq])
                    else:
                        start = bj(test_day, 8) + timedelta(minutes=rng.randrange(600))
                        b.item(rid, seq, org, inst, tpd[(k + seq) % len(tpd)], testers[t],
                               start, 1.0, param=PARAMS[seq])
                if sampled:
                    s = min(range(len(samplers)), key=lambda i: sampler_slots[i])
                    slot = sampler_slots[s]
                    sampler_slots[s] += 1
                    # Slots 2.5 h apart, anywhere in Shanghai (< 90 km): time to travel.
                    at = bj(day, 8) + timedelta(minutes=150 * slot)
                    b.sampling(rid, org, inst, samplers[s], at, rng.uniform(30.9, 31.5),
                               rng.uniform(121.1, 121.8))
                b.result_rows(rid, org, inst, b.random_results())
                made += 1
                b.flush()
    return made


def build_planted(b: Builder, per_rule: int = 5) -> int:
    rng, made = b.rng, 0
    org, inst = b.lab("埋点实验室", "pudong")
    big = b.instrument(org, inst, "EQ-BIG", tpd=10_000)
    testers = [b.person(org, inst, f"PT{k:02d}", ["tester"]) for k in range(40)]
    b.person(org, inst, "PSIG", ["signatory"])
    gone = b.person(org, inst, "GONE", ["tester"], until=date(2026, 3, 31))
    expired = b.instrument(org, inst, "EQ-EXPIRED", tpd=100,
                           calibrated=(date(2025, 1, 1), date(2025, 12, 31)))
    broken = b.instrument(org, inst, "EQ-BROKEN", tpd=100)
    b.db.add(InstrumentEvent(instrument_id=broken, org_id=org, kind="out_of_service",
                             valid_from=date(2026, 5, 1), valid_until=date(2026, 5, 31)))
    single = b.instrument(org, inst, "EQ-SINGLE", hpt=1.0)
    small = b.instrument(org, inst, "EQ-SMALL", tpd=2)
    # The migration's curated editions may hold these already (with the same dates).
    known = set(b.db.scalars(select(StandardEdition.number)))
    for year, number, implemented, withdrawn in (
            (2022, STANDARD, date(2022, 7, 19), None),
            (2011, "GB 4943.1-2011", date(2012, 12, 1), date(2023, 8, 1))):
        if number not in known:
            b.db.add(StandardEdition(std_key="GB 4943.1", year=year, number=number,
                                     implemented_on=implemented, withdrawn_on=withdrawn))
    b.db.commit()
    t = iter(testers * 100)

    def plain(issued: date, **kw: Any) -> str:
        nonlocal made
        made += 1
        return b.record(org, inst, issued, received=issued - timedelta(days=3),
                        signatory="人员PSIG", **kw)

    def day(n: int) -> date:
        return date(2026, 6, 1) + timedelta(days=n)

    for n in range(per_rule):
        d = day(n)
        test = d - timedelta(days=1)
        rid = plain(d)
        b.item(rid, 1, org, inst, expired, next(t), bj(test, 9), 1)
        b.planted["INSTRUMENT_UNCALIBRATED"].add(rid)
        rid = plain(date(2026, 5, 10 + n))
        b.item(rid, 1, org, inst, broken, next(t), bj(date(2026, 5, 9 + n), 9), 1)
        b.planted["INSTRUMENT_OUT_OF_SERVICE"].add(rid)
        rid = plain(d)
        b.item(rid, 1, org, inst, None, next(t), bj(test, 9), 1, ref="EQ-GHOST")
        b.planted["INSTRUMENT_NOT_REGISTERED"].add(rid)
        for k in range(2):  # two overlapping tests on a one-at-a-time instrument
            rid = plain(d)
            b.item(rid, 1, org, inst, single, next(t), bj(test, 9, 30 * k), 1)
            b.planted["INSTRUMENT_OVERLAP"].add(rid)
        for k in range(3):  # three tests on an instrument of two a day
            rid = plain(d)
            b.item(rid, 1, org, inst, small, next(t), bj(test, 9 + k), 1)
        b.planted["INSTRUMENT_OVER_CAPACITY"].add(f"{small}:{test.isoformat()}")
        sampler = b.person(org, inst, f"RUN{n}", ["sampler"])
        for k, (lat, minutes) in enumerate(((31.0, 0), (31.5, 30))):
            rid = plain(d)
            b.sampling(rid, org, inst, sampler, bj(test - timedelta(days=1), 13, minutes),
                       lat, 121.5)
            if k:
                b.planted["STAFF_TRAVEL"].add(rid)
        rid = plain(day(n))
        b.item(rid, 1, org, inst, big, gone, bj(test, 9), 1)
        b.planted["STAFF_NOT_EMPLOYED"].add(rid)
        made += 1
        rid = b.record(org, inst, d, received=d - timedelta(days=3), signatory="冒名者")
        b.item(rid, 1, org, inst, big, next(t), bj(test, 9), 1)
        b.planted["SIGNATORY_INVALID"].add(rid)
        rid = plain(d)
        b.item(rid, 1, org, inst, big, next(t), bj(d, 20), 6)  # ends the day after issue
        b.planted["ISSUED_BEFORE_TESTED"].add(rid)
        made += 1
        rid = b.record(org, inst, d, received=d, signatory="人员PSIG")
        b.item(rid, 1, org, inst, big, next(t), bj(test, 9), 1)
        b.planted["TESTED_BEFORE_RECEIPT"].add(rid)
        rid = plain(d)
        b.item(rid, 1, org, inst, big, next(t), bj(test, 9), 1, standard="GB 4943.1-2011")
        b.planted["STANDARD_NOT_IN_FORCE"].add(rid)
        values = b.random_results()
        first = plain(d)
        b.result_rows(first, org, inst, values)
        copy = plain(d + timedelta(days=1))
        b.result_rows(copy, org, inst, values)
        b.planted["DUPLICATE_RESULTS"].add(copy)
        rid = plain(d, flags=["not_signed_by_issuer"])
        b.planted["NOT_SIGNED_BY_ISSUER"].add(rid)
    b.flush(force=True)
    # Daily volume: a lab of one tester (20 items a day) that started 21 one day.
    vorg, vinst = b.lab("超量实验室", "xuhui")
    vins = b.instrument(vorg, vinst, "EQ-V", tpd=1000)
    only = b.person(vorg, vinst, "V1", ["tester"])
    b.person(vorg, vinst, "VSIG", ["signatory"])
    vday = date(2026, 7, 1)
    rid = b.record(vorg, vinst, vday + timedelta(days=1), received=vday - timedelta(days=1),
                   signatory="人员VSIG")
    for k in range(21):
        b.item(rid, k + 1, vorg, vinst, vins, only, bj(vday, 8) + timedelta(minutes=20 * k),
               0.3)
    made += 1
    b.planted["LAB_DAILY_VOLUME"].add(f"{vinst}:{vday.isoformat()}")
    # Trailing digits: a lab whose results all end in 5.
    dorg, dinst = b.lab("凑数实验室", "minhang")
    b.person(dorg, dinst, "DSIG", ["signatory"])
    for _ in range(30):
        rid = b.record(dorg, dinst, date(2026, 7, 1), signatory="人员DSIG")
        b.result_rows(rid, dorg, dinst,
                      [(p, f"{rng.randrange(10, 99)}.{rng.randrange(10)}5") for p in PARAMS])
        made += 1
    b.planted["TRAILING_DIGITS"].add(dinst)
    # A booking by another organisation while the lab tested on the instrument.
    renter_org, _ = b.lab("租用方", "pudong")
    b.db.add(Booking(instrument_id=single, org_id=renter_org, starts_at=bj(date(2026, 8, 1), 9),
                     ends_at=bj(date(2026, 8, 1), 12), status="confirmed", price_fen=10_000,
                     changed_at=bj(date(2026, 7, 1), 9)))
    rid = plain(date(2026, 8, 3))
    b.item(rid, 1, org, inst, single, next(t), bj(date(2026, 8, 1), 10), 1)
    b.planted["INSTRUMENT_OVERLAP"].add(rid)
    # PT: an unsatisfactory Pb result, then Pb results with no corrective action.
    porg, pinst = b.lab("能力验证不满意实验室", "baoshan")
    b.person(porg, pinst, "PPSIG", ["signatory"])
    scheme = PtScheme(provider_org_id=renter_org, code="BENCH-PT", name_zh="重金属")
    b.db.add(scheme)
    b.db.flush()
    m = PtMeasurand(scheme_id=scheme.id, name="Pb", unit="mg/kg")
    rnd = PtRound(scheme_id=scheme.id, code="2026-1", status="published",
                  deadline=bj(date(2026, 3, 1), 9), published_at=bj(date(2026, 3, 1), 15))
    b.db.add_all([m, rnd])
    b.db.flush()
    rm = PtRoundMeasurand(round_id=rnd.id, measurand_id=m.id)
    part = PtParticipant(round_id=rnd.id, org_id=porg, code="L1", status="accepted",
                         changed_at=bj(date(2026, 3, 1), 9))
    b.db.add_all([rm, part])
    b.db.flush()
    b.db.add(PtResult(round_id=rnd.id, participant_id=part.id, round_measurand_id=rm.id,
                      item="A", reported_value=9, reported_unit="mg/kg", value=9,
                      submitted_at=bj(date(2026, 2, 1), 9), verdict="unsatisfactory"))
    for n in range(per_rule):
        rid = b.record(porg, pinst, date(2026, 3, 10 + n), signatory="人员PPSIG")
        b.result_rows(rid, porg, pinst, [("Pb", "1.234")])
        b.planted["PT_NO_CORRECTION"].add(rid)
        made += 1
    # Prices: eight ordinary offers per standard, one far below.
    for k in range(8):
        o, i = b.lab(f"报价实验室{k}", "jiading")
        b.db.add(ServiceListing(org_id=o, institution_id=i, title="安规", standards=[STANDARD],
                                price_fen=rng.randrange(9_000, 13_000), accredited=True))
    cheap = ServiceListing(org_id=org, institution_id=inst, title="安规", standards=[STANDARD],
                           price_fen=1_500, accredited=True)
    b.db.add(cheap)
    b.db.flush()
    b.planted["PRICE_FAR_BELOW_MEDIAN"].add(f"listing:{cheap.id}:{STANDARD}")
    b.flush(force=True)
    b.db.commit()
    return made


def build(url: str, scale: int, seed: int) -> dict[str, Any]:
    upgrade(url)
    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    b = Builder(db, random.Random(seed))
    t0 = time.perf_counter()
    planted_reports = build_planted(b)
    clean = build_clean(b, scale - planted_reports)
    b.flush(force=True)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    seconds = time.perf_counter() - t0
    db.close()
    engine.dispose()
    return {"clean": clean, "planted_reports": planted_reports,
            "planted": {k: sorted(v) for k, v in b.planted.items()}, "build_s": seconds}


def run_batch(url: str) -> dict[str, Any]:
    """In this process: the batch run; prints its figures and peak RSS as JSON."""
    from tichub.supervision.signals import batch

    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    t0 = time.perf_counter()
    done = batch.run(db)
    seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "records": done.records, "raised": done.raised,
           "figures": done.figures, "peak_rss_mib": peak_rss_mib()}
    db.close()
    engine.dispose()
    return out


def registration_cost(url: str, samples: int, seed: int, per_call: int = 1
                      ) -> dict[str, float]:
    """The time ``incremental.check`` adds to registering one report with evidence (two
    items, a sampling, four results), on the full registry. Each registration is committed,
    as the API commits it (a rollback would also make PostgreSQL's driver forget its
    prepared statements), then deleted, so that each sample sees the same registry."""
    from tichub.supervision.signals import incremental

    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    rng = random.Random(seed)
    lab = db.execute(select(Institution.id, Institution.org_id)
                     .where(Institution.name_zh == "实验室0000")).one()
    instruments = list(db.scalars(select(Instrument.id).where(
        Instrument.institution_id == lab.id)))
    staff = list(db.scalars(select(Staff.id).where(Staff.institution_id == lab.id)))
    times, cpu = [], []
    try:
        for _ in range(samples):
            b = Builder(db, rng)
            ids = []
            for _ in range(per_call):
                day = START + timedelta(days=rng.randrange(DAYS))
                rid = b.record(lab.org_id, lab.id, day + timedelta(days=2), received=day,
                               signatory="人员SIG1")
                ids.append(rid)
                for seq in (1, 2):
                    b.item(rid, seq, lab.org_id, lab.id, rng.choice(instruments),
                           rng.choice(staff), bj(day + timedelta(days=1), 8)
                           + timedelta(minutes=rng.randrange(600)), 1)
                b.sampling(rid, lab.org_id, lab.id, rng.choice(staff), bj(day, 3),
                           rng.uniform(30.9, 31.5), rng.uniform(121.1, 121.8))
                b.result_rows(rid, lab.org_id, lab.id, b.random_results())
            for model, rows in ((ReportRecord, b.records), (EvidenceItem, b.items),
                                (EvidenceSampling, b.samplings), (EvidenceResult, b.results)):
                db.execute(insert(table(model)), rows)
            since = datetime.now(UTC)
            t0, c0 = time.perf_counter(), time.process_time()
            incremental.check(db, ids)
            times.append((time.perf_counter() - t0) / per_call)
            cpu.append((time.process_time() - c0) / per_call)
            db.commit()
            _forget(db, ids, since)  # the registry as it was for the next sample
    finally:
        db.rollback()
        db.close()
    engine.dispose()
    times.sort()
    cpu.sort()
    # CPU time of this process too: on a shared machine the wall clock measures the queue
    # for a core as much as the work (on SQLite the database's work is in this process).
    return {"samples": samples, "median_ms": statistics.median(times) * 1000,
            "p99_ms": times[int(0.99 * (len(times) - 1))] * 1000, "max_ms": times[-1] * 1000,
            "cpu_median_ms": statistics.median(cpu) * 1000,
            "cpu_p99_ms": cpu[int(0.99 * (len(cpu) - 1))] * 1000}


def _forget(db: Session, ids: list[str], since: datetime) -> None:
    """Deletes a timed registration: its records, evidence and the signals it raised."""
    db.execute(delete(Signal).where(Signal.source == "registration",
                                    Signal.created_at >= since))
    for model in (EvidenceResult, EvidenceSampling, EvidenceItem):
        db.execute(delete(model).where(model.record_id.in_(ids)))
    db.execute(delete(ReportRecord).where(ReportRecord.id.in_(ids)))
    db.commit()


def compare(url: str, planted: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    out: dict[str, dict[str, Any]] = {}
    for rule in rules.RULES:
        want = set(planted.get(rule.code, []))
        got = db.execute(select(Signal.subject, Signal.record_id)
                         .where(Signal.code == rule.code)).all()
        keys = {rid or subject for subject, rid in got}
        out[rule.code] = {"planted": len(want), "found": len(want & keys),
                          "false_positives": len(keys - want),
                          "deterministic": rule.deterministic}
    db.close()
    engine.dispose()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=100_000, help="reports in the registry")
    ap.add_argument("--database-url", default="", help="default: a new SQLite file")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--registrations", type=int, default=1000,
                    help="registrations timed for the cost of signals")
    ap.add_argument("--batch-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.batch_only:
        print(json.dumps(run_batch(args.database_url)))
        return 0
    tmp = None
    url = args.database_url
    if not url:
        tmp = tempfile.mkdtemp(prefix="bench-signals-")
        url = f"sqlite:///{tmp}/registry.db"
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; database: {url.split(':')[0]}")
    built = build(url, args.scale, args.seed)
    print(f"built {built['clean'] + built['planted_reports']:,} reports "
          f"({built['planted_reports']} planted) in {built['build_s']:.0f} s; "
          f"build peak RSS {peak_rss_mib():.0f} MiB")
    proc = subprocess.run([sys.executable, __file__, "--batch-only", "--database-url", url],
                          capture_output=True, text=True, check=True)
    ran = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"batch run: {ran['records']:,} records in {ran['seconds']:.1f} s "
          f"({ran['records'] / ran['seconds']:,.0f} records/s, {ran['raised']} signals, "
          f"{ran['raised'] / ran['seconds']:.1f} signals/s); peak RSS "
          f"{ran['peak_rss_mib']:.0f} MiB")
    result = compare(url, built["planted"])
    missed = 0
    print(f"{'rule':<28}{'planted':>8}{'found':>7}{'false +':>9}{'seconds':>9}")
    for code, r in result.items():
        secs = ran["figures"].get(code, {}).get("seconds", 0)
        print(f"{code:<28}{r['planted']:>8}{r['found']:>7}{r['false_positives']:>9}"
              f"{secs:>9.2f}{'' if r['deterministic'] else '  (statistical)'}")
        missed += r["planted"] - r["found"]
    fp = sum(r["false_positives"] for r in result.values() if r["deterministic"])
    cost = registration_cost(url, args.registrations, args.seed)
    batched = registration_cost(url, max(10, args.registrations // 50), args.seed, 100)
    print(f"registration in calls of 100 records: signals add per record median "
          f"{batched['median_ms']:.2f} ms, p99 {batched['p99_ms']:.2f} ms wall; CPU median "
          f"{batched['cpu_median_ms']:.2f} ms, p99 {batched['cpu_p99_ms']:.2f} ms")
    print(f"registration of one record: signals add median {cost['median_ms']:.2f} ms, "
          f"p99 {cost['p99_ms']:.2f} ms, max {cost['max_ms']:.2f} ms wall; CPU of this "
          f"process median {cost['cpu_median_ms']:.2f} ms, p99 {cost['cpu_p99_ms']:.2f} ms "
          f"({cost['samples']} registrations; load average {os.getloadavg()[0]:.1f})")
    print(f"missed planted: {missed}; false positives of deterministic rules: {fp}")
    return 1 if missed or fp else 0


if __name__ == "__main__":
    raise SystemExit(main())
