"""Demo supervision: the bureaus (the demo regulator as the city bureau, and a Pudong
district bureau with its own user), a few complaints, and everyone's credit-risk tier with
six months of history. Run after the directory, PT, the marketplace and the reports (and
after the signals' and inspections' demo data, whose confirmed signals and sanctions the
tiers then count): ``seed_bureaus``, ``seed_complaints``, ``seed_tiers``. Each is safe to
run twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tichub.core import service
from tichub.core.ids import today, utcnow
from tichub.core.models import OrgKind, Role, User
from tichub.demo.seed import DEMO_PASSWORD
from tichub.registry.models import Institution
from tichub.supervision.complaints.service import new_code
from tichub.supervision.credit import service as credit
from tichub.supervision.models import Bureau, Complaint, ComplaintStatus, CreditScore

PUDONG_EMAIL = "pudong@demo.tichub.cn"
PUDONG_ORG = "上海市浦东新区市场监督管理局（演示）"
REGULATOR_EMAIL = "regulator@demo.tichub.cn"
HISTORY_MONTHS = 6


def seed_bureaus(db: Session) -> dict[str, str]:
    """The demo regulator's organisation becomes the city bureau (every district) and its
    user an editor there, so that it may decide as well as read; a Pudong district bureau
    gets its own organisation and editor, ``pudong@demo.tichub.cn``. Returns the bureaus'
    organisation ids by district ("" for the city)."""
    out: dict[str, str] = {}
    regulator = db.scalar(select(User).where(User.email == REGULATOR_EMAIL))
    if regulator is not None and regulator.memberships:
        membership = regulator.memberships[0]
        if db.get(Bureau, membership.org_id) is None:
            db.add(Bureau(org_id=membership.org_id, district=None))
        membership.role = Role.editor
        out[""] = membership.org_id
    pudong = db.scalar(select(Bureau).where(Bureau.district == "pudong"))
    if pudong is None:
        org = service.create_organisation(db, name=PUDONG_ORG, kind=OrgKind.regulator)
        db.add(Bureau(org_id=org.id, district="pudong"))
        db.flush()
        if db.scalar(select(User).where(User.email == PUDONG_EMAIL)) is None:
            service.create_user(db, email=PUDONG_EMAIL, password=DEMO_PASSWORD,
                                display_name="浦东监管 Pudong bureau", org=org,
                                role=Role.editor)
        out["pudong"] = org.id
    else:
        out["pudong"] = pudong.org_id
    db.commit()
    return out


def seed_complaints(db: Session) -> int:
    """Three complaints about Pudong institutions: one received, one being investigated,
    one upheld (which the tiers count). Returns how many were added."""
    if db.scalar(select(func.count()).select_from(Complaint)):
        return 0
    insts = list(db.scalars(select(Institution).where(Institution.district == "pudong")
                            .order_by(Institution.seq).limit(3)))
    now = utcnow()
    texts = [
        ("报告中的检测日期早于我们送样的日期。", ComplaintStatus.received, ""),
        ("该机构出具的报告与我们委托的检测项目不一致，只检测了部分项目。",
         ComplaintStatus.investigating, ""),
        ("报告签字人已于数月前离职，但报告仍以其名义签发。", ComplaintStatus.upheld,
         "经核查属实：签字人已于报告签发前离职。已责令该机构限期改正。"),
    ]
    for inst, (text, status, outcome) in zip(insts, texts, strict=False):
        db.add(Complaint(tracking_code=new_code(), institution_id=inst.id,
                         district=inst.district, text=text, contact_name="王先生",
                         contact="139-0000-0000", status=status, outcome=outcome,
                         created_at=now - timedelta(days=20), updated_at=now - timedelta(days=3)))
    db.commit()
    return min(len(insts), len(texts))


def seed_tiers(db: Session) -> int:
    """Everyone's tier: a monthly run for each of the last six months (their history and
    the dashboard's trend), then today's. Returns how many scores were stored."""
    if db.scalar(select(func.count()).select_from(CreditScore)):
        return 0
    day = today()
    stored = 0
    for back in range(HISTORY_MONTHS, 0, -1):
        stored += credit.recompute(db, on=credit.months_before(day, back).replace(day=1),
                                   trigger="monthly")
    stored += credit.recompute(db, on=day, trigger="monthly")
    return stored


__all__ = ["seed_bureaus", "seed_complaints", "seed_tiers"]
