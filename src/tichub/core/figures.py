"""The home page's live figures: one count per section of the platform.

The home page is the busiest page, so each figure is one indexed count (or one row read:
the log's size). These are read-only counts across domains, gathered here rather than in
five services so that the page makes five small queries and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tichub.carbon.models import Study, StudyStatus
from tichub.market.models import ServiceListing
from tichub.pt.models import PtRound, RoundStatus
from tichub.registry.models import Institution
from tichub.reports.models import LogState


@dataclass(frozen=True)
class Figures:
    institutions: int
    reports: int
    services: int
    pt_rounds: int
    carbon_studies: int


def _count(db: Session, statement: object) -> int:
    return int(db.scalar(statement) or 0)  # type: ignore[call-overload]


def home_figures(db: Session) -> Figures:
    return Figures(
        institutions=_count(db, select(func.count()).select_from(Institution)
                            .where(Institution.published.is_(True))),
        reports=_count(db, select(LogState.size).limit(1)),
        services=_count(db, select(func.count()).select_from(ServiceListing)
                        .where(ServiceListing.active.is_(True))),
        pt_rounds=_count(db, select(func.count()).select_from(PtRound)
                         .where(PtRound.status == RoundStatus.open)),
        carbon_studies=_count(db, select(func.count()).select_from(Study)
                              .where(Study.status == StudyStatus.certified)),
    )
