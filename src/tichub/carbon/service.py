"""Carbon use cases: the only place that writes emission factors, product models and
footprint studies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy import func, or_, select, true, update
from sqlalchemy.orm import Session

from tichub.carbon import footprint as fp
from tichub.carbon.models import EmissionFactor, ProductModel, Study, StudyStatus
from tichub.carbon.schemas import ComputeIn, FactorIn, ImportSummary, ModelIn, ProcessIn
from tichub.carbon.uncertainty import Uncertainty
from tichub.core import audit, errors, tables, units
from tichub.core.auth import Principal, can, require, require_member
from tichub.core.errors import FieldError
from tichub.core.ids import utcnow
from tichub.core.messages import Msg
from tichub.core.models import Role

SCOPE = "carbon:write"

# --- emission factors ------------------------------------------------------------------------

FACTOR_COLUMNS: tables.Columns = {
    "key": ("key", "factor", "因子编号"),
    "name_zh": ("name_zh", "名称"),
    "name_en": ("name_en", "name"),
    "unit": ("unit", "per", "单位"),
    "gas": ("gas", "气体"),
    "category": ("category", "类别"),
    "amount": ("amount", "value", "数值"),
    "basis": ("basis", "gwp_basis", "gwp"),
    "region": ("region", "地区"),
    "year": ("year", "年份"),
    "source": ("source", "来源"),
    "source_url": ("source_url", "url"),
    "uncertainty": ("uncertainty", "distribution", "不确定度"),
    "gsd": ("gsd",),
    "sd": ("sd",),
    "low": ("low",),
    "high": ("high",),
    "pedigree": ("pedigree",),
    "basic": ("basic",),
    "notes": ("notes", "备注"),
}
FACTOR_REQUIRED = ("key", "unit", "gas", "amount", "source")
_META = ("name_zh", "name_en", "unit", "basis", "region", "year", "source", "source_url",
         "notes")


def _factor_rows(rows: list[tables.Row]) -> tuple[list[tuple[int, FactorIn]], list[FieldError]]:
    """Rows grouped by key (one row per gas) into validated factors."""
    groups: dict[str, list[tables.Row]] = {}
    for n, row in rows:
        groups.setdefault(row.get("key", ""), []).append((n, row))
    out, faults = [], []
    for key, members in groups.items():
        n, first = members[0]
        unc: dict[str, Any] = {"kind": first.get("uncertainty") or "fixed"}
        for name in ("gsd", "sd", "low", "high", "basic"):
            if first.get(name):
                unc[name] = first[name]
        if first.get("pedigree"):
            unc["pedigree"] = [p.strip() for p in first["pedigree"].replace("(", "").replace(
                ")", "").split(",")]
        data: dict[str, Any] = {k: first.get(k, "") for k in _META}
        data["year"] = data["year"] or None
        data.update(key=key, uncertainty=unc,
                    gases=[{"gas": r.get("gas", ""), "category": r.get("category") or "fossil",
                            "amount": r.get("amount", "")} for _, r in members])
        for m, r in members[1:]:
            if r.get("unit") and r["unit"] != first.get("unit"):
                faults.append(FieldError("unit", Msg("differs from row {row} of factor {key}",
                                                     row=n, key=key), m))
        try:
            factor = FactorIn.model_validate(data)
            units.check(factor.unit)
        except ValidationError as exc:
            faults += errors.field_errors(exc.errors(), n)
            continue
        except units.UnitError as exc:
            faults.append(FieldError("unit", _unknown_unit(factor.unit, exc), n))
            continue
        out.append((n, factor))
    return out, faults


def _same(row: EmissionFactor, f: FactorIn) -> bool:
    return (row.unit == f.unit and row.gases == [g.model_dump() for g in f.gases]
            and row.uncertainty == f.uncertainty.model_dump()
            and all(getattr(row, k) == getattr(f, k) for k in _META if k != "unit"))


def _owner_check(principal: Principal, org_id: str | None) -> None:
    if org_id is None:
        if not principal.is_operator:
            raise errors.forbidden(Msg("only the platform's operator changes the public "
                                       "library"))
        require(principal, Role.admin, org=None, scope=SCOPE)
    else:
        require_member(principal, Role.editor, org=org_id, scope=SCOPE)


def save_factors(db: Session, principal: Principal, factors: Sequence[tuple[int | None, FactorIn]],
                 org_id: str | None) -> ImportSummary:
    """Stores each factor as a new key or, if it differs from the key's current version,
    as its next version; all or nothing."""
    _owner_check(principal, org_id)
    keys = [f.key for _, f in factors]
    if len(set(keys)) != len(keys):
        raise errors.invalid("key", Msg("a factor's key appears twice"))
    current = {r.key: r for r in db.scalars(select(EmissionFactor).where(
        EmissionFactor.key.in_(keys), EmissionFactor.current.is_(True)))}
    faults = []
    added = versions = unchanged = 0
    for row_no, f in factors:
        old = current.get(f.key)
        if old is not None and old.org_id != org_id:
            faults.append(FieldError("key", Msg("{key} belongs to another library",
                                                key=f.key), row_no))
            continue
        if old is not None and _same(old, f):
            unchanged += 1
            continue
        if old is not None:
            # Conditional: of two imports racing on one key, one makes the next version.
            claimed = db.execute(update(EmissionFactor).where(
                EmissionFactor.id == old.id, EmissionFactor.current.is_(True)).values(
                current=False))
            if getattr(claimed, "rowcount", 0) != 1:
                raise errors.conflict("key", Msg("{key} changed meanwhile; import again",
                                                 key=f.key))
            versions += 1
        else:
            added += 1
        data = f.model_dump()
        db.add(EmissionFactor(**data, version=(old.version + 1) if old else 1, current=True,
                              org_id=org_id, created_by=principal.user_id))
    if faults:
        db.rollback()
        raise errors.Problem(422, "Factors refused", detail=Msg(
            "{count} error(s); nothing was stored", count=len(faults)), errors=faults)
    audit.record(db, action="carbon.factors.imported", object_type="carbon_factors",
                 object_id=org_id or "public", actor_user_id=principal.user_id, org_id=org_id,
                 data={"added": added, "new_versions": versions, "unchanged": unchanged})
    db.commit()
    return ImportSummary(added=added, new_versions=versions, unchanged=unchanged, keys=keys)


def import_factors(db: Session, principal: Principal, filename: str, data: bytes,
                   org_id: str | None) -> ImportSummary:
    _owner_check(principal, org_id)
    rows, faults = tables.read_table(filename, data, FACTOR_COLUMNS, FACTOR_REQUIRED)
    factors, more = _factor_rows(rows)
    if faults or more:
        raise errors.Problem(422, "Factors refused", detail=Msg(
            "{count} error(s); nothing was stored", count=len(faults + more)),
            errors=faults + more)
    return save_factors(db, principal, [(n, f) for n, f in factors], org_id)


def _visible(principal: Principal) -> Any:
    orgs = list(principal.roles)
    if principal.is_operator or principal.is_regulator:
        return true()
    return or_(EmissionFactor.org_id.is_(None), EmissionFactor.org_id.in_(orgs))


def list_factors(db: Session, principal: Principal, q: str | None = None,
                 region: str | None = None, limit: int = 200) -> list[EmissionFactor]:
    stmt = select(EmissionFactor).where(EmissionFactor.current.is_(True), _visible(principal))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(EmissionFactor.key.ilike(like), EmissionFactor.name_zh.ilike(like),
                              EmissionFactor.name_en.ilike(like)))
    if region:
        stmt = stmt.where(EmissionFactor.region == region)
    return list(db.scalars(stmt.order_by(EmissionFactor.key).limit(limit)))


def factor_versions(db: Session, principal: Principal, key: str) -> list[EmissionFactor]:
    rows = list(db.scalars(select(EmissionFactor).where(
        EmissionFactor.key == key, _visible(principal)).order_by(EmissionFactor.version.desc())))
    if not rows:
        raise not_found(Msg("No such emission factor"))
    return rows


def core_factor(row: EmissionFactor) -> fp.Factor:
    return fp.Factor(
        key=row.key, version=row.version, unit=row.unit, basis=row.basis,
        name=row.name_en or row.name_zh, name_zh=row.name_zh,
        gases=tuple(fp.GasAmount(g["gas"], g["category"], float(g["amount"]))
                    for g in row.gases),
        uncertainty=_uncertainty(row.uncertainty))


def _uncertainty(data: dict[str, Any] | None) -> Uncertainty:
    d = dict(data or {})
    d["pedigree"] = tuple(d.get("pedigree") or ())
    return Uncertainty(**d) if d.get("kind") else Uncertainty()


def factors_for(db: Session, org_id: str, keys: Iterable[str]) -> dict[str, fp.Factor]:
    """The current version of each key the organisation may use (its own or public)."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = db.scalars(select(EmissionFactor).where(
        EmissionFactor.key.in_(wanted), EmissionFactor.current.is_(True),
        or_(EmissionFactor.org_id.is_(None), EmissionFactor.org_id == org_id)))
    return {r.key: core_factor(r) for r in rows}


# --- product models --------------------------------------------------------------------------

def not_found(message: Msg) -> errors.Problem:
    """404 whose detail pages translate (errors.not_found builds its sentence in English)."""
    return errors.Problem(404, "Not found", detail=message)


def _unknown_unit(unit: str, exc: units.UnitError) -> Msg:
    """core.units explains to developers; people need the unit and examples."""
    return Msg("{unit} is not a unit the platform knows (for example: piece, kg, t, kWh, "
               "t*km)", unit=unit)


def _check_model(db: Session, data: ModelIn) -> None:
    """What a model's own fields can tell: units, references, stages, allocation."""
    for i, p in enumerate(data.processes):
        try:
            units.check(p.output_unit)
        except units.UnitError as exc:
            raise errors.invalid(f"processes.{i}.output_unit",
                                 _unknown_unit(p.output_unit, exc)) from None
    try:
        units.check(data.declared_unit)
    except units.UnitError as exc:
        raise errors.invalid("declared_unit", _unknown_unit(data.declared_unit, exc)) from None
    for i, p in enumerate(data.processes):
        for j, inp in enumerate(p.inputs):
            if inp.model is None:
                continue
            sub = db.get(ProductModel, inp.model)
            if sub is None or sub.org_id != data.org_id:
                raise errors.invalid(f"processes.{i}.inputs.{j}.model",
                                     Msg("no such product model of the organisation"))
    if data.processes:
        try:
            fp.check_model(_core_model("new", data.model_dump(), data.processes))
        except fp.FootprintError as exc:
            raise _refused(exc) from None


def _refused(exc: fp.FootprintError) -> errors.Problem:
    """A model the footprint refuses. ``where`` is a field's name or a place in the model
    (a process, an input): a place is no form's field, so the message names it too."""
    if isinstance(exc.where, Msg):
        return errors.invalid(exc.where, Msg("{where}: {message}", where=exc.where,
                                             message=exc.message))
    return errors.invalid(exc.where, exc.message)


def _core_model(key: str, data: dict[str, Any], processes: Sequence[ProcessIn | dict[str, Any]]
                ) -> fp.Model:
    procs = []
    for raw in processes:
        p = raw if isinstance(raw, ProcessIn) else ProcessIn.model_validate(raw)
        procs.append(fp.Process(
            key=p.key, name=p.name, stage=p.stage, output_amount=p.output_amount,
            output_unit=p.output_unit, allocation=p.allocation,
            output_mass_kg=p.output_mass_kg, output_price=p.output_price,
            inputs=tuple(fp.Input(
                name=i.name, amount=i.amount, unit=i.unit, kind=i.kind, factor=i.factor,
                process=i.process, model=i.model, gas=i.gas, category=i.category,
                primary=i.primary, uncertainty=i.uncertainty.core()) for i in p.inputs),
            coproducts=tuple(fp.CoProduct(c.name, c.amount, c.unit, c.mass_kg, c.price,
                                          c.displaces) for c in p.coproducts)))
    return fp.Model(key=key, name=data["name"], declared_amount=data["declared_amount"],
                    declared_unit=data["declared_unit"],
                    reference=data["reference"] or (procs[-1].key if procs else ""),
                    processes=tuple(procs), boundary=data["boundary"], basis=data["basis"])


def create_model(db: Session, principal: Principal, data: ModelIn) -> ProductModel:
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    _check_model(db, data)
    row = ProductModel(**data.model_dump(), created_by=principal.user_id)
    db.add(row)
    db.flush()
    audit.record(db, action="carbon.model.created", object_type="carbon_model",
                 object_id=row.id, actor_user_id=principal.user_id, org_id=row.org_id)
    db.commit()
    return row


def update_model(db: Session, principal: Principal, model_id: str, data: ModelIn) -> ProductModel:
    row = get_model(db, principal, model_id)
    require_member(principal, Role.editor, org=row.org_id, scope=SCOPE)
    if data.org_id != row.org_id:
        raise errors.invalid("org_id", Msg("a model stays with its organisation"))
    _check_model(db, data)
    for k, v in data.model_dump().items():
        setattr(row, k, v)
    row.updated_at = utcnow()
    db.commit()
    return row


def get_model(db: Session, principal: Principal, model_id: str) -> ProductModel:
    row = db.get(ProductModel, model_id)
    if row is None or not can(principal, Role.viewer, org=row.org_id):
        raise not_found(Msg("No such product model"))
    return row


def list_models(db: Session, principal: Principal, org_id: str) -> list[ProductModel]:
    require(principal, Role.viewer, org=org_id)
    return list(db.scalars(select(ProductModel).where(ProductModel.org_id == org_id)
                           .order_by(ProductModel.created_at.desc())))


def _reached(db: Session, root: ProductModel) -> dict[str, ProductModel]:
    """The model and every sub-assembly model it reaches (its own organisation's only)."""
    found = {root.id: root}
    todo = [root]
    while todo:
        m = todo.pop()
        for p in m.processes:
            for i in p.get("inputs", []):
                sub_id = i.get("model")
                if sub_id and sub_id not in found:
                    sub = db.get(ProductModel, sub_id)
                    if sub is None or sub.org_id != root.org_id:
                        raise errors.invalid("model", Msg(
                            "{name} uses a product model that is not the organisation's",
                            name=m.name))
                    found[sub_id] = sub
                    todo.append(sub)
    return found


def _snapshot(m: ProductModel) -> dict[str, Any]:
    return {k: getattr(m, k) for k in (
        "name", "product", "category", "cn_code", "declared_amount", "declared_unit",
        "mass_kg", "functional_unit", "boundary", "basis", "standard", "geography", "cut_off",
        "reference", "processes")} | {
        "period_start": m.period_start.isoformat() if m.period_start else None,
        "period_end": m.period_end.isoformat() if m.period_end else None}


def histogram(samples: np.ndarray, bins: int = 30) -> dict[str, list[float]]:
    counts, edges = np.histogram(samples, bins=bins)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def compute_study(db: Session, principal: Principal, model_id: str, data: ComputeIn) -> Study:
    """Computes the model's footprint and its uncertainty, and keeps them with the exact
    models and factor versions they came from."""
    root = get_model(db, principal, model_id)
    require_member(principal, Role.editor, org=root.org_id, scope=SCOPE)
    reached = _reached(db, root)
    snapshots = {k: _snapshot(m) for k, m in reached.items()}
    models = {k: _core_model(k, s, s["processes"]) for k, s in snapshots.items()}
    keys = {i.factor for m in models.values() for p in m.processes for i in p.inputs
            if i.factor} | {c.displaces for m in models.values() for p in m.processes
                            for c in p.coproducts if c.displaces}
    factors = factors_for(db, root.org_id, {k for k in keys if k})
    try:
        result = fp.compute(root.id, models, factors)
        run = fp.simulate(root.id, models, factors, data.iterations, data.seed) \
            if data.iterations else None
    except fp.FootprintError as exc:
        raise _refused(exc) from None
    study = Study(
        org_id=root.org_id, model_id=root.id, title=data.title or root.name,
        models=snapshots, factors=result.factors, total=result.total,
        excluding_biogenic=result.excluding_biogenic, created_by=principal.user_id,
        results={
            "declared": {"amount": root.declared_amount, "unit": root.declared_unit},
            "basis": root.basis, "boundary": root.boundary,
            "by_stage": result.by_stage, "by_category": result.by_category,
            "by_gas": result.by_gas, "by_process": result.by_process,
            "primary_share": result.primary_share,
            # English for API clients; the notices' data lets pages say it in their language.
            "warnings": [str(w) for w in result.warnings],
            "notices": [n.as_json() for n in result.notices],
            "factor_names": {f.label: {"en": f.shown("en"), "zh": f.shown("zh")}
                             for f in factors.values() if f.label in result.factors},
            "contributions": [c.__dict__ for c in result.contributions],
            "links": [link.__dict__ for link in result.links],
        },
        uncertainty={} if run is None else {
            "iterations": data.iterations, "seed": data.seed, **run.summary(),
            "histogram": histogram(run.samples), "shares": run.shares})
    db.add(study)
    db.flush()
    audit.record(db, action="carbon.study.computed", object_type="carbon_study",
                 object_id=study.id, actor_user_id=principal.user_id, org_id=study.org_id,
                 data={"total": study.total, "factors": study.factors})
    db.commit()
    return study


def get_study(db: Session, principal: Principal, study_id: str) -> Study:
    """The owner's members, the certification body it was sent to, regulators, operators."""
    row = db.get(Study, study_id)
    if row is None or not (can(principal, Role.viewer, org=row.org_id) or (
            row.cb_org_id and row.status is not StudyStatus.draft
            and can(principal, Role.viewer, org=row.cb_org_id))):
        raise not_found(Msg("No such footprint study"))
    return row


def list_studies(db: Session, principal: Principal, org_id: str) -> list[Study]:
    require(principal, Role.viewer, org=org_id)
    return list(db.scalars(select(Study).where(Study.org_id == org_id)
                           .order_by(Study.created_at.desc())))


def certified_study_count(db: Session) -> int:
    """How many footprint studies are certified (the home page's figure)."""
    return int(db.scalar(select(func.count()).select_from(Study)
                         .where(Study.status == StudyStatus.certified)) or 0)
