"""Shared set-up of the credit, complaint and jurisdiction tests: a city bureau, a Pudong
district bureau, and labs in Pudong and Xuhui."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from helpers import Account, make_account, make_institution
from tichub.core.ids import utcnow
from tichub.core.models import OrgKind, Role
from tichub.supervision.models import Bureau, Severity, Signal, SignalStatus


@dataclass
class World:
    city: Account
    pudong: Account
    pudong_viewer: Account
    lab: Account  # Pudong
    other: Account  # Xuhui
    lab_inst: str
    other_inst: str


def world(db: Session) -> World:
    city = make_account(db, "city@bureau.example", kind=OrgKind.regulator, role=Role.editor)
    pudong = make_account(db, "pudong@bureau.example", kind=OrgKind.regulator,
                          role=Role.editor)
    viewer = make_account(db, "viewer@bureau.example", role=Role.viewer, org=pudong.org)
    db.add_all([Bureau(org_id=city.org.id, district=None),
                Bureau(org_id=pudong.org.id, district="pudong")])
    db.commit()
    lab = make_account(db, "lab@pudong.example")
    other = make_account(db, "lab@xuhui.example")
    lab_inst, _ = make_institution(db, lab, name="浦东检测", serial=11, district="pudong")
    other_inst, _ = make_institution(db, other, name="徐汇检测", serial=12, district="xuhui")
    return World(city, pudong, viewer, lab, other, lab_inst, other_inst)


def confirmed_signals(db: Session, inst: str, district: str, n: int,
                      severity: Severity = Severity.medium, tag: str = "t") -> None:
    """``n`` signals a supervisor has confirmed (as the signals' triage leaves them)."""
    for i in range(n):
        db.add(Signal(code="TEST_RULE", subject=f"{tag}-{inst}-{i}", severity=severity,
                      institution_id=inst, org_id="x", district=district,
                      status=SignalStatus.confirmed, decided_at=utcnow() - timedelta(days=1)))
    db.commit()
