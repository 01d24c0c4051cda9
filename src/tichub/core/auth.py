"""Who is calling, and the one permission check every route and use case goes through.

Every route declares its policy with ``access(...)``; a test walks the application and
fails on any route without one. Inside a use case, ``require(principal, role, org=...)``
checks the caller's role in the organisation that owns the object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import errors
from tichub.core.db import write_wait
from tichub.core.ids import utcnow
from tichub.core.messages import Msg
from tichub.core.models import ApiToken, OrgKind, Role, User, WebSession
from tichub.core.security import csrf_token, same, sha256_hex

SESSION_COOKIE = "tichub_session"
CSRF_COOKIE = "tichub_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
TOKEN_PREFIX = "tichub_"

# Token scopes: what a machine credential may do, whatever its user's roles allow.
SCOPES = {
    "registry:read": "read the organisation's private registry data",
    "registry:write": "change the organisation's institutions, qualifications and scopes",
    "accounts:read": "read the organisation's members, tokens and audit log",
    "accounts:admin": "manage the organisation's members and tokens",
    "reports:write": "register the organisation's reports, certificates and their events",
    "reports:read": "download the organisation's stored report and certificate PDFs",
    "log:cosign": "post the organisation's witness cosignatures of log checkpoints",
    "pt:write": "run the organisation's PT schemes, or take part in rounds and submit results",
    "pt:read": "read the organisation's PT scores (supervision: every laboratory's)",
    "market:write": "share instruments, book them, run voucher programmes, redeem vouchers",
    "carbon:write": "keep the organisation's emission factors, product models and footprint "
                    "studies; review and certify them (certification bodies)",
    "supervision:read": "read supervision data: signals, credit tiers, inspections "
                        "(regulators: their districts'; labs: about themselves)",
    "supervision:write": "supervise (triage signals, inspect, sanction, approve) or, for a "
                         "lab, answer the regulator and appeal",
}


@dataclass(frozen=True)
class Principal:
    user_id: str | None = None
    email: str | None = None
    display_name: str | None = None
    roles: dict[str, Role] = field(default_factory=dict)
    kinds: dict[str, OrgKind] = field(default_factory=dict)
    scopes: frozenset[str] | None = None  # None: a browser session, bound by roles alone
    token_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    def has_scope(self, scope: str | None) -> bool:
        return scope is None or self.scopes is None or scope in self.scopes

    def is_kind(self, kind: OrgKind, role: Role = Role.viewer) -> bool:
        return any(
            self.kinds.get(org) == kind and r.rank >= role.rank for org, r in self.roles.items()
        )

    @property
    def is_operator(self) -> bool:
        return self.is_kind(OrgKind.operator, Role.admin)

    @property
    def is_regulator(self) -> bool:
        return self.is_kind(OrgKind.regulator)

    def orgs_with(self, role: Role) -> list[str]:
        return [org for org, r in self.roles.items() if r.rank >= role.rank]


ANONYMOUS = Principal()


def can(principal: Principal, role: Role, *, org: str | None, scope: str | None = None) -> bool:
    """True if the principal holds ``role`` in ``org`` (operators: everywhere; regulators:
    read-only everywhere)."""
    if not principal.authenticated or not principal.has_scope(scope):
        return False
    if principal.is_operator:
        return True
    if role is Role.viewer and principal.is_regulator:
        return True
    held = principal.roles.get(org) if org else None
    return held is not None and held.rank >= role.rank


def require(principal: Principal, role: Role, *, org: str | None, scope: str | None = None) -> None:
    if not principal.authenticated:
        raise errors.unauthorized()
    if not principal.has_scope(scope):
        raise errors.forbidden(Msg("this API token lacks the scope {scope}", scope=scope or ""))
    if not can(principal, role, org=org, scope=scope):
        raise errors.forbidden(Msg("you do not hold the role this needs in that organisation"))


def require_member(principal: Principal, role: Role, *, org: str,
                   scope: str | None = None) -> None:
    """As ``require``, for acting *as* an organisation — spending its voucher, ordering,
    booking or answering in its name: only its own members may, never the operator or a
    regulator on its behalf."""
    require(principal, role, org=org, scope=scope)
    held = principal.roles.get(org)
    if held is None or held.rank < role.rank:
        raise errors.forbidden(Msg("only the organisation's own members may act in its name"))


# --- resolving the caller -------------------------------------------------------------

async def get_db(request: Request) -> AsyncIterator[Session]:
    # Async, though the session is used synchronously: opening one touches no database,
    # and closing it only hands its connection back, so neither needs a worker thread
    # (each hop to one cost more than a cached read).
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()  # rolls back whatever the route did not commit


DB = Annotated[Session, Depends(get_db)]


def _principal_for_user(user: User, only_org: str | None = None) -> dict[str, Any]:
    roles: dict[str, Role] = {}
    kinds: dict[str, OrgKind] = {}
    for m in user.memberships:
        if only_org is None or m.org_id == only_org:
            roles[m.org_id] = m.role
            kinds[m.org_id] = m.org.kind
    return {"user_id": user.id, "email": user.email, "display_name": user.display_name,
            "roles": roles, "kinds": kinds}


def principal_from_session_token(db: Session, token: str) -> Principal | None:
    row = db.scalar(select(WebSession).where(WebSession.token_hash == sha256_hex(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return Principal(**_principal_for_user(user))


def principal_from_api_token(db: Session, token: str) -> Principal:
    secret = token.removeprefix(TOKEN_PREFIX)
    row = db.scalar(select(ApiToken).where(ApiToken.secret_hash == sha256_hex(secret)))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        raise errors.unauthorized(Msg("the API token is unknown, revoked or expired"))
    user = db.get(User, row.user_id)
    if user is None or not user.is_active:
        raise errors.unauthorized(Msg("the API token's user is disabled"))
    # The membership may have been withdrawn since the token was made.
    if not any(m.org_id == row.org_id for m in user.memberships):
        raise errors.unauthorized(Msg("the API token's user no longer belongs to its organisation"))
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        _note_use(db, row, now)
    return Principal(**_principal_for_user(user, only_org=row.org_id),
                     scopes=frozenset(row.scopes), token_id=row.id)


def _note_use(db: Session, row: ApiToken, now: datetime) -> None:
    """Notes when a token was last used, a hint to within minutes: this runs on the event
    loop, so it never waits for the SQLite writer; when another write holds it, a later
    call notes the use."""
    try:
        with write_wait(0):
            row.last_used_at = now
            db.commit()
    except errors.Problem as exc:
        if exc.status != 503:
            raise
        db.rollback()


async def current_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = ANONYMOUS
    header = request.headers.get("authorization", "")
    # A session of its own, opened only for a token or a cookie: anonymous calls (public
    # verification above all) touch no database to learn who they are.
    if header.lower().startswith("bearer "):
        with request.app.state.sessionmaker() as db:
            principal = principal_from_api_token(db, header[7:].strip())
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            with request.app.state.sessionmaker() as db:
                principal = principal_from_session_token(db, cookie) or ANONYMOUS
        # Browsers send cookies and forms on their own; a bearer token they cannot forge.
        if cookie or _is_form(request):
            await check_csrf(request)
    request.state.principal = principal
    return principal


UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data",
                            "text/plain"))


async def check_csrf(request: Request) -> None:
    """Double-submit check, bound to the server's key, for cookie-authenticated writes."""
    if request.method not in UNSAFE:
        return
    nonce = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and _is_form(request):
        form = await request.form()
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    expected = csrf_token(request.app.state.secret_key, nonce) if nonce else ""
    if not expected or not sent or not same(sent, expected):
        raise errors.Problem(403, "CSRF check failed",
                             detail=Msg("The page had expired. Reload it and try again."))


# --- route policies -------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    who: str  # "public" | "user" | "member" | kinds joined by "|"
    scope: str | None = None
    role: Role | None = None
    kinds: tuple[OrgKind, ...] = ()
    note: str = ""  # what the use case checks beyond this, said in the OpenAPI document

    def describe(self) -> str:
        if self.who == "public":
            text = "anyone, signed in or not"
        elif self.kinds:
            text = "members of " + " or ".join(k.value for k in self.kinds) + " organisations"
        elif self.role is not None:
            text = f"users holding at least the {self.role.value} role in the owning organisation"
        else:
            text = "any signed-in user"
        text += f"; {self.note}" if self.note else ""
        return text + (f"; API tokens need scope {self.scope}" if self.scope else "")


def access(
    who: str = "public",
    *,
    scope: str | None = None,
    role: Role | None = None,
    kinds: tuple[OrgKind, ...] = (),
    note: str = "",
) -> Any:
    """Declare who may call a route; returns a dependency giving the ``Principal``."""
    policy = Policy(who, scope, role, kinds, note)

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if policy.who == "public":
            return principal
        if not principal.authenticated:
            raise errors.unauthorized()
        if not principal.has_scope(policy.scope):
            raise errors.forbidden(Msg("this API token lacks the scope {scope}",
                                       scope=policy.scope or ""))
        if policy.kinds and not principal.is_operator and not any(
            principal.is_kind(k) for k in policy.kinds
        ):
            raise errors.forbidden(Msg("this is only for members of: {kinds}",
                                       kinds=_either(policy.kinds)))
        if policy.role is not None and not principal.is_operator and not principal.orgs_with(
            policy.role
        ):
            raise errors.forbidden(Msg("this needs the role: {role}", role=policy.role))
        return principal

    dependency.tichub_policy = policy  # type: ignore[attr-defined]
    return Depends(dependency)


def _either(kinds: tuple[OrgKind, ...]) -> Msg | OrgKind:
    """Organisation kinds as people read them: "laboratory or certification body"."""
    out: Msg | OrgKind = kinds[0]
    for kind in kinds[1:]:
        out = Msg("{first} or {second}", first=out, second=kind)
    return out


def policy_of(call: Callable[..., Any]) -> Policy | None:
    return getattr(call, "tichub_policy", None)


Public = Annotated[Principal, access("public")]
SignedIn = Annotated[Principal, access("user")]
