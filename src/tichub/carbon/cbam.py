"""Specific embedded emissions of CBAM goods at an installation. Pure.

The methods are those of the CBAM Regulation (EU) 2023/956, Annex IV, as implemented for
the transitional period (Implementing Regulation (EU) 2023/1773) and the definitive period
(Implementing Regulation (EU) 2025/2547, Annex III): for each production process

    SEE = (AttrEm + Σ M_i · SEE_i) / AL

separately for direct and indirect emissions, where a precursor made in the installation is
itself computed the same way (a linear system, as the Commission's template solves it), and
a purchased one carries its supplier's values. From 2026 only direct emissions count for
the goods of Annex II (iron and steel, aluminium, hydrogen, electricity), negative attributed
direct emissions count as zero, and precursors from the Union or exempted countries count as
zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

# Annex I goods by CN code prefix (spaces dropped), the Annex II ones marked direct-only.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("25070080", "cement"), ("2523", "cement"),
    ("2808", "fertilisers"), ("2814", "fertilisers"), ("28342100", "fertilisers"),
    ("3102", "fertilisers"), ("3105", "fertilisers"),
    ("26011200", "iron_steel"), ("72", "iron_steel"), ("7301", "iron_steel"),
    ("7302", "iron_steel"), ("730300", "iron_steel"), ("7304", "iron_steel"),
    ("7305", "iron_steel"), ("7306", "iron_steel"), ("7307", "iron_steel"),
    ("7308", "iron_steel"), ("730900", "iron_steel"), ("7310", "iron_steel"),
    ("731100", "iron_steel"), ("7318", "iron_steel"), ("7326", "iron_steel"),
    ("7601", "aluminium"), *((f"76{n:02d}", "aluminium") for n in range(3, 15)),
    ("7616", "aluminium"), ("28041000", "hydrogen"), ("27160000", "electricity"),
)
# Regulation 2023/956 Annex II (and 2025/2083 adding electricity): direct emissions only.
# Agglomerated iron ore (2601 12 00) is an iron and steel good outside Annex II.
DIRECT_ONLY = ("iron_steel", "aluminium", "hydrogen", "electricity")
NOT_DIRECT_ONLY = ("26011200",)
# The Union's members and the countries exempted by Annex III point 1 (Iceland,
# Liechtenstein, Norway, Switzerland): their precursors count as zero from 2026.
EXEMPT = frozenset((
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "CH",
    "EU"))
DEFINITIVE_FROM = date(2026, 1, 1)
# Transitional period: default values without limit for reports until 31 July 2024; after
# that, estimates (defaults included) only for complex goods and up to 20 % of the embedded
# emissions (Implementing Regulation 2023/1773).
DEFAULTS_FREE_UNTIL = date(2024, 7, 31)
ESTIMATE_LIMIT = 0.20
MASS_BALANCE_FACTOR = 3.664  # t CO2 per t C, as the Commission's template fixes it


class CbamError(ValueError):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def clean_cn(cn: str) -> str:
    return cn.replace(" ", "").replace(".", "")


def category(cn: str) -> str | None:
    code = clean_cn(cn)
    best = max((p for p, _ in CATEGORIES if code.startswith(p)), key=len, default=None)
    return dict(CATEGORIES)[best] if best else None


def direct_only(cn: str, definitive: bool) -> bool:
    """True where only direct emissions count (never in the transitional period)."""
    code = clean_cn(cn)
    if not definitive or any(code.startswith(p) for p in NOT_DIRECT_ONLY):
        return False
    return category(code) in DIRECT_ONLY


@dataclass(frozen=True)
class SourceStream:
    """A fuel or material whose emissions the installation monitors: combustion (NCV in
    GJ/t, EF in t CO2/TJ), process emissions (EF in t CO2/t) or mass balance (carbon
    content in t C/t; outputs as negative activity)."""

    name: str
    method: str
    activity: float  # t (or 1000 Nm3)
    ncv: float = 0.0
    ef: float = 0.0
    carbon_content: float = 0.0
    oxidation: float = 1.0
    conversion: float = 1.0
    biomass: float = 0.0  # fraction of the stream's carbon that is biomass

    def emissions(self) -> float:
        fossil = 1.0 - self.biomass
        match self.method:
            case "combustion":
                return self.activity * self.ncv / 1000 * self.ef * self.oxidation * fossil
            case "process":
                return self.activity * self.ef * self.conversion * fossil
            case "mass_balance":
                return self.activity * self.carbon_content * MASS_BALANCE_FACTOR * fossil
        raise CbamError(f"source stream {self.name}", f"unknown method {self.method!r}")


@dataclass(frozen=True)
class Precursor:
    """A purchased precursor with its supplier's values: SEE direct; indirect as given, or
    as its specific electricity consumption (MWh/t) times that electricity's factor."""

    key: str
    name: str
    cn: str
    country: str
    see_direct: float
    see_indirect: float | None = None
    electricity_mwh_per_t: float = 0.0
    electricity_ef: float = 0.0
    default: bool = False  # values are the Commission's default values

    @property
    def indirect(self) -> float:
        if self.see_indirect is not None:
            return self.see_indirect
        return self.electricity_mwh_per_t * self.electricity_ef


@dataclass(frozen=True)
class Use:
    source: str  # a precursor's key, or a production process's key
    mass: float  # M_i, t consumed over the period (scrap and losses included)


@dataclass(frozen=True)
class ProductionProcess:
    key: str
    name: str
    cn: str
    activity_level: float  # AL, t made over the period (kWh for electricity)
    direct: float  # DirEm attributed to the process, t CO2e
    electricity_mwh: float = 0.0
    electricity_ef: float = 0.0  # t CO2/MWh
    electricity_ef_source: str = ""
    heat_imported: float = 0.0  # t CO2e of measurable heat brought in
    heat_exported: float = 0.0
    waste_gas_imported: float = 0.0
    waste_gas_exported: float = 0.0
    electricity_produced: float = 0.0  # t CO2e of electricity made from the process's fuel
    uses: tuple[Use, ...] = ()
    route: str = ""


@dataclass(frozen=True)
class Installation:
    name: str
    country: str
    period_start: date
    period_end: date
    processes: tuple[ProductionProcess, ...]
    precursors: tuple[Precursor, ...] = ()
    streams: tuple[SourceStream, ...] = ()
    unlocode: str = ""

    @property
    def definitive(self) -> bool:
        return self.period_end >= DEFINITIVE_FROM


@dataclass(frozen=True)
class GoodResult:
    process: str
    name: str
    cn: str
    activity_level: float
    attributed_direct: float
    attributed_indirect: float
    see_direct: float  # t CO2e per t
    see_indirect: float
    embedded_electricity: float  # MWh per t
    direct_only: bool
    default_share: float  # of the embedded emissions that count
    warnings: list[str] = field(default_factory=list)

    @property
    def see_total(self) -> float:
        return self.see_direct + self.see_indirect

    @property
    def see_counted(self) -> float:
        """What CBAM certificates are due on: direct only for Annex II goods."""
        return self.see_direct if self.direct_only else self.see_total


def _solve(own: np.ndarray, al: np.ndarray, m: np.ndarray, where: list[str]) -> np.ndarray:
    """x_i = (own_i + Σ_j M_ij x_j) / AL_i for every process at once."""
    system = np.diag(al) - m
    try:
        x = np.linalg.solve(system, own)
    except np.linalg.LinAlgError:
        raise CbamError("processes", "the processes consume one another's output with none "
                        "left over: " + ", ".join(where)) from None
    return np.asarray(x, dtype=np.float64)


def compute(inst: Installation) -> list[GoodResult]:
    """The specific embedded emissions of each production process's good."""
    procs = list(inst.processes)
    keys = {p.key: i for i, p in enumerate(procs)}
    bought = {p.key: p for p in inst.precursors}
    if len(keys) != len(procs):
        raise CbamError("processes", "two processes share a key")
    n = len(procs)
    al = np.array([p.activity_level for p in procs], dtype=np.float64)
    for p in procs:
        if not p.activity_level > 0:
            raise CbamError(f"process {p.name}", "the activity level (production) must be "
                            "positive")
    definitive = inst.definitive
    m = np.zeros((n, n))
    own_dir, own_ind, own_el, own_default = (np.zeros(n) for _ in range(4))
    for i, p in enumerate(procs):
        attr = (p.direct + p.heat_imported - p.heat_exported + p.waste_gas_imported
                - p.waste_gas_exported - p.electricity_produced)
        own_dir[i] = max(attr, 0.0) if definitive else attr
        own_ind[i] = p.electricity_mwh * p.electricity_ef
        own_el[i] = p.electricity_mwh
        for use in p.uses:
            if use.mass < 0:
                raise CbamError(f"process {p.name}", "a precursor's mass is never negative")
            if use.source in keys:
                m[i, keys[use.source]] += use.mass
                continue
            pre = bought.get(use.source)
            if pre is None:
                raise CbamError(f"process {p.name}", f"no precursor {use.source!r}")
            if definitive and pre.country.upper() in EXEMPT:
                continue  # counted as zero
            d, ind = use.mass * pre.see_direct, use.mass * pre.indirect
            own_dir[i] += d
            own_ind[i] += ind
            own_el[i] += use.mass * pre.electricity_mwh_per_t
            if pre.default:
                counted = d if direct_only(p.cn, definitive) else d + ind
                own_default[i] += counted
    names = [p.name for p in procs]
    see_dir = _solve(own_dir, al, m, names)
    see_ind = _solve(own_ind, al, m, names)
    emb_el = _solve(own_el, al, m, names)
    default_part = _solve(own_default, al, m, names)
    results = []
    for i, p in enumerate(procs):
        only = direct_only(p.cn, definitive)
        counted = see_dir[i] if only else see_dir[i] + see_ind[i]
        share = float(default_part[i] / counted) if counted else 0.0
        warnings = []
        if category(p.cn) is None:
            warnings.append(f"CN {p.cn} is not a CBAM good")
        complex_good = bool(p.uses)
        if not definitive and inst.period_end > DEFAULTS_FREE_UNTIL and share > 0:
            if not complex_good:
                warnings.append("after 31 July 2024 a simple good's emissions must be actual, "
                                "not estimated")
            elif share > ESTIMATE_LIMIT:
                warnings.append(f"estimates, default values included, make up {share:.0%} of "
                                "the embedded emissions; at most 20 % are allowed after "
                                "31 July 2024")
        results.append(GoodResult(
            process=p.key, name=p.name, cn=p.cn, activity_level=p.activity_level,
            attributed_direct=float(own_dir[i]), attributed_indirect=float(p.electricity_mwh
                                                                          * p.electricity_ef),
            see_direct=float(see_dir[i]), see_indirect=float(see_ind[i]),
            embedded_electricity=float(emb_el[i]), direct_only=only, default_share=share,
            warnings=warnings))
    return results


# --- default values ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DefaultValue:
    table: str  # the act that publishes it
    country: str
    cn: str
    description: str
    route: str
    direct: float | None
    indirect: float | None
    total: float
    by_year: dict[int, float]  # the total with that year's mark-up, as printed

    def for_year(self, year: int) -> float:
        """The total with the mark-up of ``year`` (the last printed year's after it)."""
        if not self.by_year:
            return self.total
        years = sorted(self.by_year)
        if year < years[0]:
            return self.total
        return self.by_year[max(y for y in years if y <= year)]


def find_default(table: list[DefaultValue], cn: str, country: str,
                 description: str = "") -> DefaultValue:
    """The row for ``cn`` (the longest matching CN prefix) and ``country``; a country
    without its own table falls back to "Other countries and territories"."""
    code = clean_cn(cn)

    def match(rows: list[DefaultValue]) -> DefaultValue | None:
        hits = [r for r in rows if code.startswith(clean_cn(r.cn))
                and (not description or r.description == description)]
        return max(hits, key=lambda r: len(clean_cn(r.cn)), default=None)

    for where in (country.upper(), "OTHER"):
        found = match([r for r in table if r.country == where])
        if found is not None:
            return found
    raise CbamError("cn", f"no default value for CN {cn} from {country}")


def compare(result: GoodResult, default: DefaultValue, year: int) -> dict[str, float]:
    """The actual value that counts against the default value (for Annex II goods the
    table's total is their direct value), with and without the year's mark-up."""
    marked = default.for_year(year)
    return {"actual": result.see_counted, "default": default.total,
            "default_with_markup": marked, "saving_per_t": marked - result.see_counted}


def read_defaults(text: str) -> list[DefaultValue]:
    """The default-value table from its CSV (one row per country, CN code and route)."""
    import csv
    import io

    rows = []
    for r in csv.DictReader(io.StringIO(text)):
        years = {int(y): float(r[y]) for y in r if y and y.isdigit() and r[y]}
        rows.append(DefaultValue(
            table=r["table"], country=r["country"], cn=r["cn"], description=r["description"],
            route=r["route"], direct=float(r["direct"]) if r["direct"] else None,
            indirect=float(r["indirect"]) if r["indirect"] else None, total=float(r["total"]),
            by_year=years))
    return rows
