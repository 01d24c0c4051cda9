"""openLCA JSON-LD use cases: a product model out as a package openLCA imports, and a
package (ours or openLCA's) in as new product models of an organisation."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tichub.carbon import olca, service
from tichub.carbon.models import ProductModel
from tichub.carbon.schemas import ModelIn
from tichub.core import errors
from tichub.core.auth import Principal, require_member
from tichub.core.errors import FieldError
from tichub.core.models import Role

# Stands in for a sub-assembly's id while the models are checked, before any is stored.
_PENDING = "0" * 26


@dataclass
class FactorNeed:
    key: str
    name: str
    unit: str
    in_zip: bool  # the package carries the factor's emissions (an LCI result)
    in_library: bool  # the organisation may use a factor of that key


@dataclass
class ImportResult:
    models: list[ProductModel]  # suppliers first, the product last
    factors: list[FactorNeed]
    warnings: list[str]


def export_model(db: Session, principal: Principal, model_id: str) -> tuple[str, bytes]:
    """The model, its sub-assemblies and the current version of every factor they cite,
    as an openLCA package; and a file name for it. Those who may see the model may."""
    root = service.get_model(db, principal, model_id)
    reached = service._reached(db, root)
    snapshots = {key: service._snapshot(m) for key, m in reached.items()}
    keys = {i.get("factor") or "" for s in snapshots.values() for p in s["processes"]
            for i in p.get("inputs", [])} | {
        c.get("displaces") or "" for s in snapshots.values() for p in s["processes"]
        for c in p.get("coproducts", [])}
    factors = service.factors_for(db, root.org_id, {k for k in keys if k})
    changed = max(m.updated_at for m in reached.values())
    try:
        data = olca.export_zip(root.id, snapshots, factors,
                               changed.strftime("%Y-%m-%dT%H:%M:%SZ"))
    except olca.OlcaError as exc:
        raise errors.invalid(exc.where, exc.message) from None
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", root.name).strip() or "model"
    return f"{name}.zip", data


def import_models(db: Session, principal: Principal, org_id: str, data: bytes) -> ImportResult:
    """New product models of the organisation from an openLCA package: each sub-assembly
    first, then what uses it, each through ``service.create_model`` and its checks. Every
    model is validated before the first is stored."""
    require_member(principal, Role.editor, org=org_id, scope=service.SCOPE)
    try:
        read = olca.import_zip(data)
    except olca.OlcaError as exc:
        raise errors.invalid(exc.where, exc.message) from None
    checked = []
    faults: list[FieldError] = []
    for n, m in enumerate(read.models):
        try:
            checked.append(ModelIn.model_validate(_linked(m.data, org_id, None)))
        except ValidationError as exc:
            faults += [FieldError(f"models.{n}.{e.field}", e.message)
                       for e in errors.field_errors(exc.errors())]
    if faults:
        raise errors.Problem(422, "Invalid input", detail=f"{len(faults)} error(s) in the "
                             "models read from the file; nothing was stored", errors=faults)
    created: dict[str, ProductModel] = {}
    for m in read.models:
        row = service.create_model(db, principal, ModelIn.model_validate(
            _linked(m.data, org_id, {ref: r.id for ref, r in created.items()})))
        created[m.ref] = row
    have = service.factors_for(db, org_id, [f.key for f in read.factors])
    return ImportResult(
        list(created.values()),
        [FactorNeed(f.key, f.name, f.unit, f.in_zip, f.key in have) for f in read.factors],
        read.warnings)


def _linked(data: dict[str, Any], org_id: str, ids: dict[str, str] | None) -> dict[str, Any]:
    """The model's fields for ``org_id``, its sub-assemblies named by their stored ids
    (``None``: not stored yet)."""
    out = copy.deepcopy(data)
    out["org_id"] = org_id
    for p in out.get("processes", []):
        for i in p.get("inputs", []):
            if i.get("model"):
                i["model"] = _PENDING if ids is None else ids[i["model"]]
    return out
