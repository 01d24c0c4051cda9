"""Who supervises whom: a district bureau sees the institutions of its own district, the city
bureau (a regulator with no district, or none recorded) and the operator see every district.

Every supervision use case that shows or changes something about an institution asks
``require_supervisor`` for that institution's district; lists filter by ``districts``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import errors
from tichub.core.auth import Principal
from tichub.core.messages import Msg
from tichub.core.models import OrgKind, Role
from tichub.supervision.models import Bureau

ALL = None  # the districts value meaning "every district"


def districts(db: Session, principal: Principal) -> set[str] | None:
    """The districts the principal supervises: ``None`` for all of them, an empty set for
    none (not a supervisor)."""
    if not principal.authenticated:
        return set()
    if principal.is_operator:
        return ALL
    orgs = [org for org, kind in principal.kinds.items() if kind is OrgKind.regulator]
    if not orgs:
        return set()
    found = {org: district for org, district in db.execute(
        select(Bureau.org_id, Bureau.district).where(Bureau.org_id.in_(orgs)))}
    seen: set[str] = set()
    for org in orgs:
        district = found.get(org)
        if district is None:
            return ALL  # the city bureau
        seen.add(district)
    return seen


def bureau_orgs(principal: Principal, role: Role = Role.viewer) -> list[str]:
    """The regulator organisations the principal acts for, holding at least ``role``."""
    return [org for org, kind in principal.kinds.items()
            if kind is OrgKind.regulator and principal.roles[org].rank >= role.rank]


def supervises(db: Session, principal: Principal, district: str) -> bool:
    seen = districts(db, principal)
    return seen is ALL or district in seen


def require_supervisor(db: Session, principal: Principal, district: str | None = None,
                       role: Role = Role.viewer) -> None:
    """Refuses anyone who is not a supervisor of ``district`` (of any district, if None)
    holding ``role`` in their bureau. Operators pass."""
    if not principal.authenticated:
        raise errors.unauthorized()
    if principal.is_operator:
        return
    if not bureau_orgs(principal, role):
        raise errors.forbidden(Msg("only the market regulator's supervisors may do this"))
    seen = districts(db, principal)
    if district is not None and seen is not ALL and district not in seen:
        raise errors.forbidden(Msg("this institution is outside your bureau's district"))


def bureau_of(db: Session, district: str) -> str | None:
    """The organisation of the district's bureau, or of the city bureau if the district has
    none."""
    org = db.scalar(select(Bureau.org_id).where(Bureau.district == district))
    if org is None:
        org = db.scalar(select(Bureau.org_id).where(Bureau.district.is_(None)))
    return org
