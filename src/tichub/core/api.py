"""Account routes: who am I, organisations' members, API tokens, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict

from tichub.core import notify, service
from tichub.core.auth import DB, Principal, Public, SignedIn, access
from tichub.core.models import Role
from tichub.core.pagination import Page, PageParams, page_params
from tichub.core.schemas import (
    AuditOut,
    MemberOut,
    MembershipOut,
    MeOut,
    OrgOut,
    TokenCreated,
    TokenIn,
    TokenOut,
)

router = APIRouter(prefix="/api", tags=["accounts"])
SWAGGER = "/static/vendor/swagger-ui"

# The policies say what the use cases in core.service check, for the OpenAPI document.
MemberReader = Annotated[Principal, access(
    "user", role=Role.viewer, scope="accounts:read",
    note="the regulator and the operator read every organisation")]
AdminReader = Annotated[Principal, access(
    "user", role=Role.admin, scope="accounts:read",
    note="the regulator and the operator read every organisation")]
TokenMaker = Annotated[Principal, access(
    "user", role=Role.viewer, scope="accounts:admin",
    note="a member makes tokens for themself, never for another organisation")]
TokenRevoker = Annotated[Principal, access(
    "user", role=Role.viewer, scope="accounts:admin",
    note="the token's own user, or an admin of its organisation")]


@router.get("/me", response_model=MeOut)
def me(db: DB, principal: SignedIn) -> MeOut:
    orgs = service.my_organisations(db, principal)
    return MeOut(
        id=principal.user_id or "",
        email=principal.email or "",
        display_name=principal.display_name or "",
        memberships=[MembershipOut(org=OrgOut.model_validate(o), role=principal.roles[o.id])
                     for o in orgs],
        scopes=sorted(principal.scopes) if principal.scopes is not None else None,
    )


@router.get("/orgs/{org_id}", response_model=OrgOut)
def get_org(org_id: str, db: DB, principal: MemberReader) -> OrgOut:
    return OrgOut.model_validate(service.get_organisation(db, principal, org_id))


@router.get("/orgs/{org_id}/members", response_model=Page[MemberOut])
def members(
    org_id: str, db: DB, principal: MemberReader,
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[MemberOut]:
    rows, total = service.list_members(db, principal, org_id, page)
    return Page[MemberOut].of([MemberOut(user_id=m.user_id, email=m.user.email,
                                         display_name=m.user.display_name, role=m.role)
                               for m in rows], total, page)


@router.get("/orgs/{org_id}/tokens", response_model=Page[TokenOut])
def tokens(
    org_id: str, db: DB, principal: AdminReader,
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[TokenOut]:
    rows, total = service.list_tokens(db, principal, org_id, page)
    return Page[TokenOut].of([TokenOut.model_validate(t) for t in rows], total, page)


@router.post("/orgs/{org_id}/tokens", response_model=TokenCreated, status_code=201)
def create_token(org_id: str, body: TokenIn, db: DB, principal: TokenMaker) -> TokenCreated:
    row, plain = service.create_token(db, principal=principal, org_id=org_id, name=body.name,
                                      scopes=body.scopes, expires_at=body.expires_at)
    return TokenCreated(**TokenOut.model_validate(row).model_dump(), token=plain)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: str, db: DB, principal: TokenRevoker) -> TokenOut:
    return TokenOut.model_validate(service.revoke_token(db, principal, token_id))


@router.get("/orgs/{org_id}/audit", response_model=Page[AuditOut])
def audit_log(
    org_id: str, db: DB, principal: AdminReader,
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[AuditOut]:
    rows, total = service.list_audit(db, principal, org_id, page)
    return Page[AuditOut].of([AuditOut.model_validate(r) for r in rows], total, page)


@router.get("/openapi.json", include_in_schema=False)
def openapi_document(request: Request, principal: Public) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def api_docs(principal: Public) -> HTMLResponse:
    # Swagger UI from our own static files (FastAPI's default loads it from a CDN), started
    # by a script file rather than FastAPI's inline one, which the CSP refuses.
    return HTMLResponse(f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TICHub API</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
<link rel="icon" href="{SWAGGER}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/api/openapi.json"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
""")


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    at: datetime
    kind: str
    title: str
    body: str
    link: str
    read_at: datetime | None


Member = Annotated[Principal, access("member", role=Role.viewer, scope="accounts:read",
                                     note="the organisation's own members")]


@router.get("/orgs/{org_id}/notifications", response_model=list[NotificationOut])
def notifications(org_id: str, db: DB, principal: Member,
                  unread: bool = False) -> list[Any]:
    """What the organisation has been told, newest first (also e-mailed to its editors
    when the platform has an SMTP server)."""
    return notify.inbox(db, principal, org_id, unread_only=unread)


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def read_notification(notification_id: str, db: DB, principal: Member) -> Any:
    return notify.mark_read(db, principal, notification_id)
