"""Demo applications: a provisional qualification on commitment with its check due in about
two months (the demo lab), one whose check is overdue (the demo certification body), and a
general-route application waiting for the bureau (another lab)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.ids import today
from tichub.core.models import Role
from tichub.demo.acting import acting
from tichub.registry.models import Institution, Qualification, QualificationKind, ScopeLine
from tichub.registry.schemas import ScopeLineIn
from tichub.supervision.approval import service
from tichub.supervision.approval.schemas import ApplicationIn, Conditions, KeyInstrument
from tichub.supervision.models import (
    ApplicationKind,
    ApplicationRoute,
    QualificationApplication,
)

DEMO_SCOPE = [("GB 4943.1-2022", "信息技术设备", "电气强度", "5.4.9"),
              ("GB 4943.1-2022", "信息技术设备", "接触电流", "5.7"),
              ("GB/T 24067-2024", "温室气体 产品碳足迹", "碳足迹量化", "")]


def _first_institution(db: Session, org_id: str) -> Institution | None:
    return db.scalar(select(Institution).where(Institution.org_id == org_id)
                     .order_by(Institution.seq).limit(1))


def _cma(db: Session, inst: Institution) -> Qualification | None:
    return db.scalar(select(Qualification).where(
        Qualification.institution_id == inst.id, Qualification.kind == QualificationKind.cma)
        .order_by(Qualification.number).limit(1))


def _fresh_scope(db: Session, inst: Institution) -> list[ScopeLineIn]:
    """Demo lines the institution does not hold yet (added parameters must add some)."""
    held = set(db.scalars(select(ScopeLine.parameter).where(
        ScopeLine.institution_id == inst.id)))
    return [ScopeLineIn(standard=s, product=p, parameter=par, method_clause=c or None)
            for s, p, par, c in DEMO_SCOPE if par not in held] or [
        ScopeLineIn(standard="GB/T 24067-2024", product="温室气体 产品碳足迹",
                    parameter="碳足迹核查（演示）")]


def _conditions(inst: Institution, staff: int, scope: list[ScopeLineIn]) -> Conditions:
    return Conditions(site_address=inst.address or "上海市（演示地址）", staff_count=staff,
                      key_instruments=[KeyInstrument(name="耐压测试仪", model="GPT-9904",
                                                     asset_no="EQ-001"),
                                       KeyInstrument(name="接触电流测试仪", model="TOS3200",
                                                     asset_no="EQ-002")],
                      scope=scope)


def _commit(db: Session, principal: Principal, inst: Institution, kind: ApplicationKind,
            q: Qualification | None, signed_on: date, staff: int) -> QualificationApplication:
    scope = _fresh_scope(db, inst) if kind in (ApplicationKind.first,
                                               ApplicationKind.added_parameters) else []
    app = service.apply(db, principal, ApplicationIn(
        institution_id=inst.id, route=ApplicationRoute.commitment, kind=kind,
        qualification_id=q.id if q else None, conditions=_conditions(inst, staff, scope),
        commitment=service.commitment_text(inst.name_zh, kind, "zh")), on=signed_on)
    # Filed on the day it was signed, as the story goes, not at the seeding's time.
    app.created_at = app.signed_at or app.created_at
    db.commit()
    return app


def seed_applications(db: Session) -> int:
    """Seeds the three demo applications; returns how many it made (0 without the demo
    users, or when they exist already)."""
    if db.scalar(select(QualificationApplication.id).limit(1)):
        return 0
    made = 0
    on = today()
    lab = acting(db, "lab@demo.tichub.cn")
    if lab is not None and (inst := _first_institution(db, lab[1])) is not None:
        q = _cma(db, inst)
        kind = ApplicationKind.added_parameters if q else ApplicationKind.first
        _commit(db, lab[0], inst, kind, q, on - timedelta(days=30), staff=48)  # due in ~2 mo.
        made += 1
    cb = acting(db, "cb@demo.tichub.cn")
    if cb is not None and (inst := _first_institution(db, cb[1])) is not None:
        q = _cma(db, inst)
        kind = ApplicationKind.site_change if q else ApplicationKind.first
        _commit(db, cb[0], inst, kind, q, on - timedelta(days=100), staff=22)  # overdue
        made += 1
    taken = {org for org in (lab[1] if lab else None, cb[1] if cb else None) if org}
    other = db.scalar(select(Institution).where(Institution.org_id.not_in(taken))
                      .order_by(Institution.seq).limit(1))
    if other is not None:
        principal = Principal(user_id="cli", roles={other.org_id: Role.admin},
                              kinds={other.org_id: service.org_kind(db, other.org_id)})
        service.apply(db, principal, ApplicationIn(
            institution_id=other.id, route=ApplicationRoute.general,
            kind=ApplicationKind.first,
            conditions=_conditions(other, 15, [ScopeLineIn(
                standard="GB 31241-2022", product="便携式电子产品用锂离子电池",
                parameter="过充电保护")])), on=on)
        made += 1
    return made
