"""Double-random inspection use cases: the only code that writes inspectors, plans,
inspections and findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import audit, errors, notify
from tichub.core.auth import Principal
from tichub.core.errors import FieldError
from tichub.core.ids import today, utcnow
from tichub.core.messages import Msg
from tichub.core.models import Membership, Organisation, OrgKind, Role
from tichub.registry.models import Institution
from tichub.reports import service as reports
from tichub.supervision import files
from tichub.supervision.inspections import draw
from tichub.supervision.inspections.schemas import (
    ConflictIn,
    FindingIn,
    InspectorIn,
    PlanIn,
)
from tichub.supervision.jurisdiction import ALL, bureau_orgs, districts, require_supervisor
from tichub.supervision.models import (
    Bureau,
    CreditScore,
    Finding,
    Inspection,
    InspectionPlan,
    InspectionStatus,
    Inspector,
    PlanStatus,
    StoredFile,
)

DEFAULT_SHARES = {"A": 0.03, "B": 0.10, "C": 0.30, "D": 1.0}
PER_INSTITUTION = 2
# Plans and results are published within 20 working days of completion (Monday to Friday;
# public holidays and their make-up working days are not known to the platform, so a bureau
# that wants the margin publishes earlier).
PUBLISH_WITHIN = 20
MAX_FILE = files.MAX_FILE
PUBLIC = (PlanStatus.frozen, PlanStatus.drawn, PlanStatus.completed, PlanStatus.published)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days (Mon-Fri) after ``start``."""
    d = start
    while days > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


def publication_due(plan: InspectionPlan) -> date | None:
    return add_working_days(plan.completed_on, PUBLISH_WITHIN) if plan.completed_on else None


def overdue(plan: InspectionPlan, on: date | None = None) -> bool:
    due = publication_due(plan)
    return plan.status is PlanStatus.completed and due is not None and (on or today()) > due


# --- who acts for which bureau ---------------------------------------------------------------

def acting_bureau(db: Session, principal: Principal, bureau_org_id: str | None,
                  role: Role = Role.editor) -> tuple[str, str | None]:
    """The bureau (organisation id, district) the principal acts for: the one named, which
    they must hold ``role`` in (operators: any), or their only one."""
    require_supervisor(db, principal, None, role)
    if bureau_org_id is None:
        orgs = bureau_orgs(principal, role)
        if len(orgs) != 1:
            raise errors.invalid("bureau_org_id", Msg("name the bureau you act for"))
        bureau_org_id = orgs[0]
    elif not principal.is_operator and bureau_org_id not in bureau_orgs(principal, role):
        raise errors.forbidden(Msg("you do not act for this bureau"))
    org = db.get(Organisation, bureau_org_id)
    if org is None or org.kind is not OrgKind.regulator:
        raise errors.invalid("bureau_org_id", Msg("is not a market regulator's bureau"))
    district = db.scalar(select(Bureau.district).where(Bureau.org_id == bureau_org_id))
    return bureau_org_id, district


def acts_for(principal: Principal, bureau_org_id: str, role: Role = Role.editor) -> bool:
    return principal.is_operator or bureau_org_id in bureau_orgs(principal, role)


def supervises_plan(db: Session, principal: Principal, plan: InspectionPlan) -> bool:
    """A supervisor of the plan's district (a city-wide plan: the city bureau), or of the
    bureau that made it."""
    if not principal.authenticated:
        return False
    if acts_for(principal, plan.bureau_org_id, Role.viewer):
        return True
    seen = districts(db, principal)
    return seen is ALL or (plan.district is not None and plan.district in seen)


def _institutions_in(db: Session, district: str | None) -> list[Institution]:
    q = select(Institution).order_by(Institution.id)
    if district is not None:
        q = q.where(Institution.district == district)
    return list(db.scalars(q))


# --- inspectors ------------------------------------------------------------------------------

def _conflicts(db: Session, conflicts: Sequence[ConflictIn]) -> list[dict[str, Any]]:
    wanted = {c.institution_id for c in conflicts}
    known = set(db.scalars(select(Institution.id).where(Institution.id.in_(wanted)))) \
        if wanted else set()
    faults = [FieldError(f"conflicts.{i}.institution_id", Msg("no such institution"))
              for i, c in enumerate(conflicts) if c.institution_id not in known]
    if faults:
        raise errors.Problem(422, "Invalid input", detail="; ".join(
            f"{f.field}: {f.message}" for f in faults), errors=faults)
    return [{"institution_id": c.institution_id, "reason": c.reason.value,
             "until": c.until.isoformat() if c.until else None} for c in conflicts]


def create_inspector(db: Session, principal: Principal, data: InspectorIn) -> Inspector:
    bureau, _ = acting_bureau(db, principal, data.bureau_org_id)
    if data.user_id is not None and not db.scalar(
            select(Membership.user_id).where(Membership.user_id == data.user_id,
                                             Membership.org_id == bureau)):
        raise errors.invalid("user_id", Msg("is not a member of the bureau"))
    inspector = Inspector(bureau_org_id=bureau, name=data.name.strip(), user_id=data.user_id,
                          conflicts=_conflicts(db, data.conflicts), active=True)
    db.add(inspector)
    db.flush()
    audit.record(db, action="supervision.inspector_added", object_type="inspector",
                 object_id=inspector.id, actor_user_id=principal.user_id, org_id=bureau,
                 data={"name": inspector.name, "conflicts": inspector.conflicts})
    db.commit()
    return inspector


def get_inspector(db: Session, principal: Principal, inspector_id: str,
                  role: Role = Role.viewer) -> Inspector:
    inspector = db.get(Inspector, inspector_id)
    if inspector is None or not acts_for(principal, inspector.bureau_org_id, role):
        require_supervisor(db, principal, None, role)
        raise errors.not_found(Msg("inspector"))
    return inspector


def set_conflicts(db: Session, principal: Principal, inspector_id: str,
                  conflicts: Sequence[ConflictIn]) -> Inspector:
    """An inspector's declared conflicts, replaced as a whole (a plan frozen before keeps
    the ones it was frozen with)."""
    inspector = get_inspector(db, principal, inspector_id, Role.editor)
    before = inspector.conflicts
    inspector.conflicts = _conflicts(db, conflicts)
    audit.record(db, action="supervision.inspector_conflicts", object_type="inspector",
                 object_id=inspector.id, actor_user_id=principal.user_id,
                 org_id=inspector.bureau_org_id,
                 data={"before": before, "after": inspector.conflicts})
    db.commit()
    return inspector


def set_active(db: Session, principal: Principal, inspector_id: str, active: bool) -> Inspector:
    inspector = get_inspector(db, principal, inspector_id, Role.editor)
    inspector.active = active
    audit.record(db, action="supervision.inspector_active", object_type="inspector",
                 object_id=inspector.id, actor_user_id=principal.user_id,
                 org_id=inspector.bureau_org_id, data={"active": active})
    db.commit()
    return inspector


def list_inspectors(db: Session, principal: Principal,
                    bureau_org_id: str | None = None) -> list[Inspector]:
    require_supervisor(db, principal)
    orgs = [bureau_org_id] if bureau_org_id else bureau_orgs(principal)
    if bureau_org_id and not acts_for(principal, bureau_org_id, Role.viewer):
        raise errors.forbidden(Msg("you do not act for this bureau"))
    q = select(Inspector).order_by(Inspector.name, Inspector.id)
    if not (principal.is_operator and not bureau_org_id):
        q = q.where(Inspector.bureau_org_id.in_(orgs))
    return list(db.scalars(q))


def _active_conflict(conflict: dict[str, Any], on: date) -> bool:
    until = conflict.get("until")
    return until is None or date.fromisoformat(until) >= on


# --- plans -----------------------------------------------------------------------------------

def _shares(given: dict[str, float] | None) -> dict[str, float]:
    shares = dict(DEFAULT_SHARES)
    shares.update(given or {})
    # Kept to a basis point: the frozen document carries whole basis points.
    return {t: round(shares[t] * 10000) / 10000 for t in draw.TIERS}


def create_plan(db: Session, principal: Principal, data: PlanIn) -> InspectionPlan:
    bureau, district = acting_bureau(db, principal, data.bureau_org_id)
    plan = InspectionPlan(bureau_org_id=bureau, district=district, title=data.title.strip(),
                          items=[{"code": i.code.strip(), "description": i.description.strip()}
                                 for i in data.items],
                          tier_shares=_shares(data.tier_shares), status=PlanStatus.draft)
    db.add(plan)
    db.flush()
    audit.record(db, action="supervision.plan_created", object_type="inspection_plan",
                 object_id=plan.id, actor_user_id=principal.user_id, org_id=bureau,
                 data={"title": plan.title, "items": plan.items, "shares": plan.tier_shares})
    db.commit()
    return plan


def get_plan(db: Session, principal: Principal, plan_id: str) -> InspectionPlan:
    """A plan: frozen or later, to anyone (it is published); a draft, to its supervisors."""
    plan = db.get(InspectionPlan, plan_id)
    if plan is None or (plan.status not in PUBLIC and not supervises_plan(db, principal, plan)):
        raise errors.not_found(Msg("inspection plan"))
    return plan


def own_plan(db: Session, principal: Principal, plan_id: str) -> InspectionPlan:
    """A plan its bureau's editors change (operators: any)."""
    plan = db.get(InspectionPlan, plan_id)
    if plan is None or not supervises_plan(db, principal, plan):
        require_supervisor(db, principal, None, Role.editor)
        raise errors.not_found(Msg("inspection plan"))
    if not acts_for(principal, plan.bureau_org_id):
        raise errors.forbidden(Msg("only the bureau that made the plan may change it"))
    return plan


def update_plan(db: Session, principal: Principal, plan_id: str, data: PlanIn) -> InspectionPlan:
    plan = own_plan(db, principal, plan_id)
    if plan.status is not PlanStatus.draft:
        raise errors.conflict("status", Msg("a frozen plan cannot be changed"))
    plan.title = data.title.strip()
    plan.items = [{"code": i.code.strip(), "description": i.description.strip()}
                  for i in data.items]
    plan.tier_shares = _shares(data.tier_shares)
    audit.record(db, action="supervision.plan_updated", object_type="inspection_plan",
                 object_id=plan.id, actor_user_id=principal.user_id, org_id=plan.bureau_org_id,
                 data={"title": plan.title, "items": plan.items, "shares": plan.tier_shares})
    db.commit()
    return plan


def tiers_of(db: Session, institution_ids: Sequence[str]) -> dict[str, str]:
    """Each institution's latest credit tier; "B" for one not scored yet. Read here, in one
    query over the credit table, until the credit capability's ``latest_tiers`` replaces it
    (supervision figures may read supervision tables directly)."""
    found: dict[str, str] = {}
    wanted = list(institution_ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for inst, tier in db.execute(select(CreditScore.institution_id, CreditScore.tier)
                                     .where(CreditScore.institution_id.in_(chunk))
                                     .order_by(CreditScore.institution_id,
                                               CreditScore.computed_at, CreditScore.id)):
            found[inst] = tier  # the last one read is the latest
    return {i: found.get(i, "B") for i in wanted}


def frozen_document(db: Session, plan: InspectionPlan, on: date) -> dict[str, Any]:
    """What a freeze fixes, as published: items, shares, the institutions under the bureau
    with their tiers, the bureau's active inspectors and the conflicts that hold on ``on``."""
    institutions = _institutions_in(db, plan.district)
    tiers = tiers_of(db, [i.id for i in institutions])
    inspectors = list(db.scalars(select(Inspector).where(
        Inspector.bureau_org_id == plan.bureau_org_id, Inspector.active).order_by(Inspector.id)))
    pool = {i.id for i in institutions}
    conflicts = sorted({(x.id, c["institution_id"]) for x in inspectors for c in x.conflicts
                        if c["institution_id"] in pool and _active_conflict(c, on)})
    latest = reports.latest_checkpoint(db)
    bureau = db.get(Organisation, plan.bureau_org_id)
    return {
        "version": draw.VERSION, "plan_id": plan.id,
        "bureau": {"org_id": plan.bureau_org_id, "name": bureau.name if bureau else ""},
        "district": plan.district, "title": plan.title, "items": plan.items,
        "shares_bp": {t: round(plan.tier_shares.get(t, 0) * 10000) for t in draw.TIERS},
        # Ids only: an unpublished institution's name is its own business.
        "institutions": [{"id": i.id, "tier": tiers[i.id]} for i in institutions],
        "inspectors": [{"id": x.id, "name": x.name} for x in inspectors],
        "conflicts": [list(pair) for pair in conflicts],
        "per_institution": PER_INSTITUTION,
        "log_size": latest.size if latest else 0,
        "frozen_on": on.isoformat(),
    }


def freeze_plan(db: Session, principal: Principal, plan_id: str) -> InspectionPlan:
    """Fixes the plan's document and publishes it with its digest; the draw then waits for
    the log's first checkpoint signed after this moment."""
    plan = own_plan(db, principal, plan_id)
    if plan.status is not PlanStatus.draft:
        raise errors.conflict("status", Msg("the plan is frozen already"))
    document = frozen_document(db, plan, today())
    if not document["institutions"]:
        raise errors.invalid("institutions", Msg("no institution is under this bureau"))
    short = draw.short_of_inspectors(document)
    if short:
        names = institutions_named(db, short[:1])
        raise errors.invalid("inspectors", Msg(
            "{count} institution(s) would have fewer than {n} inspectors without a conflict, "
            "e.g. {name}", count=len(short), n=PER_INSTITUTION, name=names[short[0]]))
    plan.frozen, plan.digest = document, draw.digest(document)
    plan.frozen_at, plan.status = utcnow(), PlanStatus.frozen
    audit.record(db, action="supervision.plan_frozen", object_type="inspection_plan",
                 object_id=plan.id, actor_user_id=principal.user_id, org_id=plan.bureau_org_id,
                 data={"digest": plan.digest, "log_size": document["log_size"],
                       "institutions": len(document["institutions"])})
    db.commit()
    return plan


class NotYet(errors.Problem):
    pass


def draw_plan(db: Session, principal: Principal | None, plan_id: str) -> InspectionPlan:
    """Draws a frozen plan from the first checkpoint signed after its freeze and opens an
    inspection for each pick. ``principal`` None: the platform itself (a scheduled draw)."""
    plan = own_plan(db, principal, plan_id) if principal is not None \
        else db.get(InspectionPlan, plan_id)
    if plan is None:
        raise errors.not_found(Msg("inspection plan"))
    if plan.status is not PlanStatus.frozen:
        raise errors.conflict("status", Msg("only a frozen plan not yet drawn can be drawn"))
    assert plan.frozen is not None and plan.digest is not None and plan.frozen_at is not None
    checkpoint = reports.first_checkpoint_after(db, int(plan.frozen["log_size"]),
                                                plan.frozen_at)
    if checkpoint is None:
        raise NotYet(409, "Not yet", detail=Msg(
            "the draw waits for the log's first checkpoint signed after the freeze; try "
            "again in a few seconds"))
    picks = draw.draw(plan.frozen, plan.digest, bytes.fromhex(checkpoint.root_hash),
                      checkpoint.size)
    plan.seed_size, plan.seed_root = checkpoint.size, checkpoint.root_hash
    plan.picks = [p.as_dict() for p in picks]
    plan.status = PlanStatus.drawn
    for p in picks:
        db.add(Inspection(plan_id=plan.id, institution_id=p.institution_id,
                          bureau_org_id=plan.bureau_org_id, inspector_ids=list(p.inspector_ids),
                          status=InspectionStatus.planned))
    audit.record(db, action="supervision.plan_drawn", object_type="inspection_plan",
                 object_id=plan.id, actor_user_id=principal.user_id if principal else None,
                 org_id=plan.bureau_org_id,
                 data={"seed_size": checkpoint.size, "seed_root": checkpoint.root_hash,
                       "picks": len(picks)})
    db.commit()
    return plan


def draw_ready(db: Session) -> int:
    """Draws every frozen plan whose seeding checkpoint exists now; returns how many."""
    done = 0
    for plan_id in list(db.scalars(select(InspectionPlan.id).where(
            InspectionPlan.status == PlanStatus.frozen))):
        try:
            draw_plan(db, None, plan_id)
            done += 1
        except NotYet:
            db.rollback()
    return done


def publish_plan(db: Session, principal: Principal, plan_id: str) -> InspectionPlan:
    plan = own_plan(db, principal, plan_id)
    if plan.status is not PlanStatus.completed:
        raise errors.conflict("status", Msg(
            "a plan is published once every inspection of it is done"))
    plan.status, plan.published_at = PlanStatus.published, utcnow()
    audit.record(db, action="supervision.plan_published", object_type="inspection_plan",
                 object_id=plan.id, actor_user_id=principal.user_id, org_id=plan.bureau_org_id,
                 data={"due": (publication_due(plan) or today()).isoformat(),
                       "late": overdue(plan)})
    db.commit()
    return plan


def list_plans(db: Session, principal: Principal) -> list[InspectionPlan]:
    """The plans the supervisor may see, newest first."""
    require_supervisor(db, principal)
    seen = districts(db, principal)
    q = select(InspectionPlan).order_by(InspectionPlan.created_at.desc(),
                                        InspectionPlan.id.desc())
    if seen is not ALL:
        q = q.where(InspectionPlan.district.in_(seen)
                    | InspectionPlan.bureau_org_id.in_(bureau_orgs(principal)))
    return list(db.scalars(q.limit(500)))


def published_plans(db: Session, limit: int = 200) -> list[InspectionPlan]:
    return list(db.scalars(select(InspectionPlan).where(InspectionPlan.status.in_(PUBLIC))
                           .order_by(InspectionPlan.frozen_at.desc()).limit(limit)))


def seeding_note(db: Session, plan: InspectionPlan) -> str | None:
    if plan.seed_size is None:
        return None
    return reports.cosigned_note(db, reports.checkpoint_at(db, plan.seed_size))


def plan_inspections(db: Session, plan: InspectionPlan) -> list[Inspection]:
    return list(db.scalars(select(Inspection).where(Inspection.plan_id == plan.id)
                           .order_by(Inspection.created_at, Inspection.id)))


# --- inspections and findings ----------------------------------------------------------------

def _institution(db: Session, institution_id: str) -> Institution:
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise errors.not_found(Msg("institution"))
    return inst


def get_inspection(db: Session, principal: Principal, inspection_id: str) -> Inspection:
    """An inspection: to the supervisors of the institution's district; once done, to the
    inspected institution's own members too."""
    found = db.get(Inspection, inspection_id)
    if found is None:
        raise errors.not_found(Msg("inspection"))
    inst = _institution(db, found.institution_id)
    own = inst.org_id in principal.roles
    if own and found.status is InspectionStatus.done:
        return found
    if not principal.authenticated:
        raise errors.unauthorized()
    seen = districts(db, principal)
    if not (principal.is_operator or acts_for(principal, found.bureau_org_id, Role.viewer)
            or seen is ALL or inst.district in seen):
        raise errors.not_found(Msg("inspection"))
    return found


def _inspecting(db: Session, principal: Principal, inspection_id: str) -> tuple[Inspection,
                                                                                 Institution]:
    found = get_inspection(db, principal, inspection_id)
    inst = _institution(db, found.institution_id)
    require_supervisor(db, principal, inst.district, Role.editor)
    if not acts_for(principal, found.bureau_org_id):
        raise errors.forbidden(Msg("only the bureau that holds the inspection may record it"))
    return found, inst


def findings_of(db: Session, inspection_ids: Iterable[str]) -> dict[str, list[Finding]]:
    wanted = list(inspection_ids)
    out: dict[str, list[Finding]] = {i: [] for i in wanted}
    if wanted:
        for f in db.scalars(select(Finding).where(Finding.inspection_id.in_(wanted))
                            .order_by(Finding.item)):
            out[f.inspection_id].append(f)
    return out


def items_of(db: Session, inspection: Inspection) -> list[dict[str, Any]]:
    plan = db.get(InspectionPlan, inspection.plan_id) if inspection.plan_id else None
    return list(plan.items) if plan else []


def add_file(db: Session, principal: Principal, inspection_id: str, name: str,
             content_type: str, data: bytes) -> StoredFile:
    """Evidence for a finding: kept private to the bureau and the institution's supervisors."""
    inspection, inst = _inspecting(db, principal, inspection_id)
    [file_id] = files.store(db, inspection.bureau_org_id, inst.id, principal.user_id,
                            [files.Upload(name, content_type, data)], field="file")
    stored = db.get(StoredFile, file_id)
    assert stored is not None
    audit.record(db, action="supervision.inspection_file", object_type="inspection",
                 object_id=inspection.id, actor_user_id=principal.user_id,
                 org_id=inspection.bureau_org_id,
                 data={"file_id": stored.id, "sha256": stored.sha256, "name": stored.name})
    db.commit()
    return stored


def record_finding(db: Session, principal: Principal, inspection_id: str,
                   data: FindingIn) -> Finding:
    """The finding on one plan item (recorded again, it replaces the earlier one)."""
    inspection, inst = _inspecting(db, principal, inspection_id)
    if inspection.status is InspectionStatus.done:
        raise errors.conflict("status", Msg("the inspection is closed"))
    codes = [i["code"] for i in items_of(db, inspection)]
    if codes and data.item not in codes:
        raise errors.invalid("item", Msg("is not an item of the plan"))
    if data.files:
        owned = set(db.scalars(select(StoredFile.id).where(
            StoredFile.id.in_(data.files), StoredFile.institution_id == inst.id,
            StoredFile.org_id == inspection.bureau_org_id)))
        if missing := [f for f in data.files if f not in owned]:
            raise errors.invalid("files", Msg("no such file of this inspection: {id}",
                                              id=missing[0]))
    finding = db.scalar(select(Finding).where(Finding.inspection_id == inspection.id,
                                              Finding.item == data.item))
    if finding is None:
        finding = Finding(inspection_id=inspection.id, item=data.item, outcome=data.outcome)
        db.add(finding)
    finding.outcome, finding.note, finding.files = data.outcome, data.note, list(data.files)
    inspection.status = InspectionStatus.in_progress
    db.flush()
    audit.record(db, action="supervision.finding", object_type="inspection",
                 object_id=inspection.id, actor_user_id=principal.user_id,
                 org_id=inspection.bureau_org_id,
                 data={"item": data.item, "outcome": data.outcome.value, "files": data.files})
    db.commit()
    return finding


def finish_inspection(db: Session, principal: Principal, inspection_id: str,
                      summary: str) -> Inspection:
    """Closes the inspection (every plan item needs its finding) and tells the lab; the
    plan is complete once its last inspection is."""
    inspection, inst = _inspecting(db, principal, inspection_id)
    if inspection.status is InspectionStatus.done:
        raise errors.conflict("status", Msg("the inspection is closed"))
    done_items = {f.item for f in findings_of(db, [inspection.id])[inspection.id]}
    missing = [i["code"] for i in items_of(db, inspection) if i["code"] not in done_items]
    if missing or not done_items:
        raise errors.invalid("findings", Msg("record a finding for every item first: {items}",
                                             items=", ".join(missing) or "—"))
    inspection.status, inspection.done_on, inspection.summary = (
        InspectionStatus.done, today(), summary)
    audit.record(db, action="supervision.inspection_done", object_type="inspection",
                 object_id=inspection.id, actor_user_id=principal.user_id,
                 org_id=inspection.bureau_org_id, data={"institution_id": inst.id})
    notify.notify(db, inst.org_id, "supervision.inspection_done",
                  Msg("The market regulator's inspection of {name} is closed", name=inst.name_zh),
                  link=f"/supervision/inspections/{inspection.id}")
    db.flush()
    if inspection.plan_id:
        plan = db.get(InspectionPlan, inspection.plan_id)
        open_left = db.scalar(select(Inspection.id).where(
            Inspection.plan_id == inspection.plan_id,
            Inspection.status != InspectionStatus.done).limit(1))
        if plan is not None and plan.status is PlanStatus.drawn and open_left is None:
            plan.status, plan.completed_on = PlanStatus.completed, today()
            audit.record(db, action="supervision.plan_completed", object_type="inspection_plan",
                         object_id=plan.id, actor_user_id=principal.user_id,
                         org_id=plan.bureau_org_id,
                         data={"publication_due": (publication_due(plan) or today()).isoformat()})
    db.commit()
    return inspection


def get_file(db: Session, principal: Principal, file_id: str) -> StoredFile:
    """An inspection's evidence file: the bureau and the institution's supervisors only."""
    stored = db.get(StoredFile, file_id)
    if stored is None or stored.institution_id is None:
        raise errors.not_found(Msg("file"))
    inst = _institution(db, stored.institution_id)
    require_supervisor(db, principal, inst.district)
    return stored


@dataclass(frozen=True)
class Due:
    plan: InspectionPlan
    due: date
    late: bool


def publications_due(db: Session, principal: Principal) -> list[Due]:
    """The supervisor's completed plans not yet published, with their due dates: for the
    dashboard (``inspections due``) and the plans page."""
    return [Due(p, publication_due(p) or today(), overdue(p))
            for p in list_plans(db, principal) if p.status is PlanStatus.completed]


def open_inspections(db: Session, principal: Principal) -> list[Inspection]:
    """Inspections drawn and not yet closed, in the supervisor's districts."""
    require_supervisor(db, principal)
    seen = districts(db, principal)
    q = select(Inspection).join(Institution, Institution.id == Inspection.institution_id) \
        .where(Inspection.status != InspectionStatus.done)
    if seen is not ALL:
        q = q.where(Institution.district.in_(seen))
    return list(db.scalars(q.order_by(Inspection.created_at).limit(500)))


def institutions_named(db: Session, ids: Iterable[str]) -> dict[str, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    return dict(db.execute(select(Institution.id, Institution.name_zh)
                           .where(Institution.id.in_(wanted))).all())
