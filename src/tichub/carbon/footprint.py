"""A product's carbon footprint from its model: processes with their inputs, direct
emissions and co-products, linked to one another, to emission factors and to other
products' models (sub-assemblies). Pure: the model and the factors come in as plain data,
the footprint goes out; ``lca`` does the algebra.

Following ISO 14067:2018 and GB/T 24067-2024, emissions are kept apart by origin (fossil,
biogenic, biogenic removals, direct land-use change, land management, aircraft), and
contributions are reported by life-cycle stage, process and input.

How the model becomes matrices: each process of the model and of every sub-assembly's
model is an activity making its reference product (in its output unit); each emission
factor used is an activity making one unit of the factor's unit and emitting its gases; an
input is a negative technosphere entry converted into its supplier's unit. A process with
co-products carries, under physical or economic allocation, only its main product's share
of its inputs and emissions; under system expansion it keeps them all and is credited with
what each co-product displaces.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from tichub.carbon import gwp
from tichub.carbon.lca import LCA, Distribution, MonteCarlo, SingularSystem, variance_shares
from tichub.carbon.uncertainty import Uncertainty
from tichub.core import units
from tichub.core.messages import Msg

STAGES = ("raw_materials", "production", "distribution", "use", "end_of_life")
BOUNDARIES = {"cradle_to_gate": STAGES[:2], "cradle_to_grave": STAGES}
CATEGORIES = ("fossil", "biogenic", "biogenic_removal", "dluc", "land_management",
              "aircraft")
# What counts "excluding biogenic" (PACT's pCfExcludingBiogenic; ISO 14067's fossil and
# land-use change emissions): all but biogenic emissions and removals.
EXCLUDING_BIOGENIC = ("fossil", "dluc", "land_management", "aircraft")
INPUT_KINDS = ("material", "energy", "transport", "waste", "service")
ALLOCATIONS = ("physical", "economic", "system_expansion")
# What people call them, on pages and in messages (the keys above are the data's).
STAGE_LABELS = {"raw_materials": Msg("Raw materials"), "production": Msg("Production"),
                "distribution": Msg("Distribution"), "use": Msg("Use"),
                "end_of_life": Msg("End of life")}
BOUNDARY_LABELS = {"cradle_to_gate": Msg("cradle to gate"),
                   "cradle_to_grave": Msg("cradle to grave")}


CERTAIN = Uncertainty()


class FootprintError(ValueError):
    """A model that cannot be computed; ``where`` names the place at fault."""

    def __init__(self, where: str, message: str) -> None:
        # Both are Msg where people may read them (a str in English for API clients).
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True)
class GasAmount:
    gas: str
    category: str
    amount: float  # kg of the gas per unit of the factor


@dataclass(frozen=True)
class Factor:
    key: str
    version: int
    unit: str
    gases: tuple[GasAmount, ...]
    basis: str = ""  # the GWP basis of CO2e amounts, as the source states it
    uncertainty: Uncertainty = CERTAIN
    name: str = ""  # in English where the library has it
    name_zh: str = ""

    @property
    def label(self) -> str:
        return f"{self.key}@{self.version}"

    def shown(self, locale: str = "en") -> str:
        """The factor as people know it: its name in ``locale`` (the key only if nameless)."""
        if locale == "zh":
            return self.name_zh or self.name or self.key
        return self.name or self.name_zh or self.key


@dataclass(frozen=True)
class Notice:
    """Something a reader of the result should know, once per cause however many processes
    share it: today, emission factors that state CO2e on another IPCC report's GWP100 values
    than the study's (their CO2e cannot be reweighted, so it counts as stated)."""

    cause: str  # "basis"
    factor_basis: str
    study_basis: str
    factors: tuple[tuple[str, str, str], ...]  # (label, English name, Chinese name)

    def message(self, locale: str = "en") -> Msg:
        names = "、".join(zh or en or label for label, en, zh in self.factors) \
            if locale == "zh" else "; ".join(en or zh or label for label, en, zh in self.factors)
        return Msg("{names}: CO2e stated with IPCC {factor_basis} GWP100 values, while the "
                   "study uses {study_basis}. A CO2e amount cannot be reweighted, so these "
                   "inputs count as stated; the total usually differs by a few per cent at "
                   "most from a calculation wholly on {study_basis}.",
                   names=names, factor_basis=self.factor_basis, study_basis=self.study_basis)

    def as_json(self) -> dict[str, object]:
        return {"cause": self.cause, "factor_basis": self.factor_basis,
                "study_basis": self.study_basis, "factors": [list(f) for f in self.factors]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Notice:
        return cls(str(data.get("cause", "basis")), str(data.get("factor_basis", "")),
                   str(data.get("study_basis", "")),
                   tuple((str(a), str(b), str(c)) for a, b, c in data.get("factors") or ()))


@dataclass(frozen=True)
class Input:
    """Something a process takes in: from an emission factor (``factor``: its key), from
    another process of the same model (``process``) or from another product's model
    (``model``: a sub-assembly); or, with ``gas``, a direct emission in kg."""

    name: str
    amount: float
    unit: str
    kind: str = "material"
    factor: str | None = None
    process: str | None = None
    model: str | None = None
    gas: str | None = None
    category: str = "fossil"
    primary: bool = False
    uncertainty: Uncertainty = CERTAIN


@dataclass(frozen=True)
class CoProduct:
    name: str
    amount: float
    unit: str
    mass_kg: float = 0.0  # per the stated amount; for physical allocation
    price: float = 0.0  # per unit; for economic allocation
    displaces: str | None = None  # factor key; for system expansion


@dataclass(frozen=True)
class Process:
    key: str
    name: str
    stage: str
    output_amount: float
    output_unit: str
    inputs: tuple[Input, ...] = ()
    coproducts: tuple[CoProduct, ...] = ()
    allocation: str = "physical"
    output_mass_kg: float = 0.0  # mass of the stated output, for physical allocation
    output_price: float = 0.0


@dataclass(frozen=True)
class Model:
    key: str
    name: str
    declared_amount: float
    declared_unit: str
    reference: str  # the process whose output is the product
    processes: tuple[Process, ...]
    boundary: str = "cradle_to_gate"
    basis: str = "AR6"


@dataclass(frozen=True)
class Contribution:
    process: str
    stage: str
    input: str
    kind: str
    primary: bool
    co2e: float  # kg CO2e per declared unit
    node: str = ""  # the consuming process's label in links (a Sankey's target)


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    co2e: float


@dataclass(frozen=True)
class Footprint:
    total: float  # kg CO2e per declared unit, all categories
    by_category: dict[str, float]
    by_gas: dict[str, float]  # kg of each gas (not weighted)
    by_stage: dict[str, float]
    by_process: dict[str, float]
    contributions: list[Contribution]
    links: list[Link]  # CO2e carried from each supplier to each consumer, for a Sankey
    primary_share: float  # share of the total from primary data
    factors: list[str]  # "key@version" of every factor used
    notices: list[Notice] = field(default_factory=list)

    @property
    def warnings(self) -> list[Msg]:
        """The notices in English, for API clients and logs."""
        return [n.message() for n in self.notices]

    @property
    def excluding_biogenic(self) -> float:
        return sum(self.by_category.get(c, 0.0) for c in EXCLUDING_BIOGENIC)


@dataclass(frozen=True)
class Uncertain:
    samples: np.ndarray  # kg CO2e per declared unit, one per iteration
    shares: dict[str, float]  # each uncertain input's share of the variance (SRC²)

    def summary(self) -> dict[str, float]:
        s = self.samples
        return {"mean": float(s.mean()), "sd": float(s.std(ddof=1)) if s.size > 1 else 0.0,
                "p2_5": float(np.percentile(s, 2.5)), "median": float(np.median(s)),
                "p97_5": float(np.percentile(s, 97.5))}


# --- assembling the system -----------------------------------------------------------------

def _convert(amount: float, unit: str, to: str, where: str) -> float:
    try:
        return amount * units.factor(unit, to)
    except units.UnitError:
        # Any unit error here comes down to this for the person modelling (core.units
        # words its own messages for developers).
        raise FootprintError(where, Msg("{unit} cannot be converted to {to}", unit=unit,
                                        to=to)) from None


def check_model(model: Model) -> None:
    """Refuses a model whose own parts do not fit together (before any factor is read)."""
    if model.declared_amount <= 0:
        raise FootprintError("declared_amount",
                             Msg("the declared unit's amount must be positive"))
    if model.boundary not in BOUNDARIES:
        raise FootprintError("boundary", Msg("unknown system boundary {boundary}",
                                             boundary=model.boundary))
    keys = [p.key for p in model.processes]
    if len(set(keys)) != len(keys):
        raise FootprintError("processes", Msg("two processes share a key"))
    if model.reference not in keys:
        raise FootprintError("reference", Msg("the model has no process {key}",
                                              key=model.reference))
    for p in model.processes:
        where = Msg("process {name}", name=p.name)
        if p.stage not in STAGES:
            raise FootprintError(where, Msg("unknown life-cycle stage {stage}", stage=p.stage))
        if p.stage not in BOUNDARIES[model.boundary]:
            raise FootprintError(where, Msg(
                "the {stage} stage lies outside the system boundary ({boundary})",
                stage=STAGE_LABELS[p.stage], boundary=BOUNDARY_LABELS[model.boundary]))
        if p.output_amount <= 0:
            raise FootprintError(where, Msg("a process must make a positive amount of its "
                                            "product"))
        _convert(1.0, p.output_unit, p.output_unit, where)
        if p.allocation not in ALLOCATIONS:
            raise FootprintError(where, Msg("unknown allocation {allocation}",
                                            allocation=p.allocation))
        for i in p.inputs:
            at = Msg("process {name}, input {input}", name=p.name, input=i.name)
            sources = [x for x in (i.factor, i.process, i.model, i.gas) if x]
            if len(sources) != 1:
                raise FootprintError(at, Msg("an input comes from exactly one of: an emission "
                                             "factor, a process, a product model, or is a "
                                             "direct emission"))
            if i.process and i.process not in keys:
                raise FootprintError(at, Msg("the model has no process {key}", key=i.process))
            if i.gas:
                if i.category not in CATEGORIES:
                    raise FootprintError(at, Msg("unknown origin of emission {category}",
                                                 category=i.category))
                if i.gas not in gwp.GASES:
                    _unknown_gas(at, i.gas)
        _allocation_share(p)


def _unknown_gas(where: str, gas: str) -> None:
    raise FootprintError(where, Msg("unknown greenhouse gas {gas}; one of {gases}", gas=gas,
                                    gases=", ".join(gwp.GASES)))


def _allocation_share(p: Process) -> float:
    """The main product's share of the process's inputs and emissions."""
    if not p.coproducts or p.allocation == "system_expansion":
        if p.allocation == "system_expansion":
            for c in p.coproducts:
                if not c.displaces:
                    raise FootprintError(
                    Msg("process {name}, co-product {coproduct}", name=p.name,
                        coproduct=c.name),
                    Msg("system expansion needs what the co-product displaces"))
        return 1.0
    if p.allocation == "physical":
        main, others = p.output_mass_kg, [c.mass_kg for c in p.coproducts]
        needs = Msg("physical allocation needs the mass of the product and of every "
                    "co-product")
    else:
        main = p.output_price * p.output_amount
        others = [c.price * c.amount for c in p.coproducts]
        needs = Msg("economic allocation needs the price of the product and of every "
                    "co-product")
    if main <= 0 or any(o < 0 for o in others):
        raise FootprintError(Msg("process {name}", name=p.name), needs)
    return main / (main + sum(others))


def model_order(root: str, models: Mapping[str, Model]) -> list[str]:
    """The root model and every sub-assembly it reaches, suppliers first; refuses a model
    that reaches itself."""
    graph: dict[str, set[str]] = {}
    todo = [root]
    while todo:
        key = todo.pop()
        if key in graph:
            continue
        if key not in models:
            raise FootprintError(Msg("product model {key}", key=key),
                                 Msg("no such product model"))
        used = {i.model for p in models[key].processes for i in p.inputs if i.model}
        graph[key] = used
        todo.extend(used)
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        names = " → ".join(models[k].name for k in exc.args[1])
        raise FootprintError("sub-assemblies", Msg("a product contains itself: {names}",
                                                   names=names)) from None


@dataclass
class _System:
    """The matrices and the bookkeeping that maps them back to the model."""

    labels: list[str] = field(default_factory=list)
    index: dict[tuple[str, str], int] = field(default_factory=dict)  # (model, process) → column
    factor_col: dict[str, int] = field(default_factory=dict)
    flows: dict[tuple[str, str], int] = field(default_factory=dict)  # (gas, category) → row
    tech: list[tuple[int, int, float]] = field(default_factory=list)
    bio: list[tuple[int, int, float]] = field(default_factory=list)
    # uncertain cells: ("t"|"b", row, col, Uncertainty, label)
    uncertain: list[tuple[str, int, int, Uncertainty, str]] = field(default_factory=list)
    # top-level leaves for contributions: (column of consumer, technosphere row or -1,
    # flow row or -1, amount, Contribution template)
    leaves: list[tuple[int, int, int, float, Contribution]] = field(default_factory=list)
    edges: list[tuple[int, int, float]] = field(default_factory=list)  # supplier, consumer, amount
    factors_used: dict[str, Factor] = field(default_factory=dict)
    off_basis: dict[str, Factor] = field(default_factory=dict)  # key → factor on another basis
    basis: str = "AR6"  # the root model's

    def notices(self) -> list[Notice]:
        by_basis: dict[str, list[Factor]] = {}
        for f in self.off_basis.values():
            by_basis.setdefault(f.basis, []).append(f)
        return [Notice("basis", b, self.basis, tuple((f.label, f.name, f.name_zh) for f in fs))
                for b, fs in sorted(by_basis.items())]

    def column(self, label: str) -> int:
        self.labels.append(label)
        return len(self.labels) - 1

    def flow(self, gas: str, category: str) -> int:
        return self.flows.setdefault((gas, category), len(self.flows))


def _factor_column(sys: _System, key: str, factors: Mapping[str, Factor], basis: str,
                   where: str) -> tuple[int, Factor]:
    if key not in factors:
        raise FootprintError(where, Msg("no emission factor {key} in the library", key=key))
    f = factors[key]
    if key not in sys.factor_col:
        col = sys.column(f"factor {f.label}")
        sys.factor_col[key] = col
        sys.factors_used[key] = f
        sys.tech.append((col, col, 1.0))
        for g in f.gases:
            if g.gas not in gwp.GASES:
                _unknown_gas(Msg("emission factor {name}", name=f.shown()), g.gas)
            row = sys.flow(g.gas, g.category)
            sys.bio.append((row, col, g.amount))
            if f.uncertainty.varies and g.amount:
                sys.uncertain.append(("b", row, col, f.uncertainty, f"factor {f.label}"))
        if f.basis and f.basis != basis and any(g.gas == "CO2e" for g in f.gases):
            sys.off_basis[key] = f
    return sys.factor_col[key], f


def build(root: str, models: Mapping[str, Model], factors: Mapping[str, Factor]
          ) -> tuple[_System, int]:
    order = model_order(root, models)
    sys = _System(basis=models[root].basis)
    for mkey in order:
        for p in models[mkey].processes:
            sys.index[(mkey, p.key)] = sys.column(f"{models[mkey].name} / {p.name}")
    for mkey in order:
        m = models[mkey]
        check_model(m)
        procs = {p.key: p for p in m.processes}
        for p in m.processes:
            col = sys.index[(mkey, p.key)]
            share = _allocation_share(p)
            sys.tech.append((col, col, p.output_amount))
            for i in p.inputs:
                at = Msg("{model} / process {name}, input {input}", model=m.name, name=p.name,
                         input=i.name)
                amount = i.amount * share
                template = Contribution(process=p.name, stage=p.stage, input=i.name,
                                        kind="emission" if i.gas else i.kind,
                                        primary=i.primary, co2e=0.0)
                if i.gas:
                    kg = _convert(amount, i.unit, "kg", at)
                    row = sys.flow(i.gas, i.category)
                    sys.bio.append((row, col, kg))
                    if i.uncertainty.varies and kg:
                        sys.uncertain.append(("b", row, col, i.uncertainty, at))
                    if mkey == root:
                        sys.leaves.append((col, -1, row, kg, template))
                    continue
                if i.factor:
                    supplier, f = _factor_column(sys, i.factor, factors, sys.basis, at)
                    qty = _convert(amount, i.unit, f.unit, at)
                elif i.process:
                    supplier = sys.index[(mkey, i.process)]
                    qty = _convert(amount, i.unit, procs[i.process].output_unit, at)
                else:
                    sub = models[i.model or ""]
                    supplier = sys.index[(sub.key, sub.reference)]
                    ref = next(q for q in sub.processes if q.key == sub.reference)
                    qty = _convert(amount, i.unit, ref.output_unit, at)
                sys.tech.append((supplier, col, -qty))
                sys.edges.append((supplier, col, qty))
                if i.uncertainty.varies and qty:
                    sys.uncertain.append(("t", supplier, col, i.uncertainty, at))
                if mkey == root and not i.process:
                    sys.leaves.append((col, supplier, -1, qty, template))
            for c in p.coproducts if p.allocation == "system_expansion" else ():
                at = Msg("{model} / process {name}, co-product {coproduct}", model=m.name,
                         name=p.name, coproduct=c.name)
                supplier, f = _factor_column(sys, c.displaces or "", factors, sys.basis, at)
                qty = _convert(c.amount, c.unit, f.unit, at)
                # The displaced product is not made elsewhere: a credit, a negative input.
                sys.tech.append((supplier, col, qty))
                sys.edges.append((supplier, col, -qty))
                if mkey == root:
                    sys.leaves.append((col, supplier, -1, -qty, Contribution(
                        process=p.name, stage=p.stage, input=c.name, kind="avoided",
                        primary=False, co2e=0.0)))
    return sys, sys.index[(root, models[root].reference)]


def _lca(sys: _System, basis: str) -> LCA:
    n = len(sys.labels)
    a = sparse.csc_matrix(sparse.coo_matrix(
        ([v for *_, v in sys.tech], ([r for r, _, _ in sys.tech], [c for _, c, _ in sys.tech])),
        shape=(n, n)))
    a.sum_duplicates()
    flows = list(sys.flows)
    b = sparse.coo_matrix(
        ([v for *_, v in sys.bio], ([r for r, _, _ in sys.bio], [c for _, c, _ in sys.bio])),
        shape=(max(len(flows), 1), n)).tocsr()
    c = np.array([gwp.weight(gas, basis) for gas, _ in flows] or [0.0])
    try:
        return LCA(a, b, c)
    except SingularSystem:
        raise FootprintError("processes", _singular_reason(sys, a)) from None


def _singular_reason(sys: _System, a: sparse.csc_matrix) -> Msg:
    """Names the loop (or the process) that leaves the system unsolvable."""
    off = sparse.coo_matrix(a)
    keep = off.row != off.col
    graph = sparse.csr_matrix((np.ones(int(keep.sum())), (off.row[keep], off.col[keep])),
                              shape=a.shape)
    count, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count)
    loops = [[sys.labels[i] for i in np.flatnonzero(labels == k)]
             for k in np.flatnonzero(sizes > 1)]
    if loops:
        return Msg("the system cannot be solved: these processes supply one another and "
                   "make nothing net — {loops}",
                   loops="; ".join(" ⇄ ".join(loop) for loop in loops))
    return Msg("the system cannot be solved: a process makes nothing of its product")


def _system(root: str, models: Mapping[str, Model], factors: Mapping[str, Factor]
            ) -> tuple[_System, LCA, np.ndarray]:
    """The assembled system, its factorised LCA and the demand for one declared unit."""
    sys, ref = build(root, models, factors)
    m = models[root]
    lca = _lca(sys, m.basis)
    ref_proc = next(p for p in m.processes if p.key == m.reference)
    demand = np.zeros(len(sys.labels))
    demand[ref] = _convert(m.declared_amount, m.declared_unit, ref_proc.output_unit,
                           "declared_unit")
    return sys, lca, demand


# Amounts and factors are finite, but their products can still pass a double's range.
NOT_FINITE = Msg("the amounts are too large: the footprint is not a finite number")


def compute(root: str, models: Mapping[str, Model], factors: Mapping[str, Factor]
            ) -> Footprint:
    """The footprint of one declared unit of model ``root``."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            footprint = _compute(root, models, factors)
    except SingularSystem:  # a solve whose result overflowed
        raise FootprintError("processes", NOT_FINITE) from None
    numbers = [footprint.total, footprint.primary_share, *footprint.by_category.values(),
               *footprint.by_gas.values(), *(c.co2e for c in footprint.contributions),
               *(link.co2e for link in footprint.links)]
    if not all(math.isfinite(x) for x in numbers):
        raise FootprintError("processes", NOT_FINITE)
    return footprint


def _compute(root: str, models: Mapping[str, Model], factors: Mapping[str, Factor]
             ) -> Footprint:
    sys, lca, demand = _system(root, models, factors)
    m = models[root]
    result = lca.solve(demand)
    # Factors' supply may be negative (a displaced product's credit); processes' may not.
    made = result.supply[list(sys.index.values())]
    if np.any(made < -1e-9 * np.abs(made).max(initial=1.0)):
        raise FootprintError("processes", Msg("the system makes negative amounts of a "
                                              "product: a loop takes back more than it gives"))
    h = lca.intensities()
    flows = list(sys.flows)
    by_category = dict.fromkeys(CATEGORIES, 0.0)
    by_gas: dict[str, float] = {}
    for (gas, category), weighted, kg in zip(flows, result.by_flow, result.inventory,
                                             strict=False):
        by_category[category] += float(weighted)
        by_gas[gas] = by_gas.get(gas, 0.0) + float(kg)
    contributions = []
    for consumer, supplier, flow, amount, t in sys.leaves:
        per_unit = h[supplier] if supplier >= 0 else lca.factors[flow]
        value = float(result.supply[consumer] * amount * per_unit)
        contributions.append(Contribution(t.process, t.stage, t.input, t.kind, t.primary,
                                          value, sys.labels[consumer]))
    by_stage = dict.fromkeys(BOUNDARIES[m.boundary], 0.0)
    by_process: dict[str, float] = {}
    for c in contributions:
        by_stage[c.stage] += c.co2e
        by_process[c.process] = by_process.get(c.process, 0.0) + c.co2e
    links = [Link(sys.labels[s], sys.labels[c], float(result.supply[c] * q * h[s]))
             for s, c, q in sys.edges]
    total = result.score
    primary = sum(c.co2e for c in contributions if c.primary)
    return Footprint(
        total=total, by_category=by_category, by_gas=by_gas, by_stage=by_stage,
        by_process=by_process, contributions=contributions, links=links,
        primary_share=primary / total if total else 0.0,
        factors=sorted(f.label for f in sys.factors_used.values()),
        notices=sys.notices())


def simulate(root: str, models: Mapping[str, Model], factors: Mapping[str, Factor],
             iterations: int = 1000, seed: int = 0) -> Uncertain:
    """The footprint's distribution by Monte Carlo over every uncertain input and factor,
    and each one's share of the variance."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            run = _simulate(root, models, factors, iterations, seed)
    except SingularSystem:  # a sample whose solve overflowed
        raise FootprintError("processes", NOT_FINITE) from None
    summary = run.summary().values() if run.samples.size else ()
    if not all(math.isfinite(x) for x in [*summary, *run.shares.values()]):
        raise FootprintError("processes", NOT_FINITE)
    return run


def _simulate(root: str, models: Mapping[str, Model], factors: Mapping[str, Factor],
              iterations: int, seed: int) -> Uncertain:
    sys, lca, demand = _system(root, models, factors)
    tech_vals = {(r, c): v for r, c, v in _summed(sys.tech)}
    bio_vals = {(r, c): v for r, c, v in _summed(sys.bio)}
    tech: list[tuple[int, int, Distribution]] = []
    bio: list[tuple[int, int, Distribution]] = []
    tech_names: list[str] = []
    bio_names: list[str] = []
    seen: set[tuple[str, int, int]] = set()
    for kind, row, col, unc, label in sys.uncertain:
        if (kind, row, col) in seen:  # one cell, summed from two inputs: varied once
            continue
        seen.add((kind, row, col))
        if kind == "t":
            tech.append((row, col, unc.around(tech_vals[(row, col)])))
            tech_names.append(label)
        else:
            bio.append((row, col, unc.around(bio_vals[(row, col)])))
            bio_names.append(label)
    if not tech and not bio:
        return Uncertain(np.full(iterations, lca.solve(demand).score), {})
    scores, samples = MonteCarlo(lca, tech, bio).run(demand, iterations, seed)
    shares: dict[str, float] = {}
    # A factor's gases vary as separate cells; their shares add up under its name.
    for name, share in zip(tech_names + bio_names, variance_shares(samples, scores),
                           strict=True):
        shares[name] = shares.get(name, 0.0) + float(share)
    return Uncertain(scores, dict(sorted(shares.items(), key=lambda kv: -kv[1])))


def _summed(cells: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    out: dict[tuple[int, int], float] = {}
    for r, c, v in cells:
        out[(r, c)] = out.get((r, c), 0.0) + v
    return [(r, c, v) for (r, c), v in out.items()]
