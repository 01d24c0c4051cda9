"""The figures of the regulator's dashboard, for the districts the caller supervises.

Counted in SQL over supervision's tables and the registry's institutions (read-only, the
batch figures' exception in DESIGN.md): a city bureau's dashboard covers every institution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.ids import today
from tichub.registry.districts import DISTRICTS
from tichub.registry.models import Institution
from tichub.supervision import jurisdiction
from tichub.supervision.credit import service as credit
from tichub.supervision.credit.score import TIERS
from tichub.supervision.models import (
    ApplicationStatus,
    CreditScore,
    Inspection,
    InspectionStatus,
    QualificationApplication,
    Signal,
    SignalStatus,
)

OPEN_SIGNALS = (SignalStatus.open, SignalStatus.under_review)
TREND_MONTHS = 12
LIST_LIMIT = 200


@dataclass
class DistrictRow:
    district: str
    institutions: int = 0
    tiers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    open_signals: int = 0


@dataclass
class Due:
    id: str
    institution_id: str
    institution_name: str
    district: str
    due: date | None
    overdue: bool
    what: str  # the inspection plan's id, or the application's kind


@dataclass
class Dashboard:
    districts: list[DistrictRow]
    months: list[str]
    tier_mix: dict[str, list[int]]  # tier -> count per month
    signals_per_month: list[int]
    inspections_due: list[Due]
    checks_due: list[Due]
    all_districts: bool


def _month(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    # SQLite keeps instants as UTC text; Beijing is eight hours ahead, with no summer time.
    return func.strftime("%Y-%m", column, "+8 hours")


def _last_months(on: date, n: int) -> list[str]:
    out = []
    year, month = on.year, on.month
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(out))


def build(db: Session, principal: Principal, on: date | None = None) -> Dashboard:
    jurisdiction.require_supervisor(db, principal)
    on = on or today()
    seen = jurisdiction.districts(db, principal)
    names = [d.slug for d in DISTRICTS if seen is None or d.slug in seen]
    rows = {d: DistrictRow(d) for d in names}

    def within(column: Any) -> Any:
        return column.in_(names)

    insts = list(db.execute(select(Institution.id, Institution.district)
                            .where(within(Institution.district))))
    tiers = credit.latest_tiers(db, [i for i, _ in insts])
    for inst, district in insts:
        rows[district].institutions += 1
        rows[district].tiers[tiers[inst]] += 1
    for district, count in db.execute(select(Signal.district, func.count())
                                      .where(Signal.status.in_(OPEN_SIGNALS),
                                             within(Signal.district))
                                      .group_by(Signal.district)):
        if district in rows:
            rows[district].open_signals = int(count)

    months = _last_months(on, TREND_MONTHS)
    dialect = db.get_bind().dialect.name
    mix: dict[str, list[int]] = {t: [0] * len(months) for t in TIERS}
    index = {m: i for i, m in enumerate(months)}
    # The monthly runs: one score per institution and period.
    for period, tier, count in db.execute(
            select(CreditScore.period, CreditScore.tier, func.count())
            .join(Institution, Institution.id == CreditScore.institution_id)
            .where(CreditScore.trigger == "monthly", CreditScore.period.in_(months),
                   within(Institution.district))
            .group_by(CreditScore.period, CreditScore.tier)):
        if tier in mix:
            mix[tier][index[period]] += int(count)
    per_month = [0] * len(months)
    month = _month(Signal.created_at, dialect)
    for m, count in db.execute(select(month, func.count()).where(within(Signal.district))
                               .group_by(month)):
        if m in index:
            per_month[index[m]] += int(count)

    inspections = [Due(id=i.id, institution_id=inst.id, institution_name=inst.name_zh,
                       district=inst.district, due=None, overdue=False, what=i.plan_id or "")
                   for i, inst in db.execute(
                       select(Inspection, Institution)
                       .join(Institution, Institution.id == Inspection.institution_id)
                       .where(Inspection.status == InspectionStatus.planned,
                              within(Institution.district))
                       .order_by(Inspection.created_at).limit(LIST_LIMIT))]
    checks = [Due(id=a.id, institution_id=inst.id, institution_name=inst.name_zh,
                  district=inst.district, due=a.check_due,
                  overdue=a.check_due is not None and a.check_due < on, what=a.kind.value)
              for a, inst in db.execute(
                  select(QualificationApplication, Institution)
                  .join(Institution, Institution.id == QualificationApplication.institution_id)
                  .where(QualificationApplication.status == ApplicationStatus.provisional,
                         within(Institution.district))
                  .order_by(QualificationApplication.check_due.is_(None),
                            QualificationApplication.check_due).limit(LIST_LIMIT))]
    return Dashboard(districts=[rows[d] for d in names], months=months, tier_mix=mix,
                     signals_per_month=per_month, inspections_due=inspections,
                     checks_due=checks, all_districts=seen is None)


def as_json(d: Dashboard) -> dict[str, Any]:
    def due(x: Due) -> dict[str, Any]:
        return {"id": x.id, "institution_id": x.institution_id,
                "institution_name": x.institution_name, "district": x.district,
                "due": x.due.isoformat() if x.due else None, "overdue": x.overdue,
                "what": x.what}

    return {"all_districts": d.all_districts,
            "districts": [{"district": r.district, "institutions": r.institutions,
                           "tiers": r.tiers, "open_signals": r.open_signals}
                          for r in d.districts],
            "months": d.months, "tier_mix": d.tier_mix,
            "signals_per_month": d.signals_per_month,
            "inspections_due": [due(x) for x in d.inspections_due],
            "checks_due": [due(x) for x in d.checks_due]}


