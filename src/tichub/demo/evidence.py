"""Demo evidence (issue 15): the demo lab's reports carry consistent evidence, and three other
demo labs register reports whose evidence plants one irregularity of each kind the signal
rules look for, so that signals, tiers, a draw and a sanction can be shown at once.

The demo lab's evidence is made while its reports are registered (``demo/reports.py`` asks
``DemoLabEvidence`` for each; the commitment must cover it from the start) and names its
registers by their codes: instruments ``EQ-001`` … ``EQ-008``, testers ``ST-003`` …
``ST-006``, samplers ``ST-007`` … ``ST-010``. ``seed_evidence`` then links those references
to the register rows ``seed_registers`` made, whichever of the two ran first.

The other labs' registers are made here directly through the ORM models (the registers'
services belong to another part of the work); each lab's records are otherwise clean, so a
rule that fires on them fires for the planted reason.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.ids import today
from tichub.core.models import Organisation, OrgKind, Role, User
from tichub.market.models import Instrument, InstrumentEvent, InstrumentEventKind
from tichub.registry import service as registry
from tichub.registry.models import Institution, InstitutionKind, Staff, StandardEdition
from tichub.registry.schemas import SignatoryIn
from tichub.reports import service as reports
from tichub.reports.evidence import service as evidence
from tichub.reports.evidence.schemas import EvidenceIn, ItemIn, ResultIn, SamplingIn
from tichub.reports.note import Signer
from tichub.reports.schemas import RecordIn

BEIJING = ZoneInfo("Asia/Shanghai")
DEMO_LAB_EMAIL = "lab@demo.tichub.cn"
INSTRUMENTS = tuple(f"EQ-{n:03d}" for n in range(1, 9))
TESTERS = tuple(f"ST-{n:03d}" for n in range(3, 7))
SAMPLERS = tuple(f"ST-{n:03d}" for n in range(7, 11))
# What a battery or electronics lab measures beside the scope line's own parameter.
EXTRA_PARAMETERS = ("外观检查", "标志和说明", "尺寸测量", "质量测定")
MEASURES = (("开路电压", "V", 3.0, 4.3, 3), ("内阻", "mΩ", 8.0, 60.0, 2),
            ("额定容量", "mAh", 1800.0, 5200.0, 0), ("温升", "K", 5.0, 40.0, 1),
            ("绝缘电阻", "MΩ", 50.0, 900.0, 1), ("泄漏电流", "mA", 0.01, 0.75, 3))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock time, as evidence records it."""
    return datetime.combine(day, time(hour, minute), BEIJING)


def _results(rng: random.Random, count: int) -> list[ResultIn]:
    """Measured values with their reported precision; every last digit equally likely, so a
    lab's digits pass the trailing-digit test, and no two reports share a vector."""
    out = []
    for name, unit, low, high, places in rng.sample(MEASURES, count):
        value = rng.uniform(low, high)
        out.append(ResultIn(parameter=name, value=f"{value:.{places + 1}f}", unit=unit))
    return out


@dataclass
class DemoLabEvidence:
    """Plans the demo lab's evidence report by report, keeping every instrument to one item
    a day, every sampler to one sampling a day and every tester to two items a day: no
    overlap, no travel, no volume the registers could not carry."""

    institution: Institution
    seed: int
    instrument_days: set[tuple[str, date]] = field(default_factory=set)
    sampler_days: set[tuple[str, date]] = field(default_factory=set)
    tester_days: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))

    def for_report(self, i: int, parameter: str, standard: str, received: date,
                   tested_from: date, tested_to: date) -> EvidenceIn:
        rng = random.Random(self.seed * 1009 + i)
        inst = self.institution
        lat, lon = inst.latitude or 31.2, inst.longitude or 121.5
        samplings = []
        sampler = next((s for s in rng.sample(SAMPLERS, len(SAMPLERS))
                        if (s, received) not in self.sampler_days), None)
        if sampler is not None:
            self.sampler_days.add((sampler, received))
            samplings.append(SamplingIn(
                what=f"样品 S-{i:05d}", sampler=sampler, district=inst.district,
                latitude=round(lat + rng.uniform(-0.03, 0.03), 5),
                longitude=round(lon + rng.uniform(-0.03, 0.03), 5),
                at=at(received, 9, rng.randrange(0, 50))))
        items = []
        days = [tested_from + timedelta(days=d) for d in range((tested_to - tested_from).days + 1)]
        names = [parameter, *rng.sample(EXTRA_PARAMETERS, rng.randrange(1, 3))]
        for name in names:
            for day in days:
                instrument = next((e for e in rng.sample(INSTRUMENTS, len(INSTRUMENTS))
                                   if (e, day) not in self.instrument_days), None)
                tester = next((t for t in rng.sample(TESTERS, len(TESTERS))
                               if self.tester_days[(t, day)] < 2), None)
                if instrument is None or tester is None:
                    continue
                start = at(day, 9 + 2 * self.tester_days[(tester, day)], rng.randrange(0, 30))
                self.instrument_days.add((instrument, day))
                self.tester_days[(tester, day)] += 1
                items.append(ItemIn(parameter=name, standard=standard, instrument=instrument,
                                    tester=tester, started_at=start,
                                    ended_at=start + timedelta(minutes=rng.randrange(40, 90))))
                break
        return EvidenceIn(items=items, samplings=samplings, results=_results(rng, 3))


# --- planted irregularities ------------------------------------------------------------------

@dataclass
class _Lab:
    inst: Institution
    principal: Principal
    prefix: str
    numbers: int = 0

    def number(self) -> str:
        self.numbers += 1
        return f"{self.prefix}-2026-{self.numbers:04d}"


def _lab(db: Session, inst: Institution, prefix: str) -> _Lab:
    # As one of the lab's own users if it has any, else as the command line acts (an operator).
    user = db.scalar(select(User).where(User.memberships.any(org_id=inst.org_id)).limit(1))
    if user is not None:
        principal = Principal(user_id=user.id, email=user.email,
                              roles={inst.org_id: Role.admin}, kinds={inst.org_id: OrgKind.lab})
    else:
        principal = Principal(user_id="cli", roles={"cli": Role.admin},
                              kinds={"cli": OrgKind.operator})
    return _Lab(inst, principal, prefix)


def _instrument(db: Session, lab: _Lab, asset: str, name: str, *, calibrated: tuple[date, date],
                tests_per_day: int | None = None, hours_per_test: float | None = None,
                out_of_service: tuple[date, date] | None = None) -> Instrument:
    row = Instrument(org_id=lab.inst.org_id, institution_id=lab.inst.id, asset_no=asset,
                     name=name, kind=name, shared=False, district=lab.inst.district,
                     tests_per_day=tests_per_day, hours_per_test=hours_per_test,
                     calibrated_on=calibrated[0], calibration_due=calibrated[1], active=True)
    db.add(row)
    db.flush()
    db.add(InstrumentEvent(instrument_id=row.id, org_id=lab.inst.org_id,
                           kind=InstrumentEventKind.calibration, valid_from=calibrated[0],
                           valid_until=calibrated[1], certificate_no=f"JZ{asset}",
                           performed_by="上海市计量测试技术研究院（演示）"))
    if out_of_service is not None:
        db.add(InstrumentEvent(instrument_id=row.id, org_id=lab.inst.org_id,
                               kind=InstrumentEventKind.out_of_service,
                               valid_from=out_of_service[0], valid_until=out_of_service[1],
                               note="送修（演示）"))
    return row


def _staff(db: Session, lab: _Lab, staff_no: str, name: str, roles: list[str],
           employed: tuple[date, date | None] = (date(2019, 3, 1), None)) -> Staff:
    row = Staff(institution_id=lab.inst.id, org_id=lab.inst.org_id, staff_no=staff_no, name=name,
                roles=roles, employed_from=employed[0], employed_until=employed[1],
                authorised_from=employed[0] if "signatory" in roles else None)
    db.add(row)
    return row


def _record(lab: _Lab, *, received: date, tested: tuple[date, date], issued: date,
            items: Sequence[ItemIn], samplings: Sequence[SamplingIn] = (),
            results: Sequence[ResultIn] = (), signatories: Sequence[str] = (),
            standard: str = "GB 31241-2022", sample: str = "") -> RecordIn:
    number = lab.number()
    return RecordIn(number=number, kind="test_report", institution_id=lab.inst.id,
                    client="上海示例电子有限公司（演示）", product="锂离子电池组（演示）",
                    sample=sample or f"样品 {number}", standards=[standard],
                    sample_received_on=received, tested_from=tested[0], tested_to=tested[1],
                    issued_on=issued, signatories=list(signatories), conclusion="合格",
                    evidence=EvidenceIn(items=list(items), samplings=list(samplings),
                                        results=list(results)))


def _item(parameter: str, instrument: str, tester: str, start: datetime, minutes: int = 60,
          standard: str = "GB 31241-2022") -> ItemIn:
    return ItemIn(parameter=parameter, standard=standard, instrument=instrument, tester=tester,
                  started_at=start, ended_at=start + timedelta(minutes=minutes))


def _sampling(sampler: str, district: str, lat: float, lon: float, moment: datetime,
              what: str = "锂离子电池组") -> SamplingIn:
    return SamplingIn(what=what, sampler=sampler, district=district, latitude=lat, longitude=lon,
                      at=moment)


Planted = dict[str, dict[str, Any]]


def _plant(planted: Planted, code: str, lab: _Lab, *records: RecordIn) -> None:
    planted[code] = {"institution_id": lab.inst.id, "numbers": [r.number for r in records]}


def _instrument_lab(db: Session, lab: _Lab, base: date, rng: random.Random,
                    planted: Planted) -> list[RecordIn]:
    """Instruments: out of calibration, out of service, not registered, two tests at once on
    a one-at-a-time instrument, more tests in a day than its capacity."""
    year = (base - timedelta(days=300), base + timedelta(days=60))
    _instrument(db, lab, "A-EQ-01", "电池充放电测试系统", calibrated=(
        base - timedelta(days=400), base - timedelta(days=35)), tests_per_day=8)
    _instrument(db, lab, "A-EQ-02", "高低温试验箱", calibrated=year, tests_per_day=4,
                out_of_service=(base - timedelta(days=25), base - timedelta(days=15)))
    _instrument(db, lab, "A-EQ-03", "短路试验装置", calibrated=year, hours_per_test=2.0)
    _instrument(db, lab, "A-EQ-04", "挤压试验机", calibrated=year, tests_per_day=2)
    _instrument(db, lab, "A-EQ-05", "数字万用表", calibrated=year, tests_per_day=40)
    _staff(db, lab, "A-ST-01", "周强（演示）", ["tester"])
    _staff(db, lab, "A-ST-02", "吴敏（演示）", ["tester", "sampler"])
    db.flush()
    out = []

    def report(day: date, items: list[ItemIn]) -> RecordIn:
        rec = _record(lab, received=day - timedelta(days=1), tested=(day, day),
                      issued=day + timedelta(days=1), items=items,
                      results=_results(rng, 3))
        out.append(rec)
        return rec

    d = base - timedelta(days=30)
    _plant(planted, "INSTRUMENT_UNCALIBRATED", lab, report(d, [
        _item("循环寿命", "A-EQ-01", "A-ST-01", at(d, 9))]))
    d = base - timedelta(days=20)
    _plant(planted, "INSTRUMENT_OUT_OF_SERVICE", lab, report(d, [
        _item("高温储存", "A-EQ-02", "A-ST-01", at(d, 9), 120)]))
    d = base - timedelta(days=18)
    _plant(planted, "INSTRUMENT_NOT_REGISTERED", lab, report(d, [
        _item("过充电保护", "A-EQ-99", "A-ST-02", at(d, 9))]))
    d = base - timedelta(days=12)
    first = report(d, [_item("外部短路", "A-EQ-03", "A-ST-01", at(d, 9), 120)])
    second = report(d, [_item("外部短路", "A-EQ-03", "A-ST-02", at(d, 10), 120)])
    _plant(planted, "INSTRUMENT_OVERLAP", lab, first, second)
    d = base - timedelta(days=8)
    _plant(planted, "INSTRUMENT_OVER_CAPACITY", lab, report(d, [
        _item("挤压", "A-EQ-04", "A-ST-01", at(d, 9)),
        _item("挤压", "A-EQ-04", "A-ST-01", at(d, 10, 30)),
        _item("挤压", "A-EQ-04", "A-ST-02", at(d, 13, 30))]))
    # Clean ones beside them.
    for k in range(4):
        d = base - timedelta(days=40 + 3 * k)
        report(d, [_item("开路电压", "A-EQ-05", "A-ST-02", at(d, 14))])
    return out


def _people_lab(db: Session, lab: _Lab, base: date, rng: random.Random,
                planted: Planted) -> tuple[list[RecordIn], str]:
    """People and dates: one sampler in two far places 65 minutes apart, a tester after the
    end of their employment, issued before testing ended, tested before the sample came, a
    withdrawn standard. Returns the records and the signatory to retire afterwards."""
    year = (base - timedelta(days=300), base + timedelta(days=60))
    _instrument(db, lab, "B-EQ-01", "电池测试系统", calibrated=year, tests_per_day=20)
    _instrument(db, lab, "B-EQ-02", "安规综合测试仪", calibrated=year, tests_per_day=20)
    _staff(db, lab, "B-ST-01", "郑洁（演示）", ["tester"])
    _staff(db, lab, "B-ST-02", "冯涛（演示）", ["tester"], employed=(
        date(2018, 5, 1), base - timedelta(days=60)))
    _staff(db, lab, "B-ST-03", "陈晨（演示）", ["sampler"])
    _staff(db, lab, "B-ST-04", "孙伟（演示）", ["signatory"])
    db.flush()
    out = []

    def report(received: date, day: date, items: list[ItemIn], issued: date | None = None,
               samplings: Sequence[SamplingIn] = (), signatories: Sequence[str] = (),
               standard: str = "GB 31241-2022") -> RecordIn:
        rec = _record(lab, received=received, tested=(day, day),
                      issued=issued or day + timedelta(days=1), items=items,
                      samplings=samplings, results=_results(rng, 3), signatories=signatories,
                      standard=standard)
        out.append(rec)
        return rec

    d = base - timedelta(days=28)
    # Chongming at 13:00, Jinshan at 14:05: about 98 km in 65 minutes.
    north = report(d, d + timedelta(days=1), [
        _item("开路电压", "B-EQ-01", "B-ST-01", at(d + timedelta(days=1), 9))],
        samplings=[_sampling("B-ST-03", "chongming", 31.62300, 121.39700, at(d, 13),
                             "地表水")])
    south = report(d, d + timedelta(days=1), [
        _item("开路电压", "B-EQ-01", "B-ST-01", at(d + timedelta(days=1), 11))],
        samplings=[_sampling("B-ST-03", "jinshan", 30.74200, 121.34100, at(d, 14, 5),
                             "环境空气")])
    _plant(planted, "STAFF_TRAVEL", lab, north, south)
    d = base - timedelta(days=30)
    _plant(planted, "STAFF_NOT_EMPLOYED", lab, report(d - timedelta(days=1), d, [
        _item("绝缘电阻", "B-EQ-02", "B-ST-02", at(d, 9))]))
    d = base - timedelta(days=24)
    # The record says testing ended the day it was issued; the evidence ends a day later.
    _plant(planted, "ISSUED_BEFORE_TESTED", lab, report(d - timedelta(days=1), d, [
        _item("耐压", "B-EQ-02", "B-ST-01", at(d + timedelta(days=1), 9))], issued=d))
    d = base - timedelta(days=20)
    _plant(planted, "TESTED_BEFORE_RECEIPT", lab, report(d, d, [
        _item("外观检查", "B-EQ-01", "B-ST-01", at(d - timedelta(days=2), 15))]))
    d = base - timedelta(days=16)
    _plant(planted, "STANDARD_NOT_IN_FORCE", lab, report(d - timedelta(days=1), d, [
        _item("接触电流", "B-EQ-02", "B-ST-01", at(d, 9), standard="GB 4943.1-2011")],
        standard="GB 4943.1-2011"))
    d = base - timedelta(days=14)
    signed = report(d - timedelta(days=1), d, [
        _item("开路电压", "B-EQ-01", "B-ST-01", at(d, 14))], signatories=["孙伟（演示）"])
    _plant(planted, "SIGNATORY_INVALID", lab, signed)
    for k in range(4):
        d = base - timedelta(days=45 + 3 * k)
        report(d - timedelta(days=1), d, [_item("开路电压", "B-EQ-01", "B-ST-01", at(d, 9))])
    return out, "孙伟（演示）"


def _results_lab(db: Session, lab: _Lab, base: date, rng: random.Random,
                 planted: Planted) -> list[RecordIn]:
    """Results and volume: the same result vector on two different samples, last digits far
    from chance, more items in a day than the lab's testers could do."""
    year = (base - timedelta(days=300), base + timedelta(days=60))
    _instrument(db, lab, "C-EQ-01", "电感耦合等离子体质谱仪", calibrated=year, tests_per_day=50)
    _instrument(db, lab, "C-EQ-02", "原子吸收光谱仪", calibrated=year, tests_per_day=50)
    _staff(db, lab, "C-ST-01", "何磊（演示）", ["tester"])
    db.flush()
    out = []

    def report(day: date, items: list[ItemIn], results: list[ResultIn],
               sample: str = "") -> RecordIn:
        rec = _record(lab, received=day - timedelta(days=1), tested=(day, day),
                      issued=day + timedelta(days=1), items=items, results=results,
                      standard="GB 5009.12-2017", sample=sample)
        out.append(rec)
        return rec

    same = [ResultIn(parameter="铅", value="0.0412", unit="mg/kg"),
            ResultIn(parameter="镉", value="0.0087", unit="mg/kg"),
            ResultIn(parameter="总砷", value="0.115", unit="mg/kg"),
            ResultIn(parameter="总汞", value="0.0031", unit="mg/kg")]
    d = base - timedelta(days=26)
    a = report(d, [_item("铅", "C-EQ-01", "C-ST-01", at(d, 9), standard="GB 5009.12-2017")],
               same, sample="大米 批号 A-0311")
    d = base - timedelta(days=19)
    b = report(d, [_item("铅", "C-EQ-01", "C-ST-01", at(d, 9), standard="GB 5009.12-2017")],
               same, sample="大米 批号 B-0517")
    _plant(planted, "DUPLICATE_RESULTS", lab, a, b)
    # 60 values with three significant digits, every one ending in 5.
    fives = [report(base - timedelta(days=50 + k), [_item(
        "铅", "C-EQ-02", "C-ST-01", at(base - timedelta(days=50 + k), 10),
        standard="GB 5009.12-2017")], [ResultIn(
            parameter=p, value=f"0.{rng.randrange(10, 99)}5", unit="mg/kg")
            for p in ("铅", "镉", "铬", "镍", "铜", "锌")]) for k in range(10)]
    _plant(planted, "TRAILING_DIGITS", lab, *fives)
    # 25 items in a day by the lab's one tester: 20 a day is what a tester can do.
    d = base - timedelta(days=10)
    busy = [report(d, [_item("铅", f"C-EQ-0{1 + k % 2}", "C-ST-01",
                             at(d, 8) + timedelta(minutes=20 * k), 15,
                             standard="GB 5009.12-2017")], [])
            for k in range(25)]
    _plant(planted, "LAB_DAILY_VOLUME", lab, *busy)
    return out


def _edition(db: Session) -> None:
    """The withdrawn edition the planted report names, unless the curated list has it."""
    if db.scalar(select(StandardEdition.id).where(StandardEdition.std_key == "GB 4943.1",
                                                  StandardEdition.year == 2011)) is None:
        db.add(StandardEdition(std_key="GB 4943.1", year=2011, number="GB 4943.1-2011",
                               title="信息技术设备 安全 第1部分：通用要求",
                               published_on=date(2011, 12, 30),
                               implemented_on=date(2012, 12, 1),
                               withdrawn_on=date(2023, 8, 1), replaced_by="GB 4943.1-2022",
                               source="demo: replaced by GB 4943.1-2022 on 2023-08-01"))


def _other_labs(db: Session, demo_org: str | None) -> list[Institution]:
    """Three demo labs of three districts, none the demo lab."""
    found: list[Institution] = []
    for inst in db.scalars(select(Institution).join(
            Organisation, Organisation.id == Institution.org_id)
            .where(Institution.kind == InstitutionKind.lab,
                   Organisation.kind == OrgKind.lab).order_by(Institution.seq)):
        if inst.org_id == demo_org or any(inst.district == f.district or inst.org_id == f.org_id
                                          for f in found):
            continue
        found.append(inst)
        if len(found) == 3:
            break
    return found


def seed_evidence(db: Session, log: reports.Log, seed: int = 2027) -> Planted:
    """Links the demo lab's evidence to its registers, and plants one irregularity of each
    kind in three other demo labs' reports. Returns, for each rule code, the institution and
    the report numbers that carry it (the daily-volume and trailing-digit rules judge the
    institution, the others a report)."""
    demo_org = db.scalar(select(User).where(User.email == DEMO_LAB_EMAIL))
    demo_org_id = demo_org.memberships[0].org_id if demo_org and demo_org.memberships else None
    if demo_org_id is not None:
        for inst_id in db.scalars(select(Institution.id).where(Institution.org_id == demo_org_id)):
            evidence.relink(db, inst_id)
        db.commit()
    labs = _other_labs(db, demo_org_id)
    if len(labs) < 3:
        return {}
    rng = random.Random(seed * 7 + 15)
    base = today() - timedelta(days=20)
    planted: Planted = {}
    _edition(db)
    a, b, c = (_lab(db, inst, prefix) for inst, prefix in zip(labs, ("DJA", "DJB", "DJC"),
                                                              strict=True))
    reports.register(db, a.principal, log, _instrument_lab(db, a, base, rng, planted))
    records, signatory = _people_lab(db, b, base, rng, planted)
    # Registered while the signatory still held the role (as the lab's system would check);
    # the register then records that they had left a month before the report was issued.
    registry.add_signatory(db, b.principal, b.inst.id, SignatoryIn(
        name=signatory, title="授权签字人", authorised_from=date(2019, 3, 1)))
    reports.register(db, b.principal, log, records)
    issued = next(r.issued_on for r in records if r.signatories)
    assert issued is not None
    for row in db.scalars(select(Staff).where(Staff.institution_id == b.inst.id,
                                              Staff.name == signatory)):
        row.employed_until = issued - timedelta(days=30)
        row.authorised_until = issued - timedelta(days=30)
    db.commit()
    reports.register(db, c.principal, log, _results_lab(db, c, base, rng, planted))
    # An issuer key, then a record without its signature.
    signer = Signer.generate(f"demo-issuer-{c.inst.seq}")
    reports.add_issuer_key(db, c.principal, c.inst.org_id, signer.verifier().encode())
    d = base - timedelta(days=5)
    unsigned = _record(c, received=d - timedelta(days=1), tested=(d, d), issued=d + timedelta(
        days=1), items=[_item("镉", "C-EQ-02", "C-ST-01", at(d, 9), standard="GB 5009.12-2017")],
        results=_results(rng, 3), standard="GB 5009.12-2017")
    reports.register(db, c.principal, log, [unsigned])
    _plant(planted, "NOT_SIGNED_BY_ISSUER", c, unsigned)
    reports.integrate_all(db, log)
    return planted
