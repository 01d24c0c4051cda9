"""Demo proficiency testing: the demo certification body runs a scheme for metals in food;
two rounds are published (so reports, history and supervision's feed have something to
show) and a third is open, with the demo lab invited and its results still to send. Every
step goes through the PT use cases, so every check applies."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.ids import BEIJING
from tichub.core.models import Organisation, OrgKind, Role
from tichub.demo.acting import acting
from tichub.pt import service
from tichub.pt.schemas import MeasurandIn, ResultIn, RoundIn, SchemeIn, SettingIn
from tichub.registry.models import Institution

PROVIDER_EMAIL = "cb@demo.tichub.cn"
LAB_EMAIL = "lab@demo.tichub.cn"
# (name, English name, unit, mass fraction of one unit, level in each round, relative spread)
MEASURANDS = [("铅", "Lead (Pb)", "mg/kg", 1e-6, (0.182, 0.245, 0.31), 0.08),
              ("镉", "Cadmium (Cd)", "mg/kg", 1e-6, (0.061, 0.048, 0.075), 0.10)]


@dataclass(frozen=True)
class Plan:
    """A round's dates, relative to today: two rounds half a year apart are published, the
    third was sent out last week and takes results for three more weeks."""

    dispatch: datetime
    deadline: datetime
    published: datetime | None  # None: still open

    @property
    def code(self) -> str:
        """"2026-2": the second round of 2026 (a round every half year)."""
        d = self.dispatch.astimezone(BEIJING)
        return f"{d.year}-{1 if d.month <= 6 else 2}"

    @property
    def title(self) -> str:
        d = self.dispatch.astimezone(BEIJING)
        return f"{d.year} 年第{'一' if d.month <= 6 else '二'}轮 大米中铅、镉"


def plans(now: datetime) -> list[Plan]:
    # 190 days apart: two dispatches never fall in the same half year, so codes differ.
    at_five = now.astimezone(BEIJING).replace(hour=17, minute=0, second=0, microsecond=0)
    return [Plan(at_five - timedelta(days=387), at_five - timedelta(days=357),
                 at_five - timedelta(days=330)),
            Plan(at_five - timedelta(days=197), at_five - timedelta(days=167),
                 at_five - timedelta(days=140)),
            Plan(at_five - timedelta(days=7), at_five + timedelta(days=21), None)]


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
        name_en="Metals in food proficiency testing (demo)", field="食品",
        institution_id=inst, method_groups=["ICP-MS", "GFAAS"],
        measurands=[MeasurandIn(name=n, name_en=en, unit=u, mass_fraction_per_unit=f)
                    for n, en, u, f, _, _ in MEASURANDS]))
    others = [o for o in db.scalars(select(Organisation.id).where(
        Organisation.kind == OrgKind.lab, Organisation.id != lab[1]).order_by(Organisation.id))
        if o != prov_org][:labs]
    # Labs without users in the demo still take part: the seeder answers as each of them
    # (acting in an organisation's name takes a membership of it, even for the seeder).
    acting_lab = {o: Principal(user_id="cli", roles={o: Role.admin}, kinds={o: OrgKind.lab})
                  for o in others}
    acting_lab[lab[1]] = lab[0]
    rounds = plans(datetime.now(UTC))
    for r, plan in enumerate(rounds):
        rnd = service.create_round(db, prov, scheme.id, RoundIn(
            code=plan.code, title=plan.title, items=["A", "B"],
            dispatch_on=plan.dispatch.date(), deadline=plan.deadline,
            settings=[SettingIn(measurand=n, sigma_kind="horwitz")
                      for n, _, _, _, _, _ in MEASURANDS]))
        for org in [lab[1], *others]:
            p = service.invite(db, prov, rnd.id, org)
            service.answer(db, acting_lab[org], p.id, accept=True)
        service.transition(db, prov, rnd.id, "open")
        if plan.published is None:
            break
        for org in [lab[1], *others]:
            # now and then a lab far off (a calibration slip): unsatisfactory scores
            bias = rng.gauss(0, 0.04) + (rng.choice([0.7, -0.6]) if rng.random() < 0.08 else 0)
            entries = []
            for name, _, _, _, levels, spread in MEASURANDS:
                for item, shift in (("A", 1.0), ("B", 1.15)):
                    level = levels[r] * shift
                    value = level * (1 + bias + rng.gauss(0, spread))
                    entries.append(ResultIn(measurand=name, item=item, value=round(value, 4),
                                            expanded_uncertainty=round(level * 0.2, 4),
                                            coverage_factor=2,
                                            method=rng.choice(["ICP-MS", "GFAAS"])))
            # sent in the weeks before the deadline
            sent = plan.deadline - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
            service.submit_results(db, acting_lab[org], rnd.id, org, entries, now=sent)
        service.transition(db, prov, rnd.id, "close")
        service.compute(db, prov, rnd.id, now=plan.published - timedelta(days=2))
        service.publish(db, prov, rnd.id, log, now=plan.published)
    return len(rounds)
