"""Who may read and change an institution's evidence registers (equipment, staff).

Private to the owning organisation and to the supervisors of the institution's district
(``supervision.jurisdiction``); the city bureau and the operator see every district. To
anyone else a register does not exist (404), so that the answer tells nothing about what
another lab keeps. A supervisor of another district is told why (403).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import errors
from tichub.core.auth import Principal, require
from tichub.core.messages import Msg
from tichub.core.models import OrgKind, Role
from tichub.registry.models import Institution
from tichub.supervision import jurisdiction

READ_SCOPE = "registry:read"
SUPERVISOR_SCOPE = "supervision:read"
REGISTER_KINDS = (OrgKind.lab, OrgKind.certification_body)


def _member(principal: Principal, org_id: str, role: Role) -> bool:
    held = principal.roles.get(org_id)
    return held is not None and held.rank >= role.rank


def _missing() -> errors.Problem:
    return errors.Problem(404, "Not found", detail=Msg("institution not found"))


def institution(db: Session, institution_id: str) -> Institution:
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise _missing()
    return inst


def check_read(db: Session, principal: Principal, inst: Institution) -> None:
    """Raises unless the principal may read the institution's registers."""
    if not principal.authenticated:
        raise errors.unauthorized()
    if _member(principal, inst.org_id, Role.viewer):
        if not principal.has_scope(READ_SCOPE):
            raise errors.forbidden(Msg("this API token lacks the scope {scope}",
                                       scope=READ_SCOPE))
        return
    if principal.is_operator or jurisdiction.bureau_orgs(principal):
        if not (principal.has_scope(SUPERVISOR_SCOPE) or principal.has_scope(READ_SCOPE)):
            raise errors.forbidden(Msg("this API token lacks the scope {scope}",
                                       scope=SUPERVISOR_SCOPE))
        jurisdiction.require_supervisor(db, principal, inst.district)
        return
    raise _missing()


def for_reading(db: Session, principal: Principal, institution_id: str) -> Institution:
    inst = institution(db, institution_id)
    check_read(db, principal, inst)
    return inst


def for_writing(db: Session, principal: Principal, institution_id: str,
                scope: str) -> Institution:
    """The institution, if the principal may change its registers: an editor of its own
    organisation (or the operator). Supervisors read them but do not write them."""
    inst = institution(db, institution_id)
    if not principal.authenticated:
        raise errors.unauthorized()
    if not (principal.is_operator or _member(principal, inst.org_id, Role.viewer)):
        check_read(db, principal, inst)  # 404 to strangers, 403 out of the district
    # A write needs its own scope, not the read one as well.
    require(principal, Role.editor, org=inst.org_id, scope=scope)
    return inst


def own_institutions(db: Session, principal: Principal) -> list[Institution]:
    """The labs and bodies whose registers the principal keeps (as a member)."""
    orgs = [o for o, r in principal.roles.items()
            if principal.kinds.get(o) in REGISTER_KINDS]
    if not orgs:
        return []
    return list(db.scalars(select(Institution).where(Institution.org_id.in_(orgs))
                           .order_by(Institution.name_zh)))


def pick(db: Session, principal: Principal, institution_id: str | None) -> Institution:
    """The institution a register page shows: the one asked for, else the principal's own
    (the first, when it keeps several)."""
    if institution_id:
        return for_reading(db, principal, institution_id)
    if not principal.authenticated:
        raise errors.unauthorized()
    own = own_institutions(db, principal)
    if not own:
        raise errors.Problem(404, "Not found", detail=Msg(
            "you keep no institution's registers: choose an institution"))
    check_read(db, principal, own[0])
    return own[0]


def may_write(principal: Principal, inst: Institution) -> bool:
    return principal.is_operator or _member(principal, inst.org_id, Role.editor)
