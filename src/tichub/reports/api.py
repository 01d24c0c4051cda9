"""Report registry routes, and the transparency log served as C2SP tlog-tiles under /log."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field, TypeAdapter

from tichub.core import errors, limits
from tichub.core.auth import DB, Principal, Public, access
from tichub.core.bounds import Count
from tichub.core.messages import Msg
from tichub.core.models import OrgKind, Role
from tichub.reports import idempotency, numbers, service, tiles
from tichub.reports.schemas import (
    Bundle,
    Receipt,
    RecordIn,
    RecordOut,
    RecordsIn,
    StatusProof,
    Verdict,
)

router = APIRouter(prefix="/api/reports", tags=["reports"])
log_router = APIRouter(prefix="/log", tags=["transparency log"])

Issuer = Annotated[Principal, access(
    "member", role=Role.editor, scope="reports:write",
    kinds=(OrgKind.lab, OrgKind.certification_body),
    note="editors of the issuing institution's organisation")]


def _log(request: Request) -> service.Log:
    log: service.Log = request.app.state.log
    return log


# Bounded by ``idempotency.parse_key``, which names the header in its 422 (a quoted key is
# two characters longer than the key).
IdempotencyKey = Annotated[str | None, Header(alias=idempotency.HEADER,
                                              description=idempotency.DESCRIPTION)]
RECEIPTS = TypeAdapter(list[Receipt])


def _registered(request: Request, db: DB, principal: Principal, items: list[RecordIn],
                header: str | None, operation: str, body: str, one: bool) -> Response:
    """The receipts as JSON, the same bytes whether registered now or replayed for a
    retry under the same Idempotency-Key."""
    def render(receipts: list[Receipt]) -> str:
        return (receipts[0].model_dump_json() if one
                else RECEIPTS.dump_json(receipts).decode())

    key = idempotency.parse_key(header)
    if key is None:
        answer = idempotency.Answer(
            201, render(service.register(db, principal, _log(request), items)))
    else:
        owner = principal.user_id or ""
        answer = service.register_once(
            db, principal, _log(request), items,
            idempotency.Request(owner, key, idempotency.fingerprint(operation, body)), render)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(answer.body, status_code=answer.status, media_type="application/json",
                    headers=headers)


@router.post("", response_model=Receipt, status_code=201)
def register(body: RecordIn, request: Request, db: DB, principal: Issuer,
             idempotency_key: IdempotencyKey = None) -> Response:
    """Registers one document issued, or one event about a registered document. Answers at
    once with a receipt signed by the log; the inclusion proof follows within a second.
    Safe to retry with an ``Idempotency-Key``."""
    return _registered(request, db, principal, [body], idempotency_key, "POST /api/reports",
                       body.model_dump_json(), one=True)


@router.post("/batch", response_model=list[Receipt], status_code=201,
             max_body_size=limits.BATCH_BODY)
def register_batch(body: RecordsIn, request: Request, db: DB, principal: Issuer,
                   idempotency_key: IdempotencyKey = None) -> Response:
    """Up to 1,000 records at once (a LIMS issuing reports): all are registered or none,
    with each faulty record's errors named by its position (``row``, from 1). Safe to
    retry with an ``Idempotency-Key``."""
    return _registered(request, db, principal, body.records, idempotency_key,
                       "POST /api/reports/batch", body.model_dump_json(), one=False)


def _number(number: str) -> str:
    """A typed number in its normalised form; 422 naming ``number`` if it cannot be one."""
    try:
        return numbers.normalise(number)
    except numbers.NumberError as exc:
        raise errors.invalid("number", str(exc)) from None


@router.get("/verify", response_model=Verdict)
async def verify(number: Annotated[str, Query(min_length=1, max_length=100)], request: Request,
                 principal: Public) -> Response:
    """A document's status and history by its number, each record checked against the
    signed log (``integrity``)."""
    # On the event loop, not a worker thread: the whole check is a few indexed reads and
    # well under a millisecond of hashing, less than the hop to a thread and back costs.
    # Serialised once, by the model itself, rather than validated again on the way out.
    verdict = service.verdict(request.app.state.engine, _number(number), log=_log(request))
    return Response(verdict.model_dump_json(), media_type="application/json")


@router.get("/status", response_model=StatusProof)
def status(number: Annotated[str, Query(min_length=1, max_length=100)], db: DB,
           principal: Public) -> StatusProof:
    """A document number's latest record per issuer, with the proof that the latest
    checkpoint's status map holds exactly these: what makes "withdrawn" or "not amended"
    provable, not just "issued"."""
    return service.status_proof(db, _number(number))


@router.get("/records/{record_id}", response_model=RecordOut)
def get_record(record_id: str, db: DB, principal: Public) -> RecordOut:
    """A record's public fields (never the private ones: those are only committed to)."""
    return service.record_out(service.get_record(db, record_id))


@router.put("/records/{record_id}/pdf", status_code=204,
            max_body_size=service.MAX_PDF_BYTES, openapi_extra={
    "requestBody": {"required": True, "content": {"application/pdf": {}}}})
async def put_pdf(record_id: str, request: Request, db: DB,
                  principal: Annotated[Principal, access(
                      "member", role=Role.editor, scope="reports:write",
                      kinds=(OrgKind.lab, OrgKind.certification_body),
                      note="editors of the issuing organisation")]) -> Response:
    """Keeps the issued PDF (the request body, ``application/pdf``), when its SHA-256 is the
    one registered with the record. Private to the issuer and supervisors."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > service.MAX_PDF_BYTES:
        raise errors.Problem(413, "Invalid input", "pdf: too large",
                             [errors.FieldError("pdf", Msg("is too large"))])
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > service.MAX_PDF_BYTES:
            raise errors.Problem(413, "Invalid input", "pdf: too large",
                                 [errors.FieldError("pdf", Msg("is too large"))])
    service.store_pdf(db, principal, record_id, data)
    return Response(status_code=204)


@router.get("/records/{record_id}/pdf", response_class=Response)
def get_pdf(record_id: str, db: DB,
            principal: Annotated[Principal, access(
                "user", scope="reports:read",
                note="members of the issuing organisation, regulators and operators")],
            ) -> Response:
    """The issued PDF, if its issuer stored it."""
    record, data = service.get_pdf(db, principal, record_id)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{record.id}.pdf"'})


@router.get("/records/{record_id}/bundle", response_model=Bundle)
def get_bundle(
    record_id: str, request: Request, db: DB, principal: Public,
    witnessed: Annotated[int, Query(ge=0, le=20, description="prove against the latest "
                                    "checkpoint this many witnesses cosigned")] = 0,
) -> Bundle:
    """Everything to check the record offline: ``tichub verify BUNDLE``."""
    return service.bundle(db, _log(request), record_id, witnessed)


class WitnessIn(BaseModel):
    verifier_key: str = Field(max_length=300, description="<name>+<hex key ID>+<base64 "
                              "type-0x04 key>, from `tichub witness keygen`")


class KeyOut(BaseModel):
    """A public key an organisation registered (a witness's, or an issuer's own)."""

    name: str
    org_id: str
    verifier_key: str


class CosignatureIn(BaseModel):
    size: Annotated[Count, Field(ge=1, description="the cosigned checkpoint's tree size")]
    cosignature: str = Field(max_length=300, description="the C2SP cosignature line")


@router.get("/log/witnesses", response_model=list[KeyOut])
def witnesses(db: DB, principal: Public) -> list[KeyOut]:
    """The witnesses whose cosignatures the log collects; a verifier picks whom to trust."""
    return [KeyOut(name=w.name, org_id=w.org_id, verifier_key=w.verifier_key)
            for w in service.list_witnesses(db)]


@router.post("/orgs/{org_id}/witnesses", response_model=KeyOut, status_code=201)
def add_witness(org_id: str, body: WitnessIn, db: DB,
                principal: Annotated[Principal, access(
                    "user", role=Role.admin, scope="accounts:admin",
                    note="admins of the witnessing organisation")]) -> KeyOut:
    w = service.add_witness(db, principal, org_id, body.verifier_key)
    return KeyOut(name=w.name, org_id=w.org_id, verifier_key=w.verifier_key)


class IssuerKeyIn(BaseModel):
    verifier_key: str = Field(max_length=300, description="<name>+<hex key ID>+<base64 "
                              "type-0x01 key>, from `tichub issuer keygen`")


@router.get("/orgs/{org_id}/issuer-keys", response_model=list[KeyOut])
def issuer_keys(org_id: str, db: DB, principal: Public) -> list[KeyOut]:
    """An issuer's public signing keys: what a monitor checks the log's records against."""
    return [KeyOut(name=k.name, org_id=k.org_id, verifier_key=k.verifier_key)
            for k in service.list_issuer_keys(db, org_id)]


@router.post("/orgs/{org_id}/issuer-keys", response_model=KeyOut, status_code=201)
def add_issuer_key(org_id: str, body: IssuerKeyIn, db: DB,
                   principal: Annotated[Principal, access(
                       "user", role=Role.admin, scope="accounts:admin",
                       note="admins of the issuing organisation")]) -> KeyOut:
    """Registers a key of the organisation's own. From then on, a record naming one of its
    institutions as issuer without a statement signed by one of its keys is flagged
    ``not_signed_by_issuer`` and reported in the organisation's audit log."""
    k = service.add_issuer_key(db, principal, org_id, body.verifier_key)
    return KeyOut(name=k.name, org_id=k.org_id, verifier_key=k.verifier_key)


@router.post("/log/cosignatures", status_code=201)
def add_cosignature(body: CosignatureIn, db: DB,
                    principal: Annotated[Principal, access(
                        "user", role=Role.editor, scope="log:cosign",
                        note="members of the witness's organisation")]) -> dict[str, int]:
    """A witness's cosignature of a checkpoint, kept once it verifies."""
    row = service.add_cosignature(db, principal, body.size, body.cosignature)
    return {"size": row.size, "timestamp": row.timestamp}


@router.get("/log/consistency")
def consistency(
    db: DB, principal: Public,
    old: Annotated[Count, Query(description="the older tree size")],
    new: Annotated[Count, Query(description="the newer tree size")],
) -> dict[str, list[str]]:
    """RFC 9162 consistency proof between two tree sizes, base64 hashes."""
    return {"proof": [base64.b64encode(h).decode()
                      for h in service.consistency(db, old, new)]}


@router.get("/log/checkpoints")
def checkpoint_sizes(
    db: DB, principal: Public,
    since: Annotated[Count, Query(description="the smallest tree size wanted")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> dict[str, list[int]]:
    """The sizes at which the log signed a checkpoint, ascending: an auditor proves each
    consistent with the next."""
    return {"sizes": service.checkpoint_sizes(db, since, limit)}


@router.get("/log/checkpoints/{size}", response_class=PlainTextResponse)
def checkpoint_at(size: Annotated[Count, Path(description="a tree size")], db: DB,
                  principal: Public) -> PlainTextResponse:
    """The checkpoint the log signed at that size, with its witnesses' cosignatures."""
    return PlainTextResponse(service.cosigned_note(db, service.checkpoint_at(db, size)))


@log_router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(request: Request, db: DB, principal: Public) -> PlainTextResponse:
    """The log's latest signed checkpoint (C2SP tlog-checkpoint) with its witnesses'
    cosignatures; an empty log's is of size 0."""
    return PlainTextResponse(service.latest_note(db, _log(request)),
                             headers={"Cache-Control": "max-age=1"})


@log_router.get("/tile/{path:path}", response_class=Response)
def tile(path: str, db: DB, principal: Public) -> Response:
    try:
        kind, level, index, width = tiles.parse_path(f"tile/{path}")
    except ValueError as exc:
        raise errors.invalid("path", str(exc)) from None
    data = (service.entry_bundle(db, index, width) if kind == "entries"
            else service.tile(db, level, index, width))
    # Immutable, partial ones too (C2SP tlog-tiles): a width's hashes never change, and
    # a width the log does not hold yet is a 404, which is not cached.
    return Response(data, media_type="application/octet-stream",
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})
