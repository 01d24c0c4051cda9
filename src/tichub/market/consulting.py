"""Expert consulting: profiles, requests, scheduling, and the record of the advice given."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal, can, require_member
from tichub.core.db import claim_transition
from tichub.core.ids import utcnow
from tichub.core.messages import Msg
from tichub.core.models import Organisation, Role
from tichub.core.notify import notify
from tichub.market.models import Consultation, ConsultationStatus, Expert
from tichub.market.schemas import ConsultationIn, ConsultationStepIn, ExpertIn

SCOPE = "market:write"
# Which side takes which step, from which states.
STEPS = {
    "schedule": ("expert", (ConsultationStatus.requested, ConsultationStatus.scheduled),
                 ConsultationStatus.scheduled),
    "decline": ("expert", (ConsultationStatus.requested,), ConsultationStatus.declined),
    "cancel": ("client", (ConsultationStatus.requested, ConsultationStatus.scheduled),
               ConsultationStatus.cancelled),
    "advise": ("expert", (ConsultationStatus.scheduled,), ConsultationStatus.advised),
}
SIDES = {"expert": Msg("the expert"), "client": Msg("the client")}


def add_expert(db: Session, principal: Principal, data: ExpertIn) -> Expert:
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    if db.get(Organisation, data.org_id) is None:
        raise errors.invalid("org_id", Msg("no such organisation"))
    expert = Expert(**data.model_dump())
    db.add(expert)
    db.flush()
    audit.record(db, action="expert.listed", object_type="expert", object_id=expert.id,
                 actor_user_id=principal.user_id, org_id=data.org_id, summary=expert.name)
    db.commit()
    return expert


def list_experts(db: Session, field: str | None = None) -> list[Expert]:
    rows = list(db.scalars(select(Expert).where(Expert.active).order_by(Expert.name)))
    if field:
        rows = [e for e in rows if any(field.lower() in f.lower() for f in
                                       [*e.fields, *e.committees])]
    return rows


def get_expert(db: Session, expert_id: str) -> Expert:
    expert = db.get(Expert, expert_id)
    if expert is None or not expert.active:
        raise errors.Problem(404, "Not found", detail=Msg("There is no such expert."))
    return expert


def request(db: Session, principal: Principal, expert_id: str,
            data: ConsultationIn) -> Consultation:
    expert = get_expert(db, expert_id)
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    if data.org_id == expert.org_id:
        raise errors.invalid("org_id", Msg("an organisation does not consult its own "
                                                 "expert here"))
    now = utcnow()
    c = Consultation(expert_id=expert.id, client_org_id=data.org_id, topic=data.topic,
                     question=data.question, preferred_times=data.preferred_times,
                     status=ConsultationStatus.requested, updated_at=now)
    db.add(c)
    db.flush()
    audit.record(db, action="consultation.requested", object_type="consultation",
                 object_id=c.id, actor_user_id=principal.user_id, org_id=data.org_id)
    notify(db, expert.org_id, "consultation.requested",
           Msg("{expert}: a new consultation request", expert=expert.name), body=data.topic,
           link=f"/market/consultations/{c.id}")
    db.commit()
    return c


def get(db: Session, principal: Principal, consultation_id: str) -> tuple[Consultation, Expert]:
    c = db.get(Consultation, consultation_id)
    if c is None:
        raise errors.Problem(404, "Not found",
                             detail=Msg("There is no such consultation."))
    expert = db.get_one(Expert, c.expert_id)
    if not ({c.client_org_id, expert.org_id} & set(principal.roles) or principal.is_operator
            or principal.is_regulator):
        raise errors.forbidden(Msg("a consultation is its client's and its expert's "
                                   "business"))
    return c, expert


def step(db: Session, principal: Principal, consultation_id: str,
         data: ConsultationStepIn) -> Consultation:
    c, expert = get(db, principal, consultation_id)
    side, before, after = STEPS[data.action]
    org = expert.org_id if side == "expert" else c.client_org_id
    if not can(principal, Role.editor, org=org, scope=SCOPE) or org not in principal.roles:
        raise errors.forbidden(Msg("only {side} may take this step of a consultation",
                                   side=SIDES[side]))
    if c.status not in before:
        raise errors.conflict("action", Msg("a consultation that is {status} cannot take "
                                           "this step", status=c.status))
    if not claim_transition(db, Consultation, c.id, c.status, after, updated_at=utcnow()):
        db.rollback()
        raise errors.conflict("action", Msg("the consultation changed meanwhile; reload it"))
    try:
        _apply(c, expert, data)
    except errors.Problem:
        db.rollback()
        raise
    c.status = after
    c.updated_at = utcnow()
    audit.record(db, action=f"consultation.{after.value}", object_type="consultation",
                 object_id=c.id, actor_user_id=principal.user_id, org_id=org,
                 data={"from": [s.value for s in before]})
    notify(db, c.client_org_id if side == "expert" else expert.org_id,
           f"consultation.{after.value}",
           Msg("{expert}: {topic} — {status}", expert=expert.name, topic=c.topic,
               status=after), link=f"/market/consultations/{c.id}")
    db.commit()
    return c


def _apply(c: Consultation, expert: Expert, data: ConsultationStepIn) -> None:
    if data.action == "schedule":
        if data.scheduled_at is None or data.scheduled_at.tzinfo is None:
            raise errors.invalid("scheduled_at", Msg("give the time, with its zone"))
        if data.scheduled_at <= utcnow():
            raise errors.invalid("scheduled_at", Msg("the time has passed"))
        c.scheduled_at, c.minutes = data.scheduled_at, data.minutes or 60
    if data.action == "advise":
        if not data.advice.strip():
            raise errors.invalid("advice", Msg("record the advice given"))
        c.advice = data.advice
        c.minutes = data.minutes or c.minutes or 60
        c.fee_fen = (expert.fee_fen_per_hour * c.minutes + 30) // 60
