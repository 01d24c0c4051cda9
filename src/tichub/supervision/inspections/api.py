"""Double-random inspection routes under /api/supervision: inspectors, plans (public once
frozen), inspections and their findings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tichub.core import errors, limits
from tichub.core.auth import DB, Principal, Public, access
from tichub.core.messages import Msg
from tichub.core.models import OrgKind
from tichub.reports.service import Log
from tichub.supervision.inspections import service
from tichub.supervision.inspections.schemas import (
    CheckpointOut,
    ConflictsIn,
    FileOut,
    FindingIn,
    FinishIn,
    InspectionOut,
    InspectorIn,
    InspectorOut,
    PlanIn,
    PlanOut,
)
from tichub.supervision.models import Inspection, InspectionPlan, Inspector, PlanStatus

router = APIRouter(prefix="/api/supervision", tags=["supervision: inspections"])

Reader = Annotated[Principal, access(
    "user", scope="supervision:read", kinds=(OrgKind.regulator,),
    note="supervisors of the market regulator, in their districts")]
Writer = Annotated[Principal, access(
    "user", scope="supervision:write", kinds=(OrgKind.regulator,),
    note="editors of the bureau that holds the plan or inspection")]
Inspected = Annotated[Principal, access(
    "user", scope="supervision:read",
    note="supervisors of the institution's district; once closed, the institution itself")]
PathId = Annotated[str, Path(min_length=1, max_length=26)]


def inspector_out(x: Inspector) -> InspectorOut:
    return InspectorOut(id=x.id, bureau_org_id=x.bureau_org_id, name=x.name, user_id=x.user_id,
                        conflicts=list(x.conflicts), active=x.active)


def inspection_out(db: Session, x: Inspection, findings: list[dict[str, object]] | None = None,
                   name: str | None = None) -> InspectionOut:
    if findings is None:
        findings = [{"item": f.item, "outcome": f.outcome.value, "note": f.note,
                     "files": list(f.files)}
                    for f in service.findings_of(db, [x.id])[x.id]]
    if name is None:
        name = service.institutions_named(db, [x.institution_id]).get(x.institution_id, "")
    return InspectionOut(id=x.id, plan_id=x.plan_id, institution_id=x.institution_id,
                         institution=name, inspector_ids=list(x.inspector_ids), status=x.status,
                         done_on=x.done_on, summary=x.summary, findings=findings)


def plan_out(db: Session, plan: InspectionPlan, principal: Principal,
             log_key: str | None = None) -> PlanOut:
    """The plan as published; a draft's supervisors see it as it stands. Results: once
    published, to anyone; before, to its supervisors."""
    note = service.seeding_note(db, plan)
    checkpoint = CheckpointOut(size=plan.seed_size, root_hash=plan.seed_root or "", note=note) \
        if note is not None and plan.seed_size is not None else None
    results = None
    if plan.status is PlanStatus.published or (
            plan.picks is not None and service.supervises_plan(db, principal, plan)):
        inspections = service.plan_inspections(db, plan)
        found = service.findings_of(db, [i.id for i in inspections])
        names = service.institutions_named(db, [i.institution_id for i in inspections])
        # Evidence files are never public: the published results name findings, not files.
        public = plan.status is PlanStatus.published and not service.supervises_plan(
            db, principal, plan)
        results = [inspection_out(db, i, [
            {"item": f.item, "outcome": f.outcome.value, "note": f.note,
             **({} if public else {"files": list(f.files)})} for f in found[i.id]],
            names.get(i.institution_id, "")) for i in inspections]
    return PlanOut(id=plan.id, bureau_org_id=plan.bureau_org_id, district=plan.district,
                   title=plan.title, status=plan.status, items=list(plan.items),
                   tier_shares=dict(plan.tier_shares), frozen=plan.frozen,
                   frozen_at=plan.frozen_at, digest=plan.digest, checkpoint=checkpoint,
                   picks=plan.picks, completed_on=plan.completed_on,
                   publication_due=service.publication_due(plan),
                   published_at=plan.published_at, results=results, log_key=log_key)


# --- inspectors ------------------------------------------------------------------------------

@router.get("/inspectors", response_model=list[InspectorOut])
def list_inspectors(db: DB, principal: Reader) -> list[InspectorOut]:
    """The inspectors of the bureaus the caller acts for, with their declared conflicts."""
    return [inspector_out(x) for x in service.list_inspectors(db, principal)]


@router.post("/inspectors", response_model=InspectorOut, status_code=201)
def create_inspector(body: InspectorIn, db: DB, principal: Writer) -> InspectorOut:
    return inspector_out(service.create_inspector(db, principal, body))


@router.put("/inspectors/{inspector_id}/conflicts", response_model=InspectorOut)
def set_conflicts(inspector_id: PathId, body: ConflictsIn, db: DB,
                  principal: Writer) -> InspectorOut:
    """Replaces the inspector's declared conflicts (former employer, relative, recent audit),
    each with an institution and an end date."""
    return inspector_out(service.set_conflicts(db, principal, inspector_id, body.conflicts))


# --- plans -----------------------------------------------------------------------------------

@router.get("/plans", response_model=list[PlanOut])
def list_plans(db: DB, principal: Reader) -> list[PlanOut]:
    return [plan_out(db, p, principal) for p in service.list_plans(db, principal)]


@router.post("/plans", response_model=PlanOut, status_code=201)
def create_plan(body: PlanIn, db: DB, principal: Writer) -> PlanOut:
    return plan_out(db, service.create_plan(db, principal, body), principal)


@router.put("/plans/{plan_id}", response_model=PlanOut)
def update_plan(plan_id: PathId, body: PlanIn, db: DB, principal: Writer) -> PlanOut:
    return plan_out(db, service.update_plan(db, principal, plan_id, body), principal)


@router.get("/plans/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: PathId, request: Request, db: DB, principal: Public) -> PlanOut:
    """A frozen plan, public: its document and digest, the checkpoint that seeded its draw
    and the picks; the results once published. Recompute the draw from this alone:
    ``tichub supervision draw --verify URL``."""
    log: Log = request.app.state.log
    return plan_out(db, service.get_plan(db, principal, plan_id), principal,
                    log.verifier.encode())


@router.post("/plans/{plan_id}/freeze", response_model=PlanOut)
def freeze_plan(plan_id: PathId, db: DB, principal: Writer) -> PlanOut:
    """Fixes and publishes the plan's document and digest; refused if an institution would
    have fewer than 2 inspectors without a conflict."""
    return plan_out(db, service.freeze_plan(db, principal, plan_id), principal)


@router.post("/plans/{plan_id}/draw", response_model=PlanOut)
def draw_plan(plan_id: PathId, db: DB, principal: Writer) -> PlanOut:
    """Draws from the log's first checkpoint signed after the freeze (409 until there is
    one) and opens the inspections."""
    return plan_out(db, service.draw_plan(db, principal, plan_id), principal)


@router.post("/plans/{plan_id}/publish", response_model=PlanOut)
def publish_plan(plan_id: PathId, db: DB, principal: Writer) -> PlanOut:
    return plan_out(db, service.publish_plan(db, principal, plan_id), principal)


# --- inspections -----------------------------------------------------------------------------

@router.get("/inspections/{inspection_id}", response_model=InspectionOut)
def get_inspection(inspection_id: PathId, db: DB, principal: Inspected) -> InspectionOut:
    return inspection_out(db, service.get_inspection(db, principal, inspection_id))


@router.post("/inspections/{inspection_id}/files", response_model=FileOut, status_code=201,
             max_body_size=limits.upload(service.MAX_FILE))
async def add_file(inspection_id: PathId, db: DB, principal: Writer,
                   file: Annotated[UploadFile, File(description="evidence: a photo, a scan, "
                                                    "a record (at most 10 MB)")]) -> FileOut:
    data = await file.read(service.MAX_FILE + 1)
    stored = service.add_file(db, principal, inspection_id, file.filename or "",
                              file.content_type or "", data)
    return FileOut(id=stored.id, name=stored.name, content_type=stored.content_type,
                   size=stored.size, sha256=stored.sha256)


@router.get("/inspections/{inspection_id}/files/{file_id}", response_class=Response)
def get_file(inspection_id: PathId, file_id: PathId, db: DB, principal: Reader) -> Response:
    """An evidence file: the institution's supervisors only, never public."""
    stored = service.get_file(db, principal, file_id)
    if not any(file_id in f.files for f in service.findings_of(db, [inspection_id])
               .get(inspection_id, [])):
        raise errors.not_found(Msg("file"))
    return Response(stored.data, media_type="application/octet-stream", headers={
        "Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"})


@router.post("/inspections/{inspection_id}/findings", response_model=InspectionOut)
def record_finding(inspection_id: PathId, body: FindingIn, db: DB,
                   principal: Writer) -> InspectionOut:
    """The finding on one plan item: compliant, minor or serious, with a note and evidence
    files uploaded before."""
    service.record_finding(db, principal, inspection_id, body)
    return inspection_out(db, service.get_inspection(db, principal, inspection_id))


@router.post("/inspections/{inspection_id}/done", response_model=InspectionOut)
def finish_inspection(inspection_id: PathId, body: FinishIn, db: DB,
                      principal: Writer) -> InspectionOut:
    return inspection_out(db, service.finish_inspection(db, principal, inspection_id,
                                                        body.summary))
