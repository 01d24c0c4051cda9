"""Demo reports: the demo lab registers test reports through the real use case (every check
at registration applies), withdraws one and amends another, and the log integrates them,
so that /verify and `tichub verify` have something to show. Numbers are deterministic;
salts and times are not (the log's own)."""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.ids import today
from tichub.core.models import OrgKind, Role, User
from tichub.demo.evidence import DemoLabEvidence
from tichub.registry import service as registry
from tichub.registry.models import Institution, Qualification, QualificationStatus, ScopeLine
from tichub.registry.schemas import InstitutionPatch, SignatoryIn
from tichub.reports import service as reports
from tichub.reports.schemas import RecordIn

DEMO_LAB_EMAIL = "lab@demo.tichub.cn"
SIGNATORIES = [("张明", "技术负责人"), ("李静", "授权签字人")]
CLIENTS = ["上海示例储能科技有限公司（演示）", "上海浦江电子有限公司（演示）",
           "上海临港新能源汽车零部件有限公司（演示）"]
MARK = {"cnas": "CNAS", "cma": "CMA"}


def number(i: int) -> str:
    return f"DEMO-2026-{i:05d}"


def seed_reports(db: Session, log: reports.Log, count: int = 60, seed: int = 2027) -> int:
    """Registers ``count`` demo reports of the demo lab; returns the log's size."""
    user = db.scalar(select(User).where(User.email == DEMO_LAB_EMAIL))
    if user is None or not user.memberships:
        return 0
    org_id = user.memberships[0].org_id
    inst = db.scalar(select(Institution).where(Institution.org_id == org_id))
    if inst is None:
        return 0
    on = today()
    quals = [q for q in inst.qualifications if q.kind.value in MARK
             and q.effective_status(on) is QualificationStatus.valid]
    if not quals:
        return 0
    # The seeder acts as the demo lab's admin, through the ordinary checks.
    lab = Principal(user_id=user.id, email=user.email, roles={org_id: Role.admin},
                    kinds={org_id: OrgKind.lab})
    # How clients reach the demo lab, shown on its directory page.
    registry.update_institution(db, lab, inst.id, InstitutionPatch(
        phone="021-5080 1234", email="service@demo.tichub.cn",
        website="https://demo.tichub.cn/lab"))
    for name, title in SIGNATORIES:
        registry.add_signatory(db, lab, inst.id, SignatoryIn(
            name=name, title=title, authorised_from=date(2020, 1, 1)))
    rng = random.Random(seed)
    # Evidence of its own random stream: the reports' other fields stay what they were.
    plan = DemoLabEvidence(inst, seed)
    records = []
    for i in range(1, count + 1):
        q = rng.choice(quals)
        lines = list(db.scalars(select(ScopeLine).where(ScopeLine.qualification_id == q.id)
                                .order_by(ScopeLine.line_no).limit(40)))
        line = rng.choice(lines)
        records.append(_with_evidence(_record(inst.id, i, q, line, rng, on), i, line, plan))
    reports.register(db, lab, log, records)
    # A withdrawal, and an amendment replacing a report with a corrected one.
    first_line = db.scalars(select(ScopeLine).where(
        ScopeLine.qualification_id == quals[0].id).limit(1)).one()
    reports.register(db, lab, log, [
        RecordIn(number=number(3), kind="test_report", event="withdrawn",
                 institution_id=inst.id, reason="样品信息登记错误（演示）"),
        _with_evidence(_record(inst.id, count + 1, quals[0], first_line, rng, on), count + 1,
                       first_line, plan)])
    reports.register(db, lab, log, [RecordIn(
        number=number(5), kind="test_report", event="amended", institution_id=inst.id,
        replacement=number(count + 1), reason="更正检测结果单位（演示）")])
    return reports.integrate_all(db, log)


def _with_evidence(record: RecordIn, i: int, line: ScopeLine,
                   plan: DemoLabEvidence) -> RecordIn:
    """The report with the evidence behind it, bound into its commitment at registration."""
    assert record.sample_received_on and record.tested_from and record.tested_to
    return record.model_copy(update={"evidence": plan.for_report(
        i, line.parameter, line.standard, record.sample_received_on, record.tested_from,
        record.tested_to)})


def _record(inst_id: str, i: int, q: Qualification, line: ScopeLine, rng: random.Random,
            on: date) -> RecordIn:
    first = max(q.issued_on or date(2026, 1, 1), date(2026, 1, 1))
    last = min(on, q.valid_until)
    issued = first + timedelta(days=rng.randrange(max(1, (last - first).days)))
    received = issued - timedelta(days=rng.randrange(5, 15))
    return RecordIn(
        number=number(i), kind="test_report", institution_id=inst_id,
        client=rng.choice(CLIENTS), product=line.product, sample=f"样品 S-{i:05d}",
        standards=[line.standard], sample_received_on=received,
        tested_from=received + timedelta(days=1), tested_to=issued - timedelta(days=1),
        issued_on=issued, signatories=[rng.choice(SIGNATORIES)[0]],
        conclusion=rng.choice(["合格", "合格", "合格", "不合格"]),
        marks=[MARK[q.kind.value]],
        pdf_sha256=hashlib.sha256(f"demo report {number(i)}".encode()).hexdigest())
