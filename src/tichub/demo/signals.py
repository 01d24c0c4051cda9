"""Demo: the batch run of the signal rules over the seeded registry, and one signal put
under review by the regulator, who asks the lab to explain (so the lab's page shows it)."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.models import OrgKind, Role
from tichub.supervision.models import Signal, SignalStatus
from tichub.supervision.signals import batch, service

REGULATOR = "regulator@demo.tichub.cn"
QUESTION = "请说明该仪器在检测当日的校准状态，并提供校准证书。"


def run_demo_signals(db: Session) -> int:
    """Runs every rule; asks about the most severe open signal as the demo regulator (or as
    the platform, when the data set has no such user). Returns the signals raised."""
    from tichub.demo.acting import acting

    done = batch.run(db)
    order = case({"critical": 0, "high": 1, "medium": 2, "low": 3}, value=Signal.severity)
    first = db.scalar(select(Signal).where(Signal.status == SignalStatus.open)
                      .order_by(order, Signal.created_at, Signal.id).limit(1))
    if first is not None:
        found = acting(db, REGULATOR)
        principal = found[0] if found else Principal(
            user_id="cli", roles={"cli": Role.admin}, kinds={"cli": OrgKind.operator})
        service.ask(db, principal, first.id, QUESTION)
    return done.raised
