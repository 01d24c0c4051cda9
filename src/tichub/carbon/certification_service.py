"""Carbon-label certification: a company submits a frozen footprint study to a certification
body, which checks it item by item, asks questions the company answers, and certifies it (a
carbon-label certificate registered in the public report registry) or rejects it.

Status moves: draft → submitted → in_review ⇄ questions → certified | rejected; the company
may withdraw before a decision. Only the body the study was sent to sees it besides the
company, regulators and the operator.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tichub.carbon.footprint import BOUNDARY_LABELS
from tichub.carbon.label import Label
from tichub.carbon.models import ReviewMessage, Study, StudyStatus
from tichub.carbon.schemas import CHECKS, ChecklistIn, DecisionIn, MessageIn
from tichub.carbon.service import SCOPE, get_study, not_found
from tichub.core import audit, errors
from tichub.core.auth import Principal, can, require_member
from tichub.core.ids import today as ids_today
from tichub.core.ids import utcnow
from tichub.core.messages import Msg, MsgC
from tichub.core.models import Role
from tichub.registry import service as registry
from tichub.registry.models import Institution, InstitutionKind

OPEN = (StudyStatus.submitted, StudyStatus.in_review, StudyStatus.questions)
# What a certified study may carry on each checklist item.
PASSING = {"conforms", "not_applicable"}
# The checklist's items (and a question's topics) as people call them.
CHECK_LABELS = {"boundary": Msg("System boundary"), "cut_off": Msg("Cut-off rule"),
                "data_quality": Msg("Data quality"), "allocation": Msg("Allocation"),
                "general": Msg("General")}


def _listed(items: list[Msg]) -> Msg | str:
    """Several labels as one message parameter, each translated where it is shown."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return Msg("{first}, {rest}", first=items[0], rest=_listed(items[1:]))


def is_reviewer(principal: Principal, study: Study, role: Role = Role.viewer) -> bool:
    """True for members of the body the study was submitted to (not regulators, who only
    read)."""
    held = principal.roles.get(study.cb_org_id or "")
    return (study.cb_org_id is not None and study.status is not StudyStatus.draft
            and held is not None and held.rank >= role.rank)


def submit(db: Session, principal: Principal, study_id: str, institution_id: str) -> Study:
    study = get_study(db, principal, study_id)
    require_member(principal, Role.editor, org=study.org_id, scope=SCOPE)
    if study.status not in (StudyStatus.draft, StudyStatus.withdrawn):
        raise errors.conflict("status", Msg("the study is {status}; only a draft or "
                                            "withdrawn study can be submitted",
                                            status=study.status))
    try:
        inst = registry.get_institution(db, principal, institution_id)
    except errors.Problem:
        raise errors.invalid("institution_id", Msg("no such institution")) from None
    if inst.kind is not InstitutionKind.certification_body:
        raise errors.invalid("institution_id", Msg("is not a certification body"))
    if inst.org_id == study.org_id:
        raise errors.invalid("institution_id",
                             Msg("a company cannot certify its own footprint"))
    study.status = StudyStatus.submitted
    study.cb_org_id = inst.org_id
    study.cb_institution_id = inst.id
    study.submitted_at = utcnow()
    study.checklist = {}
    audit.record(db, action="carbon.study.submitted", object_type="carbon_study",
                 object_id=study.id, actor_user_id=principal.user_id, org_id=study.org_id,
                 data={"institution_id": inst.id}, summary=f"{study.title} sent to "
                 f"{inst.name_zh} for a carbon label")
    db.commit()
    return study


def withdraw(db: Session, principal: Principal, study_id: str) -> Study:
    study = get_study(db, principal, study_id)
    require_member(principal, Role.editor, org=study.org_id, scope=SCOPE)
    if study.status not in OPEN:
        raise errors.conflict("status", Msg("the study is {status}; only a study under "
                                            "review can be withdrawn", status=study.status))
    study.status = StudyStatus.withdrawn
    audit.record(db, action="carbon.study.withdrawn", object_type="carbon_study",
                 object_id=study.id, actor_user_id=principal.user_id, org_id=study.org_id)
    db.commit()
    return study


def review_queue(db: Session, principal: Principal, org_id: str,
                 status: StudyStatus | None = None) -> list[Study]:
    """Studies sent to the body: open ones first, oldest submission first."""
    if not can(principal, Role.viewer, org=org_id):
        raise errors.forbidden(Msg("you are not a member of that certification body"))
    stmt = select(Study).where(Study.cb_org_id == org_id, Study.status != StudyStatus.draft)
    stmt = stmt.where(Study.status == status) if status else stmt.where(Study.status.in_(OPEN))
    return list(db.scalars(stmt.order_by(Study.submitted_at)))


def _as_reviewer(db: Session, principal: Principal, study_id: str) -> Study:
    study = get_study(db, principal, study_id)
    require_member(principal, Role.editor, org=study.cb_org_id or "", scope=SCOPE)
    if not is_reviewer(principal, study, Role.editor):
        raise errors.forbidden(Msg("only the certification body the study was sent to "
                                   "reviews it"))
    if study.status not in OPEN:
        raise errors.conflict("status", Msg("the study is {status}; the review is over",
                                            status=study.status))
    return study


def save_checklist(db: Session, principal: Principal, study_id: str, data: ChecklistIn) -> Study:
    study = _as_reviewer(db, principal, study_id)
    checklist = dict(study.checklist or {})
    for item, check in data.items.items():
        checklist[item] = {**check.model_dump(), "by": principal.user_id,
                           "at": utcnow().isoformat()}
    study.checklist = checklist  # a new dict: JSON columns do not track changes in place
    if study.status is StudyStatus.submitted:
        study.status = StudyStatus.in_review
    audit.record(db, action="carbon.study.checked", object_type="carbon_study",
                 object_id=study.id, actor_user_id=principal.user_id, org_id=study.cb_org_id,
                 data={k: v["verdict"] for k, v in checklist.items()})
    db.commit()
    return study


def post_message(db: Session, principal: Principal, study_id: str, data: MessageIn
                 ) -> ReviewMessage:
    """The body's question (the study then waits for the company) or the company's answer
    (back to the body)."""
    study = get_study(db, principal, study_id)
    if study.status not in OPEN:
        raise errors.conflict("status", Msg("the study is {status}; the review is over",
                                            status=study.status))
    if is_reviewer(principal, study, Role.editor) and principal.has_scope(SCOPE):
        org_id, study.status = study.cb_org_id or "", StudyStatus.questions
    else:
        require_member(principal, Role.editor, org=study.org_id, scope=SCOPE)
        org_id = study.org_id
        if study.status is StudyStatus.questions:
            study.status = StudyStatus.in_review
    msg = ReviewMessage(study_id=study.id, org_id=org_id, author_id=principal.user_id,
                        topic=data.topic, text=data.text)
    db.add(msg)
    db.flush()
    audit.record(db, action="carbon.study.message", object_type="carbon_study",
                 object_id=study.id, actor_user_id=principal.user_id, org_id=org_id,
                 data={"topic": data.topic, "message_id": msg.id})
    db.commit()
    return msg


def messages(db: Session, principal: Principal, study_id: str) -> list[ReviewMessage]:
    study = get_study(db, principal, study_id)
    return list(db.scalars(select(ReviewMessage).where(ReviewMessage.study_id == study.id)
                           .order_by(ReviewMessage.created_at, ReviewMessage.id)))


def _certificate_number(db: Session, inst: Institution, on: date) -> str:
    # CFP-<year>-<body's registry seq>-<n>: short enough to type, unique per body and year.
    prefix = f"CFP-{on.year}-{inst.seq:04d}-"
    issued = db.scalar(select(func.count()).select_from(Study).where(
        Study.certificate_number.like(prefix + "%"))) or 0
    return f"{prefix}{issued + 1:05d}"


def decide(db: Session, principal: Principal, log: Any, study_id: str, data: DecisionIn) -> Study:
    """Certifies (every checklist item conforms or does not apply; the certificate goes into
    the public report registry in the same transaction) or rejects the study."""
    study = _as_reviewer(db, principal, study_id)
    if data.decision == "certify":
        open_items = [c for c in CHECKS
                      if (study.checklist or {}).get(c, {}).get("verdict") not in PASSING]
        if open_items:
            raise errors.invalid("checklist", Msg(
                "before certifying, every item must conform or not apply; still open: {items}",
                items=_listed([CHECK_LABELS[c] for c in open_items])))
        _certify(db, principal, log, study, data)
    else:
        if not data.note.strip():
            raise errors.invalid("note", Msg("say why the study is rejected"))
        study.status = StudyStatus.rejected
    study.decided_at = utcnow()
    study.decision_note = data.note
    audit.record(db, action=f"carbon.study.{study.status.value}", object_type="carbon_study",
                 object_id=study.id, actor_user_id=principal.user_id, org_id=study.cb_org_id,
                 data={"certificate_number": study.certificate_number, "total": study.total})
    db.commit()
    return study


def _certify(db: Session, principal: Principal, log: Any, study: Study, data: DecisionIn) -> None:
    from tichub.core.models import Organisation
    from tichub.reports import service as reports
    from tichub.reports.models import RecordKind
    from tichub.reports.schemas import RecordIn

    inst = db.get(Institution, study.cb_institution_id)
    if inst is None:
        raise errors.conflict("institution_id",
                              Msg("the certification body is no longer registered"))
    today = ids_today()
    valid_from = data.valid_from or today
    if data.valid_until is None or data.valid_until <= valid_from:
        raise errors.invalid("valid_until",
                             Msg("comes after the day the certificate takes effect"))
    root = study.models.get(study.model_id, {})
    company = db.get(Organisation, study.org_id)
    number = _certificate_number(db, inst, today)
    declared = study.results.get("declared", {})
    # Set before registering: register() commits, and the study must change with it.
    study.status = StudyStatus.certified
    study.certificate_number = number
    study.valid_from = valid_from
    study.valid_until = data.valid_until
    receipt = reports.register(db, principal, log, [RecordIn(
        number=number, kind=RecordKind.carbon_label_certificate, institution_id=inst.id,
        client=company.name if company else "", client_public=True,
        product=(root.get("product") or root.get("name") or study.title)[:300],
        standards=[root.get("standard") or "ISO 14067:2018"], issued_on=today,
        valid_until=data.valid_until,
        conclusion=str(conclusion(study.total, float(declared.get("amount", 1)),
                                  str(declared.get("unit", "")),
                                  str(study.results.get("boundary", "")),
                                  str(study.results.get("basis", "")))))])[0]
    study.certificate_record_id = receipt.record_id


def certified_by_number(db: Session, number: str) -> Study:
    """A certified study, for its public label (the certificate is public in the registry)."""
    study = db.scalar(select(Study).where(Study.certificate_number == number,
                                          Study.status == StudyStatus.certified))
    if study is None:
        raise not_found(Msg("No such carbon-label certificate"))
    return study


def label_of(db: Session, number: str, base_url: str) -> Label:
    from tichub.reports import qr
    from tichub.reports import service as reports

    study = certified_by_number(db, number)
    record = reports.get_record(db, study.certificate_record_id or "")
    inst = db.get(Institution, study.cb_institution_id)
    root = study.models.get(study.model_id, {})
    declared = study.results.get("declared", {})
    assert study.valid_until is not None  # set when certified
    return Label(
        value=study.total, declared_amount=float(declared.get("amount", 1)),
        declared_unit=str(declared.get("unit", "")),
        product=root.get("product") or root.get("name") or study.title,
        standard=root.get("standard") or "ISO 14067:2018", number=number,
        valid_until=study.valid_until,
        issuer=(inst.name_zh or inst.name_en or "") if inst else "",
        verify_url=qr.verify_url(base_url, number, record.leaf_hash))


# --- the certificate's conclusion, as the public record keeps it and as pages say it -------

# Units people read in words; symbols (kg, t, kWh) read the same in both languages.
UNIT_LABELS = {"piece": MsgC("unit", "piece"), "pcs": MsgC("unit", "piece")}


def unit_label(unit: str) -> Msg | str:
    return UNIT_LABELS.get(unit, unit)


def conclusion(total: float, amount: float, unit: str, boundary: str, basis: str) -> Msg:
    """The certificate's conclusion. The public record stores its English (signed into the
    transparency log, so its form never changes once written); pages rebuild the Msg from
    that text with ``conclusion_msg`` and show it in the reader's language."""
    return Msg("carbon footprint {value} kg CO2e per {amount} {unit} ({boundary}, GWP100, "
               "IPCC {basis})", value=f"{total:.4g}", amount=f"{amount:g}",
               unit=unit_label(unit), boundary=BOUNDARY_LABELS.get(boundary, boundary),
               basis=basis)


# This module's forms of the stored English: today's, and the one before issue 13
# ("… per 1 piece (cradle_to_gate, GWP100 AR6)").
_CONCLUSION = re.compile(
    r"^carbon footprint (?P<value>\S+) kg CO2e per (?P<amount>\S+) (?P<unit>.+?) "
    r"\((?P<boundary>cradle[ _]to[ _](?:gate|grave)), GWP100,? (?:IPCC )?(?P<basis>AR\d+)\)$")


def conclusion_msg(text: str) -> Msg | str:
    """A stored carbon-label conclusion as a Msg, for ``{{ …|tr }}``; other text as it is."""
    m = _CONCLUSION.match(text or "")
    if m is None:
        return text
    try:
        total, amount = float(m["value"]), float(m["amount"])
    except ValueError:
        return text
    return conclusion(total, amount, m["unit"], m["boundary"].replace(" ", "_"), m["basis"])
