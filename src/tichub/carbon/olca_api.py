"""openLCA JSON-LD import and export of product models."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from tichub.carbon import olca_service
from tichub.carbon.api import MAX_UPLOAD
from tichub.carbon.schemas import ModelOut
from tichub.core import errors, limits
from tichub.core.auth import DB, Principal, access
from tichub.core.models import Role

router = APIRouter(prefix="/api/carbon/models", tags=["carbon"])

ZIP = "application/zip"

Reader = Annotated[Principal, access(
    "user", note="members of the model's organisation and regulators; to others the model "
                 "does not exist (404)")]
Editor = Annotated[Principal, access(
    "member", role=Role.editor, scope="carbon:write",
    note="editors of the organisation the models are created for")]


class FactorNeedOut(BaseModel):
    key: str
    name: str
    unit: str
    in_zip: bool
    in_library: bool


class OlcaImportOut(BaseModel):
    models: list[ModelOut]  # sub-assemblies first, the product last
    factors: list[FactorNeedOut]  # the emission factors the models cite
    warnings: list[str]


@router.get("/{model_id}/olca", response_class=Response,
            responses={200: {"content": {ZIP: {}}}})
def export_olca(model_id: str, db: DB, principal: Reader) -> Response:
    """The model as an openLCA JSON-LD package: its processes, its sub-assemblies' models
    and the current version of each emission factor they cite (as LCI results), with
    product systems, flows and openLCA's reference units."""
    name, data = olca_service.export_model(db, principal, model_id)
    fallback = name.encode("ascii", "replace").decode().replace("?", "_")
    return Response(data, media_type=ZIP, headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


@router.post("/olca", response_model=OlcaImportOut, status_code=201,
             max_body_size=limits.upload(MAX_UPLOAD))
async def import_olca(
    db: DB, principal: Editor,
    org_id: Annotated[str, Form(min_length=26, max_length=26)],
    file: Annotated[UploadFile, File(description="an openLCA JSON-LD zip (olca-schema 2): "
                                     "unit processes, with product systems for models")],
) -> Any:
    """New product models from an openLCA package: one per product system (a sub-assembly
    a model of its own), or one of all its unit processes. Products whose provider the
    package lacks come in as emission factors named by their flow: ``factors`` says which
    keys the models cite and whether the organisation's library has them."""
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise errors.invalid("file", f"is larger than {MAX_UPLOAD // 1024 // 1024} MiB")
    result = await run_in_threadpool(olca_service.import_models, db, principal, org_id, data)
    return OlcaImportOut(
        models=[ModelOut.model_validate(m) for m in result.models],
        factors=[FactorNeedOut(**vars(f)) for f in result.factors],
        warnings=result.warnings)
