"""Qualification approval under /api/supervision: a lab's applications, the bureau's
due list, on-site checks and decisions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from tichub.core.auth import DB, Principal, access
from tichub.core.models import OrgKind, Role
from tichub.core.pagination import Page, PageParams, page_params
from tichub.supervision.approval import service
from tichub.supervision.approval.schemas import (
    ApplicationIn,
    ApplicationOut,
    CheckIn,
    CommitmentText,
    DecisionIn,
)
from tichub.supervision.models import ApplicationKind, ApplicationRoute, ApplicationStatus

router = APIRouter(prefix="/api/supervision", tags=["supervision: approval"])

LABS = (OrgKind.lab, OrgKind.certification_body)
Applicant = Annotated[Principal, access(
    "member", role=Role.editor, scope="supervision:write", kinds=LABS,
    note="editors of the institution's own organisation")]
Member = Annotated[Principal, access(
    "user", scope="supervision:read", note="the institution's own members see its "
                                           "applications")]
Supervisor = Annotated[Principal, access(
    "member", scope="supervision:read", kinds=(OrgKind.regulator,),
    note="supervisors of the institution's district (the city bureau: all districts)")]
Decider = Annotated[Principal, access(
    "member", role=Role.editor, scope="supervision:write", kinds=(OrgKind.regulator,),
    note="editors of the bureau of the institution's district, or of the city bureau")]
Reader = Annotated[Principal, access(
    "user", scope="supervision:read",
    note="the institution's own members and the supervisors of its district")]
Pages = Annotated[PageParams, Depends(page_params)]
Id = Annotated[str, Query(max_length=26)]


def _filters(status: ApplicationStatus | None, route: ApplicationRoute | None,
             due_within: int | None, institution_id: str | None) -> service.Filters:
    return service.Filters(status=status, route=route, due_within=due_within,
                           institution_id=institution_id)


DueWithin = Annotated[int | None, Query(
    ge=0, le=3660, description="provisional qualifications whose on-site check is due within "
                               "this many days, overdue ones included")]


@router.get("/applications/commitment", response_model=CommitmentText)
def commitment(db: DB, principal: Applicant, institution_id: Annotated[str, Query(max_length=26)],
               kind: ApplicationKind,
               lang: Literal["zh", "en"] = "zh") -> CommitmentText:
    """The commitment text to show the signer: sending it unchanged with the application
    signs it."""
    return CommitmentText(locale=lang, text=service.commitment_for(
        db, principal, institution_id, kind, lang))


@router.post("/applications", response_model=ApplicationOut, status_code=201)
def apply(body: ApplicationIn, db: DB, principal: Applicant) -> ApplicationOut:
    """Applies for a CMA qualification: by commitment it is granted at once, provisional,
    and the on-site check falls due in three months; by the general route it waits for the
    bureau's decision."""
    app = service.apply(db, principal, body)
    return service.to_out(db, app)


@router.get("/applications", response_model=Page[ApplicationOut])
def list_applications(
    db: DB, principal: Supervisor, page: Pages, status: ApplicationStatus | None = None,
    route: ApplicationRoute | None = None, due_within: DueWithin = None,
    institution_id: Id | None = None,
) -> Page[ApplicationOut]:
    """The applications in the supervisor's districts, the most urgent on-site check first."""
    rows, total = service.list_for_bureau(
        db, principal, _filters(status, route, due_within, institution_id), page)
    return Page.of([service.to_out(db, a) for a in rows], total, page)


@router.get("/mine/applications", response_model=Page[ApplicationOut])
def my_applications(
    db: DB, principal: Member, page: Pages, status: ApplicationStatus | None = None,
    route: ApplicationRoute | None = None, due_within: DueWithin = None,
    institution_id: Id | None = None,
) -> Page[ApplicationOut]:
    """The applications of the caller's own institutions."""
    rows, total = service.list_mine(
        db, principal, _filters(status, route, due_within, institution_id), page)
    return Page.of([service.to_out(db, a) for a in rows], total, page)


@router.get("/applications/{application_id}", response_model=ApplicationOut)
def get_application(application_id: str, db: DB, principal: Reader) -> ApplicationOut:
    return service.to_out(db, service.get_application(db, principal, application_id))


@router.post("/applications/{application_id}/check", response_model=ApplicationOut)
def record_check(application_id: str, body: CheckIn, db: DB,
                 principal: Decider) -> ApplicationOut:
    """The on-site check of a commitment. Passed: the qualification is verified. Failed: it
    is revoked, the failure enters the credit record, and the commitment route is closed to
    the institution for three years."""
    return service.to_out(db, service.record_check(db, principal, application_id, body))


@router.post("/applications/{application_id}/decision", response_model=ApplicationOut)
def decide(application_id: str, body: DecisionIn, db: DB, principal: Decider) -> ApplicationOut:
    """The decision on a general-route application: approved (the registry changes as
    asked) or rejected."""
    return service.to_out(db, service.decide(db, principal, application_id, body))
