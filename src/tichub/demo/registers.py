"""Demo registers: the demo lab's equipment (EQ-001 … EQ-008, each calibrated; EQ-007's
calibration runs out soon) and staff (ST-001 … ST-010; the two signatories 张明 and 李静 are
ST-001 and ST-002), kept through the registers' own use cases. Clean on purpose: the
demo lab's reports raise no signal from these registers (the irregularities are planted
in other labs). Runs before or after the market and report seeds; a second run changes
nothing."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.ids import today
from tichub.core.models import OrgKind, Role, User
from tichub.market.equipment import service as equipment
from tichub.market.equipment.schemas import EquipmentIn, EquipmentPatch, EventIn
from tichub.market.models import Instrument, InstrumentEventKind
from tichub.registry.models import Institution, Staff, StaffRole
from tichub.registry.staff import service as staff
from tichub.registry.staff.schemas import StaffIn, StaffPatch

DEMO_LAB_EMAIL = "lab@demo.tichub.cn"
CALIBRATION_LAB = "上海市计量测试技术研究院（演示）"
# asset number, name, kind, maker, model, tests a day (or None), hours a test (or None)
EQUIPMENT = [
    ("EQ-001", "电感耦合等离子体质谱仪（演示）", "ICP-MS", "Agilent", "7900", 40, None),
    ("EQ-002", "高低温湿热试验箱（演示）", "环境试验箱", "ESPEC", "PL-3KPH", None, 24.0),
    ("EQ-003", "电池充放电测试系统（演示）", "充放电测试仪", "Arbin", "LBT21084", 60, None),
    ("EQ-004", "电池挤压针刺试验机（演示）", "挤压针刺试验机", "", "", 12, None),
    ("EQ-005", "外部短路试验装置（演示）", "短路试验装置", "", "", 16, None),
    ("EQ-006", "冷热冲击试验箱（演示）", "冷热冲击试验箱", "ESPEC", "TSA-73EL", None, 12.0),
    ("EQ-007", "绝缘电阻测试仪（演示）", "绝缘电阻测试仪", "Hioki", "IR4056", 80, None),
    ("EQ-008", "原子吸收分光光度计（演示）", "AAS", "PerkinElmer", "PinAAcle 900T", 50, None),
]
SOON = "EQ-007"  # its calibration runs out within two weeks
# staff number, name, title, roles
STAFF = [
    ("ST-001", "张明", "技术负责人", [StaffRole.signatory, StaffRole.tester]),
    ("ST-002", "李静", "授权签字人", [StaffRole.signatory]),
    ("ST-003", "王芳", "检测工程师", [StaffRole.tester]),
    ("ST-004", "陈伟", "检测工程师", [StaffRole.tester]),
    ("ST-005", "刘洋", "检测员", [StaffRole.tester]),
    ("ST-006", "赵磊", "检测员", [StaffRole.tester]),
    ("ST-007", "孙丽", "采样员", [StaffRole.sampler]),
    ("ST-008", "周强", "采样员", [StaffRole.sampler]),
    ("ST-009", "吴敏", "采样员", [StaffRole.sampler]),
    ("ST-010", "郑浩", "检测员", [StaffRole.tester, StaffRole.sampler]),
]
SIGNING_SINCE = date(2020, 1, 1)  # as the report seed authorises them


def _lab(db: Session) -> tuple[Principal, Institution] | None:
    user = db.scalar(select(User).where(User.email == DEMO_LAB_EMAIL))
    if user is None or not user.memberships:
        return None
    org_id = user.memberships[0].org_id
    inst = db.scalar(select(Institution).where(Institution.org_id == org_id)
                     .order_by(Institution.id).limit(1))
    if inst is None:
        return None
    return Principal(user_id=user.id, email=user.email, roles={org_id: Role.admin},
                     kinds={org_id: OrgKind.lab}), inst


def _equipment(db: Session, lab: Principal, inst: Institution, on: date) -> int:
    # The marketplace's shared instruments (seeded before, or not) become EQ-001 and EQ-002.
    shared = {i.kind: i for i in db.scalars(select(Instrument).where(
        Instrument.org_id == inst.org_id, Instrument.asset_no.is_(None)))}
    made = 0
    for n, (asset_no, name, kind, maker, model, tests, hours) in enumerate(EQUIPMENT):
        item = equipment.instrument_by_asset(db, inst.org_id, asset_no)
        if item is None and kind in shared:
            item = shared.pop(kind)
            if item.institution_id is None:
                item.institution_id = inst.id
            equipment.update_equipment(db, lab, item.id, EquipmentPatch(
                asset_no=asset_no, maker=maker or None, model=model or None,
                tests_per_day=tests, hours_per_test=hours))
        if item is None:
            item = equipment.add_equipment(db, lab, EquipmentIn(
                institution_id=inst.id, asset_no=asset_no, name=name, kind=kind, maker=maker,
                model=model, tests_per_day=tests, hours_per_test=hours))
            made += 1
        if equipment.events_of(db, item.id):
            continue
        # Two yearly calibrations back to back, so every past report date is covered.
        until = on + (timedelta(days=12) if asset_no == SOON else timedelta(days=60 + 20 * n))
        for start, end, cert in ((on - timedelta(days=730), on - timedelta(days=366), "A"),
                                 (on - timedelta(days=365), until, "B")):
            equipment.add_event(db, lab, item.id, EventIn(
                kind=InstrumentEventKind.calibration, valid_from=start, valid_until=end,
                certificate_no=f"JZ{start.year}-{asset_no[-3:]}{cert}",
                performed_by=CALIBRATION_LAB))
        if asset_no == "EQ-004":  # a repair long before the demo's reports
            equipment.add_event(db, lab, item.id, EventIn(
                kind=InstrumentEventKind.out_of_service, valid_from=date(2025, 9, 1),
                valid_until=date(2025, 9, 10), note="液压系统维修（演示）"))
    return made


def _staff(db: Session, lab: Principal, inst: Institution) -> int:
    made = 0
    for n, (no, name, title, roles) in enumerate(STAFF):
        if db.scalar(select(Staff.id).where(Staff.institution_id == inst.id,
                                            Staff.staff_no == no)):
            continue
        signs = StaffRole.signatory in roles
        # A signatory the report seed authorised already gets its number and roles.
        known = db.scalar(select(Staff).where(Staff.institution_id == inst.id,
                                              Staff.name == name, Staff.staff_no.is_(None)))
        if known is not None:
            staff.update_staff(db, lab, known.id, StaffPatch(
                staff_no=no, title=title, roles=sorted({*roles, *map(StaffRole, known.roles)})))
            continue
        staff.add_staff(db, lab, StaffIn(
            institution_id=inst.id, staff_no=no, name=name, title=title, roles=roles,
            employed_from=date(2018 + n % 5, 3, 1) if not signs else date(2019, 7, 1),
            authorised_from=SIGNING_SINCE if signs else None))
        made += 1
    return made


def seed_registers(db: Session) -> int:
    """Seeds the demo lab's registers; returns how many entries it added."""
    found = _lab(db)
    if found is None:
        return 0
    lab, inst = found
    return _equipment(db, lab, inst, today()) + _staff(db, lab, inst)
