"""Account use cases: the only code that writes organisations, users, sessions and tokens."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tichub.core import audit, errors, throttle
from tichub.core.auth import SCOPES, TOKEN_PREFIX, Principal, require
from tichub.core.ids import utcnow
from tichub.core.messages import Msg
from tichub.core.models import (
    ApiToken,
    AuditEvent,
    Membership,
    Organisation,
    OrgKind,
    Role,
    User,
    WebSession,
)
from tichub.core.pagination import PageParams
from tichub.core.passwords import password_fault
from tichub.core.security import (
    hash_password,
    needs_rehash,
    new_secret,
    sha256_hex,
    verify_password,
)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_organisation(
    db: Session, *, name: str, kind: OrgKind | str, actor: str | None = None
) -> Organisation:
    name = name.strip()
    if not name:
        raise errors.invalid("name", Msg("must not be empty"))
    try:
        kind = OrgKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in OrgKind)
        raise errors.invalid("kind", Msg("must be one of {kinds}", kinds=kinds)) from None
    org = Organisation(name=name, kind=kind)
    db.add(org)
    db.flush()
    audit.record(db, action="org.created", object_type="organisation", object_id=org.id,
                 actor_user_id=actor, org_id=org.id, data={"name": name, "kind": kind.value})
    return org


def named_organisation(db: Session, org_id: str, field_name: str = "org_id",
                       kinds: tuple[OrgKind, ...] = (), why: str = "") -> Organisation:
    """The organisation a request names in ``field_name``, or the field's error; with
    ``kinds``, one of those kinds (``why`` says which may do this)."""
    org = db.get(Organisation, org_id)
    if org is None:
        raise errors.invalid(field_name, Msg("no such organisation"))
    if kinds and org.kind not in kinds:
        raise errors.invalid(field_name, why or Msg("not an organisation of the right kind"))
    return org


def organisation_names(db: Session, ids: Iterable[str]) -> dict[str, str]:
    """Organisations' names by id, in one query (pages show who is behind an id)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = db.execute(select(Organisation.id, Organisation.name)
                      .where(Organisation.id.in_(wanted)))
    return {org_id: name for org_id, name in rows}


def find_organisation(db: Session, name_or_id: str) -> Organisation:
    org = db.get(Organisation, name_or_id) or db.scalar(
        select(Organisation).where(Organisation.name == name_or_id)
    )
    if org is None:
        raise errors.not_found(Msg("organisation {name}", name=name_or_id))
    return org


def create_user(
    db: Session,
    *,
    email: str,
    password: str,
    display_name: str = "",
    org: Organisation | None = None,
    role: Role | str = Role.viewer,
    actor: str | None = None,
) -> User:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise errors.invalid("email", Msg("is not an e-mail address"))
    if fault := password_fault(password, email):
        raise errors.invalid("password", fault)
    if db.scalar(select(User.id).where(User.email == email)):
        raise errors.conflict("email", Msg("a user with this e-mail already exists"))
    user = User(email=email, display_name=display_name.strip() or email.split("@")[0],
                password_hash=hash_password(password))
    db.add(user)
    db.flush()
    audit.record(db, action="user.created", object_type="user", object_id=user.id,
                 actor_user_id=actor, org_id=org.id if org else None, data={"email": email})
    if org is not None:
        add_member(db, user=user, org=org, role=role, actor=actor)
    return user


def add_member(
    db: Session, *, user: User, org: Organisation, role: Role | str, actor: str | None = None
) -> Membership:
    try:
        role = Role(role)
    except ValueError:
        raise errors.invalid("role", Msg("must be one of {roles}",
                                                 roles=", ".join(r.value for r in Role))) from None
    m = Membership(user_id=user.id, org_id=org.id, role=role)
    db.add(m)
    db.flush()
    db.refresh(user)
    audit.record(db, action="member.added", object_type="user", object_id=user.id,
                 actor_user_id=actor, org_id=org.id, data={"role": role.value})
    return m


def authenticate(db: Session, email: str, password: str, address: str = "unknown") -> User:
    """The user with this e-mail and password, or a 401; a 429 (core.throttle.Throttled)
    while the account or the client ``address`` must wait. Failures are counted, audited
    and committed here, since the caller's transaction ends with the error."""
    now = utcnow()
    throttle.check(db, now, email, address)
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    # Verify against a dummy hash when the user is unknown, so timing does not tell.
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.is_active:
        locked = throttle.record_failure(db, now, email, address)
        # The same record whether or not the account exists; the e-mail only as a hash,
        # since people sometimes type their password into the e-mail field.
        audit.record(db, action="sign_in.failed", object_type="user",
                     object_id=user.id if user else "", actor_user_id=None, org_id=None,
                     data={"client": address, "email_sha256": sha256_hex(email.strip().lower()),
                           "locked": locked},
                     summary="wrong e-mail or password")
        db.commit()
        raise errors.Problem(401, "Sign-in failed", detail=Msg("wrong e-mail or password"))
    throttle.forget_account(db, email)
    # The password is at hand only now: the moment to move an old hash to today's settings.
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


_DUMMY_HASH = hash_password("not-a-real-password")


def start_session(db: Session, user: User, hours: int, address: str = "unknown") -> str:
    token = new_secret()
    db.add(WebSession(user_id=user.id, token_hash=sha256_hex(token),
                      expires_at=utcnow() + timedelta(hours=hours)))
    audit.record(db, action="session.started", object_type="user", object_id=user.id,
                 actor_user_id=user.id, org_id=None, data={"client": address})
    db.commit()
    return token


def end_session(db: Session, token: str) -> None:
    row = db.scalar(select(WebSession).where(WebSession.token_hash == sha256_hex(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        db.commit()


def change_password(db: Session, principal: Principal, *, current: str, new: str, again: str,
                    keep_session: str | None = None) -> User:
    """Sets a new password after checking the current one; ends the user's other sessions
    (a stolen session must not outlive the password change) and their API tokens stay."""
    user = db.get(User, principal.user_id) if principal.user_id else None
    if user is None or principal.token_id is not None:
        raise errors.forbidden(Msg("Change your password in the browser, signed in."))
    if not verify_password(user.password_hash, current):
        raise errors.invalid("current_password", Msg("is not your current password"))
    if fault := password_fault(new, user.email):
        raise errors.invalid("new_password", fault)
    if new != again:
        raise errors.invalid("new_password_again", Msg("does not match the new password"))
    if new == current:
        raise errors.invalid("new_password", Msg("is the same as the current password"))
    user.password_hash = hash_password(new)
    kept = sha256_hex(keep_session) if keep_session else ""
    now = utcnow()
    for row in db.scalars(select(WebSession).where(WebSession.user_id == user.id,
                                                   WebSession.revoked_at.is_(None))):
        if row.token_hash != kept:
            row.revoked_at = now
    audit.record(db, action="user.password_changed", object_type="user", object_id=user.id,
                 actor_user_id=user.id, org_id=None, data={})
    db.commit()
    return user


def create_token(
    db: Session,
    *,
    principal: Principal,
    org_id: str,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Returns the row and the plain token, which is shown once and never stored.

    Any member may make tokens for themself: a token never holds more than its user's role,
    and one made with a token never more than that token's scopes.
    """
    require(principal, Role.viewer, org=org_id, scope="accounts:admin")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise errors.invalid("scopes", Msg("choose from {scopes}; unknown: {unknown}",
                                                 scopes=", ".join(SCOPES),
                                                 unknown=", ".join(unknown) or "—"))
    if principal.user_id is None or org_id not in principal.roles:
        raise errors.forbidden(Msg("a token acts for a member of its organisation"))
    # A token makes only tokens within its own scopes; else one leaked accounts:admin
    # token would be worth every scope its user's role allows.
    lacking = sorted(set(scopes) - principal.scopes) if principal.scopes is not None else []
    if lacking:
        raise errors.forbidden(Msg("this API token may only make tokens within its own "
                                   "scopes; it lacks {lacking}", lacking=", ".join(lacking)))
    if expires_at is not None and expires_at <= utcnow():
        raise errors.invalid("expires_at", Msg("must be in the future"))
    secret = new_secret()
    row = ApiToken(user_id=principal.user_id, org_id=org_id, name=name.strip() or "token",
                   secret_hash=sha256_hex(secret), scopes=sorted(set(scopes)),
                   expires_at=expires_at)
    db.add(row)
    db.flush()
    audit.record(db, action="token.created", object_type="api_token", object_id=row.id,
                 actor_user_id=principal.user_id, org_id=org_id,
                 data={"name": row.name, "scopes": row.scopes})
    db.commit()
    return row, TOKEN_PREFIX + secret


def _page(db: Session, q: Select[Any], page: PageParams) -> tuple[list[Any], int]:
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    return list(db.scalars(q.offset(page.offset).limit(page.per_page))), total


def list_tokens(
    db: Session, principal: Principal, org_id: str, page: PageParams
) -> tuple[list[ApiToken], int]:
    require(principal, Role.admin, org=org_id, scope="accounts:read")
    return _page(db, select(ApiToken).where(ApiToken.org_id == org_id)
                 .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()), page)


def revoke_token(db: Session, principal: Principal, token_id: str) -> ApiToken:
    row = db.get(ApiToken, token_id)
    if row is None:
        raise errors.not_found(Msg("API token"))
    # Anyone may withdraw a credential of their own, e.g. one they fear has leaked.
    if row.user_id != principal.user_id or not principal.has_scope("accounts:admin"):
        require(principal, Role.admin, org=row.org_id, scope="accounts:admin")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(db, action="token.revoked", object_type="api_token", object_id=row.id,
                     actor_user_id=principal.user_id, org_id=row.org_id)
        db.commit()
    return row


def get_organisation(db: Session, principal: Principal, org_id: str) -> Organisation:
    org = db.get(Organisation, org_id)
    if org is None:
        raise errors.not_found(Msg("organisation"))
    require(principal, Role.viewer, org=org.id, scope="accounts:read")
    return org


def my_organisations(db: Session, principal: Principal) -> list[Organisation]:
    """The caller's own organisations: needs no scope, a token may always see whom it acts for."""
    if not principal.roles:
        return []
    return list(db.scalars(select(Organisation).where(Organisation.id.in_(principal.roles))))


def list_members(
    db: Session, principal: Principal, org_id: str, page: PageParams
) -> tuple[list[Membership], int]:
    require(principal, Role.viewer, org=org_id, scope="accounts:read")
    return _page(db, select(Membership).where(Membership.org_id == org_id)
                 .order_by(Membership.id), page)


def list_audit(
    db: Session, principal: Principal, org_id: str, page: PageParams
) -> tuple[list[AuditEvent], int]:
    require(principal, Role.admin, org=org_id, scope="accounts:read")
    return _page(db, select(AuditEvent).where(AuditEvent.org_id == org_id)
                 .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), page)
