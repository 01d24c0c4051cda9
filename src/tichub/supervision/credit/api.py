"""Credit-risk tiers under /api/supervision/credit: the published rule sets (public),
scores and their verification, on-demand recomputation and appeals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from tichub.core import errors
from tichub.core.auth import DB, Principal, Public, access
from tichub.core.messages import Msg
from tichub.core.pagination import PageParams, page_params
from tichub.registry.districts import BY_SLUG
from tichub.supervision.credit import score as scorer
from tichub.supervision.credit import service
from tichub.supervision.credit.schemas import (
    AppealIn,
    AppealOut,
    DecisionIn,
    InstitutionTierOut,
    RecomputeIn,
    RecomputeOut,
    ScoreOut,
    TierPageOut,
    TierRowOut,
    VerifyOut,
)
from tichub.supervision.models import AppealStatus, CreditAppeal, CreditScore

router = APIRouter(prefix="/api/supervision/credit", tags=["supervision: credit tiers"])

Reader = Annotated[Principal, access(
    "user", scope="supervision:read",
    note="supervisors of the institution's district, or the institution's own members")]
Supervisor = Annotated[Principal, access(
    "user", scope="supervision:read", note="supervisors, for the districts they supervise")]
Deciding = Annotated[Principal, access(
    "user", scope="supervision:write",
    note="editors of the bureau supervising the institution's district")]
Appealing = Annotated[Principal, access(
    "user", scope="supervision:write", note="editors of the institution's own organisation")]


def score_out(row: CreditScore) -> ScoreOut:
    return ScoreOut.model_validate(service.stored(row))


def appeal_out(a: CreditAppeal) -> AppealOut:
    return AppealOut(id=a.id, score_id=a.score_id, institution_id=a.institution_id,
                     text=a.text, files=a.files, status=a.status, answer=a.answer,
                     created_at=a.created_at, decided_at=a.decided_at)


@router.get("/rules", response_model=list[str])
def rule_versions(principal: Public) -> list[str]:
    """The published versions of the rule set, oldest first."""
    return scorer.versions()


@router.get("/rules/{version}")
def rule_set(version: str, principal: Public) -> dict[str, Any]:
    """A published rule set as it was published: every input's weight and bounds, the tier
    thresholds and the basis. With an institution's stored inputs it recomputes its score
    (``tichub supervision tiers-verify`` does it from a file)."""
    try:
        return scorer.load(version).document
    except KeyError:
        raise errors.not_found(Msg("rule set version")) from None


@router.post("/recompute", response_model=RecomputeOut)
def recompute(body: RecomputeIn, db: DB, principal: Deciding) -> RecomputeOut:
    """Scores one institution now, or (no ``institution_id``) every institution of the
    caller's districts."""
    return RecomputeOut(scored=service.recompute_for(db, principal, body.institution_id))


@router.get("/tiers", response_model=TierPageOut)
def tiers(db: DB, principal: Supervisor, params: Annotated[PageParams, Depends(page_params)],
          district: Annotated[str | None, Query(max_length=20)] = None) -> TierPageOut:
    """The institutions the caller supervises, each with its latest tier."""
    if district is not None and district not in BY_SLUG:
        raise errors.invalid("district", Msg("is not one of the choices"))
    rows, total = service.tier_list(db, principal, district, params.offset, params.per_page)
    return TierPageOut(items=[TierRowOut(institution_id=i.id, name_zh=i.name_zh,
                                         district=i.district, tier=t, score=s)
                              for i, t, s in rows],
                       total=total, page=params.page, per_page=params.per_page)


@router.get("/institutions/{institution_id}", response_model=InstitutionTierOut)
def institution(institution_id: str, db: DB, principal: Reader) -> InstitutionTierOut:
    """An institution's latest tier, every input's contribution, and its history."""
    inst, scores = service.history(db, principal, institution_id)
    return InstitutionTierOut(institution_id=inst.id, name_zh=inst.name_zh,
                              district=inst.district,
                              tier=scores[0].tier if scores else service.DEFAULT_TIER,
                              latest=score_out(scores[0]) if scores else None,
                              history=[score_out(s) for s in scores])


@router.get("/scores/{score_id}", response_model=ScoreOut)
def get_score(score_id: str, db: DB, principal: Reader) -> ScoreOut:
    return score_out(service.get_score(db, principal, score_id))


@router.get("/scores/{score_id}/verify", response_model=VerifyOut)
def verify(score_id: str, db: DB, principal: Reader) -> VerifyOut:
    """Recomputes a stored score from its inputs and its rule set's published version."""
    return VerifyOut.model_validate(service.verify_score(db, principal, score_id))


@router.post("/appeals", response_model=AppealOut, status_code=201)
def appeal(body: AppealIn, db: DB, principal: Appealing) -> AppealOut:
    """The institution appeals one of its scores; the bureau of its district decides."""
    return appeal_out(service.appeal(db, principal, body.score_id, body.text))


@router.get("/appeals", response_model=list[AppealOut])
def appeals(db: DB, principal: Reader,
            status: AppealStatus | None = None) -> list[AppealOut]:
    """Supervisors: their districts' appeals; an institution's members: its own."""
    return [appeal_out(a) for a, _ in service.list_appeals(db, principal, status)]


@router.post("/appeals/{appeal_id}/decision", response_model=AppealOut)
def decide(appeal_id: str, body: DecisionIn, db: DB, principal: Deciding) -> AppealOut:
    return appeal_out(service.decide_appeal(db, principal, appeal_id, body.upheld,
                                            body.answer))
