"""Complaints: anyone complains about a report (by its number) or an institution; the
complaint goes to the bureau of the institution's district; the complainant follows it by
a tracking code; the bureau works it to an outcome. The complainant's contact details are
for the bureau alone: never shown to the institution or the public."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tichub.core import audit, errors, notify, throttle
from tichub.core.auth import Principal
from tichub.core.ids import utcnow
from tichub.core.messages import Msg
from tichub.core.models import Role, SignInFailures
from tichub.core.security import sha256_hex
from tichub.registry.models import Institution
from tichub.reports import service as reports
from tichub.supervision import jurisdiction
from tichub.supervision.complaints.schemas import ComplaintIn, StatusIn
from tichub.supervision.models import Complaint, ComplaintStatus

# Tracking codes: no 0/O or 1/I/L to misread when typed from a note.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
# One address may file this many complaints an hour; a real complainant files one or two,
# a script filling the bureau's queue many. Counted in the sign-in throttle's table (shared
# by every server process), under keys of their own.
PER_HOUR = 5
WINDOW = timedelta(hours=1)
NEXT = {ComplaintStatus.received: (ComplaintStatus.investigating, ComplaintStatus.upheld,
                                   ComplaintStatus.rejected),
        ComplaintStatus.investigating: (ComplaintStatus.upheld, ComplaintStatus.rejected)}


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"TS-{body[:4]}-{body[4:8]}-{body[8:]}"


def normalise_code(code: str) -> str:
    plain = "".join(c for c in code.upper() if c.isalnum())
    plain = plain.removeprefix("TS")
    if len(plain) != CODE_LENGTH:
        return ""
    return f"TS-{plain[:4]}-{plain[4:8]}-{plain[8:]}"


def _rate_limit(db: Session, address: str, now: datetime) -> None:
    key = "complaint:" + sha256_hex(address)
    row = db.get(SignInFailures, key)
    if row is not None and row.last_failure_at >= now - WINDOW and row.failures >= PER_HOUR:
        wait = math.ceil((row.last_failure_at + WINDOW - now).total_seconds())
        raise errors.Problem(429, "Too many complaints",
                             detail=Msg("too many complaints from this address; try again in "
                                        "{minutes} minutes", minutes=max(1, math.ceil(wait / 60))),
                             retry_after=max(1, wait))
    # The sign-in throttle's counter: an upsert counted in SQL, restarting after its window.
    throttle._increment(db, key, now)


def submit(db: Session, principal: Principal, data: ComplaintIn, address: str) -> Complaint:
    """Files a complaint and tells the bureau; returns it with its tracking code."""
    now = utcnow()
    if not principal.authenticated and not data.contact.strip():
        raise errors.invalid("contact", Msg("give a telephone number or an e-mail address, "
                                            "or sign in, so that the bureau can reach you"))
    inst = _subject(db, data)
    _rate_limit(db, address, now)
    item = Complaint(tracking_code=new_code(), about_number=data.about_number or None,
                     institution_id=inst.id, district=inst.district, text=data.text.strip(),
                     contact_name=data.contact_name.strip(), contact=data.contact.strip(),
                     user_id=principal.user_id, updated_at=now)
    db.add(item)
    db.flush()
    bureau = jurisdiction.bureau_of(db, inst.district)
    audit.record(db, action="supervision.complaint_received", object_type="complaint",
                 object_id=item.id, actor_user_id=principal.user_id, org_id=bureau,
                 data={"institution_id": inst.id, "number": item.about_number,
                       "district": inst.district})
    if bureau:
        notify.notify(db, bureau, "supervision.complaint",
                      Msg("A complaint about {name} was received", name=inst.name_zh),
                      link=f"/supervision/complaints/{item.id}")
    db.commit()
    return item


def _subject(db: Session, data: ComplaintIn) -> Institution:
    """The institution complained about: by its id, or as the issuer of the report."""
    inst: Institution | None = None
    if data.institution_id:
        inst = db.get(Institution, data.institution_id)
        if inst is None or not inst.published:
            raise errors.invalid("institution_id", Msg("no such institution in the directory"))
    if data.about_number:
        issuers = reports.issuers_of(db, data.about_number)
        if not issuers:
            raise errors.invalid("about_number", Msg("no report with this number is registered"))
        if inst is None:
            if len(issuers) > 1:
                raise errors.invalid("institution_id", Msg(
                    "several institutions registered this number: choose the issuer"))
            inst = db.get(Institution, issuers[0])
        elif inst.id not in issuers:
            raise errors.invalid("about_number", Msg(
                "this institution registered no report with this number"))
    if inst is None:
        raise errors.invalid("about_number", Msg(
            "name the report by its number, or the institution"))
    return inst


@dataclass(frozen=True)
class Tracked:
    tracking_code: str
    status: ComplaintStatus
    about_number: str | None
    institution_name: str
    received_at: datetime
    updated_at: datetime
    outcome: str


def track(db: Session, code: str) -> Tracked:
    """What the complainant may see: the status and, once decided, the outcome."""
    found = normalise_code(code)
    item = db.scalar(select(Complaint).where(Complaint.tracking_code == found)) if found \
        else None
    if item is None:
        raise errors.not_found(Msg("complaint with this tracking code"))
    inst = db.get(Institution, item.institution_id) if item.institution_id else None
    decided = item.status in (ComplaintStatus.upheld, ComplaintStatus.rejected)
    return Tracked(tracking_code=item.tracking_code, status=item.status,
                   about_number=item.about_number,
                   institution_name=inst.name_zh if inst else "",
                   received_at=item.created_at, updated_at=item.updated_at,
                   outcome=item.outcome if decided else "")


def list_for(db: Session, principal: Principal, status: ComplaintStatus | None,
             offset: int, limit: int) -> tuple[list[tuple[Complaint, str]], int]:
    """A bureau's complaints (its districts), newest first, with the institutions' names."""
    jurisdiction.require_supervisor(db, principal)
    seen = jurisdiction.districts(db, principal)
    q = select(Complaint, func.coalesce(Institution.name_zh, "")).outerjoin(
        Institution, Institution.id == Complaint.institution_id)
    if seen is not None:
        q = q.where(Complaint.district.in_(sorted(seen)))
    if status is not None:
        q = q.where(Complaint.status == status)
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = db.execute(q.order_by(Complaint.created_at.desc(), Complaint.id.desc())
                      .offset(offset).limit(limit))
    return [(c, n) for c, n in rows], total


def get(db: Session, principal: Principal, complaint_id: str) -> Complaint:
    item = db.get(Complaint, complaint_id)
    if item is None:
        raise errors.not_found(Msg("complaint"))
    jurisdiction.require_supervisor(db, principal, item.district)
    return item


def set_status(db: Session, principal: Principal, complaint_id: str, data: StatusIn
               ) -> Complaint:
    item = db.get(Complaint, complaint_id)
    if item is None:
        raise errors.not_found(Msg("complaint"))
    jurisdiction.require_supervisor(db, principal, item.district, Role.editor)
    if not principal.has_scope("supervision:write"):
        raise errors.forbidden(Msg("this API token lacks the scope {scope}",
                                   scope="supervision:write"))
    if data.status not in NEXT.get(item.status, ()):
        raise errors.conflict("status", Msg("a complaint {old} cannot become {new}",
                                            old=item.status, new=data.status))
    decided = data.status in (ComplaintStatus.upheld, ComplaintStatus.rejected)
    if decided and not data.outcome.strip():
        raise errors.invalid("outcome", Msg("say what the bureau found and did"))
    old = item.status
    now = utcnow()
    # Guarded by the old status, so that two supervisors deciding at once cannot both win.
    done = db.execute(update(Complaint).where(Complaint.id == item.id,
                                              Complaint.status == old)
                      .values(status=data.status, outcome=data.outcome.strip() or item.outcome,
                              updated_at=now))
    if not getattr(done, "rowcount", 1):
        db.rollback()
        raise errors.conflict("status", Msg("someone changed this complaint meanwhile"))
    audit.record(db, action="supervision.complaint_status", object_type="complaint",
                 object_id=item.id, actor_user_id=principal.user_id,
                 org_id=jurisdiction.bureau_of(db, item.district),
                 data={"from": old.value, "to": data.status.value})
    db.commit()
    db.refresh(item)
    return item


def public_view(item: Complaint) -> dict[str, Any]:
    """A complaint without its complainant: for anything shown beyond the bureau."""
    return {"id": item.id, "status": item.status, "about_number": item.about_number,
            "institution_id": item.institution_id, "district": item.district,
            "created_at": item.created_at, "updated_at": item.updated_at}
