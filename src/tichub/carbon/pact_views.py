"""PACT pages: the customers' systems allowed to pull footprints, what is shared, the
requests received, and a supplier's footprint file taken in as an emission factor."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from tichub.carbon import pact_service as service
from tichub.carbon.pact_api import MAX_UPLOAD, domain_of, import_bytes, pact_base, wake_sender
from tichub.core import errors, fields, limits
from tichub.core.auth import DB, Principal, SignedIn
from tichub.core.flash import flash
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.core.service import organisation_names
from tichub.core.web import render

router = APIRouter(include_in_schema=False)

fields.register({
    "callback_client_id": Msg("Their client id"),
    "callback_secret": Msg("Their client secret"),
    "study_id": Msg("Footprint to send"),
    "reason": Msg("Reason"),
    "request": Msg("Request"),
}, under="/carbon/pact")

# A request's answer and its delivery, as the page names them.
ANSWERS = {"pending": Msg("Waiting for your answer"), "fulfilled": Msg("Fulfilled"),
           "rejected": Msg("Rejected")}
DELIVERIES = {"pending": Msg("being sent"), "delivered": Msg("delivered"),
              "failed": Msg("not delivered, given up")}


def _page(request: Request, db: Session, principal: Principal, org_id: str | None,
          status_code: int = 200, **extra: Any) -> HTMLResponse:
    names = organisation_names(db, principal.roles)
    orgs = sorted(principal.roles, key=lambda o: names.get(o, o))
    org = org_id or (orgs[0] if orgs else None)
    context: dict[str, Any] = {"orgs": [(o, names.get(o, o)) for o in orgs], "org_id": org,
                               "base_url": pact_base(request), "clients": [], "shared": [],
                               "requests": [], "deliveries": {}, "answers": ANSWERS,
                               "delivery_states": DELIVERIES, "can_admin": False,
                               "can_edit": False}
    if org is not None:
        context.update(
            org_name=names.get(org) or organisation_names(db, [org]).get(org, org),
            clients=service.list_clients(db, principal, org),
            shared=service.shared_studies(db, principal, org),
            requests=service.requests_received(db, principal, org),
            deliveries=service.deliveries(db, principal, org),
            can_admin=principal.roles.get(org, Role.viewer).rank >= Role.admin.rank,
            can_edit=principal.roles.get(org, Role.viewer).rank >= Role.editor.rank)
    context.update(extra)
    return render(request, "carbon/pact.html", principal, status_code=status_code, **context)


@router.get("/carbon/pact", response_class=HTMLResponse)
def pact_page(request: Request, db: DB, principal: SignedIn,
              org_id: str | None = None) -> HTMLResponse:
    """The organisation's PACT exchange: base URL, clients, shared footprints, requests."""
    return _page(request, db, principal, org_id)


@router.post("/carbon/pact/clients", response_class=HTMLResponse)
def create_client(request: Request, db: DB, principal: SignedIn,
                  org_id: Annotated[str, Form()], name: Annotated[str, Form()] = ""
                  ) -> HTMLResponse:
    """Creates a client and shows its secret this once (the page is not a redirect, so
    the secret is in this answer only)."""
    row, secret = service.create_client(db, principal, org_id, name)
    return _page(request, db, principal, org_id, status_code=201, created=row,
                 secret=secret)


@router.post("/carbon/pact/clients/{client_id}/revoke", response_model=None)
def revoke_client(client_id: str, request: Request, db: DB, principal: SignedIn) -> Response:
    row = service.revoke_client(db, principal, client_id)
    return flash(request, RedirectResponse(f"/carbon/pact?org_id={row.org_id}",
                                           status_code=303),
                 Msg("Access revoked: that system can no longer pull footprints"))


@router.post("/carbon/pact/import", response_class=HTMLResponse,
             max_body_size=limits.upload(MAX_UPLOAD))
async def import_footprint(
    request: Request, db: DB, principal: SignedIn,
    org_id: Annotated[str, Form()], file: Annotated[UploadFile, File()],
) -> HTMLResponse:
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise errors.invalid("file", Msg("is larger than {size} MiB",
                                         size=MAX_UPLOAD // 1024 // 1024))
    result = import_bytes(db, principal, org_id, data)
    return _page(request, db, principal, org_id, imported=result)


@router.post("/carbon/studies/{study_id}/share", response_model=None)
def share_study(study_id: str, request: Request, db: DB, principal: SignedIn,
                shared: Annotated[str, Form()] = "1") -> Response:
    """The study page's share switch: ``shared`` = 1 shares, 0 stops sharing."""
    share = shared not in ("0", "false", "off", "")
    service.share_study(db, principal, study_id, share, domain_of(request))
    return flash(request, RedirectResponse(f"/carbon/studies/{study_id}", status_code=303),
                 Msg("Shared over PACT") if share else Msg("No longer shared over PACT"))


@router.post("/carbon/pact/clients/{client_id}/credentials", response_model=None)
def set_credentials(client_id: str, request: Request, db: DB, principal: SignedIn,
                    callback_client_id: Annotated[str, Form()] = "",
                    callback_secret: Annotated[str, Form()] = "") -> Response:
    """The customer's credentials for its own system; kept encrypted, never shown again."""
    row = service.set_credentials(db, principal, client_id, callback_client_id,
                                  callback_secret, request.app.state.secret_key)
    return flash(request, RedirectResponse(f"/carbon/pact?org_id={row.org_id}",
                                           status_code=303),
                 Msg("Credentials stored for {name}: answers to its requests will use them",
                     name=row.name))


@router.post("/carbon/pact/requests/{request_id}/fulfil", response_model=None)
def fulfil_request(request_id: str, request: Request, db: DB, principal: SignedIn,
                   study_id: Annotated[str, Form()] = "") -> Response:
    row = service.fulfil_request(db, principal, request_id, study_id, domain_of(request),
                                 pact_base(request))
    wake_sender(request)
    return flash(request, RedirectResponse(
        f"/carbon/pact?org_id={service.org_of(db, row)}", status_code=303),
        Msg("Footprint on its way to the customer's system"))


@router.post("/carbon/pact/requests/{request_id}/reject", response_model=None)
def reject_request(request_id: str, request: Request, db: DB, principal: SignedIn,
                   reason: Annotated[str, Form()] = "") -> Response:
    row = service.reject_request(db, principal, request_id, reason, domain_of(request),
                                 pact_base(request))
    wake_sender(request)
    return flash(request, RedirectResponse(
        f"/carbon/pact?org_id={service.org_of(db, row)}", status_code=303),
        Msg("Request declined; the customer's system is told why"))
