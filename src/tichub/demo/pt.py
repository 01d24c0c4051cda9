"""Demo proficiency testing: the demo certification body runs a scheme for metals in food;
two rounds are published (so reports, history and supervision's feed have something to
show) and a third is open, with the demo lab invited and its results still to send. Every
step goes through the PT use cases, so every check applies."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.models import Organisation, OrgKind, Role
from tichub.demo.acting import acting
from tichub.pt import service
from tichub.pt.schemas import MeasurandIn, ResultIn, RoundIn, SchemeIn, SettingIn
from tichub.registry.models import Institution

PROVIDER_EMAIL = "cb@demo.tichub.cn"
LAB_EMAIL = "lab@demo.tichub.cn"
# (name, unit, mass fraction of one unit, level in each round, relative spread)
MEASURANDS = [("铅 Pb", "mg/kg", 1e-6, (0.182, 0.245, 0.31), 0.08),
              ("镉 Cd", "mg/kg", 1e-6, (0.061, 0.048, 0.075), 0.10)]
ROUNDS = [("2025-2", "2025 年第二轮 大米中铅、镉"), ("2026-1", "2026 年第一轮 大米中铅、镉"),
          ("2026-2", "2026 年第二轮 大米中铅、镉")]


def seed_pt(db: Session, log: Any, seed: int = 2027, labs: int = 24) -> int:
    """Builds the demo scheme and rounds; returns how many rounds it made."""
    provider = acting(db, PROVIDER_EMAIL)
    lab = acting(db, LAB_EMAIL)
    if provider is None or lab is None:
        return 0
    prov, prov_org = provider
    inst = db.scalar(select(Institution.id).where(Institution.org_id == prov_org))
    rng = random.Random(seed)
    scheme = service.create_scheme(db, prov, SchemeIn(
        org_id=prov_org, code="DEMO-FOOD-METALS", name_zh="食品中重金属能力验证（演示）",
        name_en="Metals in food proficiency testing (demo)", field="食品 Food",
        institution_id=inst, method_groups=["ICP-MS", "GFAAS"],
        measurands=[MeasurandIn(name=n, unit=u, mass_fraction_per_unit=f)
                    for n, u, f, _, _ in MEASURANDS]))
    others = [o for o in db.scalars(select(Organisation.id).where(
        Organisation.kind == OrgKind.lab, Organisation.id != lab[1]).order_by(Organisation.id))
        if o != prov_org][:labs]
    # Labs without users in the demo still take part: the seeder answers as each of them
    # (acting in an organisation's name takes a membership of it, even for the seeder).
    acting_lab = {o: Principal(user_id="cli", roles={o: Role.admin}, kinds={o: OrgKind.lab})
                  for o in others}
    acting_lab[lab[1]] = lab[0]
    now = datetime.now(UTC)
    for r, (code, title) in enumerate(ROUNDS):
        last = r == len(ROUNDS) - 1
        rnd = service.create_round(db, prov, scheme.id, RoundIn(
            code=code, title=title, items=["A", "B"],
            deadline=now + timedelta(days=20 if last else 1),
            settings=[SettingIn(measurand=n, sigma_kind="horwitz")
                      for n, _, _, _, _ in MEASURANDS]))
        for org in [lab[1], *others]:
            p = service.invite(db, prov, rnd.id, org)
            service.answer(db, acting_lab[org], p.id, accept=True)
        service.transition(db, prov, rnd.id, "open")
        if last:
            break
        for org in [lab[1], *others]:
            # now and then a lab far off (a calibration slip): unsatisfactory scores
            bias = rng.gauss(0, 0.04) + (rng.choice([0.7, -0.6]) if rng.random() < 0.08 else 0)
            entries = []
            for name, _, _, levels, spread in MEASURANDS:
                for item, shift in (("A", 1.0), ("B", 1.15)):
                    level = levels[r] * shift
                    value = level * (1 + bias + rng.gauss(0, spread))
                    entries.append(ResultIn(measurand=name, item=item, value=round(value, 4),
                                            expanded_uncertainty=round(level * 0.2, 4),
                                            coverage_factor=2,
                                            method=rng.choice(["ICP-MS", "GFAAS"])))
            service.submit_results(db, acting_lab[org], rnd.id, org, entries)
        service.transition(db, prov, rnd.id, "close")
        service.compute(db, prov, rnd.id)
        service.publish(db, prov, rnd.id, log)
    return len(ROUNDS)
