"""PACT ProductFootprint documents without a database: what TICHub writes validates
against the PACT conformance tool's schemas (vendored under tests/data/pact, MIT) and
keeps the specification's rules those schemas do not check; what suppliers send, tidy or
sloppy, is read back per one unit.

The specification's own example footprints may not be copied into this repository (see
tests/data/pact/README.md); the examples below are written here, with our own values, in
the shape of the specification's examples.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tichub.carbon import pact
from tichub.carbon.pact import Assurance, DataQuality, FootprintIn, PactError

DATA = Path(__file__).parent / "data" / "pact"


def validator(version: str) -> jsonschema.Draft7Validator:
    name = {"2": "conformance-v2.3-list-response.schema.json",
            "3": "conformance-v3.0-list-response.schema.json"}[version]
    schema = json.loads((DATA / name).read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def conformance_errors(doc: dict[str, Any], version: str) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(version).iter_errors({"data": [doc]})]


def spec_rules(doc: dict[str, Any], version: str) -> None:
    """What the specification says and the conformance schemas leave unchecked: UUIDs and
    RFC 3339 instants (the schemas name the formats; jsonschema checks date-time only with
    an extra package), v3's DQRs as decimal strings from 1 to 5 (the v3 schema does not
    link its DataQualityIndicators), at most one geography field, the validity window."""
    uuid.UUID(doc["id"])
    pcf = doc["pcf"]
    instants = [doc["created"], pcf["referencePeriodStart"], pcf["referencePeriodEnd"]]
    instants += [doc[k] for k in ("validityPeriodStart", "validityPeriodEnd") if k in doc]
    check = pcf.get("verification") or pcf.get("assurance") or {}
    instants += [check["completedAt"]] if "completedAt" in check else []
    for text in instants:
        assert text.endswith("Z") and datetime.fromisoformat(text).tzinfo is not None
    assert sum(k in pcf for k in ("geographyRegionOrSubregion", "geographyCountry",
                                  "geographyCountrySubdivision")) <= 1
    if version == "3" and "dqi" in pcf:
        assert set(pcf["dqi"]) == {"technologicalDQR", "geographicalDQR", "temporalDQR"}
        assert all(1 <= float(v) <= 5 and isinstance(v, str) for v in pcf["dqi"].values())
    if version == "3" and "verification" in pcf:
        assert pcf["verification"]["coverage"] in ("PCF calculation model", "PCF program",
                                                   "product level")
        assert pcf["verification"]["providerName"]
    if "validityPeriodStart" in doc:
        start = datetime.fromisoformat(doc["validityPeriodStart"])
        end = datetime.fromisoformat(doc["validityPeriodEnd"])
        ref_end = datetime.fromisoformat(pcf["referencePeriodEnd"])
        assert ref_end <= start < end <= ref_end.replace(year=ref_end.year + 3)


# A motor, one piece of 25 kg: 43.5 kg CO2e fossil, 0.4 biogenic, −3.0 biogenic uptake.
MOTOR = FootprintIn(
    pf_id="5b0e4c8e-2f0a-4d7e-9a51-3c2d1e0f9a87",
    created=datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
    company_name="上海某电机有限公司", company_ids=["urn:pact:tichub.example:company-id:A1"],
    product_name="YE3 motor", product_ids=["urn:pact:tichub.example:supplier-id:M1"],
    declared_amount=1, declared_unit="piece", mass_kg=25.0, total=40.9,
    by_category={"fossil": 43.5, "biogenic": 0.4, "biogenic_removal": -3.0, "dluc": 0.0,
                 "land_management": 0.0, "aircraft": 0.0},
    basis="AR6", boundary="cradle_to_gate", standard="GB/T 24067-2024",
    period_start=date(2025, 1, 1), period_end=date(2025, 12, 31), geography="CN",
    classifications=["urn:pact:productclassification:cn:85015100"],
    primary_share=5.5 / 40.9)


def test_v3_output_meets_the_conformance_schema_and_the_spec() -> None:
    doc = pact.footprint_v3(MOTOR)
    assert conformance_errors(doc, "3") == []
    spec_rules(doc, "3")
    pcf = doc["pcf"]
    # Per declared unit (1 piece), as the study holds it.
    assert (pcf["declaredUnitOfMeasurement"], pcf["declaredUnitAmount"],
            pcf["productMassPerDeclaredUnit"]) == ("piece", "1", "25")
    assert pcf["pcfIncludingBiogenicUptake"] == "40.9"
    assert pcf["pcfExcludingBiogenicUptake"] == "43.9"  # only the uptake is left out
    assert pcf["fossilGhgEmissions"] == "43.5" and pcf["biogenicCO2Uptake"] == "-3"
    assert pcf["referencePeriodStart"] == "2025-01-01T00:00:00Z"
    assert pcf["referencePeriodEnd"] == "2026-01-01T00:00:00Z"  # exclusive end
    assert pcf["geographyCountry"] == "CN"
    assert pcf["ipccCharacterizationFactors"] == ["AR6"]
    assert pcf["crossSectoralStandards"] == ["ISO14067"]
    assert float(pcf["primaryDataShare"]) == pytest.approx(100 * 5.5 / 40.9, abs=1e-6)
    assert "version" not in doc and doc["specVersion"] == "3.0.0"


def test_v2_output_meets_the_conformance_schema_and_states_it_per_kilogram() -> None:
    doc = pact.footprint_v2(MOTOR)
    assert conformance_errors(doc, "2") == []
    spec_rules(doc, "2")
    pcf = doc["pcf"]
    # v2 has no piece: per kilogram of the 25 kg motor, values per one kilogram.
    assert (pcf["declaredUnit"], pcf["unitaryProductAmount"]) == ("kilogram", "25")
    assert pcf["pCfExcludingBiogenic"] == "1.74"  # 43.5 / 25
    assert pcf["pCfIncludingBiogenic"] == "1.636"  # 40.9 / 25
    assert pcf["otherBiogenicGhgEmissions"] == "0.016"
    assert pcf["biogenicCarbonWithdrawal"] == "-0.12"
    assert pcf["characterizationFactors"] == "AR6"
    assert pcf["crossSectoralStandardsUsed"] == ["ISO Standard 14067"]
    assert pcf["primaryDataShare"] == pytest.approx(100 * 5.5 / 40.9)
    assert doc["version"] == 1 and "per kilogram" in doc["comment"]


def test_certified_studies_carry_the_certification_body_and_quality_ratings() -> None:
    certified = replace(
        MOTOR, assurance=Assurance("China Quality Certification Centre",
                                   datetime(2026, 2, 10, 6, 0, tzinfo=UTC), "CL-2026-0042",
                                   "GB/T 24067-2024"),
        # pedigree 1–5; v2's DQR scale is 1–3
        quality=DataQuality(coverage=0.8, technological=4, temporal=1, geographical=2,
                            completeness=3, reliability=2),
        valid_from=date(2026, 2, 10), valid_until=date(2031, 2, 9))
    v3, v2 = pact.footprint_v3(certified), pact.footprint_v2(certified)
    assert conformance_errors(v3, "3") == [] and conformance_errors(v2, "2") == []
    spec_rules(v3, "3")
    spec_rules(v2, "2")
    assert v3["pcf"]["verification"] == {
        "coverage": "product level", "providerName": "China Quality Certification Centre",
        "completedAt": "2026-02-10T06:00:00Z", "standardName": "GB/T 24067-2024",
        "comments": "Carbon label certificate CL-2026-0042"}
    assert v3["pcf"]["dqi"] == {"technologicalDQR": "4", "geographicalDQR": "2",
                                "temporalDQR": "1"}
    assert v2["pcf"]["assurance"]["assurance"] is True
    assert v2["pcf"]["assurance"]["providerName"] == "China Quality Certification Centre"
    assert v2["pcf"]["dqi"] == {"coveragePercent": 80.0, "technologicalDQR": 2.5,
                                "temporalDQR": 1.0, "geographicalDQR": 1.5,
                                "completenessDQR": 2.0, "reliabilityDQR": 1.5}
    # The certificate runs to 2031, PACT's validity at most 3 years past the reference
    # period's end (2026-01-01).
    assert (v3["validityPeriodStart"], v3["validityPeriodEnd"]) == (
        "2026-02-10T00:00:00Z", "2029-01-01T00:00:00Z")


@pytest.mark.parametrize(("unit", "amount", "v3_unit", "v3_amount", "v2_per"), [
    ("t", 1, "kilogram", "1000", 1000),
    ("kg", 50, "kilogram", "50", 50),
    ("GJ", 2, "megajoule", "2000", 2000),
    ("MWh", 1, "kilowatt hour", "1000", 1000),
    ("mL", 500, "liter", "0.5", 0.5),
    ("m3", 3, "cubic meter", "3", 3),
    ("t*km", 10, "ton kilometer", "10", 10),
    ("m2", 4, "square meter", "4", 4),
])
def test_declared_units_map_to_pact_units(unit: str, amount: float, v3_unit: str,
                                          v3_amount: str, v2_per: float) -> None:
    f = replace(MOTOR, declared_unit=unit, declared_amount=amount, mass_kg=12.5)
    v3 = pact.footprint_v3(f)
    assert (v3["pcf"]["declaredUnitOfMeasurement"], v3["pcf"]["declaredUnitAmount"]) == (
        v3_unit, v3_amount)
    assert v3["pcf"]["pcfIncludingBiogenicUptake"] == "40.9"
    v2 = pact.footprint_v2(f)
    assert v2["pcf"]["declaredUnit"] == v3_unit
    assert float(v2["pcf"]["pCfIncludingBiogenic"]) == pytest.approx(40.9 / v2_per)
    assert conformance_errors(v3, "3") == [] and conformance_errors(v2, "2") == []
    mass = v3["pcf"]["productMassPerDeclaredUnit"]
    if v3_unit == "kilogram":
        assert mass == v3_amount  # a kilogram of product weighs a kilogram
    elif v3_unit in ("megajoule", "kilowatt hour", "ton kilometer"):
        assert mass == "0"  # the spec's rule for energy and transport
    else:
        assert mass == "12.5"


def test_what_a_version_cannot_say_is_refused_with_the_field_at_fault() -> None:
    with pytest.raises(PactError) as no_mass:
        pact.footprint_v2(replace(MOTOR, mass_kg=None))
    assert no_mass.value.where == "mass_kg"
    with pytest.raises(PactError) as no_mass3:
        pact.footprint_v3(replace(MOTOR, mass_kg=None))
    assert no_mass3.value.where == "mass_kg"
    hours = replace(MOTOR, declared_unit="h", mass_kg=None)
    assert pact.footprint_v3(hours)["pcf"]["declaredUnitOfMeasurement"] == "hour"
    with pytest.raises(PactError) as no_hour:
        pact.footprint_v2(hours)
    assert no_hour.value.where == "declared_unit"
    with pytest.raises(PactError) as length:
        pact.footprint_v3(replace(MOTOR, declared_unit="m"))
    assert length.value.where == "declared_unit"
    with pytest.raises(PactError) as grave:
        pact.footprint_v3(replace(MOTOR, boundary="cradle_to_grave"))
    assert grave.value.where == "boundary"
    with pytest.raises(PactError) as period:
        pact.footprint_v2(replace(MOTOR, period_start=None))
    assert period.value.where == "period_start"
    credit = replace(MOTOR, by_category={"fossil": -2.0, "biogenic": 0.0}, total=-2.0)
    with pytest.raises(PactError) as negative:
        pact.footprint_v2(credit)
    assert negative.value.where == "pcf.pCfExcludingBiogenic"


def test_geography_goes_to_the_one_field_it_fits() -> None:
    assert pact.geography_fields("cn") == {"geographyCountry": "CN"}
    assert pact.geography_fields("CN-SH") == {"geographyCountrySubdivision": "CN-SH"}
    assert pact.geography_fields("eastern asia") == {"geographyRegionOrSubregion":
                                                     "Eastern Asia"}
    assert pact.geography_fields("上海") == {}
    doc = pact.footprint_v3(replace(MOTOR, geography="上海"))
    assert "Geography as stated: 上海." in doc["comment"]
    assert conformance_errors(doc, "3") == []


def test_decimals_are_written_without_exponents_or_binary_noise() -> None:
    assert pact.dec(0.1 + 0.2) == "0.3"
    assert pact.dec(1e-20) == "0.00000000000000000001"
    assert pact.dec(-0.0) == "0"
    assert pact.dec(1234567.0) == "1234567"
    assert pact.dec(-3.25) == "-3.25"


# --- reading: documents written here in the shape of the specification's examples ----------

V3_EXAMPLE = {
    "id": "0c4f5a27-9d1e-4b2a-8f3c-6e5d4c3b2a19",
    "specVersion": "3.0.0",
    "created": "2025-06-01T00:00:00Z",
    "status": "Active",
    "companyName": "Example Solvents GmbH",
    "companyIds": ["urn:uuid:6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
                   "urn:epc:id:sgln:4012345.00000.0"],
    "productDescription": "Bio-based solvent, 12 litre drum",
    "productIds": ["urn:gtin:4012345000011"],
    "productClassifications": ["urn:pact:productclassification:un-cpc:3451"],
    "productNameCompany": "Solvent S-12",
    "pcf": {
        "declaredUnitOfMeasurement": "liter",
        "declaredUnitAmount": "12",
        "productMassPerDeclaredUnit": "10.2",
        "referencePeriodStart": "2024-01-01T00:00:00Z",
        "referencePeriodEnd": "2025-01-01T00:00:00Z",
        "geographyRegionOrSubregion": "Western Europe",
        "geographyCountry": "DE",
        "geographyCountrySubdivision": "DE-BW",
        "pcfExcludingBiogenicUptake": "30.0",
        "pcfIncludingBiogenicUptake": "24.6",
        "fossilGhgEmissions": "25.2",
        "fossilCarbonContent": "1.2",
        "biogenicCarbonContent": "1.5",
        "landUseChangeGhgEmissions": "1.8",
        "landManagementBiogenicCO2Emissions": "0.6",
        "landManagementBiogenicCO2Removals": "-0.24",
        "biogenicCO2Uptake": "-5.4",
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["ISO14067", "PACT-3.0"],
        "exemptedEmissionsPercent": "0.5",
        "primaryDataShare": "56.1",
        "dqi": {"technologicalDQR": "2.0", "geographicalDQR": "2.0", "temporalDQR": "1.5"},
        "verification": {"coverage": "PCF program", "providerName": "An Auditor",
                         "completedAt": "2025-05-02T00:00:00Z", "standardName": "ISO 14064-3"},
    },
}


def test_a_v3_footprint_is_read_per_one_unit() -> None:
    s = pact.read_footprint(V3_EXAMPLE)
    assert (s.spec, s.spec_version, s.id) == ("3", "3.0.0", V3_EXAMPLE["id"])
    assert s.company_name == "Example Solvents GmbH" and s.product_name == "Solvent S-12"
    assert s.product_ids == ["urn:gtin:4012345000011"]
    # The declared unit is 12 L: per litre, each figure is a twelfth.
    assert (s.unit, s.declared_amount) == ("L", 12.0)
    assert s.pcf_including == pytest.approx(2.05)
    assert s.pcf_excluding == pytest.approx(2.5)
    assert s.fossil == pytest.approx(2.1)
    assert s.dluc == pytest.approx(0.15)
    assert s.land_management == pytest.approx(0.03)  # (0.6 − 0.24) / 12
    assert s.biogenic_removal == pytest.approx(-0.45)
    # The rest of the total: 2.05 − 2.1 − 0.15 − 0.03 + 0.45
    assert s.biogenic == pytest.approx(0.22)
    assert s.mass_kg == pytest.approx(0.85)
    assert s.geography == "DE-BW"  # the most precise of the three it gives
    assert s.period_start == datetime(2024, 1, 1, tzinfo=UTC)
    assert s.basis == ["AR6"] and s.verified and s.verifier == "An Auditor"


# A v2.0 answer of the kind seen in the wild: numbers as JSON numbers, a unit in capitals,
# DQRs as strings, no pCfIncludingBiogenic, a spurious object, wrapped in GetFootprint's
# {"data": ...}.
V2_SLOPPY = {"data": {
    "id": "d9be4477-e351-45b3-acd9-e1da05e6f633",
    "specVersion": "2.0.0",
    "version": 0,
    "created": "2024-03-01T10:00:00Z",
    "status": "Active",
    "companyName": "Example Chemicals Ltd",
    "companyIds": "urn:pathfinder:company:customcode:vendor-assigned:4321",
    "productDescription": "Industrial ethanol",
    "productIds": ["urn:pathfinder:product:customcode:vendor-assigned:1234"],
    "productCategoryCpc": "3342",
    "productNameCompany": "Ethanol 96",
    "comment": "",
    "pcf": {
        "declaredUnit": "Kilogram",
        "unitaryProductAmount": 1000,
        "pCfExcludingBiogenic": 1.63,
        "fossilGhgEmissions": "1.5",
        "fossilCarbonContent": "0.1",
        "biogenicCarbonContent": "0.4",
        "dLucGhgEmissions": 0.13,
        "otherBiogenicGhgEmissions": "0.02",
        "biogenicCarbonWithdrawal": "1.47",  # sign forgotten
        "characterizationFactors": "AR5",
        "crossSectoralStandardsUsed": ["GHG Protocol Product standard"],
        "referencePeriodStart": "2023-01-01",
        "referencePeriodEnd": "2024-01-01T00:00:00Z",
        "geographyCountry": "FR",
        "geographicScope": {"geographyCountry": "FR"},
        "dqi": {"coveragePercent": 80, "technologicalDQR": "2.0"},
        "exemptedEmissionsPercent": 1,
        "packagingEmissionsIncluded": True,
    }}}


def test_a_sloppy_v2_footprint_is_read_and_its_removal_keeps_its_sign() -> None:
    s = pact.read_footprint(V2_SLOPPY)
    assert (s.spec, s.unit, s.declared_amount) == ("2", "kg", 1000.0)
    assert s.company_ids == ["urn:pathfinder:company:customcode:vendor-assigned:4321"]
    # v2 states figures per one kilogram already.
    assert s.pcf_excluding == pytest.approx(1.63)
    assert s.biogenic_removal == pytest.approx(-1.47)
    # Without pCfIncludingBiogenic: 1.63 + 0.02 − 1.47
    assert s.pcf_including == pytest.approx(0.18)
    assert s.fossil + s.dluc + s.land_management + s.biogenic + s.biogenic_removal == \
        pytest.approx(s.pcf_including)
    assert s.basis == ["AR5"] and not s.verified
    assert s.period_start == datetime(2023, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("change", "where"), [
    (lambda d: d.pop("pcf"), "pcf"),
    (lambda d: d.pop("id"), "id"),
    (lambda d: d.pop("companyName"), "companyName"),
    (lambda d: d["pcf"].update(declaredUnitOfMeasurement="barrel"),
     "pcf.declaredUnitOfMeasurement"),
    (lambda d: d["pcf"].pop("declaredUnitAmount"), "pcf.declaredUnitAmount"),
    (lambda d: d["pcf"].update(declaredUnitAmount="0"), "pcf.declaredUnitAmount"),
    (lambda d: d["pcf"].update(fossilGhgEmissions="lots"), "pcf.fossilGhgEmissions"),
    (lambda d: d["pcf"].pop("fossilGhgEmissions"), "pcf.fossilGhgEmissions"),
    (lambda d: d["pcf"].update(referencePeriodEnd="next year"), "pcf.referencePeriodEnd"),
    (lambda d: d.update(productIds=[1, 2]), "productIds"),
])
def test_what_cannot_be_used_is_named(change: Any, where: str) -> None:
    doc = json.loads(json.dumps(V3_EXAMPLE))
    change(doc)
    with pytest.raises(PactError) as err:
        pact.read_footprint(doc)
    assert err.value.where == where


def test_a_list_answer_with_several_footprints_is_refused() -> None:
    with pytest.raises(PactError) as err:
        pact.read_footprint({"data": [V3_EXAMPLE, V3_EXAMPLE]})
    assert err.value.where == "data"


@pytest.mark.parametrize("version", ["2", "3"])
def test_what_tichub_writes_it_reads_back(version: str) -> None:
    s = pact.read_footprint(pact.footprint(MOTOR, version))
    per = 25.0 if version == "2" else 1.0  # v2: per kilogram of the 25 kg motor
    assert s.unit == ("kg" if version == "2" else "piece")
    assert s.pcf_including == pytest.approx(40.9 / per)
    assert s.fossil == pytest.approx(43.5 / per)
    assert s.biogenic == pytest.approx(0.4 / per)
    assert s.biogenic_removal == pytest.approx(-3.0 / per)
    assert s.geography == "CN" and s.basis == ["AR6"]


def test_the_vendored_schemas_do_catch_faults() -> None:
    """A guard against a validator that passes everything."""
    doc = pact.footprint_v3(MOTOR)
    doc["pcf"]["declaredUnitOfMeasurement"] = "gallon"
    doc["pcf"]["geographyRegionOrSubregion"] = "Eastern Asia"  # a second geography field
    del doc["companyName"]
    assert len(conformance_errors(doc, "3")) == 3
    v2 = pact.footprint_v2(MOTOR)
    v2["pcf"]["exemptedEmissionsPercent"] = 6  # v2 caps it at 5
    v2["productIds"] = ["GTIN 4012345000011"]  # not a URN
    assert len(conformance_errors(v2, "2")) == 2
