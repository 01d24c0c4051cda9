"""Sanction routes under /api/supervision: record, lift, and the 2026 thresholds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session

from tichub.core.auth import DB, Principal, Public, access
from tichub.core.messages import translate
from tichub.core.models import OrgKind
from tichub.reports import service as reports
from tichub.supervision.inspections.service import institutions_named
from tichub.supervision.models import Sanction
from tichub.supervision.sanctions import service
from tichub.supervision.sanctions.schemas import LiftIn, SanctionIn, SanctionOut, ThresholdsOut

router = APIRouter(prefix="/api/supervision", tags=["supervision: sanctions"])

Reader = Annotated[Principal, access(
    "user", scope="supervision:read", kinds=(OrgKind.regulator,),
    note="supervisors of the market regulator, in their districts")]
Writer = Annotated[Principal, access(
    "user", scope="supervision:write", kinds=(OrgKind.regulator,),
    note="editors of a bureau supervising the institution's district")]
PathId = Annotated[str, Path(min_length=1, max_length=26)]


def sanction_out(db: Session, s: Sanction, name: str | None = None) -> SanctionOut:
    if name is None:
        name = institutions_named(db, [s.institution_id]).get(s.institution_id, "")
    return SanctionOut(id=s.id, institution_id=s.institution_id, institution=name,
                       bureau_org_id=s.bureau_org_id, kind=s.kind, decision_no=s.decision_no,
                       decided_on=s.decided_on, deadline=s.deadline, corrected_on=s.corrected_on,
                       fine_fen=s.fine_fen, reason=s.reason, basis=s.basis,
                       false_numbers=list(s.false_numbers), key_field=s.key_field,
                       lifted_on=s.lifted_on, created_at=s.created_at)


def _log(request: Request) -> reports.Log:
    log: reports.Log = request.app.state.log
    return log


@router.post("/sanctions", response_model=SanctionOut, status_code=201)
def record_sanction(body: SanctionIn, request: Request, db: DB, principal: Writer) -> SanctionOut:
    """Records a decision: suspension and revocation change the CMA qualification's status;
    each report in ``false_numbers`` is revoked in the log in the regulator's name, with the
    decision number; the lab is told."""
    return sanction_out(db, service.record_sanction(db, principal, _log(request), body))


@router.get("/sanctions", response_model=list[SanctionOut])
def list_sanctions(db: DB, principal: Reader,
                   institution: Annotated[str | None, Query(max_length=26)] = None
                   ) -> list[SanctionOut]:
    rows = service.list_sanctions(db, principal, institution)
    names = institutions_named(db, [s.institution_id for s in rows])
    return [sanction_out(db, s, names.get(s.institution_id, "")) for s in rows]


@router.get("/sanctions/{sanction_id}", response_model=SanctionOut)
def get_sanction(sanction_id: PathId, db: DB, principal: Public) -> SanctionOut:
    """A sanction, public as administrative penalties are."""
    return sanction_out(db, service.get_sanction(db, principal, sanction_id))


@router.post("/sanctions/{sanction_id}/lift", response_model=SanctionOut)
def lift_sanction(sanction_id: PathId, body: LiftIn, db: DB, principal: Writer) -> SanctionOut:
    return sanction_out(db, service.lift_sanction(db, principal, sanction_id, body))


@router.post("/sanctions/{sanction_id}/corrected", response_model=SanctionOut)
def mark_corrected(sanction_id: PathId, body: LiftIn, db: DB, principal: Writer) -> SanctionOut:
    return sanction_out(db, service.mark_corrected(db, principal, sanction_id, body.on))


@router.get("/institutions/{institution_id}/thresholds", response_model=ThresholdsOut)
def thresholds(institution_id: PathId, db: DB, principal: Reader) -> ThresholdsOut:
    """The institution's confirmed false reports against SAMR's 2026 thresholds (2 in key
    fields, 10 in any, a repeat within 2 years of a penalty), and whether to propose
    revocation."""
    service.institution_for(db, principal, institution_id)
    t = service.thresholds(db, institution_id)
    return ThresholdsOut(institution_id=institution_id, false_reports=t.false_reports,
                         key_field_reports=t.key_field_reports,
                         repeat_within_two_years=t.repeat,
                         propose_revocation=t.propose_revocation,
                         reasons=[translate(r, "en") for r in t.reasons])
