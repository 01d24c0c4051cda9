"""Carbon routes under /api/carbon: the emission-factor library, product models, footprint
studies and their carbon-label certification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tichub.carbon import certification_service as certification
from tichub.carbon import label, service
from tichub.carbon.models import StudyStatus
from tichub.carbon.schemas import (
    ChecklistIn,
    ComputeIn,
    DecisionIn,
    FactorIn,
    FactorOut,
    ImportSummary,
    MessageIn,
    MessageOut,
    ModelIn,
    ModelOut,
    StudyOut,
    SubmitIn,
)
from tichub.core import errors, limits
from tichub.core.auth import DB, Principal, Public, SignedIn, access
from tichub.core.models import Role

router = APIRouter(prefix="/api/carbon", tags=["carbon"])

MAX_UPLOAD = 5 * 1024 * 1024

Editor = Annotated[Principal, access(
    "member", role=Role.editor, scope="carbon:write",
    note="editors of the organisation the model, study or private factor belongs to; the "
         "public library: the operator")]


@router.get("/factors", response_model=list[FactorOut])
def list_factors(db: DB, principal: Public,
                 q: Annotated[str | None, Query(max_length=100)] = None,
                 region: Annotated[str | None, Query(max_length=60)] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[Any]:
    """The current version of each emission factor: the public library, and the caller's
    own organisations' factors."""
    return service.list_factors(db, principal, q, region, limit)


@router.get("/factors/{key}", response_model=list[FactorOut])
def factor_versions(key: str, db: DB, principal: Public) -> list[Any]:
    """Every version of one factor, newest first."""
    return service.factor_versions(db, principal, key)


@router.post("/factors", response_model=ImportSummary, status_code=201)
def save_factors(body: list[FactorIn], db: DB, principal: Editor,
                 org_id: Annotated[str | None, Query(min_length=26, max_length=26)] = None
                 ) -> Any:
    """Adds factors, or new versions of those whose values changed (all or none). Without
    ``org_id``: the public library."""
    if not body:
        raise errors.invalid("body", "no factors")
    return service.save_factors(db, principal, [(None, f) for f in body], org_id)


@router.post("/factors/import", response_model=ImportSummary, status_code=201,
             max_body_size=limits.upload(MAX_UPLOAD))
async def import_factors(
    db: DB, principal: Editor,
    file: Annotated[UploadFile, File(description="CSV or .xlsx, one row per gas of a factor: "
                                     "key, unit, gas, category, amount, basis, source, …")],
    org_id: Annotated[str | None, Form(min_length=26, max_length=26)] = None,
) -> Any:
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise errors.invalid("file", f"is larger than {MAX_UPLOAD // 1024 // 1024} MiB")
    return await run_in_threadpool(service.import_factors, db, principal, file.filename or "",
                                   data, org_id)


@router.post("/models", response_model=ModelOut, status_code=201,
             max_body_size=limits.MODEL_BODY)
def create_model(body: ModelIn, db: DB, principal: Editor) -> Any:
    """A product model: its declared unit, boundary, and processes with their inputs."""
    return service.create_model(db, principal, body)


@router.get("/models", response_model=list[ModelOut])
def list_models(db: DB, principal: SignedIn,
                org_id: Annotated[str, Query(min_length=26, max_length=26)]) -> list[Any]:
    """The organisation's product models (its members, regulators)."""
    return service.list_models(db, principal, org_id)


@router.get("/models/{model_id}", response_model=ModelOut)
def get_model(model_id: str, db: DB, principal: SignedIn) -> Any:
    return service.get_model(db, principal, model_id)


@router.put("/models/{model_id}", response_model=ModelOut, max_body_size=limits.MODEL_BODY)
def update_model(model_id: str, body: ModelIn, db: DB, principal: Editor) -> Any:
    return service.update_model(db, principal, model_id, body)


@router.post("/models/{model_id}/studies", response_model=StudyOut, status_code=201)
def compute_study(model_id: str, body: ComputeIn, db: DB, principal: Editor) -> Any:
    """Computes the footprint (with Monte Carlo uncertainty) and keeps it as a study citing
    the exact factor versions used."""
    return service.compute_study(db, principal, model_id, body)


@router.get("/studies", response_model=list[StudyOut])
def list_studies(db: DB, principal: SignedIn,
                 org_id: Annotated[str, Query(min_length=26, max_length=26)]) -> list[Any]:
    return service.list_studies(db, principal, org_id)


@router.get("/studies/{study_id}", response_model=StudyOut)
def get_study(study_id: str, db: DB, principal: SignedIn) -> Any:
    """The owner's members, the certification body it was submitted to, regulators."""
    return service.get_study(db, principal, study_id)


# --- carbon-label certification --------------------------------------------------------------

Reviewer = Annotated[Principal, access(
    "member", role=Role.editor, scope="carbon:write",
    note="the company's editors submit, answer and withdraw; editors of the certification "
         "body the study was sent to check, ask and decide (a certificate also needs an API "
         "token's reports:write scope)")]


@router.post("/studies/{study_id}/submit", response_model=StudyOut)
def submit_study(study_id: str, body: SubmitIn, db: DB, principal: Editor) -> Any:
    """Sends a computed study to a certification body for a carbon label."""
    return certification.submit(db, principal, study_id, body.institution_id)


@router.post("/studies/{study_id}/withdraw", response_model=StudyOut)
def withdraw_study(study_id: str, db: DB, principal: Editor) -> Any:
    return certification.withdraw(db, principal, study_id)


@router.get("/reviews", response_model=list[StudyOut])
def review_queue(db: DB, principal: SignedIn,
                 org_id: Annotated[str, Query(min_length=26, max_length=26)],
                 status: StudyStatus | None = None) -> list[Any]:
    """The certification body's queue: open reviews unless a status is asked for (members
    of the body, regulators)."""
    return certification.review_queue(db, principal, org_id, status)


@router.put("/studies/{study_id}/checklist", response_model=StudyOut)
def save_checklist(study_id: str, body: ChecklistIn, db: DB, principal: Reviewer) -> Any:
    """Records the body's verdict on boundary, cut-off, data quality and allocation."""
    return certification.save_checklist(db, principal, study_id, body)


@router.get("/studies/{study_id}/messages", response_model=list[MessageOut])
def list_messages(study_id: str, db: DB, principal: SignedIn) -> list[Any]:
    return certification.messages(db, principal, study_id)


@router.post("/studies/{study_id}/messages", response_model=MessageOut, status_code=201)
def post_message(study_id: str, body: MessageIn, db: DB, principal: Reviewer) -> Any:
    """The body's question (the study waits for the company) or the company's answer."""
    return certification.post_message(db, principal, study_id, body)


@router.post("/studies/{study_id}/decision", response_model=StudyOut)
def decide(study_id: str, body: DecisionIn, request: Request, db: DB,
           principal: Reviewer) -> Any:
    """Certifies (the certificate is registered in the public report registry) or rejects."""
    return certification.decide(db, principal, request.app.state.log, study_id, body)


@router.get("/labels/{number}.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
def label_svg(number: str, request: Request, db: DB, principal: Public) -> Response:
    """A certified footprint's carbon label, with the QR code of its verification page."""
    return Response(label.svg(certification.label_of(db, number, str(request.base_url))),
                    media_type="image/svg+xml", headers={"Cache-Control": "max-age=300"})


@router.get("/labels/{number}.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def label_png(number: str, request: Request, db: DB, principal: Public) -> Response:
    return Response(label.png(certification.label_of(db, number, str(request.base_url))),
                    media_type="image/png", headers={"Cache-Control": "max-age=300"})
