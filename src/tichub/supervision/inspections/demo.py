"""Demo data for double-random inspections and sanctions: the regulator's inspectors (one
with a declared conflict), a plan frozen, drawn from the log's next checkpoint, inspected and
published, and a sanction that revokes one of the demo lab's reports as false, so that
/supervision, /supervision/plans/{id} and /verify show them at once. Run it after the credit
tiers are seeded (the freeze reads them) and after the demo lab's reports are in the log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from tichub.core.ids import today
from tichub.demo.acting import acting
from tichub.registry import service as registry
from tichub.reports import service as reports
from tichub.supervision.inspections import service
from tichub.supervision.inspections.schemas import (
    ConflictIn,
    ConflictReason,
    FindingIn,
    InspectorIn,
    ItemIn,
    PlanIn,
)
from tichub.supervision.models import FindingOutcome, PlanStatus
from tichub.supervision.sanctions import service as sanctions
from tichub.supervision.sanctions.schemas import SanctionIn

INSPECTORS = ["王建国", "陈晓燕", "刘志强", "赵敏", "孙立新", "周文静"]
ITEMS = [("1", "资质认定证书、能力范围与标志使用"), ("2", "检验检测原始记录与报告一致性"),
         ("3", "仪器设备检定校准与期间核查"), ("4", "授权签字人及人员能力")]
# A small share of the city, so that every drawn inspection can be closed in the demo.
DEMO_SHARES = {"A": 0.0, "B": 0.02, "C": 0.1, "D": 1.0}


def seed_inspections(db: Session, log: reports.Log, *,
                     regulator_email: str = "regulator@demo.tichub.cn",
                     lab_email: str = "lab@demo.tichub.cn") -> dict[str, Any]:
    """Seeds as the demo regulator (through the ordinary checks); returns what it made, or
    an empty dict when the data set has no regulator."""
    found = acting(db, regulator_email)
    if found is None:
        return {}
    principal, bureau = found
    lab = acting(db, lab_email)
    lab_institutions = registry.list_own_institutions(db, lab[0]) if lab else []
    conflict = [ConflictIn(institution_id=lab_institutions[0].id,
                           reason=ConflictReason.former_employer,
                           until=today() + timedelta(days=365))] if lab_institutions else []
    for k, name in enumerate(INSPECTORS):
        service.create_inspector(db, principal, InspectorIn(
            bureau_org_id=bureau, name=name, conflicts=conflict if k == 0 else []))
    plan = service.create_plan(db, principal, PlanIn(
        bureau_org_id=bureau, title="2026年第四季度检验检测机构“双随机、一公开”抽查（演示）",
        items=[ItemIn(code=c, description=d) for c, d in ITEMS], tier_shares=DEMO_SHARES))
    service.freeze_plan(db, principal, plan.id)

    # The sanction revokes a report in the log: the log grows and signs the checkpoint
    # that seeds the draw (on a working platform, any registration does).
    sanction_id = None
    false_number = None
    if lab:
        docs, _ = reports.own_documents(db, lab[0], limit=20)
        valid = [d.record for d in docs if d.status == "valid"]
        if valid:
            target = valid[-1]
            false_number = target.number
            sanction = sanctions.record_sanction(db, principal, log, SanctionIn(
                institution_id=target.institution_id, bureau_org_id=bureau, kind="warning",
                decision_no="沪市监检处〔2026〕18号（演示）", decided_on=today(),
                reason="未按标准规定实施检测即出具检验检测报告（演示）",
                basis="order39_art14", false_numbers=[target.number]))
            sanction_id = sanction.id
    reports.integrate_all(db, log)
    try:
        drawn = service.draw_plan(db, principal, plan.id)
    except service.NotYet:
        db.rollback()
        return {"plan_id": plan.id, "status": "frozen", "sanction_id": sanction_id}

    inspections = service.plan_inspections(db, drawn)
    for n, inspection in enumerate(inspections):
        for code, _ in ITEMS:
            outcome = FindingOutcome.compliant
            if n == 0 and code == "2":
                outcome = FindingOutcome.minor
            service.record_finding(db, principal, inspection.id, FindingIn(
                item=code, outcome=outcome,
                note="原始记录缺少环境条件记录（演示）" if outcome is FindingOutcome.minor
                else "现场核查未见异常（演示）"))
        service.finish_inspection(db, principal, inspection.id, "现场检查完成（演示）")
    db.refresh(drawn)
    if drawn.status is PlanStatus.completed:
        service.publish_plan(db, principal, drawn.id)
    return {"plan_id": drawn.id, "status": drawn.status.value,
            "inspections": len(inspections), "sanction_id": sanction_id,
            "false_number": false_number}
