"""A published PT round with one lab's unsatisfactory result, through the models."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from helpers import make_account
from signals_world import bj
from tichub.core.ids import new_id
from tichub.core.models import OrgKind
from tichub.pt.models import (
    ParticipantStatus,
    PtMeasurand,
    PtParticipant,
    PtResult,
    PtRound,
    PtRoundMeasurand,
    PtScheme,
    RoundStatus,
)


def unsatisfactory_result(db: Session, org_id: str, measurand: str,
                          published: date = date(2026, 3, 1)) -> tuple[date, str]:
    """Returns the round's publication date (Beijing) and the result's id."""
    provider = make_account(db, f"pt-{new_id().lower()}@provider.cn", OrgKind.lab)
    scheme = PtScheme(provider_org_id=provider.org.id, code=f"S-{new_id()[-6:]}",
                      name_zh="重金属能力验证")
    db.add(scheme)
    db.flush()
    m = PtMeasurand(scheme_id=scheme.id, name=measurand, unit="mg/kg")
    rnd = PtRound(scheme_id=scheme.id, code="2026-1", status=RoundStatus.published,
                  deadline=bj(published), published_at=bj(published, 15))
    db.add_all([m, rnd])
    db.flush()
    rm = PtRoundMeasurand(round_id=rnd.id, measurand_id=m.id)
    part = PtParticipant(round_id=rnd.id, org_id=org_id, code="L01",
                         status=ParticipantStatus.accepted, changed_at=bj(published))
    db.add_all([rm, part])
    db.flush()
    res = PtResult(round_id=rnd.id, participant_id=part.id, round_measurand_id=rm.id,
                   item="A", reported_value=9.0, reported_unit="mg/kg", value=9.0,
                   submitted_at=bj(published), z=4.2, verdict="unsatisfactory")
    db.add(res)
    db.commit()
    return published, res.id
