"""Approval use cases: the only code that writes qualification applications.

By commitment (告知承诺) a lab states its conditions, signs the commitment and holds a
provisional CMA qualification at once; the bureau of its district checks on site within
three months. A failed check revokes the qualification, enters the institution's credit
record (the ``credit`` sub-capability reads failed applications as qualification events)
and closes the commitment route to the institution for three years. By the general route the
bureau reviews first and the qualification exists only once approved.

The registry's tables are written through ``registry.service``; supervision decides who may.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal, require_member
from tichub.core.errors import FieldError
from tichub.core.ids import BEIJING, today, utcnow
from tichub.core.messages import Msg
from tichub.core.models import Organisation, OrgKind, Role
from tichub.core.notify import notify
from tichub.core.pagination import PageParams
from tichub.registry import service as registry
from tichub.registry.models import (
    Institution,
    Qualification,
    QualificationKind,
    QualificationStatus,
)
from tichub.registry.schemas import ScopeLineIn
from tichub.supervision import jurisdiction
from tichub.supervision.approval.schemas import ApplicationIn, ApplicationOut, CheckIn, DecisionIn
from tichub.supervision.models import (
    ApplicationKind,
    ApplicationRoute,
    ApplicationStatus,
    QualificationApplication,
)

CHECK_MONTHS = 3  # the on-site check of a commitment is due within three months
BAR_YEARS = 3  # after a failed check, no commitment route for three years
VALIDITY_YEARS = 6  # a CMA qualification's validity
REMIND_DAYS = (30, 7)  # the bureau is reminded this many days before the check is due
READ, WRITE = "supervision:read", "supervision:write"
OPEN = (ApplicationStatus.submitted, ApplicationStatus.provisional)


# --- calendar ----------------------------------------------------------------------------

def add_months(d: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: date, years: int) -> date:
    return add_months(d, 12 * years)


def check_due_for(signed_on: date) -> date:
    """The last day on which the on-site check is on time."""
    return add_months(signed_on, CHECK_MONTHS)


def reminder_stage(due: date, on: date) -> int:
    """0 nothing to say yet, 1 within 30 days, 2 within 7 days, 3 overdue."""
    if on > due:
        return 3
    if on >= due - timedelta(days=REMIND_DAYS[1]):
        return 2
    if on >= due - timedelta(days=REMIND_DAYS[0]):
        return 1
    return 0


# --- the commitment text -----------------------------------------------------------------

def commitment_msg(institution_name: str, kind: ApplicationKind) -> Msg:
    return Msg("{institution} applies for the CMA qualification by commitment ({kind}) and "
               "declares: the conditions stated in this application are true and complete; "
               "the institution meets the requirements of the qualification for the scope "
               "applied for; it accepts an on-site check by the market regulator within "
               "three months; if the check finds the commitment untrue, the qualification is "
               "revoked, the failure enters the institution's credit record, and it may not "
               "apply by commitment for three years.",
               institution=institution_name, kind=kind)


def commitment_text(institution_name: str, kind: ApplicationKind, locale: str) -> str:
    return commitment_msg(institution_name, kind).localize(locale)


def commitment_for(db: Session, principal: Principal, institution_id: str,
                   kind: ApplicationKind, locale: str) -> str:
    """The text an applicant signs, for one of its own institutions."""
    inst = _institution(db, institution_id)
    require_member(principal, Role.editor, org=inst.org_id, scope=WRITE)
    return commitment_text(inst.name_zh, kind, locale)


def _norm(text: str) -> str:
    return " ".join(text.split())


# --- reading -----------------------------------------------------------------------------

def _institution(db: Session, institution_id: str) -> Institution:
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise errors.not_found(Msg("institution"))
    return inst


def may_see(db: Session, principal: Principal, inst: Institution) -> bool:
    """The institution's own members and the supervisors of its district (never another
    lab, never a bureau of another district)."""
    if not principal.authenticated:
        return False
    if inst.org_id in principal.roles or principal.is_operator:
        return principal.has_scope(READ)
    return (principal.has_scope(READ) and bool(jurisdiction.bureau_orgs(principal))
            and jurisdiction.supervises(db, principal, inst.district))


def get_application(db: Session, principal: Principal,
                    application_id: str) -> QualificationApplication:
    app = db.get(QualificationApplication, application_id)
    # Outside one's sight an application does not exist: its id says nothing.
    if app is None or not may_see(db, principal, _institution(db, app.institution_id)):
        raise errors.not_found(Msg("application"))
    return app


def barred_until(db: Session, institution_id: str, on: date | None = None) -> date | None:
    """The day the commitment route opens again to an institution whose commitment was
    found untrue, if that day is still to come."""
    on = on or today()
    last = db.scalar(select(func.max(QualificationApplication.checked_on)).where(
        QualificationApplication.institution_id == institution_id,
        QualificationApplication.status == ApplicationStatus.failed))
    if last is None:
        return None
    until = add_years(last, BAR_YEARS)
    return until if on < until else None


def to_out(db: Session, app: QualificationApplication, on: date | None = None) -> ApplicationOut:
    on = on or today()
    inst = _institution(db, app.institution_id)
    q = db.get(Qualification, app.qualification_id) if app.qualification_id else None
    out = ApplicationOut.model_validate(app)
    out.institution_name = inst.name_zh
    out.district = inst.district
    out.qualification_number = q.number if q else None
    out.overdue = (app.status is ApplicationStatus.provisional and app.check_due is not None
                   and on > app.check_due)
    if app.status is ApplicationStatus.failed and app.checked_on:
        out.barred_until = add_years(app.checked_on, BAR_YEARS)
    return out


@dataclass
class Filters:
    status: ApplicationStatus | None = None
    route: ApplicationRoute | None = None
    due_within: int | None = None  # days: provisional checks due by then (overdue included)
    institution_id: str | None = None


def _filtered(q: Select[QualificationApplication], f: Filters,
              on: date) -> Select[QualificationApplication]:
    if f.status is not None:
        q = q.where(QualificationApplication.status == f.status)
    if f.route is not None:
        q = q.where(QualificationApplication.route == f.route)
    if f.institution_id:
        q = q.where(QualificationApplication.institution_id == f.institution_id)
    if f.due_within is not None:
        q = q.where(QualificationApplication.status == ApplicationStatus.provisional,
                    QualificationApplication.check_due <= on + timedelta(days=f.due_within))
    return q


def _ordered(q: Select[QualificationApplication]) -> Select[QualificationApplication]:
    # The due list: the most urgent check first, then what waits for a decision, then the
    # settled ones, newest first.
    return q.order_by(QualificationApplication.check_due.is_(None),
                      QualificationApplication.check_due,
                      QualificationApplication.created_at.desc(), QualificationApplication.id)


def list_for_bureau(db: Session, principal: Principal, f: Filters, page: PageParams,
                    on: date | None = None) -> tuple[list[QualificationApplication], int]:
    """The applications of the institutions in the supervisor's districts."""
    jurisdiction.require_supervisor(db, principal)
    if not principal.has_scope(READ):
        raise errors.forbidden(Msg("this API token lacks the scope {scope}", scope=READ))
    q = select(QualificationApplication).join(
        Institution, Institution.id == QualificationApplication.institution_id)
    seen = jurisdiction.districts(db, principal)
    if seen is not jurisdiction.ALL:
        q = q.where(Institution.district.in_(sorted(seen)))
    q = _filtered(q, f, on or today())
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = db.scalars(_ordered(q).offset(page.offset).limit(page.per_page))
    return list(rows), total


def list_mine(db: Session, principal: Principal, f: Filters, page: PageParams,
              on: date | None = None) -> tuple[list[QualificationApplication], int]:
    """The applications of the institutions of the caller's own organisations."""
    if not principal.has_scope(READ):
        raise errors.forbidden(Msg("this API token lacks the scope {scope}", scope=READ))
    orgs = list(principal.roles)
    q = select(QualificationApplication).join(
        Institution, Institution.id == QualificationApplication.institution_id).where(
        Institution.org_id.in_(orgs))
    q = _filtered(q, f, on or today())
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = db.scalars(_ordered(q).offset(page.offset).limit(page.per_page))
    return list(rows), total


def own_institutions(db: Session, principal: Principal) -> list[Institution]:
    """The institutions the caller may apply for (editors of their organisation)."""
    orgs = principal.orgs_with(Role.editor) if principal.authenticated else []
    if not orgs:
        return []
    return list(db.scalars(select(Institution).where(Institution.org_id.in_(orgs))
                           .order_by(Institution.name_zh)))


def org_kind(db: Session, org_id: str) -> OrgKind:
    org = db.get(Organisation, org_id)
    if org is None:
        raise errors.not_found(Msg("organisation"))
    return org.kind


def cma_qualifications(db: Session, institution_ids: Sequence[str]) -> list[Qualification]:
    if not institution_ids:
        return []
    return list(db.scalars(select(Qualification).where(
        Qualification.institution_id.in_(institution_ids),
        Qualification.kind == QualificationKind.cma).order_by(Qualification.number)))


# --- applying ----------------------------------------------------------------------------

def _scope_faults(lines: Sequence[ScopeLineIn]) -> list[FieldError]:
    faults = []
    for i, line in enumerate(lines, start=1):
        _, errs = registry.scope_row(line, row=i)
        faults += [FieldError(f"conditions.scope.{e.field}", e.message, e.row) for e in errs]
    return faults


def _raise(faults: Sequence[FieldError]) -> None:
    if faults:
        raise errors.Problem(422, "Invalid input", detail="; ".join(
            f"{e.field}: {e.message}" for e in faults), errors=list(faults))


def _target(db: Session, inst: Institution, data: ApplicationIn) -> Qualification | None:
    """The CMA qualification the application is about (none for a first application)."""
    if data.kind is ApplicationKind.first:
        if data.qualification_id:
            raise errors.invalid("qualification_id", Msg(
                "a first application is for a new qualification: leave this empty"))
        return None
    if not data.qualification_id:
        raise errors.invalid("qualification_id", Msg(
            "choose the CMA qualification this application is about"))
    q = db.get(Qualification, data.qualification_id)
    if q is None or q.institution_id != inst.id or q.kind is not QualificationKind.cma:
        raise errors.invalid("qualification_id", Msg(
            "is not a CMA qualification of this institution"))
    if q.status in (QualificationStatus.withdrawn, QualificationStatus.suspended):
        raise errors.invalid("qualification_id", Msg(
            "the qualification is {status}: apply for a new one",
            status=q.status))
    return q


def apply(db: Session, principal: Principal, data: ApplicationIn,
          on: date | None = None) -> QualificationApplication:
    """Files an application in the institution's name. By commitment it is granted at once
    (provisional, the check due in three months); by the general route it waits for the
    bureau's decision."""
    on = on or today()
    inst = _institution(db, data.institution_id)
    require_member(principal, Role.editor, org=inst.org_id, scope=WRITE)
    target = _target(db, inst, data)
    faults = _scope_faults(data.conditions.scope)
    if data.kind in (ApplicationKind.first, ApplicationKind.added_parameters) \
            and not data.conditions.scope:
        faults.append(FieldError("conditions.scope", Msg(
            "list the scope lines applied for")))
    _raise(faults)
    open_q = select(QualificationApplication.id).where(
        QualificationApplication.institution_id == inst.id,
        QualificationApplication.status.in_(OPEN))
    open_q = open_q.where(QualificationApplication.qualification_id == target.id) if target \
        else open_q.where(QualificationApplication.kind == ApplicationKind.first)
    if db.scalar(open_q.limit(1)):
        raise errors.conflict("kind", Msg(
            "an application for this qualification is still open: wait for its decision or "
            "on-site check"))

    app = QualificationApplication(
        institution_id=inst.id, route=data.route, kind=data.kind,
        conditions=data.conditions.model_dump(mode="json"),
        qualification_id=target.id if target else None)
    if data.route is ApplicationRoute.commitment:
        until = barred_until(db, inst.id, on)
        if until is not None:
            raise errors.invalid("route", Msg(
                "the commitment route is closed to this institution until {date}, three years "
                "after an on-site check found its commitment untrue: apply by the general "
                "route", date=until.isoformat()))
        expected = {_norm(commitment_text(inst.name_zh, data.kind, loc)) for loc in ("zh", "en")}
        if _norm(data.commitment) not in expected:
            raise errors.invalid("commitment", Msg(
                "sign the commitment as shown: send its text unchanged"))
        app.commitment = data.commitment.strip()
        # ``on`` is the day of signing: today, except when seeding or testing a past day.
        app.signed_by = principal.user_id
        app.signed_at = utcnow() if on == today() else datetime.combine(on, time(12), BEIJING)
        app.status = ApplicationStatus.provisional
        app.check_due = check_due_for(on)
        db.add(app)
        db.flush()
        _grant(db, principal.user_id, app, inst, target, on_commitment=True, on=on)
    else:
        app.status = ApplicationStatus.submitted
        db.add(app)
        db.flush()
    audit.record(db, action="qualification_application.submitted",
                 object_type="qualification_application", object_id=app.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"institution_id": inst.id, "route": app.route.value,
                       "kind": app.kind.value, "status": app.status.value,
                       "qualification_id": app.qualification_id,
                       "check_due": app.check_due.isoformat() if app.check_due else None,
                       "commitment_signed": app.signed_at is not None})
    bureau = jurisdiction.bureau_of(db, inst.district)
    if bureau is not None:
        title = (Msg("{institution} holds a CMA qualification on commitment ({kind}): check "
                     "on site by {date}", institution=inst.name_zh, kind=app.kind,
                     date=app.check_due.isoformat())
                 if app.check_due else
                 Msg("{institution} applies for a CMA qualification ({kind})",
                     institution=inst.name_zh, kind=app.kind))
        notify(db, bureau, "supervision.application", title,
               link=f"/supervision/applications/{app.id}")
    db.commit()
    return app


def _grant(db: Session, actor: str | None, app: QualificationApplication, inst: Institution,
           target: Qualification | None, *, on_commitment: bool, on: date) -> None:
    """Changes the registry as the application asks."""
    reason = f"application {app.id}"
    lines = [ScopeLineIn(**line) for line in app.conditions.get("scope", [])]
    if app.kind is ApplicationKind.first:
        q = registry.grant_qualification(
            db, actor, inst.id, issued_on=on, valid_until=add_years(on, VALIDITY_YEARS),
            lines=lines, on_commitment=on_commitment, reason=reason)
        app.qualification_id = q.id
        return
    assert target is not None
    if app.kind is ApplicationKind.renewal:
        start = max(target.valid_until, on)
        registry.renew_qualification(db, actor, target.id, add_years(start, VALIDITY_YEARS),
                                     on_commitment, reason)
    elif app.kind is ApplicationKind.added_parameters:
        registry.add_scope_lines(db, actor, target.id, lines, on_commitment, reason)
    else:
        registry.change_site(db, actor, target.id, app.conditions["site_address"],
                             on_commitment, reason)


# --- the bureau's decisions --------------------------------------------------------------

def _for_bureau(db: Session, principal: Principal,
                application_id: str) -> tuple[QualificationApplication, Institution]:
    app = get_application(db, principal, application_id)
    inst = _institution(db, app.institution_id)
    jurisdiction.require_supervisor(db, principal, inst.district, Role.editor)
    if not principal.has_scope(WRITE):
        raise errors.forbidden(Msg("this API token lacks the scope {scope}", scope=WRITE))
    return app, inst


def record_check(db: Session, principal: Principal, application_id: str, data: CheckIn,
                 on: date | None = None) -> QualificationApplication:
    """The on-site check of a commitment: passed, the qualification is verified; failed, it
    is revoked and the institution barred from the commitment route for three years."""
    on = on or today()
    app, inst = _for_bureau(db, principal, application_id)
    if app.route is not ApplicationRoute.commitment or app.status is not \
            ApplicationStatus.provisional:
        raise errors.conflict("status", Msg(
            "only a provisional qualification on commitment is checked on site (this "
            "application is {status})", status=app.status))
    checked_on = data.checked_on or on
    if checked_on > on:
        raise errors.invalid("checked_on", Msg("is in the future"))
    signed_on = app.signed_at.astimezone(BEIJING).date() if app.signed_at else on
    if checked_on < signed_on:
        raise errors.invalid("checked_on", Msg("is before the commitment was signed"))
    if not data.passed and not data.note.strip():
        raise errors.invalid("note", Msg("say what the check found untrue"))
    assert app.qualification_id is not None
    reason = f"application {app.id}"
    app.checked_on, app.check_note = checked_on, data.note.strip()
    app.decided_by = principal.user_id
    if data.passed:
        app.status = ApplicationStatus.verified
        registry.confirm_commitment(db, principal.user_id, app.qualification_id, reason)
        title = Msg("The on-site check confirmed the commitment of {institution}: the CMA "
                    "qualification is verified", institution=inst.name_zh)
    else:
        app.status = ApplicationStatus.failed
        registry.withdraw_qualification(db, principal.user_id, app.qualification_id,
                                        f"{reason}: the commitment was found untrue")
        title = Msg("The on-site check found the commitment of {institution} untrue: the CMA "
                    "qualification is revoked, and the commitment route is closed until "
                    "{date}", institution=inst.name_zh,
                    date=add_years(checked_on, BAR_YEARS).isoformat())
    late = app.check_due is not None and checked_on > app.check_due
    audit.record(db, action=f"qualification_application.{app.status.value}",
                 object_type="qualification_application", object_id=app.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"institution_id": inst.id, "qualification_id": app.qualification_id,
                       "checked_on": checked_on.isoformat(), "late": late,
                       "note": app.check_note,
                       # What the credit record reads: a qualification event.
                       "credit_event": None if data.passed else "commitment_check_failed"})
    notify(db, inst.org_id, f"supervision.application.{app.status.value}", title,
           link=f"/supervision/mine/applications/{app.id}")
    db.commit()
    return app


def decide(db: Session, principal: Principal, application_id: str, data: DecisionIn,
           on: date | None = None) -> QualificationApplication:
    """The bureau's decision on a general-route application."""
    on = on or today()
    app, inst = _for_bureau(db, principal, application_id)
    if app.route is not ApplicationRoute.general or app.status is not \
            ApplicationStatus.submitted:
        raise errors.conflict("status", Msg(
            "only a submitted application of the general route is decided (this "
            "application is {status})", status=app.status))
    if not data.approved and not data.note.strip():
        raise errors.invalid("note", Msg("give the reason for the rejection"))
    target = db.get(Qualification, app.qualification_id) if app.qualification_id else None
    if data.approved:
        if target is not None and target.status in (QualificationStatus.withdrawn,
                                                    QualificationStatus.suspended):
            raise errors.conflict("status", Msg(
                "the qualification is {status} since the application: it cannot be approved",
                status=target.status))
        _grant(db, principal.user_id, app, inst, target, on_commitment=False, on=on)
        app.status = ApplicationStatus.approved
        title = Msg("The application of {institution} for a CMA qualification ({kind}) is "
                    "approved", institution=inst.name_zh, kind=app.kind)
    else:
        app.status = ApplicationStatus.rejected
        title = Msg("The application of {institution} for a CMA qualification ({kind}) is "
                    "rejected", institution=inst.name_zh, kind=app.kind)
    app.checked_on, app.check_note = on, data.note.strip()
    app.decided_by = principal.user_id
    audit.record(db, action=f"qualification_application.{app.status.value}",
                 object_type="qualification_application", object_id=app.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"institution_id": inst.id, "qualification_id": app.qualification_id,
                       "note": app.check_note})
    notify(db, inst.org_id, f"supervision.application.{app.status.value}", title,
           link=f"/supervision/mine/applications/{app.id}")
    db.commit()
    return app


# --- reminders ---------------------------------------------------------------------------

def remind(db: Session, on: date | None = None) -> int:
    """Reminds each bureau of the on-site checks due in 30 days, in 7 days and overdue, once
    per step (run daily: ``tichub supervision approval remind``). Returns how many
    reminders it sent."""
    on = on or today()
    sent = 0
    rows = db.execute(
        select(QualificationApplication, Institution.name_zh, Institution.district)
        .join(Institution, Institution.id == QualificationApplication.institution_id)
        .where(QualificationApplication.status == ApplicationStatus.provisional,
               QualificationApplication.check_due <= on + timedelta(days=REMIND_DAYS[0]))
        .order_by(QualificationApplication.check_due)).all()
    for app, name, district in rows:
        assert app.check_due is not None
        stage = reminder_stage(app.check_due, on)
        done = reminder_stage(app.check_due, app.reminded_on) if app.reminded_on else 0
        if stage <= done:
            continue
        bureau = jurisdiction.bureau_of(db, district)
        if bureau is not None:
            if stage == 3:
                title = Msg("Overdue: the on-site check of the commitment of {institution} was "
                            "due on {date}", institution=name, date=app.check_due.isoformat())
            else:
                title = Msg("The on-site check of the commitment of {institution} is due on "
                            "{date}, in {days} days", institution=name,
                            date=app.check_due.isoformat(), days=(app.check_due - on).days)
            notify(db, bureau, "supervision.check_due", title,
                   link=f"/supervision/applications/{app.id}")
            sent += 1
        app.reminded_on = on
    db.commit()
    return sent


def due_count(db: Session, on: date | None = None) -> int:
    """Provisional qualifications whose check is due within 30 days or overdue, everywhere."""
    on = on or today()
    return int(db.scalar(select(func.count()).select_from(QualificationApplication).where(
        QualificationApplication.status == ApplicationStatus.provisional,
        QualificationApplication.check_due <= on + timedelta(days=REMIND_DAYS[0]))) or 0)


def due_by_district(db: Session, principal: Principal, within_days: int = 30,
                    on: date | None = None) -> dict[str, dict[str, int]]:
    """Per district of the supervisor's sight: provisional qualifications whose check is
    due within ``within_days`` ("due", overdue ones included) and of those the overdue
    ("overdue"). For the dashboard's chart."""
    on = on or today()
    jurisdiction.require_supervisor(db, principal)
    q = (select(Institution.district, QualificationApplication.check_due)
         .join(Institution, Institution.id == QualificationApplication.institution_id)
         .where(QualificationApplication.status == ApplicationStatus.provisional,
                QualificationApplication.check_due <= on + timedelta(days=within_days)))
    seen = jurisdiction.districts(db, principal)
    if seen is not jurisdiction.ALL:
        q = q.where(Institution.district.in_(sorted(seen)))
    out: dict[str, dict[str, int]] = {}
    for district, due in db.execute(q):
        counts = out.setdefault(district, {"due": 0, "overdue": 0})
        counts["due"] += 1
        counts["overdue"] += int(due is not None and due < on)
    return out


def checks_due(db: Session, principal: Principal, within_days: int = 30,
               on: date | None = None) -> list[QualificationApplication]:
    """The provisional qualifications whose check is due within ``within_days`` (overdue
    first), in the supervisor's districts: for the dashboard."""
    rows, _ = list_for_bureau(db, principal, Filters(due_within=within_days),
                              PageParams(page=1, per_page=100), on)
    return rows
