"""The PACT data exchange API (Technical Specifications v2 and v3) under /pact, and the
routes that manage it under /api/carbon.

A customer's system configures ``<platform>/pact`` as the supplier's base URL, takes a
bearer token from ``/pact/auth/token`` with the client id and secret the supplier gave it,
and reads the footprints the supplier shares from ``/pact/2/...`` or ``/pact/3/...``. These
routes answer in PACT's own error body (``{"code", "message"}``) and the token endpoint in
RFC 6749's; the management routes in TICHub's problem+json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tichub.carbon import pact_service as service
from tichub.carbon.schemas import ImportSummary, OrgId, StudyOut
from tichub.core import errors, limits
from tichub.core.auth import DB, Policy, Principal, SignedIn, access, require_member
from tichub.core.models import Role
from tichub.core.schemas import InputModel

log = logging.getLogger(__name__)
router = APIRouter(tags=["PACT"])

MAX_EVENT = 1024 * 1024
MAX_UPLOAD = 5 * 1024 * 1024


def _pact_access() -> Any:
    """The route policy of the PACT host API. Its callers are other companies' systems
    with PACT's own bearer tokens, which TICHub's sign-in would take for unknown API
    tokens; so this policy declares the route public to TICHub and leaves the checking to
    the PACT use cases (``client_for``)."""
    policy = Policy("public", note="PACT client credentials: an OAuth2 bearer token from "
                    "/pact/auth/token (HTTP Basic client_id:secret, grant_type="
                    "client_credentials); a client sees only its supplier's shared footprints")

    async def dependency() -> None:
        return None

    dependency.tichub_policy = policy  # type: ignore[attr-defined]
    return Depends(dependency)


PactCaller = Annotated[None, _pact_access()]
Editor = Annotated[Principal, access(
    "member", role=Role.editor, scope="carbon:write",
    note="editors of the organisation that owns the study or receives the factor")]
Admin = Annotated[Principal, access(
    "member", role=Role.admin, scope="carbon:write",
    note="administrators of the organisation whose footprints the client may pull")]


def domain_of(request: Request) -> str:
    """The platform's host name, the issuer part of the URNs it gives companies and products."""
    return urlsplit(request.app.state.settings.public_url).hostname or "tichub"


def pact_base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/pact"


def _error(exc: service.PactApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.status == 401 \
        else None
    return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status,
                        headers=headers)


def _answer(request: Request, work: Callable[[], Response]) -> Response:
    """Runs a PACT action, turning its failures into PACT's error bodies."""
    try:
        return work()
    except service.PactApiError as exc:
        return _error(exc)
    except Exception:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(service.PactApiError(500, "InternalError", "An internal or unexpected "
                                           "error has occurred"))


# --- authentication -------------------------------------------------------------------------

@router.post("/pact/auth/token", summary="PACT Authenticate (OAuth2 client credentials)")
async def token(request: Request, db: DB, _caller: PactCaller) -> Response:
    """RFC 6749 section 4.4: ``Authorization: Basic base64(client_id:secret)`` and the form
    ``grant_type=client_credentials`` give ``{"access_token", "token_type": "Bearer",
    "expires_in"}``. Failures are RFC 6749 errors: 401 ``invalid_client``, 400
    ``unsupported_grant_type`` or ``invalid_request``."""
    no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    try:
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    except Exception:  # a body that is no form
        fields = {}
    try:
        body = service.issue_token(db, request.headers.get("authorization"), fields)
    except service.OAuthError as exc:
        headers = dict(no_store)
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="PACT"'
        return JSONResponse({"error": exc.error, "error_description": exc.description},
                            status_code=exc.status, headers=headers)
    return JSONResponse(body, headers=no_store)


@router.get("/pact/.well-known/openid-configuration",
            summary="PACT authentication discovery (OpenID Connect discovery document)")
def openid_configuration(request: Request, _caller: PactCaller) -> dict[str, Any]:
    """Where to get a token; PACT clients use ``token_endpoint`` alone."""
    base = pact_base(request)
    return {"issuer": base, "token_endpoint": f"{base}/auth/token",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "scopes_supported": service.SCOPES.split(), "response_types_supported": ["token"]}


# --- footprints and events ------------------------------------------------------------------

def _list(request: Request, db: Session, version: str) -> Response:
    def work() -> Response:
        client = service.client_for(db, request.headers.get("authorization"))
        params = list(request.query_params.multi_items())
        page = service.list_footprints(db, client, version, params, domain_of(request))
        headers = {}
        if page.next_offset is not None:
            # Absolute, on the host the request named, with the same filters.
            query = [(k, v) for k, v in params if k not in ("offset", "limit")]
            query += [("limit", str(page.limit)), ("offset", str(page.next_offset))]
            target = str(request.url.replace(query=urlencode(query)))
            headers["Link"] = f'<{target}>; rel="next"'
        return JSONResponse({"data": page.data}, headers=headers)

    return _answer(request, work)


def _get(request: Request, db: Session, version: str, pf_id: str) -> Response:
    def work() -> Response:
        client = service.client_for(db, request.headers.get("authorization"))
        doc = service.get_footprint(db, client, version, pf_id, domain_of(request))
        return JSONResponse({"data": doc})

    return _answer(request, work)


async def _event(request: Request, db: Session, version: str) -> Response:
    raw = await request.body()

    def work() -> Response:
        client = service.client_for(db, request.headers.get("authorization"))
        if len(raw) > MAX_EVENT:
            raise service.PactApiError(400, "BadRequest", "the event is larger than 1 MiB")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise service.PactApiError(400, "BadRequest", "the body is not JSON") from None
        row = service.receive_event(db, client, version, body, domain_of(request),
                                    pact_base(request))
        if row.answer in ("fulfilled", "rejected"):
            wake_sender(request)
        return Response(status_code=200)

    # Answering a request reads and converts the shared footprints: off the event loop.
    return await run_in_threadpool(_answer, request, work)


def wake_sender(request: Request) -> None:
    """Asks the sender to deliver what was just stored, after this answer; without one
    (a process with no lifespan), the next sender's round delivers it."""
    sender = getattr(request.app.state, "pact_sender", None)
    if sender is not None:
        sender.wake()


@router.get("/pact/2/footprints", summary="PACT v2 ListFootprints")
def list_v2(request: Request, db: DB, _caller: PactCaller) -> Response:
    """``{"data": [ProductFootprint v2.3, ...]}``; ``limit`` (at most 100 a page) and a
    ``Link: <...>; rel="next"`` header while more remain. ``$filter`` answers 400
    NotImplemented."""
    return _list(request, db, "2")


@router.get("/pact/2/footprints/{pf_id}", summary="PACT v2 GetFootprint")
def get_v2(pf_id: str, request: Request, db: DB, _caller: PactCaller) -> Response:
    return _get(request, db, "2", pf_id)


@router.post("/pact/2/events", summary="PACT v2 Events (CloudEvents, structured mode)")
async def events_v2(request: Request, db: DB, _caller: PactCaller) -> Response:
    return await _event(request, db, "2")


@router.get("/pact/3/footprints", summary="PACT v3 ListFootprints")
def list_v3(request: Request, db: DB, _caller: PactCaller) -> Response:
    """Filters: ``productId``, ``companyId``, ``geography``, ``classification`` (each may
    repeat: any of them), ``validOn``, ``validAfter``, ``validBefore``, ``status``; different
    filters must all hold. Paging as in v2."""
    return _list(request, db, "3")


@router.get("/pact/3/footprints/{pf_id}", summary="PACT v3 GetFootprint")
def get_v3(pf_id: str, request: Request, db: DB, _caller: PactCaller) -> Response:
    return _get(request, db, "3", pf_id)


@router.post("/pact/3/events", summary="PACT v3 Events (CloudEvents, structured mode)")
async def events_v3(request: Request, db: DB, _caller: PactCaller) -> Response:
    return await _event(request, db, "3")


# --- management (TICHub's API) --------------------------------------------------------------

class ClientIn(InputModel):
    org_id: OrgId
    name: Annotated[str, Field(min_length=1, max_length=200,
                               description="whose system this is: the customer's name")]


class ClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    name: str
    client_id: str
    revoked: bool
    created_at: datetime


class ClientCreated(ClientOut):
    client_secret: str = Field(description="shown this once; TICHub keeps only its hash")
    base_url: str
    token_url: str


class ShareIn(InputModel):
    shared: bool


class PactImportOut(ImportSummary):
    key: str
    spec: str
    footprint_id: str
    company: str
    unit: str
    pcf_per_unit: float = Field(description="kg CO2e per one unit, including biogenic uptake")


@router.post("/api/carbon/pact/clients", response_model=ClientCreated, status_code=201)
def create_client(body: ClientIn, request: Request, db: DB, principal: Admin) -> Any:
    """A customer's system that may pull the organisation's shared footprints over PACT.
    The answer holds the client secret, shown this once."""
    row, secret = service.create_client(db, principal, body.org_id, body.name)
    base = pact_base(request)
    return ClientCreated(id=row.id, org_id=row.org_id, name=row.name, client_id=row.client_id,
                         revoked=row.revoked, created_at=row.created_at, client_secret=secret,
                         base_url=base, token_url=f"{base}/auth/token")


@router.get("/api/carbon/pact/clients", response_model=list[ClientOut])
def list_clients(db: DB, principal: SignedIn,
                 org_id: Annotated[str, Query(min_length=26, max_length=26)]) -> list[Any]:
    """The organisation's PACT clients (its members)."""
    return service.list_clients(db, principal, org_id)


@router.post("/api/carbon/pact/clients/{client_id}/revoke", response_model=ClientOut)
def revoke_client(client_id: str, db: DB, principal: Admin) -> Any:
    """Stops the client at once: its tokens stop working and it gets no new ones.
    ``client_id``: the client's id in TICHub (``id``)."""
    return service.revoke_client(db, principal, client_id)


class CredentialsIn(InputModel):
    callback_client_id: Annotated[str, Field(min_length=1, max_length=200, description=(
        "the client id the customer gave for its own token endpoint"))]
    callback_secret: Annotated[str, Field(min_length=1, max_length=2000, description=(
        "its secret: kept encrypted, never shown again; sending new ones replaces them"))]


class CredentialsOut(BaseModel):
    id: str
    callback_client_id: str
    callback_set_at: datetime


class FulfilIn(InputModel):
    study_id: Annotated[str, Field(min_length=26, max_length=26)]


class RejectIn(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    event_id: str
    source: str
    spec: str
    answer: str | None
    answered_at: datetime | None


@router.put("/api/carbon/pact/clients/{client_id}/credentials", response_model=CredentialsOut)
def set_credentials(client_id: str, body: CredentialsIn, request: Request, db: DB,
                    principal: Admin) -> Any:
    """The credentials the customer gave for its own system, with which TICHub answers the
    customer's requests (OAuth2 client credentials at the customer's token endpoint).
    ``client_id``: the client's id in TICHub (``id``). The secret is never returned."""
    row = service.set_credentials(db, principal, client_id, body.callback_client_id,
                                  body.callback_secret, request.app.state.secret_key)
    return CredentialsOut(id=row.id, callback_client_id=row.callback_client_id or "",
                          callback_set_at=row.callback_set_at)


@router.post("/api/carbon/pact/requests/{request_id}/fulfil", response_model=RequestOut)
def fulfil_request(request_id: str, body: FulfilIn, request: Request, db: DB,
                   principal: Editor) -> Any:
    """Answers a pending request with a footprint the organisation shares (sent as
    RequestFulfilled to the customer's system, in the background)."""
    row = service.fulfil_request(db, principal, request_id, body.study_id, domain_of(request),
                                 pact_base(request))
    wake_sender(request)
    return row


@router.post("/api/carbon/pact/requests/{request_id}/reject", response_model=RequestOut)
def reject_request(request_id: str, body: RejectIn, request: Request, db: DB,
                   principal: Editor) -> Any:
    """Declines a pending request, saying why (sent as RequestRejected)."""
    row = service.reject_request(db, principal, request_id, body.reason, domain_of(request),
                                 pact_base(request))
    wake_sender(request)
    return row


@router.put("/api/carbon/studies/{study_id}/share", response_model=StudyOut)
def share_study(study_id: str, body: ShareIn, request: Request, db: DB,
                principal: Editor) -> Any:
    """Shares the study with the organisation's PACT clients, or stops sharing it. A study
    is shared only if PACT v3 can express it (cradle-to-gate, a reference period, the
    product's mass where the declared unit needs it)."""
    return service.share_study(db, principal, study_id, body.shared, domain_of(request))


@router.get("/api/carbon/studies/{study_id}/pact")
def export_study(study_id: str, request: Request, db: DB, principal: SignedIn,
                 version: Annotated[Literal["2", "3"], Query()] = "3") -> Response:
    """The study as a PACT ProductFootprint (v2.3 or v3.0 JSON), to download."""
    doc = service.export(db, principal, study_id, version, domain_of(request))
    name = f"pact-v{version}-{doc['id']}.json"
    return JSONResponse(doc, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/api/carbon/pact/import", response_model=PactImportOut, status_code=201,
             max_body_size=limits.upload(MAX_UPLOAD))
async def import_footprint(
    db: DB, principal: Editor,
    org_id: Annotated[str, Form(min_length=26, max_length=26)],
    file: Annotated[UploadFile, File(description="a PACT ProductFootprint, v2 or v3 JSON "
                                     "(or a GetFootprint answer holding one)")],
) -> Any:
    """A supplier's footprint as the organisation's own emission factor (key
    ``pact.<product id>``), which only the organisation sees and its models can use."""
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise errors.invalid("file", f"is larger than {MAX_UPLOAD // 1024 // 1024} MiB")
    return await run_in_threadpool(import_bytes, db, principal, org_id, data)


def import_bytes(db: Session, principal: Principal, org_id: str, data: bytes) -> PactImportOut:
    """Shared by the API and the page."""
    require_member(principal, Role.editor, org=org_id, scope=service.SCOPE)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid("file", "is not JSON (UTF-8)") from None
    summary, stored = service.import_footprint(db, principal, org_id, doc)
    return PactImportOut(**stored.model_dump(), key=stored.keys[0], spec=summary.spec,
                         footprint_id=summary.id, company=summary.company_name,
                         unit=summary.unit, pcf_per_unit=summary.pcf_including)
