"""Staff register use cases: the only code that writes the ``staff`` table (the authorised
signatories of ``registry.service`` are people here holding the signatory role).

A person is employed from ``employed_from`` to ``employed_until`` (both days included;
open while the latter is empty). A signatory signs from ``authorised_from`` (else from the
first day of employment) to ``authorised_until``, and only while employed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal
from tichub.core.errors import FieldError
from tichub.core.messages import Msg
from tichub.registry.models import Staff, StaffRole
from tichub.registry.staff.schemas import StaffIn, StaffPatch
from tichub.supervision.registers import access

SCOPE = "registry:write"


def clean_name(raw: str) -> str:
    return " ".join(raw.split())


def employed_on(s: Staff, day: date) -> bool:
    return s.employed_from <= day and (s.employed_until is None or day <= s.employed_until)


def authorised_on(s: Staff, day: date) -> bool:
    """Holds the signatory role, authorised and employed on ``day``."""
    start = s.authorised_from or s.employed_from
    return (StaffRole.signatory.value in s.roles and start <= day
            and (s.authorised_until is None or day <= s.authorised_until)
            and employed_on(s, day))


# --- for other domains ----------------------------------------------------------------------

def staff_by_ref(db: Session, institution_id: str, ref: str) -> Staff | None:
    """The person a report's evidence names: by staff number, else by exact name (spaces
    collapsed). Of several people with one name, the one employed last."""
    ref = clean_name(ref)
    if not ref:
        return None
    found = db.scalar(select(Staff).where(Staff.institution_id == institution_id,
                                          Staff.staff_no == ref))
    if found is not None:
        return found
    return db.scalar(select(Staff).where(Staff.institution_id == institution_id,
                                         Staff.name == ref)
                     .order_by(Staff.employed_from.desc(), Staff.id.desc()).limit(1))


def people_named(db: Session, institution_id: str, refs: Sequence[str]) -> list[Staff]:
    """Everyone whose staff number or name is among ``refs`` (one query for a report)."""
    cleaned = [clean_name(r) for r in refs if clean_name(r)]
    if not cleaned:
        return []
    return list(db.scalars(select(Staff).where(
        Staff.institution_id == institution_id,
        or_(Staff.staff_no.in_(cleaned), Staff.name.in_(cleaned)))))


# --- reading ----------------------------------------------------------------------------------

def list_staff(db: Session, principal: Principal, institution_id: str, *, q: str = "",
               role: StaffRole | None = None, current_on: date | None = None) -> list[Staff]:
    inst = access.for_reading(db, principal, institution_id)
    query = select(Staff).where(Staff.institution_id == inst.id)
    if q.strip():
        like = f"%{q.strip()}%"
        query = query.where(or_(Staff.name.ilike(like), Staff.staff_no.ilike(like)))
    rows = list(db.scalars(query.order_by(Staff.staff_no, Staff.name)))
    if role is not None:  # roles are a JSON list: filtered here, the same on both databases
        rows = [s for s in rows if role.value in s.roles]
    if current_on is not None:
        rows = [s for s in rows if employed_on(s, current_on)]
    return rows


def get_staff(db: Session, principal: Principal, staff_id: str) -> Staff:
    s = db.get(Staff, staff_id)
    if s is None:
        raise errors.Problem(404, "Not found", detail=Msg("There is no such person."))
    access.check_read(db, principal, access.institution(db, s.institution_id))
    return s


# --- writing ----------------------------------------------------------------------------------

def check_periods(values: dict[str, Any], row: int | None = None) -> list[FieldError]:
    errs = []
    start, end = values.get("employed_from"), values.get("employed_until")
    a_start, a_end = values.get("authorised_from"), values.get("authorised_until")
    if start and end and end < start:
        errs.append(FieldError("employed_until", Msg("is before the start of employment"), row))
    if start and a_start and a_start < start:
        errs.append(FieldError("authorised_from", Msg(
            "is before the start of employment"), row))
    if (a_start or start) and a_end and a_end < (a_start or start):
        errs.append(FieldError("authorised_until", Msg(
            "is before the start of the authorisation"), row))
    return errs


def _values(data: StaffIn | StaffPatch, exclude_unset: bool) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=exclude_unset, exclude={"institution_id"})
    if values.get("name") is not None:
        values["name"] = clean_name(values["name"])
    if values.get("staff_no") is not None:
        values["staff_no"] = values["staff_no"].strip()
    if values.get("roles") is not None:
        # Stored as plain values in a fixed order, so equal sets compare equal.
        values["roles"] = [r.value for r in StaffRole if r in values["roles"]]
    if values.get("authorised_for") is not None:
        values["authorised_for"] = list(dict.fromkeys(a.strip() for a in values["authorised_for"]
                                                      if a.strip()))
    return values


def _check_no(db: Session, institution_id: str, staff_no: str | None,
              staff_id: str | None = None) -> None:
    if not staff_no:
        return
    q = select(Staff.id).where(Staff.institution_id == institution_id, Staff.staff_no == staff_no)
    if staff_id:
        q = q.where(Staff.id != staff_id)
    if db.scalar(q) is not None:
        raise errors.conflict("staff_no", Msg("staff number {staff_no} is already in the "
                                              "register", staff_no=staff_no))


def add_staff(db: Session, principal: Principal, data: StaffIn, commit: bool = True) -> Staff:
    inst = access.for_writing(db, principal, data.institution_id, SCOPE)
    values = _values(data, exclude_unset=False)
    errs = check_periods(values)
    if errs:
        raise errors.Problem(422, "Invalid input", errors=errs)
    _check_no(db, inst.id, values.get("staff_no"))
    person = Staff(institution_id=inst.id, org_id=inst.org_id, **values)
    db.add(person)
    db.flush()
    audit.record(db, action="staff.added", object_type="staff", object_id=person.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"institution_id": inst.id, "staff_no": person.staff_no,
                       "name": person.name, "roles": person.roles})
    if commit:
        db.commit()
    return person


def update_staff(db: Session, principal: Principal, staff_id: str, patch: StaffPatch,
                 commit: bool = True) -> Staff:
    person = get_staff(db, principal, staff_id)
    inst = access.for_writing(db, principal, person.institution_id, SCOPE)
    changes = _values(patch, exclude_unset=True)
    for key in ("name", "roles", "authorised_for", "employed_from"):
        if key in changes and changes[key] is None:
            raise errors.invalid(key, Msg("must not be null; leave the field out to keep "
                                          "its value"))
    merged = {k: getattr(person, k) for k in ("employed_from", "employed_until",
                                               "authorised_from", "authorised_until")}
    merged.update({k: v for k, v in changes.items() if k in merged})
    errs = check_periods(merged)
    if errs:
        raise errors.Problem(422, "Invalid input", errors=errs)
    if "staff_no" in changes:
        _check_no(db, inst.id, changes["staff_no"], person.id)
    before = {k: getattr(person, k) for k in changes}
    for key, value in changes.items():
        setattr(person, key, value)
    audit.record(db, action="staff.updated", object_type="staff", object_id=person.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"before": {k: str(v) for k, v in before.items()},
                       "after": {k: str(v) for k, v in changes.items()}})
    if commit:
        db.commit()
    return person


def end_employment(db: Session, principal: Principal, staff_id: str, on: date) -> Staff:
    """The person's last day: any signatory authorisation ends with it (kept, so that
    reports signed before still check)."""
    person = get_staff(db, principal, staff_id)
    inst = access.for_writing(db, principal, person.institution_id, SCOPE)
    if on < person.employed_from:
        raise errors.invalid("on", Msg("is before the start of employment"))
    person.employed_until = on
    signs = StaffRole.signatory.value in person.roles or person.authorised_from is not None
    if signs and (person.authorised_until is None or person.authorised_until > on):
        person.authorised_until = max(on, person.authorised_from or on)
    audit.record(db, action="staff.left", object_type="staff", object_id=person.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"name": person.name, "until": on.isoformat()})
    db.commit()
    return person
