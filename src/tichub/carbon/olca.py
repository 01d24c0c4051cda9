"""openLCA JSON-LD (olca-schema, version 2) for product models. Pure: models and factors in,
a zip out, and the reverse.

How a TICHub model maps onto openLCA's data sets:

- a process → a unit process whose quantitative reference is the output of its product;
  its inputs from other processes, sub-assemblies and emission factors → product inputs
  linked to their providers (``defaultProvider``, and the product system's process links);
  its direct emissions → elementary flows; its co-products → further product outputs with
  openLCA allocation factors, or, under system expansion, avoided products;
- an emission factor → an LCI result (openLCA's "system process") making one unit of a
  product flow named by the factor's key and emitting the factor's gases;
- a product model → a product system: its reference process, declared amount and unit,
  and its GWP basis as a tag; each sub-assembly model is a product system of its own;
- units and flow properties → openLCA's reference unit groups and flow properties, by
  their standard ids (``olca_schema.units``), so the package links to what every openLCA
  database already holds;
- greenhouse gases → elementary flows named as ecoinvent names them ("Carbon dioxide,
  fossil", "Methane, non-fossil", "Carbon dioxide, in air", …) in openLCA's compartments.

Every id is a UUID5 of our keys, and the zip's entries carry a fixed time, so exporting the
same model twice gives the same bytes.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any

import olca_schema as o
from olca_schema import units as olca_units
from pydantic import ValidationError

from tichub.carbon import footprint as fp
from tichub.carbon.schemas import ProcessIn
from tichub.carbon.uncertainty import Uncertainty, pedigree_sigma
from tichub.core import units

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://tichub.org/carbon/olca")
EPOCH = "2000-01-01T00:00:00Z"
SCHEMA_VERSION = '{"version": 2}'
# Limits on what an uploaded zip may unpack to (its upload is limited apart).
MAX_MEMBERS = 20_000
MAX_UNPACKED = 100 * 1024 * 1024


class OlcaError(ValueError):
    """A package that cannot be written or read; ``where`` names the place at fault."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def uid(*parts: str) -> str:
    """The stable id of one of our things in an openLCA package."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


# --- units -----------------------------------------------------------------------------------

# openLCA reference units TICHub reads and writes, with TICHub's spelling of each (pint reads
# "kt" as a knot, so kilotonnes are spelt out). Their factors agree with openLCA's.
OLCA_UNITS: dict[str, str] = {
    "kg": "kg", "g": "g", "mg": "mg", "t": "t", "kt": "kilotonne", "Mt": "megatonne",
    "MJ": "MJ", "kJ": "kJ", "J": "J", "GJ": "GJ", "TJ": "TJ",
    "Wh": "Wh", "kWh": "kWh", "MWh": "MWh",
    "m3": "m3", "l": "l", "ml": "ml", "dm3": "dm3", "cm3": "cm3", "Nm3": "Nm3",
    "t*km": "t*km", "kg*km": "kg*km",
    "m": "m", "km": "km", "cm": "cm", "mm": "mm",
    "m2": "m2", "km2": "km2", "ha": "ha", "cm2": "cm2",
    "h": "h", "d": "d", "s": "s",
    "Item(s)": "piece",
}
OLCA_ALIASES = {"p": "Item(s)"}  # other names openLCA gives the same unit (read only)
# The reference unit of each openLCA unit group that holds one of the units above.
GROUP_REFERENCE = {"Units of mass": "kg", "Units of energy": "MJ", "Units of volume": "m3",
                   "Units of mass*length": "t*km", "Units of length": "m",
                   "Units of area": "m2", "Units of time": "h", "Units of items": "Item(s)"}


@dataclass(frozen=True)
class _Unit:
    """An openLCA reference unit with its unit group and default flow property."""

    name: str
    ref: o.Ref
    group: o.Ref
    prop: o.Ref

    @property
    def ours(self) -> str:
        return OLCA_UNITS[self.name]


def _reference_unit(name: str) -> _Unit:
    ref, group, prop = (olca_units.unit_ref(name), olca_units.group_ref(name),
                        olca_units.property_ref(name))
    assert ref is not None and group is not None and prop is not None, name
    return _Unit(name, ref, group, prop)


_NAME_BY_ID = {_reference_unit(n).ref.id: n for n in OLCA_UNITS}


def olca_unit(unit: str, where: str) -> tuple[_Unit, float]:
    """The openLCA unit for a TICHub unit, and the number its amounts are multiplied by:
    the same unit when openLCA has it, else the reference unit of its dimension."""
    spelled = unit.strip().replace("·", "*")
    if spelled in OLCA_UNITS:
        return _reference_unit(spelled), 1.0
    try:
        units.check(unit)
    except units.UnitError as exc:
        raise OlcaError(where, str(exc)) from None
    for name, ours in OLCA_UNITS.items():
        if _factor(unit, ours) == 1.0:
            return _reference_unit(name), 1.0
    for name in GROUP_REFERENCE.values():
        k = _factor(unit, OLCA_UNITS[name])
        if k is not None:
            return _reference_unit(name), k
    raise OlcaError(where, f"{unit} has no counterpart among openLCA's reference units")


def _factor(a: str, b: str) -> float | None:
    try:
        return units.factor(a, b)
    except units.UnitError:
        return None


# --- greenhouse gases ------------------------------------------------------------------------

@dataclass(frozen=True)
class GasName:
    name: str  # as ecoinvent and openLCA name the substance, without its origin
    cas: str
    formula: str
    synonyms: tuple[str, ...] = ()


GAS_NAMES: dict[str, GasName] = {
    "CO2e": GasName("Carbon dioxide equivalent", "", "", ("co2e", "co2-eq", "co2 eq")),
    "CO2": GasName("Carbon dioxide", "000124-38-9", "CO2"),
    "CH4": GasName("Methane", "000074-82-8", "CH4"),
    "CH4-fossil": GasName("Methane", "000074-82-8", "CH4"),
    "N2O": GasName("Dinitrogen monoxide", "010024-97-2", "N2O",
                   ("nitrous oxide", "dinitrogen oxide")),
    "SF6": GasName("Sulfur hexafluoride", "002551-62-4", "SF6", ("sulphur hexafluoride",)),
    "NF3": GasName("Nitrogen fluoride", "007783-54-2", "NF3", ("nitrogen trifluoride",)),
    "CF4": GasName("Methane, tetrafluoro-, CFC-14", "000075-73-0", "CF4",
                   ("methane, tetrafluoro-, r-14", "tetrafluoromethane", "perfluoromethane")),
    "C2F6": GasName("Ethane, hexafluoro-, HFC-116", "000076-16-4", "C2F6",
                    ("hexafluoroethane", "perfluoroethane")),
    "HFC-23": GasName("Methane, trifluoro-, HFC-23", "000075-46-7", "CHF3",
                      ("trifluoromethane",)),
    "HFC-32": GasName("Methane, difluoro-, HFC-32", "000075-10-5", "CH2F2",
                      ("difluoromethane",)),
    "HFC-125": GasName("Ethane, pentafluoro-, HFC-125", "000354-33-6", "C2HF5",
                       ("pentafluoroethane",)),
    "HFC-134a": GasName("Ethane, 1,1,1,2-tetrafluoro-, HFC-134a", "000811-97-2", "C2H2F4",
                        ("1,1,1,2-tetrafluoroethane",)),
    "HFC-143a": GasName("Ethane, 1,1,1-trifluoro-, HFC-143a", "000420-46-2", "C2H3F3",
                        ("1,1,1-trifluoroethane",)),
}
# Methane's name does not say which of our two methanes it is; its origin does.
_METHANE = "methane"
_NAMES = sorted({(n.lower(), _METHANE if g.startswith("CH4") else g)
                 for g, gas in GAS_NAMES.items() for n in (gas.name, *gas.synonyms)},
                key=lambda item: -len(item[0]))
_BY_CAS = {gas.cas.lstrip("0"): (_METHANE if g.startswith("CH4") else g)
           for g, gas in GAS_NAMES.items() if gas.cas}
# The words after a gas's name that say where it comes from (ecoinvent's and the EF
# package's), and which of our emission categories each one is.
ORIGINS = {"fossil": "fossil", "non-fossil": "biogenic", "biogenic": "biogenic",
           "in air": "biogenic_removal", "from soil or biomass stock": "dluc",
           "land transformation": "dluc", "land use change": "dluc",
           "land management": "land_management"}
_WORDS = {"biogenic": "biogenic", "biogenic_removal": "in air",
          "dluc": "from soil or biomass stock", "land_management": "land management"}
AIR = "Elementary flows/Emission to air/unspecified"
HIGH_AIR = "Elementary flows/Emission to air/lower stratosphere + upper troposphere"
IN_AIR = "Elementary flows/Resource/in air"


def gas_flow_name(gas: str, category: str) -> str:
    """The elementary flow's name for a gas of one origin. Aircraft emissions are fossil
    ones in the upper air: their compartment says so, not their name."""
    origin = "fossil" if category == "aircraft" else category
    if gas == "CO2":
        words = ["non-fossil" if origin == "biogenic" else _WORDS.get(origin, "fossil")]
    elif gas in ("CH4", "CH4-fossil"):
        marker = "fossil" if gas == "CH4-fossil" else "non-fossil"
        if origin == ("fossil" if gas == "CH4-fossil" else "biogenic"):
            words = [marker]
        elif gas == "CH4" and origin in ("biogenic_removal", "dluc", "land_management"):
            words = [_WORDS[origin]]
        else:
            words = [marker, _WORDS.get(origin, "fossil")]
    else:
        words = [] if origin == "fossil" else [_WORDS[origin]]
    return ", ".join([GAS_NAMES[gas].name, *words])


def gas_compartment(category: str) -> str:
    return {"aircraft": HIGH_AIR, "biogenic_removal": IN_AIR}.get(category, AIR)


@dataclass(frozen=True)
class GasRead:
    gas: str
    category: str
    assumed: str = ""  # what was taken for granted, for a warning


def read_gas(name: str, cas: str | None = None, compartment: str = "") -> GasRead | None:
    """Which of our gases and categories an elementary flow is, or None when it is not a
    greenhouse gas TICHub counts (or its origin is one we cannot tell)."""
    if re.search(r"emissions? to (water|soil)", compartment.lower()):
        return None
    text = re.sub(r"\s*\(([^()]*)\)\s*$", r", \1", name.strip().lower())
    gas: str | None = None
    words: list[str] = []
    for base, g in _NAMES:
        if text == base or text.startswith(base + ","):
            gas = g
            words = [w.strip() for w in text[len(base):].split(",") if w.strip()]
            break
    else:
        gas = _BY_CAS.get((cas or "").strip().lstrip("0"))
        if gas is None:
            return None
    assumed = ""
    marker = ""
    if gas == _METHANE and words and words[0] in ("fossil", "non-fossil", "biogenic"):
        marker = words.pop(0)
        gas = "CH4-fossil" if marker == "fossil" else "CH4"
    if len(words) > 1 or (words and words[0] not in ORIGINS):
        return None
    category = ORIGINS[words[0]] if words else None
    if gas == _METHANE:  # no marker: fossil unless its origin says otherwise
        gas = "CH4-fossil" if category in (None, "fossil") else "CH4"
    if category is None:
        category = ORIGINS[marker] if marker else "fossil"
        if not marker and gas in ("CO2", "CH4-fossil"):
            assumed = f"{name}: origin not stated, counted as fossil"
    if category == "fossil" and "stratosphere" in compartment.lower():
        category = "aircraft"
    return GasRead(gas, category, assumed)


# --- uncertainty -----------------------------------------------------------------------------

def _put_uncertainty(ex: o.Exchange, u: Uncertainty) -> None:
    """openLCA states a distribution in absolute amounts; ours are relative to the amount."""
    amount = ex.amount or 0.0
    if not u.varies or amount == 0:
        return
    lo, hi = sorted((amount * u.low, amount * u.high))
    t = o.UncertaintyType
    if u.kind == "lognormal":
        ex.uncertainty = o.Uncertainty(distribution_type=t.LOG_NORMAL_DISTRIBUTION,
                                       geom_mean=amount, geom_sd=u.gsd)
    elif u.kind == "pedigree":
        ex.uncertainty = o.Uncertainty(
            distribution_type=t.LOG_NORMAL_DISTRIBUTION, geom_mean=amount,
            geom_sd=math.exp(pedigree_sigma(u.pedigree, u.basic)))
        ex.dq_entry = "(" + ";".join(str(s) for s in u.pedigree) + ")"
        ex.base_uncertainty = u.basic
    elif u.kind == "normal":
        ex.uncertainty = o.Uncertainty(distribution_type=t.NORMAL_DISTRIBUTION, mean=amount,
                                       sd=abs(amount) * u.sd)
    elif u.kind == "triangular":
        ex.uncertainty = o.Uncertainty(distribution_type=t.TRIANGLE_DISTRIBUTION,
                                       minimum=lo, mode=amount, maximum=hi)
    elif u.kind == "uniform":
        ex.uncertainty = o.Uncertainty(distribution_type=t.UNIFORM_DISTRIBUTION,
                                       minimum=lo, maximum=hi)


def _read_uncertainty(ex: o.Exchange, amount: float) -> dict[str, Any] | None:
    """Our relative form of an exchange's distribution, or None (fixed) when it has none
    or one we cannot hold."""
    u = ex.uncertainty
    if u is None or not amount:
        return None
    t = o.UncertaintyType
    if u.distribution_type is t.LOG_NORMAL_DISTRIBUTION and u.geom_sd and 1 <= u.geom_sd <= 100:
        scores = re.fullmatch(r"\(([1-5]);([1-5]);([1-5]);([1-5]);([1-5])\)",
                              (ex.dq_entry or "").strip())
        basic = ex.base_uncertainty or 0.0
        if scores and 1 <= basic <= 100:
            pedigree = [int(s) for s in scores.groups()]
            # Ours only if the scores give the very distribution stated.
            if math.isclose(math.exp(pedigree_sigma(tuple(pedigree), basic)), u.geom_sd,
                            rel_tol=1e-9):
                return {"kind": "pedigree", "pedigree": pedigree, "basic": basic}
        return {"kind": "lognormal", "gsd": u.geom_sd}
    if u.distribution_type is t.NORMAL_DISTRIBUTION and u.sd is not None:
        sd = abs(u.sd / amount)
        return {"kind": "normal", "sd": sd} if sd <= 10 else None
    if u.distribution_type in (t.TRIANGLE_DISTRIBUTION, t.UNIFORM_DISTRIBUTION) and \
            u.minimum is not None and u.maximum is not None:
        low, high = sorted((u.minimum / amount, u.maximum / amount))
        if 0 <= low <= 1 + 1e-9 and 1 - 1e-9 <= high <= 100:
            kind = "triangular" if u.distribution_type is t.TRIANGLE_DISTRIBUTION else "uniform"
            return {"kind": kind, "low": min(low, 1.0), "high": max(high, 1.0)}
    return None


# --- export ----------------------------------------------------------------------------------

STAGE_FOLDERS = {"raw_materials": "Raw materials", "production": "Production",
                 "distribution": "Distribution", "use": "Use", "end_of_life": "End of life"}
_FOLDERS: dict[type, str] = {o.UnitGroup: "unit_groups", o.FlowProperty: "flow_properties",
                             o.Flow: "flows", o.Process: "processes",
                             o.ProductSystem: "product_systems"}


@dataclass
class _Product:
    """A product flow and the process that makes it (None: no provider in the package)."""

    flow: o.Ref
    unit: _Unit
    label: str  # its unit as we write it
    process: o.Ref | None


@dataclass
class _Made:
    """What one model's processes reach: its processes, sub-assemblies and factors."""

    processes: list[str] = field(default_factory=list)
    models: set[str] = field(default_factory=set)
    factors: set[str] = field(default_factory=set)


def export_zip(root: str, models: Mapping[str, Mapping[str, Any]],
               factors: Mapping[str, fp.Factor], changed: str = EPOCH) -> bytes:
    """The openLCA package of model ``root``: its sub-assembly models (``models``: model
    key → a stored model's fields, as ``service._snapshot`` gives them) and the emission
    factors they cite (a factor missing from ``factors`` is written as a product without a
    provider). ``changed`` is every data set's last change (ISO 8601)."""
    return _Exporter(models, factors, changed).run(root)


class _Exporter:
    def __init__(self, models: Mapping[str, Mapping[str, Any]],
                 factors: Mapping[str, fp.Factor], changed: str) -> None:
        self.models = models
        self.factors = factors
        self.changed = changed
        self.entities: dict[tuple[str, str], Any] = {}
        self.groups: dict[str, tuple[o.Ref, o.Ref, dict[str, _Unit]]] = {}
        self.units: dict[str, tuple[_Unit, float]] = {}
        self.products: dict[tuple[str, str], _Product] = {}
        self.factor_products: dict[str, _Product] = {}
        self.made: dict[str, _Made] = {}
        self.processes: dict[str, o.Process] = {}

    def run(self, root: str) -> bytes:
        order = self._reached(root)
        parsed = {mk: self._processes(mk) for mk in order}
        for mk in order:
            self._products(mk, parsed[mk])
        for mk in order:
            self._model_processes(mk, parsed[mk])
        for mk in order:
            self._system(mk)
        self._unit_groups()
        return _zip(self.entities)

    # what to write
    def _reached(self, root: str) -> list[str]:
        order: list[str] = []
        todo = [root]
        while todo:
            key = todo.pop()
            if key in order:
                continue
            if key not in self.models:
                raise OlcaError(f"model {key}", "no such product model")
            order.append(key)
            todo += sorted({i.get("model") for p in self.models[key].get("processes") or []
                            for i in p.get("inputs", []) if i.get("model")} - set(order))
        return order

    def _processes(self, mk: str) -> list[ProcessIn]:
        m = self.models[mk]
        try:
            procs = [ProcessIn.model_validate(p) for p in m.get("processes") or []]
        except ValidationError as exc:
            raise OlcaError(f"model {m['name']}", str(exc)) from None
        if not procs:
            raise OlcaError(f"model {m['name']}", "has no processes to export")
        return procs

    def _reference(self, mk: str, procs: list[ProcessIn]) -> str:
        ref = self.models[mk].get("reference") or procs[-1].key
        if ref not in {p.key for p in procs}:
            raise OlcaError(f"model {self.models[mk]['name']}", f"no process {ref!r}")
        return str(ref)

    def _add(self, entity: Any) -> None:
        entity.version = entity.version or "01.00.000"
        entity.last_change = self.changed
        self.entities[(_FOLDERS[type(entity)], entity.id)] = entity

    def _unit(self, unit: str, where: str) -> tuple[_Unit, float]:
        if unit not in self.units:
            self.units[unit] = olca_unit(unit, where)
        u, k = self.units[unit]
        group_name = u.group.name or ""
        _, _, used = self.groups.setdefault(u.group.id or "", (u.group, u.prop, {}))
        used[u.name] = u
        reference = GROUP_REFERENCE.get(group_name)
        if reference:
            used[reference] = _reference_unit(reference)
        return u, k

    def _unit_of(self, unit: str, product: _Product, where: str) -> tuple[_Unit, float]:
        """A unit for an amount of ``product``: one of its unit group's."""
        u, k = self._unit(unit, where)
        if u.group.id != product.unit.group.id:
            raise OlcaError(where, f"{unit} cannot be converted to {product.label}")
        return u, k

    def _flow(self, fid: str, name: str, kind: o.FlowType, u: _Unit, category: str,
              **extra: Any) -> o.Ref:
        flow = o.Flow(id=fid, name=name, flow_type=kind, category=category, flow_properties=[
            o.FlowPropertyFactor(conversion_factor=1.0, flow_property=u.prop,
                                 is_ref_flow_property=True)], **extra)
        self._add(flow)
        return flow.to_ref()

    # products, processes and systems
    def _products(self, mk: str, procs: list[ProcessIn]) -> None:
        m = self.models[mk]
        ref = self._reference(mk, procs)
        for p in procs:
            u, _ = self._unit(p.output_unit, f"{m['name']} / process {p.name}")
            name = (m.get("product") or m["name"]) if p.key == ref else p.name
            flow = self._flow(uid("product", mk, p.key), name, o.FlowType.PRODUCT_FLOW, u,
                              _path("TICHub", m["name"]))
            self.products[(mk, p.key)] = _Product(flow, u, p.output_unit, o.Ref(
                ref_type=o.RefType.Process, id=uid("process", mk, p.key), name=p.name))

    def _factor_product(self, key: str, unit: str, where: str) -> _Product:
        if key in self.factor_products:
            return self.factor_products[key]
        f = self.factors.get(key)
        label = f.unit if f else unit
        u, k = self._unit(label, f"factor {key}")
        flow = self._flow(uid("factor", key), key, o.FlowType.PRODUCT_FLOW, u,
                          "TICHub/Emission factors", description=f.name if f else None)
        product = _Product(flow, u, label, None)
        if f is not None:
            process = o.Process(
                id=uid("factor-process", key), name=f.name or key, category=_path(
                    "TICHub", "Emission factors"), process_type=o.ProcessType.LCI_RESULT,
                version=f"{f.version:02d}.00.000", exchanges=[],
                description=f"TICHub emission factor {f.label}: kg of each gas per {f.unit}"
                            + (f"; CO2e on the {f.basis} basis" if f.basis else ""))
            out = o.Exchange(flow=flow, unit=u.ref, flow_property=u.prop, amount=k,
                             is_input=False, is_quantitative_reference=True)
            exchanges = [out]
            for g in f.gases:
                exchanges.append(self._gas(g.gas, g.category, g.amount, "kg",
                                           f"factor {f.label}"))
                _put_uncertainty(exchanges[-1], f.uncertainty)
            _number(process, exchanges)
            self._add(process)
            self.processes[process.id] = process
            product.process = process.to_ref()
        self.factor_products[key] = product
        return product

    def _gas(self, gas: str, category: str, amount: float, unit: str, where: str
             ) -> o.Exchange:
        if gas not in GAS_NAMES:
            raise OlcaError(where, f"unknown greenhouse gas {gas!r}")
        if category not in fp.CATEGORIES:
            raise OlcaError(where, f"unknown emission category {category!r}")
        u, k = self._unit(unit, where)
        if u.group.name != "Units of mass":
            raise OlcaError(where, f"a direct emission is a mass, not {unit}")
        fid = uid("gas", gas, category)
        if ("flows", fid) not in self.entities:
            info = GAS_NAMES[gas]
            self._flow(fid, gas_flow_name(gas, category), o.FlowType.ELEMENTARY_FLOW,
                       _reference_unit("kg"), gas_compartment(category),
                       cas=info.cas or None, formula=info.formula or None)
        flow = self.entities[("flows", fid)].to_ref()
        removal = category == "biogenic_removal"  # taken from the air: an input
        return o.Exchange(flow=flow, unit=u.ref, flow_property=u.prop,
                          amount=-amount * k if removal else amount * k, is_input=removal)

    def _model_processes(self, mk: str, procs: list[ProcessIn]) -> None:
        m = self.models[mk]
        made = self.made.setdefault(mk, _Made())
        for p in procs:
            where = f"{m['name']} / process {p.name}"
            main = self.products[(mk, p.key)]
            u, k = self._unit(p.output_unit, where)
            out = o.Exchange(flow=main.flow, unit=u.ref, flow_property=u.prop,
                             amount=p.output_amount * k, is_input=False,
                             is_quantitative_reference=True)
            exchanges = [out]
            shares: list[tuple[o.Ref, float]] = []
            expand = p.allocation == "system_expansion"
            if p.coproducts and not expand:
                shares = _shares(p, where)
                if p.allocation == "economic":
                    out.cost_value = p.output_price * p.output_amount
                shares[0] = (main.flow, shares[0][1])
            for j, c in enumerate(p.coproducts):
                at = f"{where}, co-product {c.name}"
                if expand:
                    if not c.displaces:
                        raise OlcaError(at, "system expansion needs what the co-product "
                                        "displaces")
                    made.factors.add(c.displaces)
                    prod = self._factor_product(c.displaces, c.unit, at)
                    cu, ck = self._unit_of(c.unit, prod, at)
                    exchanges.append(o.Exchange(
                        flow=prod.flow, unit=cu.ref, flow_property=cu.prop,
                        amount=c.amount * ck, is_input=False, is_avoided_product=True,
                        default_provider=prod.process, description=c.name))
                    continue
                cu, ck = self._unit(c.unit, at)
                flow = self._flow(uid("coproduct", mk, p.key, str(j)), c.name,
                                  o.FlowType.PRODUCT_FLOW, cu, _path("TICHub", m["name"]))
                ex = o.Exchange(flow=flow, unit=cu.ref, flow_property=cu.prop,
                                amount=c.amount * ck, is_input=False)
                if p.allocation == "economic":
                    ex.cost_value = c.price * c.amount
                exchanges.append(ex)
                shares[j + 1] = (flow, shares[j + 1][1])
            for i in p.inputs:
                at = f"{where}, input {i.name}"
                if i.gas:
                    ex = self._gas(i.gas, i.category, i.amount, i.unit, at)
                else:
                    prod = self._supplier(mk, i.factor, i.process, i.model, i.unit, made, at)
                    iu, ik = self._unit_of(i.unit, prod, at)
                    ex = o.Exchange(flow=prod.flow, unit=iu.ref, flow_property=iu.prop,
                                    amount=i.amount * ik, is_input=True,
                                    default_provider=prod.process)
                ex.description = i.name + (f": {i.note}" if i.note else "")
                _put_uncertainty(ex, i.uncertainty.core())
                exchanges.append(ex)
            process = o.Process(
                id=uid("process", mk, p.key), name=p.name, exchanges=[],
                process_type=o.ProcessType.UNIT_PROCESS,
                category=_path("TICHub", m["name"], STAGE_FOLDERS[p.stage]))
            if shares:
                kind = (o.AllocationType.ECONOMIC_ALLOCATION if p.allocation == "economic"
                        else o.AllocationType.PHYSICAL_ALLOCATION)
                process.default_allocation_method = kind
                process.allocation_factors = [o.AllocationFactor(
                    allocation_type=kind, product=flow, value=share) for flow, share in shares]
            _number(process, exchanges)
            self._add(process)
            self.processes[process.id] = process
            made.processes.append(process.id)

    def _supplier(self, mk: str, factor: str | None, process: str | None, model: str | None,
                  unit: str, made: _Made, where: str) -> _Product:
        if factor:
            made.factors.add(factor)
            return self._factor_product(factor, unit, where)
        if process:
            if (mk, process) not in self.products:
                raise OlcaError(where, f"no process {process!r} in the model")
            return self.products[(mk, process)]
        sub = model or ""
        made.models.add(sub)
        ref = self._reference(sub, self._processes(sub))
        return self.products[(sub, ref)]

    def _system(self, mk: str) -> None:
        m = self.models[mk]
        procs = self._processes(mk)
        main = self.products[(mk, self._reference(mk, procs))]
        u, k = self._unit_of(str(m.get("declared_unit") or "piece"), main, "declared_unit")
        members: list[str] = []
        todo = [mk]
        seen: set[str] = set()
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            made = self.made[key]
            members += made.processes
            members += [f.process.id or "" for f in (self.factor_products[x]
                        for x in sorted(made.factors)) if f.process is not None]
            todo += sorted(made.models)
        members = sorted(set(members))
        links = []
        for pid in members:
            process = self.processes[pid]
            for ex in process.exchanges or []:
                if ex.default_provider is not None:
                    links.append(o.ProcessLink(
                        provider=ex.default_provider, flow=ex.flow, process=process.to_ref(),
                        exchange=o.ExchangeRef(internal_id=ex.internal_id)))
        refs = [self.processes[pid].to_ref() for pid in members]
        self._add(o.ProductSystem(
            id=uid("system", mk), name=m["name"], category="TICHub",
            description=m.get("description") or m.get("functional_unit") or None,
            ref_process=main.process, ref_exchange=o.ExchangeRef(internal_id=1),
            target_amount=float(m.get("declared_amount") or 1.0) * k, target_unit=u.ref,
            target_flow_property=u.prop, processes=refs, process_links=links,
            tags=[f"GWP100 {m.get('basis') or 'AR6'}"]))

    def _unit_groups(self) -> None:
        for gid, (group, prop, used) in self.groups.items():
            reference = GROUP_REFERENCE.get(group.name or "", "")
            listed = sorted(used.values(), key=lambda x: (x.name != reference, x.name))
            self._add(o.UnitGroup(
                id=gid, name=group.name, category="Technical unit groups",
                default_flow_property=prop, units=[o.Unit(
                    id=x.ref.id, name=x.name, is_ref_unit=x.name == reference,
                    conversion_factor=units.factor(x.ours, OLCA_UNITS[reference])
                    if reference else 1.0) for x in listed]))
            self._add(o.FlowProperty(id=prop.id, name=prop.name, unit_group=group,
                                     category="Technical flow properties",
                                     flow_property_type=o.FlowPropertyType.PHYSICAL_QUANTITY))


def _shares(p: ProcessIn, where: str) -> list[tuple[o.Ref, float]]:
    """The main product's and each co-product's share under the process's allocation
    (flows are filled in by the caller)."""
    if p.allocation == "physical":
        amounts = [p.output_mass_kg, *(c.mass_kg for c in p.coproducts)]
        what = "mass"
    else:
        amounts = [p.output_price * p.output_amount, *(c.price * c.amount for c in p.coproducts)]
        what = "price"
    if amounts[0] <= 0:
        raise OlcaError(where, f"{p.allocation} allocation needs the {what} of the product "
                        "and of every co-product")
    total = sum(amounts)
    return [(o.Ref(), a / total) for a in amounts]


def _number(process: o.Process, exchanges: list[o.Exchange]) -> None:
    for n, ex in enumerate(exchanges, start=1):
        ex.internal_id = n
    process.exchanges = exchanges
    process.last_internal_id = len(exchanges)


def _path(*parts: str) -> str:
    """An openLCA category path; a slash inside a name would open a folder."""
    return "/".join(part.replace("/", "-").strip() for part in parts)


def _zip(entities: Mapping[tuple[str, str], Any]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        _put(zf, "olca-schema.json", SCHEMA_VERSION)
        for (folder, eid), entity in sorted(entities.items()):
            _put(zf, f"{folder}/{eid}.json", entity.to_json())
    return buf.getvalue()


def _put(zf: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # the same bytes each time
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, text.encode("utf-8"))


# --- import ----------------------------------------------------------------------------------

@dataclass
class NeededFactor:
    """An emission factor the imported models cite: the product of an input whose provider
    the package does not hold, or holds only as an LCI result."""

    key: str
    name: str  # the product flow's name in the package
    unit: str
    in_zip: bool = False  # the package carries the provider's emissions
    gases: list[dict[str, Any]] = field(default_factory=list)  # kg per unit, when in_zip


@dataclass
class ImportedModel:
    """A model read from the package: ``data`` takes ModelIn's fields but ``org_id``; an
    input from a sub-assembly names, in ``model``, the ``ref`` of another ImportedModel."""

    ref: str
    data: dict[str, Any]


@dataclass
class Imported:
    models: list[ImportedModel]  # suppliers first: each one's sub-assemblies come before it
    factors: list[NeededFactor]
    warnings: list[str]


@dataclass(frozen=True)
class _ZipUnit:
    name: str
    factor: float  # to the reference unit of its group
    reference: str  # the group's reference unit


@dataclass
class _Package:
    processes: dict[str, o.Process] = field(default_factory=dict)
    flows: dict[str, o.Flow] = field(default_factory=dict)
    systems: dict[str, o.ProductSystem] = field(default_factory=dict)
    units: dict[str, _ZipUnit] = field(default_factory=dict)


_READ: dict[str, Any] = {"processes": o.Process, "flows": o.Flow,
                         "product_systems": o.ProductSystem, "unit_groups": o.UnitGroup}


def _read_package(data: bytes) -> _Package:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise OlcaError("file", "is not a zip archive") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_UNPACKED:
            raise OlcaError("file", f"unpacks to more than {MAX_MEMBERS} files or "
                            f"{MAX_UNPACKED // 1024 // 1024} MiB")
        pkg = _Package()
        if "olca-schema.json" in zf.namelist():
            try:
                version = json.loads(zf.read("olca-schema.json")).get("version")
            except (ValueError, AttributeError, zipfile.BadZipFile, OSError, EOFError):
                version = None
            if version != 2:
                raise OlcaError("file", f"is olca-schema version {version}; TICHub reads "
                                "version 2 (openLCA 2)")
        for info in infos:
            parts = info.filename.split("/")
            if len(parts) < 2 or not parts[-1].endswith(".json") or parts[-2] not in _READ:
                continue
            try:
                raw = json.loads(zf.read(info).decode("utf-8"))
                if not isinstance(raw, dict):
                    raise TypeError("not an object")
                _version_one(raw)
                entity = _READ[parts[-2]].from_dict(raw)
            except OlcaError:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError, ValueError,
                    TypeError, AttributeError, KeyError):
                raise OlcaError(f"file {info.filename}", "is not an openLCA data set "
                                "that can be read") from None
            entity.id = entity.id if isinstance(entity.id, str) and entity.id else parts[-1][:-5]
            if isinstance(entity, o.UnitGroup):
                _group_units(entity, pkg.units)
            else:
                getattr(pkg, {"processes": "processes", "flows": "flows",
                              "product_systems": "systems"}[parts[-2]])[entity.id] = entity
    return pkg


def _version_one(raw: dict[str, Any]) -> None:
    """openLCA 1 named an exchange's direction "input", not "isInput": read as version 2,
    every input would pass for an output."""
    if any(isinstance(e, dict) and "input" in e and "isInput" not in e
           for e in raw.get("exchanges") or []):
        raise OlcaError("file", "is an openLCA 1 package; export it from openLCA 2")


def _group_units(group: o.UnitGroup, out: dict[str, _ZipUnit]) -> None:
    listed = [u for u in group.units or [] if u.id and u.name]
    ref = next((u for u in listed if u.is_ref_unit), None) or next(
        (u for u in listed if u.conversion_factor == 1.0), None)
    if ref is None:
        return
    for u in listed:
        if u.conversion_factor and u.conversion_factor > 0:
            out[u.id or ""] = _ZipUnit(u.name or "", float(u.conversion_factor),
                                       ref.name or "")


_STAGE_WORDS = {
    "raw materials": "raw_materials", "raw material": "raw_materials",
    "raw material acquisition": "raw_materials", "materials": "raw_materials",
    "a1": "raw_materials", "a2": "raw_materials",
    "production": "production", "manufacturing": "production", "manufacture": "production",
    "a3": "production", "distribution": "distribution", "transport": "distribution",
    "a4": "distribution", "a5": "distribution", "use": "use", "use phase": "use",
    "end of life": "end_of_life", "disposal": "end_of_life", "waste treatment": "end_of_life",
    **{f"b{n}": "use" for n in range(1, 8)}, **{f"c{n}": "end_of_life" for n in range(1, 5)},
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
FACTOR_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


def _text(value: str | None, limit: int) -> str:
    return " ".join(_CONTROL.sub("", value or "").split())[:limit]


def _slug(name: str, limit: int) -> str:
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9._]+", "-", ascii_.lower())[:limit].strip("-._")


def stage_of(category: str | None) -> str | None:
    """The life-cycle stage a category path names (its deepest folder that names one)."""
    for part in reversed((category or "").split("/")):
        word = " ".join(part.lower().replace("_", " ").replace("-", " ").split())
        if word in _STAGE_WORDS:
            return _STAGE_WORDS[word]
    return None


def import_zip(data: bytes) -> Imported:
    """Product models from an openLCA JSON-LD package: one per product system (each
    sub-assembly a model of its own), or, with none, one holding every unit process."""
    return _Importer(_read_package(data)).run()


class _Importer:
    def __init__(self, pkg: _Package) -> None:
        self.pkg = pkg
        self.warnings: list[str] = []
        self.unit_procs = {pid: p for pid, p in pkg.processes.items()
                           if p.process_type is not o.ProcessType.LCI_RESULT}
        self.refs: dict[str, o.Exchange] = {}
        self.factor_keys: dict[str, str] = {}
        self.needed: dict[str, NeededFactor] = {}
        self.links: dict[tuple[str, int | None], str] = {}
        self.makers: dict[str, list[str]] = {}
        self.reached: set[str] = set()

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def run(self) -> Imported:
        if not self.unit_procs:
            raise OlcaError("processes", "the file holds no unit process (LCI results are "
                            "read only as the emission factors of inputs)")
        for pid, p in sorted(self.pkg.processes.items()):
            self.refs[pid] = self._reference(p)
            self.makers.setdefault(self.refs[pid].flow.id or "", []).append(pid)
        for s in self.pkg.systems.values():
            for link in s.process_links or []:
                if link.process and link.provider and link.provider.id:
                    internal = link.exchange.internal_id if link.exchange else None
                    self.links[(link.process.id or "", internal)] = link.provider.id
        systems = self._systems()
        if systems:
            owners = {}
            for s in systems:
                ref = s.ref_process.id if s.ref_process else ""
                if ref in owners:
                    self.warn(f"product system {s.name}: its reference process is another "
                              "system's too; left out")
                    continue
                owners[ref or ""] = s
            models = {s.id or "": self._model(s, owners) for s in owners.values()}
            graph = {key: {i["model"] for p in m.data["processes"] for i in p["inputs"]
                           if i.get("model")} for key, m in models.items()}
            try:
                order = list(TopologicalSorter(graph).static_order())
            except CycleError:
                raise OlcaError("product_systems", "the product systems contain one "
                                "another") from None
            result = [models[k] for k in order]
            unused = sorted(p.name or pid for pid, p in self.unit_procs.items()
                            if pid not in self.reached)
            if unused:
                self.warn(f"left out {len(unused)} process(es) no product system reaches: "
                          + ", ".join(unused[:3]) + (", …" if len(unused) > 3 else ""))
        else:
            result = [self._single()]
        return Imported(result, [self.needed[k] for k in sorted(self.needed)], self.warnings)

    def _systems(self) -> list[o.ProductSystem]:
        found = []
        for s in sorted(self.pkg.systems.values(), key=lambda x: (x.name or "", x.id or "")):
            if s.ref_process is None or s.ref_process.id not in self.unit_procs:
                self.warn(f"product system {s.name}: its reference process is not a unit "
                          "process of the file; left out")
            else:
                found.append(s)
        return found

    def _reference(self, p: o.Process) -> o.Exchange:
        where = f"processes/{p.name}"
        refs = [ex for ex in p.exchanges or [] if ex.is_quantitative_reference]
        if len(refs) != 1 or refs[0].flow is None:
            raise OlcaError(where, "has no quantitative reference" if not refs else
                            "has more than one quantitative reference")
        q = refs[0]
        if self._flow_type(q) is o.FlowType.ELEMENTARY_FLOW:
            raise OlcaError(where, "its quantitative reference is an elementary flow")
        return q

    def _flow_type(self, ex: o.Exchange) -> o.FlowType | None:
        flow = self.pkg.flows.get(ex.flow.id or "") if ex.flow else None
        if flow is not None and flow.flow_type is not None:
            return flow.flow_type
        return ex.flow.flow_type if ex.flow else None

    def _flow_name(self, ex: o.Exchange) -> str:
        flow = self.pkg.flows.get(ex.flow.id or "") if ex.flow else None
        return _text((flow.name if flow else None) or (ex.flow.name if ex.flow else None)
                     or (ex.flow.id if ex.flow else None) or "flow", 200) or "flow"

    def _unit(self, ref: o.Ref | None, where: str) -> tuple[str, float]:
        """Our unit for an exchange's and the number its amount is multiplied by."""
        if ref is None or not (ref.id or ref.name):
            raise OlcaError(where, "has no unit")
        known = self.pkg.units.get(ref.id or "")
        name = _NAME_BY_ID.get(ref.id or "") or (known.name if known else "") or ref.name or ""
        name = OLCA_ALIASES.get(name, name)
        reference = OLCA_ALIASES.get(known.reference, known.reference) if known else ""
        ours_ref = OLCA_UNITS.get(reference)
        if name in OLCA_UNITS:
            ours = OLCA_UNITS[name]
            # The file's own definition of the unit wins over our reading of its name.
            if known and ours_ref and not math.isclose(_factor(ours, ours_ref) or math.nan,
                                                       known.factor, rel_tol=1e-6):
                return ours_ref, known.factor
            return ours, 1.0
        if known and ours_ref:
            return ours_ref, known.factor
        raise OlcaError(where, f"unit {name or ref.id!r} cannot be mapped onto a unit "
                        "TICHub knows")

    def _amount(self, ex: o.Exchange, where: str) -> float:
        if isinstance(ex.amount, bool) or not isinstance(ex.amount, int | float) or \
                not math.isfinite(ex.amount):
            raise OlcaError(where, "has no amount" + (" (only a formula, which TICHub "
                            "does not evaluate)" if ex.amount_formula else ""))
        return float(ex.amount)

    def _provider(self, p: o.Process, ex: o.Exchange) -> str | None:
        """The process that supplies an input: the product system's link, the exchange's
        default provider, or the one process of the file making that flow."""
        flow = ex.flow.id if ex.flow else None
        for candidate in (self.links.get((p.id or "", ex.internal_id)),
                          ex.default_provider.id if ex.default_provider else None):
            if candidate in self.pkg.processes:
                if self.refs[candidate].flow.id == flow:
                    return candidate
                self.warn(f"process {p.name}: the provider of {self._flow_name(ex)} makes it "
                          "as a co-product, which TICHub cannot link; read as a factor")
                return None
        makers = self.makers.get(flow or "", [])
        if len(makers) > 1:
            self.warn(f"process {p.name}: several processes make {self._flow_name(ex)} and "
                      "none is named its provider; read as a factor")
        return makers[0] if len(makers) == 1 else None

    def _factor_key(self, ex: o.Exchange) -> str:
        fid = ex.flow.id if ex.flow and ex.flow.id else ""
        if fid in self.factor_keys:
            return self.factor_keys[fid]
        name = self._flow_name(ex)
        key = name if len(name) <= 120 and FACTOR_KEY.match(name) else _slug(name, 110)
        key = key if key and key[0].isalnum() else f"olca:{_slug(fid, 100)}"
        taken = set(self.factor_keys.values())
        base, n = key, 2
        while key in taken:
            key, n = f"{base[:110]}-{n}", n + 1
        self.factor_keys[fid] = key
        return key

    def _need(self, key: str, ex: o.Exchange, unit: str, provider: str | None) -> None:
        if key in self.needed:
            return
        need = NeededFactor(key, self._flow_name(ex), unit)
        lci = self.pkg.processes.get(provider or "")
        if lci is not None:
            q = self.refs[provider or ""]
            where = f"processes/{lci.name}"
            need.unit, k = self._unit(q.unit, f"{where}/exchanges/{q.internal_id}/unit")
            per = self._amount(q, where) * k
            if per <= 0:
                raise OlcaError(where, "its quantitative reference amount must be positive")
            need.in_zip = True
            for e in lci.exchanges or []:
                gas = self._gas(lci, e) if e is not q and e.flow is not None else None
                if gas is not None:
                    need.gases.append({"gas": gas["gas"], "category": gas["category"],
                                       "amount": units.factor(gas["unit"], "kg")
                                       * gas["amount"] / per})
        self.needed[key] = need

    def _gas(self, p: o.Process, ex: o.Exchange) -> dict[str, Any] | None:
        if self._flow_type(ex) is not o.FlowType.ELEMENTARY_FLOW:
            return None
        flow = self.pkg.flows.get(ex.flow.id or "") if ex.flow else None
        name = self._flow_name(ex)
        read = read_gas(name, flow.cas if flow else None,
                        (flow.category if flow and isinstance(flow.category, str) else "")
                        or (ex.flow.category if ex.flow and isinstance(ex.flow.category, str)
                            else ""))
        if read is None:
            return None
        if read.assumed:
            self.warn(f"process {p.name}: {read.assumed}")
        where = f"processes/{p.name}/exchanges/{ex.internal_id}"
        unit, k = self._unit(ex.unit, f"{where}/unit")
        if _factor(unit, "kg") is None:
            raise OlcaError(f"{where}/unit", f"a greenhouse gas is measured by mass, not {unit}")
        amount = self._amount(ex, where) * k
        return {"name": name, "amount": -amount if ex.is_input else amount, "unit": unit,
                "kind": "emission", "gas": read.gas, "category": read.category}

    def _single(self) -> ImportedModel:
        """Every unit process in one model, its reference the one no other one uses."""
        used = set()
        for pid, p in self.unit_procs.items():
            for ex in p.exchanges or []:
                if ex is not self.refs[pid] and self._consumes(ex):
                    used.add(self._provider(p, ex))
        tops = sorted((p.name or "", pid) for pid, p in self.unit_procs.items()
                      if pid not in used)
        if not tops:  # each one feeds another: a loop; the first by name
            tops = sorted((p.name or "", pid) for pid, p in self.unit_procs.items())
        if len(tops) > 1:
            self.warn(f"processes {', '.join(n for n, _ in tops[1:])} supply no other "
                      f"process; {tops[0][0]} is taken as the model's reference")
        ref = tops[0][1]
        q = self.refs[ref]
        unit, k = self._unit(q.unit, f"processes/{self.unit_procs[ref].name}/unit")
        others = sorted((pid for pid in self.unit_procs if pid != ref),
                        key=lambda pid: (self.unit_procs[pid].name or "", pid))
        everyone = [ref, *others]
        processes = self._build(everyone, {})
        return ImportedModel(ref, self._model_data(
            self.unit_procs[ref].name, None, self._amount(q, "reference") * k, unit, processes,
            processes[0]["key"], "AR6"))

    def _model(self, s: o.ProductSystem, owners: dict[str, o.ProductSystem]) -> ImportedModel:
        ref = s.ref_process.id if s.ref_process else ""
        others = {pid: other.id or "" for pid, other in owners.items() if other is not s}
        processes = self._build([ref or ""], others)
        q = self.refs[ref or ""]
        where = f"product_systems/{s.name}"
        if s.target_unit is not None and s.target_amount:
            unit, k = self._unit(s.target_unit, f"{where}/targetUnit")
            amount = float(s.target_amount) * k
        else:
            unit, k = self._unit(q.unit, f"{where}/unit")
            amount = self._amount(q, where) * k
        basis = next((f"AR{m.group(1)}" for tag in s.tags or []
                      if (m := re.search(r"\bAR([56])\b", str(tag)))), "AR6")
        return ImportedModel(s.id or "", self._model_data(
            s.name or self.unit_procs[ref or ""].name, s.description, amount, unit, processes,
            processes[0]["key"], basis))

    def _model_data(self, name: str | None, description: str | None, amount: float, unit: str,
                    processes: list[dict[str, Any]], reference: str, basis: str
                    ) -> dict[str, Any]:
        if amount <= 0:
            raise OlcaError("declared_amount", "the declared amount must be positive")
        grave = any(p["stage"] in ("use", "end_of_life") for p in processes)
        return {"name": _text(name, 200) or "openLCA model", "declared_amount": amount,
                "declared_unit": unit, "description": _text(description, 5000),
                "boundary": "cradle_to_grave" if grave else "cradle_to_gate", "basis": basis,
                "reference": reference, "processes": processes}

    def _consumes(self, ex: o.Exchange) -> bool:
        """A product taken in, or a waste given out for treatment: what a process uses."""
        kind = self._flow_type(ex)
        if kind is o.FlowType.ELEMENTARY_FLOW or ex.is_avoided_product:
            return False
        return bool(ex.is_input) != (kind is o.FlowType.WASTE_FLOW)

    def _build(self, start: list[str], stop: dict[str, str]) -> list[dict[str, Any]]:
        """The processes reached from ``start`` (all of ``start``), each with a key; an
        input from a process in ``stop`` is a sub-assembly (the value: its model's ref)."""
        keys: dict[str, str] = {}

        def key_of(pid: str) -> str:
            if pid not in keys:
                base = _slug(self.pkg.processes[pid].name or "", 36) or "p"
                base = base if base[0].isalnum() else f"p{base}"
                key, n = base, 2
                while key in keys.values():
                    key, n = f"{base}-{n}", n + 1
                keys[pid] = key
            return keys[pid]

        order = list(start)
        for pid in order:
            key_of(pid)
        out = []
        for pid in order:  # grows as suppliers are found
            data, suppliers = self._process(pid, key_of, stop)
            out.append(data)
            order += [s for s in dict.fromkeys(suppliers) if s not in order]
        self.reached.update(order)
        return out

    def _process(self, pid: str, key_of: Any, stop: dict[str, str]
                 ) -> tuple[dict[str, Any], list[str]]:
        p = self.pkg.processes[pid]
        name = _text(p.name, 200) or f"process {pid[:8]}"
        where = f"processes/{p.name}"
        q = self.refs[pid]
        out_unit, k = self._unit(q.unit, f"{where}/exchanges/{q.internal_id}/unit")
        output = self._amount(q, where) * k
        if output <= 0:
            raise OlcaError(where, "its quantitative reference amount must be positive")
        stage = stage_of(p.category if isinstance(p.category, str) else None)
        if stage is None:
            stage = "production"
            self.warn(f"process {name}: no life-cycle stage in its category "
                      f"({p.category or 'none'}); taken as production")
        inputs: list[dict[str, Any]] = []
        products: list[tuple[o.Exchange, str, float]] = []  # co-products: unit, amount
        avoided: list[o.Exchange] = []
        suppliers: list[str] = []
        skipped: list[str] = []
        for ex in sorted(p.exchanges or [], key=lambda e: e.internal_id or 0):
            if ex is q:
                continue
            if ex.flow is None or not ex.flow.id:
                skipped.append(f"exchange {ex.internal_id} (no flow)")
                continue
            at = f"{where}/exchanges/{ex.internal_id}"
            kind = self._flow_type(ex)
            if kind is o.FlowType.ELEMENTARY_FLOW:
                gas = self._gas(p, ex)
                if gas is None:
                    skipped.append(self._flow_name(ex))
                    continue
                gas.update(_extras(ex, self._amount(ex, at)))
                inputs.append(gas)
            elif ex.is_avoided_product:
                avoided.append(ex)
            elif self._consumes(ex):
                inputs.append(self._input(p, ex, 1.0, key_of, stop, suppliers, at))
            elif not ex.is_input:
                unit, ck = self._unit(ex.unit, f"{at}/unit")
                products.append((ex, unit, self._amount(ex, at) * ck))
            else:
                skipped.append(self._flow_name(ex))
        if skipped:
            shown = ", ".join(skipped[:3]) + (", …" if len(skipped) > 3 else "")
            self.warn(f"process {name}: left out {len(skipped)} exchange(s) TICHub does not "
                      f"count (elementary flows other than greenhouse gases, waste taken "
                      f"in): {shown}")
        data: dict[str, Any] = {"key": key_of(pid), "name": name, "stage": stage,
                                "output_amount": output, "output_unit": out_unit,
                                "inputs": inputs, "coproducts": []}
        if products:
            # openLCA subtracts an avoided product beside co-products: a negative input.
            for ex in avoided:
                inputs.append(self._input(p, ex, -1.0, key_of, stop, suppliers,
                                          f"{where}/exchanges/{ex.internal_id}"))
            self._allocate(p, data, q, products)
        elif avoided:
            data["allocation"] = "system_expansion"
            for ex in avoided:
                at = f"{where}/exchanges/{ex.internal_id}"
                unit, ck = self._unit(ex.unit, f"{at}/unit")
                key = self._factor_key(ex)
                self._need(key, ex, unit, self._lci(self._provider(p, ex)))
                data["coproducts"].append({"name": self._flow_name(ex), "unit": unit,
                                           "amount": self._amount(ex, at) * ck,
                                           "displaces": key})
        return data, suppliers

    def _lci(self, provider: str | None) -> str | None:
        """The provider if the file holds it as an LCI result (a factor's emissions)."""
        p = self.pkg.processes.get(provider or "")
        return provider if p is not None and provider not in self.unit_procs else None

    def _input(self, p: o.Process, ex: o.Exchange, sign: float, key_of: Any,
               stop: dict[str, str], suppliers: list[str], at: str) -> dict[str, Any]:
        unit, k = self._unit(ex.unit, f"{at}/unit")
        amount = sign * self._amount(ex, at) * k
        provider = self._provider(p, ex)
        item: dict[str, Any] = {"name": self._flow_name(ex), "amount": amount, "unit": unit,
                                "kind": _kind(unit, self._flow_type(ex))}
        if provider in stop:
            item["model"] = stop[provider or ""]
        elif provider in self.unit_procs:
            item["process"] = key_of(provider)
            suppliers.append(provider or "")
        else:
            item["factor"] = self._factor_key(ex)
            self._need(item["factor"], ex, unit, self._lci(provider))
        item.update(_extras(ex, self._amount(ex, at)))
        return item

    def _allocate(self, p: o.Process, data: dict[str, Any], q: o.Exchange,
                  products: list[tuple[o.Exchange, str, float]]) -> None:
        """Co-products with the shares openLCA's allocation factors give them, as masses
        (physical) or prices (economic) that give the same shares."""
        method = p.default_allocation_method
        economic = method is o.AllocationType.ECONOMIC_ALLOCATION
        kind = o.AllocationType.ECONOMIC_ALLOCATION if economic else \
            o.AllocationType.PHYSICAL_ALLOCATION
        factors = {f.product.id: float(f.value) for f in p.allocation_factors or []
                   if f.allocation_type is kind and f.product and f.value is not None}
        every = [(q, data["output_unit"], data["output_amount"]), *products]
        shares = [factors.get(ex.flow.id if ex.flow else None) for ex, _, _ in every]
        name = data["name"]
        if economic and all(ex.cost_value is not None for ex, _, _ in every):
            values = [float(ex.cost_value or 0.0) for ex, _, _ in every]
        elif all(s is not None for s in shares):
            values = [float(s or 0.0) for s in shares]
        elif not economic and all(_factor(u, "kg") for _, u, _ in every):
            self.warn(f"process {name}: no allocation factors; allocated by mass")
            values = [a * (_factor(u, "kg") or 0.0) for _, u, a in every]
        else:
            self.warn(f"process {name}: no allocation factors; the main product carries "
                      "all of the burdens")
            values = [1.0] + [0.0] * len(products)
        if values[0] <= 0 or any(v < 0 for v in values):
            raise OlcaError(f"processes/{p.name}", "its allocation gives the main product no "
                            "share, or a co-product a negative one")
        data["allocation"] = "economic" if economic else "physical"
        if economic:  # prices per unit that give these values
            data["output_price"] = values[0] / data["output_amount"]
            prices = [v / a if a else 0.0 for v, (_, _, a) in zip(values[1:], products,
                                                                   strict=True)]
        else:
            # The main product's mass when its unit tells it, else relative masses.
            mass = _factor(data["output_unit"], "kg")
            scale = (data["output_amount"] * mass / values[0]) if mass else 1.0
            if not mass:
                self.warn(f"process {name}: physical allocation read from openLCA's factors "
                          "as relative masses")
            data["output_mass_kg"] = values[0] * scale
            masses = [v * scale for v in values[1:]]
        for n, (ex, unit, amount) in enumerate(products):
            co: dict[str, Any] = {"name": self._flow_name(ex), "amount": amount, "unit": unit}
            if amount <= 0:
                raise OlcaError(f"processes/{p.name}/exchanges/{ex.internal_id}",
                                "a co-product's amount must be positive")
            co["price" if economic else "mass_kg"] = prices[n] if economic else masses[n]
            data["coproducts"].append(co)


def _kind(unit: str, flow_type: o.FlowType | None) -> str:
    """What kind of input an openLCA exchange is, from its flow and unit."""
    if flow_type is o.FlowType.WASTE_FLOW:
        return "waste"
    if _factor(unit, "MJ") is not None:
        return "energy"
    if _factor(unit, "t*km") is not None:
        return "transport"
    return "material"


def _extras(ex: o.Exchange, amount: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    note = _text(ex.description, 1000)
    if note:
        out["note"] = note
    unc = _read_uncertainty(ex, amount)
    if unc is not None:
        out["uncertainty"] = unc
    return out
