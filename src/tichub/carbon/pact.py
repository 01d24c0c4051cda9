"""PACT ProductFootprint documents (WBCSD Partnership for Carbon Transparency, Technical
Specifications v2.3 and v3.0): writing a study's footprint as one, and reading one a
supplier sent. Pure: plain data in, plain data out; no database, no web.

This module implements the information in the PACT Technical Specifications (© WBCSD)
without including any part of them; field names and enumerations are the interface.

Choices, where TICHub's data and PACT's data model do not meet one to one:

- Units. A study's declared unit (``declared_amount`` × ``declared_unit``, any unit TICHub
  can convert) is expressed in the nearest PACT unit of the same dimension (t → kilogram,
  GJ → megajoule, mL → liter, …). v3 states the footprint per declared unit
  (``declaredUnitAmount`` × ``declaredUnitOfMeasurement``), which is what a study holds;
  v2 states it per *one* ``declaredUnit`` and puts the amount in ``unitaryProductAmount``,
  so v2 values are the study's divided by that amount.
- ``piece`` exists in v3 only. In v2 a per-piece footprint is expressed per kilogram of
  product through the model's mass per declared unit (``mass_kg``); without that mass the
  export is refused, naming ``mass_kg``. v3 requires ``productMassPerDeclaredUnit`` for
  piece, liter, cubic meter and square meter alike (0 for energy, transport and hours), so
  there too a missing mass is refused.
- Boundary. PACT exchanges cradle-to-gate footprints; a cradle-to-grave study is refused
  rather than sent as if it were one.
- Categories. fossil (+ aircraft, which is fossil fuel burnt) → fossilGhgEmissions;
  dluc → dLucGhgEmissions / landUseChangeGhgEmissions; land_management →
  landManagementGhgEmissions (v2) or, by sign, landManagementBiogenicCO2Emissions /
  ...Removals (v3); biogenic_removal → biogenicCarbonWithdrawal / biogenicCO2Uptake;
  biogenic emissions → otherBiogenicGhgEmissions (v2) and count in v3's
  pcfExcludingBiogenicUptake, which leaves out only the product's biogenic uptake.
- Unknowns that PACT requires: carbon contents (fossil, biogenic) are not modelled and are
  written as "0", exempted emissions as 0 % with the model's cut-off text, v2's
  packagingEmissionsIncluded as false and v2's productCategoryCpc as "unknown" unless
  given; the ``comment`` says so.
- Data quality: the pedigree scores (1–5) of the inputs, weighted by their share of the
  footprint, as v3's DQRs (1–5); v2's scale is 1–3, so v2 gets 1 + (score − 1) / 2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tichub.core import units

SPEC_V2 = "2.3.0"
SPEC_V3 = "3.0.0"

# PACT's declared units and the TICHub unit each one is.
PACT_UNITS = {
    "kilogram": "kg", "liter": "L", "cubic meter": "m3", "kilowatt hour": "kWh",
    "megajoule": "MJ", "ton kilometer": "t*km", "square meter": "m2", "piece": "piece",
    "hour": "h",
}
V2_UNITS = ("kilogram", "liter", "cubic meter", "kilowatt hour", "megajoule",
            "ton kilometer", "square meter")
V3_UNITS = (*V2_UNITS, "piece", "hour")  # and "megabit second", which TICHub has no unit for
# v3: the product's mass is required for these; energy, transport and time have none.
MASS_UNITS = ("piece", "liter", "cubic meter", "square meter")

UN_REGIONS = (
    "Africa", "Americas", "Asia", "Europe", "Oceania", "Australia and New Zealand",
    "Central Asia", "Eastern Asia", "Eastern Europe", "Latin America and the Caribbean",
    "Melanesia", "Micronesia", "Northern Africa", "Northern America", "Northern Europe",
    "Polynesia", "South-eastern Asia", "Southern Asia", "Southern Europe",
    "Sub-Saharan Africa", "Western Asia", "Western Europe")

# A study's method standard in PACT's words: v2's deprecated list, then 2.3/3.0's list.
# GB/T 24067-2024 is China's adoption of ISO 14067:2018.
STANDARDS_V2_USED = {"GB/T 24067-2024": ["ISO Standard 14067"],
                     "ISO 14067:2018": ["ISO Standard 14067"],
                     "PACT": ["GHG Protocol Product standard"]}
STANDARDS = {"GB/T 24067-2024": ["ISO14067"], "ISO 14067:2018": ["ISO14067"]}


class PactError(ValueError):
    """A document that cannot be written or read; ``where`` names the field at fault."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True)
class Assurance:
    """A certification body's carbon-label certificate for the study."""

    provider_name: str
    completed_at: datetime | None
    certificate_number: str
    standard_name: str


@dataclass(frozen=True)
class DataQuality:
    """Pedigree scores (1 best … 5 worst), weighted by the inputs' share of the footprint;
    ``coverage``: the share (0–1) of the footprint whose inputs carry scores."""

    coverage: float
    technological: float
    temporal: float
    geographical: float
    completeness: float
    reliability: float


@dataclass(frozen=True)
class FootprintIn:
    """What a ProductFootprint is written from; the service maps a study onto it."""

    pf_id: str  # UUID
    created: datetime
    company_name: str
    company_ids: Sequence[str]  # URNs
    product_name: str
    product_ids: Sequence[str]  # URNs
    declared_amount: float
    declared_unit: str  # a TICHub unit: kg, t, kWh, piece, …
    total: float  # kg CO2e per declared unit, all categories
    by_category: Mapping[str, float]  # kg CO2e per declared unit
    basis: str  # AR5 | AR6
    boundary: str  # cradle_to_gate | cradle_to_grave
    standard: str  # GB/T 24067-2024 | ISO 14067:2018 | PACT
    period_start: date | None
    period_end: date | None  # inclusive, as people write it
    product_description: str = ""
    mass_kg: float | None = None  # product mass per declared unit
    classifications: Sequence[str] = ()  # URNs
    cpc: str = ""  # UN CPC code, which v2 requires
    geography: str = ""
    primary_share: float | None = None  # 0–1
    quality: DataQuality | None = None
    assurance: Assurance | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    status: str = "Active"
    preceding: Sequence[str] = ()  # pf ids this one replaces
    cut_off: str = ""
    processes: str = ""  # what the boundary holds, in words
    comment: str = ""


# --- numbers, times, places --------------------------------------------------------------

def dec(x: float) -> str:
    """A decimal string as PACT writes numbers (no exponent), to 12 significant digits,
    which drops binary noise such as 0.30000000000000004."""
    if not math.isfinite(x):
        raise ValueError(f"{x} is not a finite number")
    text = format(Decimal(f"{x:.12g}"), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _clean(x: float, scale: float) -> float:
    # Sums of matrix products leave ±1e-17 where a category is empty.
    return 0.0 if abs(x) <= 1e-12 * max(1.0, abs(scale)) else x


def _instant(d: date) -> str:
    return datetime.combine(d, time(), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(moment: datetime) -> str:
    m = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return m.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def geography_fields(geography: str) -> dict[str, str]:
    """A model's geography as the one PACT field it fits (none: global or not readable)."""
    g = geography.strip()
    if re.fullmatch(r"[A-Za-z]{2}", g):
        return {"geographyCountry": g.upper()}
    if re.fullmatch(r"[A-Za-z]{2}-[A-Za-z0-9]{1,3}", g):
        return {"geographyCountrySubdivision": g.upper()}
    region = next((r for r in UN_REGIONS if r.lower() == g.lower()), None)
    return {"geographyRegionOrSubregion": region} if region else {}


# --- units --------------------------------------------------------------------------------

def pact_unit(unit: str, allowed: Sequence[str]) -> tuple[str, float]:
    """The PACT unit for a TICHub unit, and how many of it one of ``unit`` makes."""
    text = unit.strip()
    order = list(allowed)
    # Where two PACT units share a dimension, keep the family the unit was written in.
    if "Wh" in text:
        order.sort(key=lambda u: u != "kilowatt hour")
    elif "J" in text:
        order.sort(key=lambda u: u != "megajoule")
    if "m3" in text:
        order.sort(key=lambda u: u != "cubic meter")
    for name in order:
        try:
            return name, units.factor(text, PACT_UNITS[name])
        except units.UnitError:
            continue
    raise PactError("declared_unit", f"{unit!r} has no PACT declared unit; PACT takes "
                    + ", ".join(allowed))


def _counts_pieces(unit: str) -> bool:
    try:
        units.factor(unit, "piece")
    except units.UnitError:
        return False
    return True


# --- writing ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Parts:
    """The footprint split as PACT reports it, per PACT declared unit as the version has it."""

    fossil: float
    aircraft: float
    dluc: float
    land_management: float
    biogenic: float
    removal: float
    total: float
    excluding_biogenic: float  # v2's sense: fossil, land use and aircraft


def _parts(f: FootprintIn, divide_by: float) -> _Parts:
    cat = {k: _clean(float(f.by_category.get(k, 0.0)), f.total) / divide_by
           for k in ("fossil", "aircraft", "dluc", "land_management", "biogenic",
                     "biogenic_removal")}
    return _Parts(
        fossil=cat["fossil"] + cat["aircraft"], aircraft=cat["aircraft"], dluc=cat["dluc"],
        land_management=cat["land_management"], biogenic=cat["biogenic"],
        removal=cat["biogenic_removal"], total=f.total / divide_by,
        excluding_biogenic=cat["fossil"] + cat["aircraft"] + cat["dluc"]
        + cat["land_management"])


def _not_negative(where: str, value: float) -> str:
    if value < 0:
        raise PactError(where, f"is negative ({dec(value)} kg CO2e); PACT allows only zero "
                        "or more here")
    return dec(value)


def _common_checks(f: FootprintIn) -> tuple[date, date]:
    if f.boundary != "cradle_to_gate":
        raise PactError("boundary", "PACT exchanges cradle-to-gate footprints; this study's "
                        "boundary is " + f.boundary.replace("_", "-"))
    if f.period_start is None:
        raise PactError("period_start", "PACT needs the reference period's start")
    if f.period_end is None:
        raise PactError("period_end", "PACT needs the reference period's end")
    if f.basis not in ("AR5", "AR6"):
        raise PactError("basis", f"unknown GWP basis {f.basis!r}")
    if not f.product_ids or not f.company_ids:
        raise PactError("product_ids", "PACT needs at least one product and company URN")
    # PACT's end is exclusive; a model's period end is the last day it covers.
    return f.period_start, f.period_end + timedelta(days=1)


def _validity(f: FootprintIn, ref_end: date) -> dict[str, str]:
    """The certificate's validity, kept inside what PACT allows (from the reference period's
    end to three years after it); none if nothing of it is left."""
    if f.valid_from is None and f.valid_until is None:
        return {}
    start = max(f.valid_from or ref_end, ref_end)
    end = min(f.valid_until + timedelta(days=1) if f.valid_until else add_years(ref_end, 3),
              add_years(ref_end, 3))
    if end <= start:
        return {}
    return {"validityPeriodStart": _instant(start), "validityPeriodEnd": _instant(end)}


def _comment(f: FootprintIn, extra: str = "") -> str:
    notes = [f.comment.strip(),
             "Computed with TICHub. Fossil and biogenic carbon contents are not assessed "
             "and are reported as 0."]
    if not geography_fields(f.geography) and f.geography.strip():
        notes.append(f"Geography as stated: {f.geography.strip()}.")
    if f.assurance and f.assurance.certificate_number:
        notes.append(f"Carbon label certificate {f.assurance.certificate_number}.")
    return " ".join(n for n in [*notes, extra] if n)


def _boundary_text(f: FootprintIn) -> str:
    text = "Cradle-to-gate (raw material acquisition and production)."
    return f"{text} {f.processes.strip()}" if f.processes.strip() else text


def _header(f: FootprintIn, spec: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": f.pf_id, "specVersion": spec, "created": _stamp(f.created), "status": f.status,
        "companyName": f.company_name, "companyIds": list(dict.fromkeys(f.company_ids)),
        "productDescription": f.product_description or f.product_name,
        "productIds": list(dict.fromkeys(f.product_ids)),
        "productNameCompany": f.product_name,
    }
    if f.preceding:
        doc["precedingPfIds"] = list(dict.fromkeys(f.preceding))
    if f.classifications:
        doc["productClassifications"] = list(dict.fromkeys(f.classifications))
    return doc


def footprint_v2(f: FootprintIn) -> dict[str, Any]:
    """The study as a v2.3 ProductFootprint."""
    ref_start, ref_end = _common_checks(f)
    extra = ""
    try:
        unit, per = pact_unit(f.declared_unit, V2_UNITS)
        amount = f.declared_amount * per
        mass_per_unit = f.mass_kg / amount if f.mass_kg is not None else None
        if unit == "kilogram":
            mass_per_unit = 1.0
    except PactError:
        if not _counts_pieces(f.declared_unit):
            raise
        # v2 has no piece: per kilogram of product, through the product's mass.
        if not f.mass_kg:
            raise PactError("mass_kg", "PACT v2 has no 'piece' unit: give the product's "
                            "mass per declared unit to state the footprint per kilogram"
                            ) from None
        unit, amount, mass_per_unit = "kilogram", f.mass_kg, 1.0
        extra = (f"Computed per {dec(f.declared_amount)} {f.declared_unit}; stated per "
                 f"kilogram through the product mass of {dec(f.mass_kg)} kg.")
    p = _parts(f, amount)
    pcf: dict[str, Any] = {
        "declaredUnit": unit,
        "unitaryProductAmount": dec(amount),
        "pCfExcludingBiogenic": _not_negative("pcf.pCfExcludingBiogenic",
                                              p.excluding_biogenic),
        "pCfIncludingBiogenic": dec(p.total),
        "fossilGhgEmissions": _not_negative("pcf.fossilGhgEmissions", p.fossil),
        "fossilCarbonContent": "0",
        "biogenicCarbonContent": "0",
        "dLucGhgEmissions": _not_negative("pcf.dLucGhgEmissions", p.dluc),
        "otherBiogenicGhgEmissions": _not_negative("pcf.otherBiogenicGhgEmissions",
                                                   p.biogenic),
        "biogenicCarbonWithdrawal": dec(min(p.removal, 0.0)),
        "aircraftGhgEmissions": _not_negative("pcf.aircraftGhgEmissions", p.aircraft),
        "characterizationFactors": f.basis,
        "ipccCharacterizationFactorsSources": [f.basis],
        "crossSectoralStandardsUsed": STANDARDS_V2_USED.get(f.standard,
                                                            ["ISO Standard 14067"]),
        "crossSectoralStandards": STANDARDS.get(f.standard, ["PACT-2.0"]),
        "boundaryProcessesDescription": _boundary_text(f),
        "referencePeriodStart": _instant(ref_start),
        "referencePeriodEnd": _instant(ref_end),
        **geography_fields(f.geography),
        "exemptedEmissionsPercent": 0,
        "exemptedEmissionsDescription": f.cut_off.strip(),
        "packagingEmissionsIncluded": False,
    }
    if p.removal > 0:
        raise PactError("pcf.biogenicCarbonWithdrawal", "biogenic removals are positive")
    # v2's landManagementGhgEmissions is zero or more; a net removal stays in the totals.
    if p.land_management >= 0:
        pcf["landManagementGhgEmissions"] = dec(p.land_management)
    if mass_per_unit is not None:
        pcf["productMassPerDeclaredUnit"] = dec(mass_per_unit)
    if f.primary_share is not None:
        pcf["primaryDataShare"] = round(100 * f.primary_share, 6)
    if f.quality is not None and f.quality.coverage > 0:
        q = f.quality

        def v2_scale(score: float) -> float:
            return round(1 + (min(max(score, 1.0), 5.0) - 1) / 2, 4)

        pcf["dqi"] = {"coveragePercent": round(100 * min(q.coverage, 1.0), 4),
                      "technologicalDQR": v2_scale(q.technological),
                      "temporalDQR": v2_scale(q.temporal),
                      "geographicalDQR": v2_scale(q.geographical),
                      "completenessDQR": v2_scale(q.completeness),
                      "reliabilityDQR": v2_scale(q.reliability)}
    if f.assurance is not None:
        a = f.assurance
        pcf["assurance"] = {"assurance": True, "coverage": "product level",
                            "boundary": "Cradle-to-Gate", "providerName": a.provider_name,
                            "standardName": a.standard_name,
                            **({"completedAt": _stamp(a.completed_at)}
                               if a.completed_at else {}),
                            **({"comments": f"Carbon label certificate "
                                            f"{a.certificate_number}"}
                               if a.certificate_number else {})}
    doc = _header(f, SPEC_V2)
    doc.update(version=1, comment=_comment(f, extra), productCategoryCpc=f.cpc or "unknown",
               pcf=pcf, **_validity(f, ref_end))
    return doc


def footprint_v3(f: FootprintIn) -> dict[str, Any]:
    """The study as a v3.0 ProductFootprint."""
    ref_start, ref_end = _common_checks(f)
    unit, per = pact_unit(f.declared_unit, V3_UNITS)
    amount = f.declared_amount * per
    if unit == "kilogram":
        mass = amount
    elif unit in MASS_UNITS:
        if not f.mass_kg:
            raise PactError("mass_kg", f"PACT v3 requires the product's mass per declared "
                            f"unit when the unit is {unit}")
        mass = f.mass_kg
    else:
        mass = 0.0  # energy, transport, time: PACT says 0
    p = _parts(f, 1.0)
    excluding_uptake = p.total - p.removal
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": unit,
        "declaredUnitAmount": dec(amount),
        "productMassPerDeclaredUnit": dec(mass),
        "referencePeriodStart": _instant(ref_start),
        "referencePeriodEnd": _instant(ref_end),
        **geography_fields(f.geography),
        "boundaryProcessesDescription": _boundary_text(f),
        "pcfExcludingBiogenicUptake": dec(excluding_uptake),
        "pcfIncludingBiogenicUptake": dec(p.total),
        "fossilCarbonContent": "0",
        "fossilGhgEmissions": _not_negative("pcf.fossilGhgEmissions", p.fossil),
        "landUseChangeGhgEmissions": _not_negative("pcf.landUseChangeGhgEmissions", p.dluc),
        "biogenicCO2Uptake": dec(min(p.removal, 0.0)),
        "aircraftGhgEmissions": _not_negative("pcf.aircraftGhgEmissions", p.aircraft),
        "ipccCharacterizationFactors": [f.basis],
        "crossSectoralStandards": STANDARDS.get(f.standard, ["PACT-3.0"]),
        "exemptedEmissionsPercent": "0",
        "exemptedEmissionsDescription": f.cut_off.strip(),
    }
    if p.removal > 0:
        raise PactError("pcf.biogenicCO2Uptake", "biogenic removals are positive")
    if p.land_management > 0:
        pcf["landManagementBiogenicCO2Emissions"] = dec(p.land_management)
    elif p.land_management < 0:
        pcf["landManagementBiogenicCO2Removals"] = dec(p.land_management)
    if f.primary_share is not None:
        pcf["primaryDataShare"] = dec(round(100 * f.primary_share, 6))
    if f.quality is not None and f.quality.coverage > 0:
        q = f.quality
        pcf["dqi"] = {name: dec(round(min(max(score, 1.0), 5.0), 4)) for name, score in (
            ("technologicalDQR", q.technological), ("geographicalDQR", q.geographical),
            ("temporalDQR", q.temporal))}
    if f.assurance is not None:
        a = f.assurance
        pcf["verification"] = {"coverage": "product level", "providerName": a.provider_name,
                               "standardName": a.standard_name,
                               **({"completedAt": _stamp(a.completed_at)}
                                  if a.completed_at else {}),
                               **({"comments": f"Carbon label certificate "
                                               f"{a.certificate_number}"}
                                  if a.certificate_number else {})}
    doc = _header(f, SPEC_V3)
    doc.update(comment=_comment(f), pcf=pcf, **_validity(f, ref_end))
    return doc


def footprint(f: FootprintIn, version: str) -> dict[str, Any]:
    return footprint_v3(f) if version == "3" else footprint_v2(f)


# --- reading ------------------------------------------------------------------------------

# Spellings seen in the wild, onto PACT's unit names.
_UNIT_WORDS = {
    "kilogram": "kilogram", "kilograms": "kilogram", "kg": "kilogram",
    "liter": "liter", "litre": "liter", "liters": "liter", "litres": "liter", "l": "liter",
    "cubic meter": "cubic meter", "cubic metre": "cubic meter", "m3": "cubic meter",
    "kilowatt hour": "kilowatt hour", "kwh": "kilowatt hour",
    "megajoule": "megajoule", "mj": "megajoule",
    "ton kilometer": "ton kilometer", "tonne kilometer": "ton kilometer",
    "tonne kilometre": "ton kilometer", "tkm": "ton kilometer", "t*km": "ton kilometer",
    "square meter": "square meter", "square metre": "square meter", "m2": "square meter",
    "piece": "piece", "pieces": "piece", "pcs": "piece", "hour": "hour", "h": "hour",
}


@dataclass(frozen=True)
class PactSummary:
    """What TICHub uses of a received ProductFootprint. Amounts are kg CO2e per *one* unit
    (``unit``), whatever the version stated them per."""

    spec: str  # "2" or "3"
    spec_version: str
    id: str
    company_name: str
    company_ids: list[str]
    product_ids: list[str]
    product_name: str
    unit: str  # a TICHub unit: kg, L, m3, kWh, MJ, t*km, m2, piece, h
    declared_amount: float  # how many units the supplier's declared unit holds
    pcf_including: float
    pcf_excluding: float  # as the version defines it (v2: without biogenic; v3: uptake)
    fossil: float
    dluc: float
    land_management: float
    biogenic: float  # emissions: the rest of the total, once the parts above are taken
    biogenic_removal: float
    mass_kg: float | None  # per unit
    period_start: datetime | None
    period_end: datetime | None
    geography: str
    basis: list[str] = field(default_factory=list)
    status: str = "Active"
    verified: bool = False
    verifier: str = ""


def _number(pcf: Mapping[str, Any], name: str, *, required: bool = False,
            where: str = "pcf") -> float | None:
    raw = pcf.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise PactError(f"{where}.{name}", "missing")
        return None
    if isinstance(raw, bool):
        raise PactError(f"{where}.{name}", f"{raw!r} is not a number")
    try:
        value = float(Decimal(str(raw).strip().replace(" ", "")))
    except (InvalidOperation, ValueError):
        raise PactError(f"{where}.{name}", f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise PactError(f"{where}.{name}", f"{raw!r} is not a finite number")
    return value


def _first_number(pcf: Mapping[str, Any], names: Sequence[str], required: bool = False
                  ) -> float | None:
    for name in names:
        value = _number(pcf, name)
        if value is not None:
            return value
    if required:
        raise PactError(f"pcf.{names[0]}", "missing")
    return None


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise PactError(where, "expected a list of strings")


def parse_instant(raw: Any, where: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise PactError(where, f"{raw!r} is not a date-time")
    text = raw.strip().replace("z", "Z")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PactError(where, f"{raw!r} is not a date-time (RFC 3339)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _unit(pcf: Mapping[str, Any], names: Sequence[str]) -> str:
    raw = next((pcf[n] for n in names if pcf.get(n)), None)
    if raw is None:
        raise PactError(f"pcf.{names[0]}", "missing")
    word = _UNIT_WORDS.get(str(raw).strip().lower())
    if word is None:
        raise PactError(f"pcf.{names[0]}", f"{raw!r} is not a declared unit TICHub can "
                        "use (" + ", ".join(V3_UNITS) + ")")
    return PACT_UNITS[word]


def read_footprint(doc: Any) -> PactSummary:
    """Reads a v2 or v3 ProductFootprint (or a GetFootprint answer holding one), tolerant of
    numbers written as numbers, missing optional parts and wrong-case units; refuses, naming
    the field, what it cannot use."""
    if isinstance(doc, Mapping) and "data" in doc and "pcf" not in doc:
        data = doc["data"]
        if isinstance(data, list):
            if len(data) != 1:
                raise PactError("data", f"holds {len(data)} footprints; give one at a time")
            data = data[0]
        doc = data
    if not isinstance(doc, Mapping):
        raise PactError("document", "a ProductFootprint is a JSON object")
    pcf = doc.get("pcf")
    if not isinstance(pcf, Mapping):
        raise PactError("pcf", "missing: the footprint itself")
    spec_version = str(doc.get("specVersion") or "").strip()
    major = spec_version.split(".")[0]
    if major not in ("1", "2", "3"):
        major = "3" if "declaredUnitOfMeasurement" in pcf else "2"
    spec = "3" if major == "3" else "2"
    pf_id = doc.get("id")
    if not isinstance(pf_id, str) or not pf_id.strip():
        raise PactError("id", "missing")
    company = doc.get("companyName")
    if not isinstance(company, str) or not company.strip():
        raise PactError("companyName", "missing")
    product_ids = _strings(doc.get("productIds"), "productIds")
    product_name = next((str(doc[k]).strip() for k in (
        "productNameCompany", "productDescription") if isinstance(doc.get(k), str)
        and doc[k].strip()), pf_id)
    if spec == "3":
        unit = _unit(pcf, ("declaredUnitOfMeasurement", "declaredUnit"))
        amount = _first_number(pcf, ("declaredUnitAmount", "unitaryProductAmount"),
                               required=True)
    else:
        unit = _unit(pcf, ("declaredUnit", "declaredUnitOfMeasurement"))
        amount = _first_number(pcf, ("unitaryProductAmount", "declaredUnitAmount")) or 1.0
    assert amount is not None
    if amount <= 0:
        raise PactError("pcf.declaredUnitAmount" if spec == "3"
                        else "pcf.unitaryProductAmount", "must be more than 0")
    # v3 states amounts per declared unit (amount × unit); v2 per one unit.
    per = amount if spec == "3" else 1.0

    def get(*names: str, required: bool = False) -> float | None:
        value = _first_number(pcf, names, required=required)
        return None if value is None else value / per

    fossil = get("fossilGhgEmissions", required=True) or 0.0
    if spec == "3":
        dluc = get("landUseChangeGhgEmissions", "dLucGhgEmissions") or 0.0
        land = (get("landManagementBiogenicCO2Emissions") or 0.0) + (
            get("landManagementBiogenicCO2Removals") or 0.0)
        # Sloppy senders write the uptake as a positive number; it is a removal.
        removal = -abs(get("biogenicCO2Uptake", "biogenicCarbonWithdrawal") or 0.0)
        excluding = get("pcfExcludingBiogenicUptake", "pCfExcludingBiogenic")
        including = get("pcfIncludingBiogenicUptake", "pCfIncludingBiogenic")
        if including is None:
            if excluding is None:
                raise PactError("pcf.pcfIncludingBiogenicUptake", "missing")
            including = excluding + removal
    else:
        dluc = get("dLucGhgEmissions", "landUseChangeGhgEmissions") or 0.0
        land = get("landManagementGhgEmissions") or 0.0
        removal = -abs(get("biogenicCarbonWithdrawal", "biogenicCO2Uptake") or 0.0)
        excluding = get("pCfExcludingBiogenic", "pcfExcludingBiogenicUptake", required=True)
        including = get("pCfIncludingBiogenic", "pcfIncludingBiogenicUptake")
        if including is None:
            assert excluding is not None
            including = excluding + (get("otherBiogenicGhgEmissions") or 0.0) + removal
    mass = _number(pcf, "productMassPerDeclaredUnit")
    geography = next((str(pcf[k]).strip() for k in (
        "geographyCountrySubdivision", "geographyCountry", "geographyRegionOrSubregion")
        if isinstance(pcf.get(k), str) and pcf[k].strip()), "")
    basis = _strings(pcf.get("ipccCharacterizationFactors"), "pcf.ipccCharacterizationFactors"
                     ) or _strings(pcf.get("ipccCharacterizationFactorsSources"),
                                   "pcf.ipccCharacterizationFactorsSources") or _strings(
        pcf.get("characterizationFactors"), "pcf.characterizationFactors")
    check = pcf.get("verification") or pcf.get("assurance")
    verified = isinstance(check, Mapping) and check.get("assurance", True) is not False
    return PactSummary(
        spec=spec, spec_version=spec_version, id=pf_id.strip(), company_name=company.strip(),
        company_ids=_strings(doc.get("companyIds"), "companyIds"), product_ids=product_ids,
        product_name=product_name, unit=unit, declared_amount=amount,
        pcf_including=including, pcf_excluding=excluding if excluding is not None
        else including - removal, fossil=fossil, dluc=dluc, land_management=land,
        biogenic=including - fossil - dluc - land - removal, biogenic_removal=removal,
        mass_kg=None if mass is None else mass / per,
        period_start=parse_instant(pcf.get("referencePeriodStart"),
                                   "pcf.referencePeriodStart"),
        period_end=parse_instant(pcf.get("referencePeriodEnd"), "pcf.referencePeriodEnd"),
        geography=geography, basis=[b.upper() for b in basis],
        status=str(doc.get("status") or "Active"), verified=verified,
        verifier=str(check.get("providerName") or "") if isinstance(check, Mapping) else "")
