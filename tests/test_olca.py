"""openLCA JSON-LD packages (carbon/olca.py, olca_service.py, olca_api.py): a model out and
back in gives the footprint worked out by hand; a package shaped like openLCA's own comes
in as a model; what cannot be read is named. Figures are worked out in the comments."""

from __future__ import annotations

import copy
import io
import math
import zipfile
from pathlib import Path
from typing import Any

import olca_schema as o
import pytest
from olca_schema import units as ou
from olca_schema import zipio

from helpers import api_token, make_account
from tichub.carbon import footprint as fp
from tichub.carbon import gwp, olca
from tichub.carbon.footprint import Factor, GasAmount
from tichub.carbon.service import _core_model
from tichub.carbon.uncertainty import Uncertainty
from tichub.core import units
from tichub.core.models import OrgKind

MOTOR, STATOR = "M" * 26, "S" * 26


def co2e(key: str, unit: str, value: float) -> Factor:
    return Factor(key=key, version=1, unit=unit, gases=(GasAmount("CO2e", "fossil", value),),
                  basis="AR6")


# IPCC 2006 vol. 2, ch. 2, table 2.3: natural gas 56,100 kg CO2, 1 kg CH4, 0.1 kg N2O per TJ.
NATURAL_GAS = Factor(key="ng", version=3, unit="GJ", gases=(
    GasAmount("CO2", "fossil", 56.1), GasAmount("CH4-fossil", "fossil", 0.001),
    GasAmount("N2O", "fossil", 0.0001)))
# Wood: 1.6 kg CO2 taken up, 0.2 kg given back, 0.3 kg CO2e from land-use change, per kg.
WOOD = Factor(key="wood", version=2, unit="kg", basis="AR6", gases=(
    GasAmount("CO2", "biogenic_removal", -1.6), GasAmount("CO2", "biogenic", 0.2),
    GasAmount("CO2e", "dluc", 0.3)), uncertainty=Uncertainty("lognormal", gsd=1.3))
FACTORS = {f.key: f for f in (co2e("elec", "kWh", 0.5), co2e("steel", "kg", 2.0),
                              co2e("copper", "kg", 4.0), co2e("cement", "kg", 0.8),
                              NATURAL_GAS, WOOD)}


def stator() -> dict[str, Any]:
    return {"name": "Stator", "declared_amount": 1, "declared_unit": "piece",
            "reference": "winding", "boundary": "cradle_to_gate", "basis": "AR6",
            "processes": [{
                "key": "winding", "name": "Winding", "stage": "production", "output_amount": 1,
                "output_unit": "piece", "inputs": [
                    {"name": "copper wire", "amount": 3000, "unit": "g", "factor": "copper"},
                    {"name": "power", "amount": 2, "unit": "kWh", "kind": "energy",
                     "factor": "elec", "uncertainty": {"kind": "triangular", "low": 0.9,
                                                       "high": 1.2}},
                    {"name": "spool", "amount": 0.5, "unit": "kg", "factor": "wood"}]}]}


def motor(sub: str = STATOR) -> dict[str, Any]:
    return {"name": "YE3 电机", "declared_amount": 1, "declared_unit": "piece",
            "reference": "assembly", "boundary": "cradle_to_gate", "basis": "AR6",
            "processes": [
                {"key": "housing", "name": "Housing", "stage": "raw_materials",
                 "output_amount": 1, "output_unit": "piece", "inputs": [
                     {"name": "steel", "amount": 10, "unit": "kg", "factor": "steel"}]},
                {"key": "assembly", "name": "Assembly", "stage": "production",
                 "output_amount": 1, "output_unit": "piece", "allocation": "physical",
                 "output_mass_kg": 30, "coproducts": [
                     {"name": "scrap", "amount": 10, "unit": "kg", "mass_kg": 10}],
                 "inputs": [
                     {"name": "housing", "amount": 1, "unit": "piece", "process": "housing"},
                     {"name": "stator", "amount": 1, "unit": "pcs", "model": sub},
                     {"name": "power", "amount": 0.005, "unit": "MWh", "kind": "energy",
                      "factor": "elec"},
                     {"name": "gas", "amount": 100, "unit": "MJ", "kind": "energy",
                      "factor": "ng", "uncertainty": {"kind": "pedigree",
                                                      "pedigree": [2, 3, 1, 2, 4]}},
                     {"name": "leak", "amount": 10, "unit": "g", "gas": "CH4-fossil",
                      "uncertainty": {"kind": "lognormal", "gsd": 1.5}}]}]}


# Stator: 3 kg copper × 4 = 12; 2 kWh × 0.5 = 1; 0.5 kg wood: −0.8 + 0.1 biogenic, 0.15 dluc.
STATOR_TOTAL = 12 + 1 - 0.8 + 0.1 + 0.15
# 0.1 GJ of natural gas: 5.61 kg CO2 + 0.0001 kg CH4 × 29.8 + 0.00001 kg N2O × 273 (AR6)
GAS_AR6 = 5.61 + 0.0001 * 29.8 + 0.00001 * 273
# Assembly keeps 30 kg of the 40 kg it makes (10 kg scrap): three quarters of steel 20,
# the stator, 5 kWh × 0.5, the gas and 10 g of fossil methane × 29.8.
MOTOR_TOTAL = 0.75 * (20 + STATOR_TOTAL + 2.5 + GAS_AR6 + 0.01 * 29.8)


def core(models: dict[str, dict[str, Any]]) -> dict[str, fp.Model]:
    return {k: _core_model(k, m, m["processes"]) for k, m in models.items()}


def as_core(imported: olca.Imported) -> tuple[str, dict[str, fp.Model]]:
    """The imported models as the footprint takes them, each sub-assembly by a made-up id."""
    ids = {m.ref: f"{n:026d}" for n, m in enumerate(imported.models)}
    out = {}
    for m in imported.models:
        data = copy.deepcopy(m.data)
        for p in data["processes"]:
            for i in p["inputs"]:
                if i.get("model"):
                    i["model"] = ids[i["model"]]
        out[ids[m.ref]] = _core_model(ids[m.ref], data, data["processes"])
    return ids[imported.models[-1].ref], out


def test_a_two_level_motor_survives_the_round_trip(tmp_path: Path) -> None:
    models = {MOTOR: motor(), STATOR: stator()}
    before = fp.compute(MOTOR, core(models), FACTORS)
    assert before.total == pytest.approx(MOTOR_TOTAL, rel=1e-12)
    data = olca.export_zip(MOTOR, models, FACTORS, "2026-03-01T00:00:00Z")
    assert data == olca.export_zip(MOTOR, models, FACTORS, "2026-03-01T00:00:00Z")

    imported = olca.import_zip(data)
    root, back = as_core(imported)
    after = fp.compute(root, back, FACTORS)
    assert after.total == pytest.approx(MOTOR_TOTAL, rel=1e-12)
    assert after.by_category == pytest.approx(before.by_category, rel=1e-12, abs=1e-12)
    assert after.by_gas == pytest.approx(before.by_gas, rel=1e-12)
    assert after.by_stage == pytest.approx(before.by_stage, rel=1e-12)
    # Two models again, the sub-assembly first; the motor's processes and their links.
    assert [m.data["name"] for m in imported.models] == ["Stator", "YE3 电机"]
    top = imported.models[-1].data
    assert top["reference"] == "assembly" and top["basis"] == "AR6"
    assembly = next(p for p in top["processes"] if p["key"] == "assembly")
    sources = {(i.get("factor") or i.get("process") or i.get("model") or i["gas"]): i
               for i in assembly["inputs"]}
    assert set(sources) == {"housing", imported.models[0].ref, "elec", "ng", "CH4-fossil"}
    assert sources["elec"]["amount"] == 0.005 and sources["elec"]["unit"] == "MWh"
    assert sources["CH4-fossil"]["amount"] == 10 and sources["CH4-fossil"]["unit"] == "g"
    assert sources["CH4-fossil"]["uncertainty"] == {"kind": "lognormal", "gsd": 1.5}
    assert sources["ng"]["uncertainty"] == {"kind": "pedigree", "pedigree": [2, 3, 1, 2, 4],
                                            "basic": 1.05}
    assert assembly["coproducts"][0]["amount"] == 10
    # The scrap's share is a quarter, whatever the masses are called.
    assert assembly["coproducts"][0]["mass_kg"] / (
        assembly["output_mass_kg"] + assembly["coproducts"][0]["mass_kg"]) == \
        pytest.approx(0.25, rel=1e-12)
    power = next(i for i in imported.models[0].data["processes"][0]["inputs"]
                 if i.get("factor") == "elec")
    assert power["uncertainty"]["kind"] == "triangular"
    assert (power["uncertainty"]["low"], power["uncertainty"]["high"]) == \
        pytest.approx((0.9, 1.2), rel=1e-12)
    # The factors the models cite, each carried by the package as an LCI result.
    needed = {f.key: f for f in imported.factors}
    assert set(needed) == {"copper", "elec", "ng", "steel", "wood"}
    assert all(f.in_zip for f in needed.values())
    assert (needed["ng"].unit, needed["ng"].gases) == ("GJ", [
        {"gas": "CO2", "category": "fossil", "amount": 56.1},
        {"gas": "CH4-fossil", "category": "fossil", "amount": 0.001},
        {"gas": "N2O", "category": "fossil", "amount": 0.0001}])
    assert needed["wood"].gases[0] == {"gas": "CO2", "category": "biogenic_removal",
                                       "amount": -1.6}

    # openLCA's own reader sees the processes, flows, units and provider links.
    path = tmp_path / "motor.zip"
    path.write_bytes(data)
    with zipio.ZipReader(path) as r:
        assert len(r.ids_of(o.Process)) == 3 + 5  # three processes, five factors
        assert len(r.ids_of(o.ProductSystem)) == 2
        proc = r.read_process(olca.uid("process", MOTOR, "assembly"))
        assert proc is not None and proc.process_type is o.ProcessType.UNIT_PROCESS
        assert proc.category == "TICHub/YE3 电机/Production"
        qref = [e for e in proc.exchanges if e.is_quantitative_reference]
        assert len(qref) == 1 and not qref[0].is_input and qref[0].amount == 1
        assert qref[0].unit.id == ou.unit_ref("Item(s)").id
        providers = {e.default_provider.id for e in proc.exchanges if e.default_provider}
        assert providers == {olca.uid("process", MOTOR, "housing"),
                             olca.uid("process", STATOR, "winding"),
                             olca.uid("factor-process", "elec"),
                             olca.uid("factor-process", "ng")}
        elec = r.read_process(olca.uid("factor-process", "elec"))
        assert elec is not None and elec.process_type is o.ProcessType.LCI_RESULT
        leak = next(e for e in proc.exchanges if e.description == "leak")
        leak_flow = r.read_flow(leak.flow.id)
        assert leak_flow is not None and leak_flow.flow_type is o.FlowType.ELEMENTARY_FLOW
        assert (leak_flow.name, leak_flow.category, leak_flow.cas) == (
            "Methane, fossil", "Elementary flows/Emission to air/unspecified", "000074-82-8")
        assert (leak.amount, leak.unit.id, leak.is_input) == (10, ou.unit_ref("g").id, False)
        allocation = {f.product.id: f.value for f in proc.allocation_factors}
        assert allocation == pytest.approx({olca.uid("product", MOTOR, "assembly"): 0.75,
                                            olca.uid("coproduct", MOTOR, "assembly", "0"): 0.25})
        # Wood's uptake of CO2 is taken from the air: an input of "Carbon dioxide, in air".
        wood = r.read_process(olca.uid("factor-process", "wood"))
        assert wood is not None
        uptake = next(e for e in wood.exchanges if e.is_input)
        assert uptake.amount == 1.6
        uptake_flow = r.read_flow(uptake.flow.id)
        assert (uptake_flow.name, uptake_flow.category) == (
            "Carbon dioxide, in air", "Elementary flows/Resource/in air")
        # openLCA's reference unit groups, by their standard ids, with openLCA's factors.
        energy = r.read_unit_group(ou.group_ref("MJ").id)
        assert energy is not None and energy.name == "Units of energy"
        assert {u.name: (u.conversion_factor, bool(u.is_ref_unit)) for u in energy.units} == {
            "MJ": (1.0, True), "kWh": (3.6, False), "MWh": (3600.0, False),
            "GJ": (1000.0, False)}
        mass = r.read_unit_group(ou.group_ref("kg").id)
        assert {u.name: u.conversion_factor for u in mass.units} == {"kg": 1.0, "g": 0.001}
        prop = r.read_flow_property(ou.property_ref("kg").id)
        assert prop is not None and prop.unit_group.id == mass.id
        system = r.read_product_system(olca.uid("system", MOTOR))
        assert system is not None and system.ref_process.id == proc.id
        assert system.tags == ["GWP100 AR6"] and system.target_amount == 1
        links = {(x.provider.id, x.process.id) for x in system.process_links}
        assert (olca.uid("process", STATOR, "winding"), proc.id) in links
        assert len(system.processes) == 8


def test_the_product_systems_links_alone_link_the_processes() -> None:
    """openLCA often writes no default provider: the product system's links then say who
    supplies whom."""
    data = olca.export_zip(MOTOR, {MOTOR: motor(), STATOR: stator()}, FACTORS)
    stripped = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(stripped, "w") as dst:
        for name in src.namelist():
            text = src.read(name).decode()
            if name.startswith("processes/"):
                process = o.Process.from_json(text)
                for ex in process.exchanges:
                    ex.default_provider = None
                text = process.to_json()
            dst.writestr(name, text)
    assert b"defaultProvider" not in b"".join(
        zipfile.ZipFile(stripped).read(n) for n in zipfile.ZipFile(stripped).namelist())
    root, back = as_core(olca.import_zip(stripped.getvalue()))
    assert fp.compute(root, back, FACTORS).total == pytest.approx(MOTOR_TOTAL, rel=1e-12)


def smelter(allocation: str) -> dict[str, Any]:
    return {"name": "Metal", "declared_amount": 1, "declared_unit": "t", "reference": "smelt",
            "boundary": "cradle_to_gate", "basis": "AR6", "processes": [{
                "key": "smelt", "name": "Smelting", "stage": "production", "output_amount": 1,
                "output_unit": "t", "allocation": allocation, "output_mass_kg": 1000,
                "output_price": 10, "inputs": [
                    {"name": "power", "amount": 1000, "unit": "kWh", "factor": "elec"}],
                "coproducts": [{"name": "slag", "amount": 0.5, "unit": "t", "mass_kg": 500,
                                "price": 2, "displaces": "cement"}]}]}


@pytest.mark.parametrize(("allocation", "expected"), [
    ("physical", 500 * 1000 / 1500),  # the metal's 1000 kg of 1500 kg made
    ("economic", 500 * 10 / 11),  # 1 t × 10 against 0.5 t × 2
    ("system_expansion", 500 - 500 * 0.8),  # 500 kg of slag displaces 500 kg of cement
])
def test_each_allocation_survives_the_round_trip(allocation: str, expected: float) -> None:
    data = olca.export_zip("metal", {"metal": smelter(allocation)}, FACTORS)
    imported = olca.import_zip(data)
    root, back = as_core(imported)
    assert fp.compute(root, back, FACTORS).total == pytest.approx(expected, rel=1e-12)
    smelt = imported.models[0].data["processes"][0]
    assert smelt["allocation"] == allocation
    if allocation == "system_expansion":  # an avoided product, as openLCA has it
        assert smelt["coproducts"] == [{"name": "cement", "unit": "t", "amount": 0.5,
                                        "displaces": "cement"}]
    if allocation == "economic":  # openLCA's cost values carry the prices
        assert smelt["output_price"] == 10 and smelt["coproducts"][0]["price"] == 2
    if allocation == "physical":  # a mass unit: the masses are the real ones
        assert smelt["output_mass_kg"] == pytest.approx(1000)
        assert smelt["coproducts"][0]["mass_kg"] == pytest.approx(500)


def test_the_export_changes_with_the_model_but_keeps_its_ids() -> None:
    first = olca.export_zip(MOTOR, {MOTOR: motor(), STATOR: stator()}, FACTORS)
    changed = motor()
    changed["processes"][0]["inputs"][0]["amount"] = 11
    second = olca.export_zip(MOTOR, {MOTOR: changed, STATOR: stator()}, FACTORS)
    assert first != second
    names = [sorted(zipfile.ZipFile(io.BytesIO(d)).namelist()) for d in (first, second)]
    assert names[0] == names[1]


def openlca_package(tmp_path: Path, sheet_unit: o.Ref | None = None,
                    qref: bool = True) -> bytes:
    """A package as openLCA writes one: reference units by their standard ids, a unit group
    of the file's own, flows, two unit processes, one feeding the other."""
    mass_units = o.UnitGroup(id=ou.group_ref("kg").id, name="Units of mass", units=[
        o.Unit(id=ou.unit_ref("kg").id, name="kg", conversion_factor=1.0, is_ref_unit=True),
        o.Unit(id=ou.unit_ref("lb av").id, name="lb av", conversion_factor=0.45359237)])
    sheet = o.new_product("Steel sheet", ou.property_ref("kg"))
    power = o.new_product("Electricity, medium voltage", ou.property_ref("kWh"))
    part = o.new_product("Stamped part", ou.property_ref("Item(s)"))
    co2 = o.new_elementary_flow("Carbon dioxide, fossil", ou.property_ref("kg"))
    co2.category = "Elementary flows/Emission to air/unspecified"
    co2.cas = "000124-38-9"
    water = o.new_elementary_flow("Water", ou.property_ref("m3"))
    water.category = "Elementary flows/Emission to water/unspecified"
    rolling = o.new_process("Rolling")
    rolling.category = "Metals/Manufacturing"
    o.new_output(rolling, sheet, 1000, ou.unit_ref("kg")).is_quantitative_reference = qref
    o.new_input(rolling, power, 400, ou.unit_ref("kWh"))
    o.new_output(rolling, co2, 150, ou.unit_ref("kg"))
    stamping = o.new_process("Stamping")
    o.new_output(stamping, part, 1, ou.unit_ref("Item(s)")).is_quantitative_reference = True
    steel_in = o.new_input(stamping, sheet, 2 / 0.45359237, sheet_unit or ou.unit_ref("lb av"))
    steel_in.default_provider = o.as_ref(rolling)
    o.new_input(stamping, power, 0.5, ou.unit_ref("kWh"))  # its provider is not in the file
    o.new_output(stamping, water, 0.01, ou.unit_ref("m3"))
    o.new_output(stamping, co2, 0.1, ou.unit_ref("kg"))
    path = tmp_path / "openlca.zip"
    with zipio.ZipWriter(path) as w:
        for e in (mass_units, sheet, power, part, co2, water, rolling, stamping):
            w.write(e)
    return path.read_bytes()


def test_a_package_shaped_like_openlcas_own(tmp_path: Path) -> None:
    imported = olca.import_zip(openlca_package(tmp_path))
    [model] = imported.models
    data = model.data
    assert data["name"] == "Stamping" and (data["declared_amount"], data["declared_unit"]) == (
        1.0, "piece")
    stamping, rolling = data["processes"]
    assert (stamping["key"], rolling["key"]) == ("stamping", "rolling")
    assert data["reference"] == "stamping"
    assert rolling["stage"] == "production" and stamping["stage"] == "production"
    # The sheet, weighed in pounds by the file's own unit group, comes in as 2 kg from the
    # rolling process; the power, whose provider is missing, as a factor named by its flow.
    sheet = next(i for i in stamping["inputs"] if i.get("process"))
    assert (sheet["process"], sheet["unit"]) == ("rolling", "kg")
    assert sheet["amount"] == pytest.approx(2.0, rel=1e-12)
    power = next(i for i in stamping["inputs"] if i.get("factor"))
    assert (power["factor"], power["amount"], power["unit"], power["kind"]) == (
        "electricity-medium-voltage", 0.5, "kWh", "energy")
    co2 = next(i for i in stamping["inputs"] if i.get("gas"))
    assert (co2["gas"], co2["category"], co2["amount"], co2["unit"]) == (
        "CO2", "fossil", 0.1, "kg")
    assert len(stamping["inputs"]) == 3  # the water is not a greenhouse gas
    assert [(f.key, f.name, f.unit, f.in_zip) for f in imported.factors] == [
        ("electricity-medium-voltage", "Electricity, medium voltage", "kWh", False)]
    assert any("Stamping: no life-cycle stage" in w for w in imported.warnings)
    assert any("left out 1 exchange(s)" in w and "Water" in w for w in imported.warnings)
    # With 0.6 kg CO2 per kWh: the sheet (400 × 0.6 + 150) / 1000 = 0.39 kg per kg, so
    # 2 kg 0.78; the stamping's power 0.3 and its own CO2 0.1.
    factors = {"electricity-medium-voltage": Factor(
        "electricity-medium-voltage", 1, "kWh", (GasAmount("CO2", "fossil", 0.6),))}
    root, back = as_core(imported)
    assert fp.compute(root, back, factors).total == pytest.approx(1.18, rel=1e-12)


def test_what_cannot_be_read_is_named(tmp_path: Path) -> None:
    with pytest.raises(olca.OlcaError) as err:
        olca.import_zip(b"PK\x03\x04 not really a zip")
    assert err.value.where == "file"
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("olca-schema.json", '{"version": 2}')
        zf.writestr("flows/x.json", o.new_product("Steel", ou.property_ref("kg")).to_json())
    with pytest.raises(olca.OlcaError) as err:
        olca.import_zip(empty.getvalue())
    assert err.value.where == "processes"
    furlong = o.Ref(ref_type=o.RefType.Unit, id="3b5bb3a1-0000-4000-8000-000000000001",
                    name="furlong")
    with pytest.raises(olca.OlcaError) as err:
        olca.import_zip(openlca_package(tmp_path, sheet_unit=furlong))
    assert err.value.where.startswith("processes/Stamping/exchanges/")
    assert err.value.where.endswith("/unit") and "'furlong'" in err.value.message
    (tmp_path / "openlca.zip").unlink()
    with pytest.raises(olca.OlcaError) as err:
        olca.import_zip(openlca_package(tmp_path, qref=False))
    assert (err.value.where, err.value.message) == ("processes/Rolling",
                                                    "has no quantitative reference")
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("processes/x.json", '{"exchanges": "lots"}')
    with pytest.raises(olca.OlcaError) as err:
        olca.import_zip(bad.getvalue())
    assert err.value.where == "file processes/x.json"
    # openLCA 1 packages say "input" where version 2 says "isInput".
    old = io.BytesIO()
    with zipfile.ZipFile(old, "w") as zf:
        zf.writestr("processes/x.json", '{"@id": "x", "exchanges": [{"input": true}]}')
    with pytest.raises(olca.OlcaError, match="openLCA 1 package"):
        olca.import_zip(old.getvalue())
    later = io.BytesIO()
    with zipfile.ZipFile(later, "w") as zf:
        zf.writestr("olca-schema.json", '{"version": 3}')
    with pytest.raises(olca.OlcaError, match="version 3"):
        olca.import_zip(later.getvalue())


def test_a_model_that_cannot_be_written_is_named() -> None:
    bad = smelter("physical")
    bad["processes"][0]["inputs"][0]["unit"] = "CFU"
    with pytest.raises(olca.OlcaError) as err:
        olca.export_zip("metal", {"metal": bad}, FACTORS)
    assert err.value.where == "Metal / process Smelting, input power"
    bad = motor(sub="X" * 26)
    with pytest.raises(olca.OlcaError, match="no such product model"):
        olca.export_zip(MOTOR, {MOTOR: bad}, FACTORS)


@pytest.mark.parametrize("gas", gwp.GASES)
@pytest.mark.parametrize("category", fp.CATEGORIES)
def test_every_gas_of_every_origin_is_named_and_read_back(gas: str, category: str) -> None:
    name = olca.gas_flow_name(gas, category)
    assert olca.read_gas(name, None, olca.gas_compartment(category)) == \
        olca.GasRead(gas, category)


@pytest.mark.parametrize(("name", "compartment", "read"), [
    # as ecoinvent names them
    ("Carbon dioxide, fossil", "Emission to air/urban air close to ground", ("CO2", "fossil")),
    ("Carbon dioxide, non-fossil", "Emission to air/unspecified", ("CO2", "biogenic")),
    ("Carbon dioxide, from soil or biomass stock", "", ("CO2", "dluc")),
    ("Carbon dioxide, in air", "Resource/in air", ("CO2", "biogenic_removal")),
    ("Methane, fossil", "Emission to air/lower stratosphere + upper troposphere",
     ("CH4-fossil", "aircraft")),
    ("Methane, non-fossil", "", ("CH4", "biogenic")),
    ("Methane, from soil or biomass stock", "", ("CH4", "dluc")),
    ("Dinitrogen monoxide", "Emission to air/unspecified", ("N2O", "fossil")),
    ("Ethane, 1,1,1,2-tetrafluoro-, HFC-134a", "", ("HFC-134a", "fossil")),
    ("Methane, tetrafluoro-, CFC-14", "", ("CF4", "fossil")),
    # as the EF package names them
    ("carbon dioxide (biogenic)", "", ("CO2", "biogenic")),
    ("methane (land use change)", "", ("CH4", "dluc")),
    ("nitrous oxide", "", ("N2O", "fossil")),
    # not counted: other substances, other origins, other compartments
    ("Carbon dioxide, to soil or biomass stock", "", None),
    ("Carbon monoxide, fossil", "", None),
    ("Methane, bromo-, Halon 1001", "", None),
    ("Dinitrogen monoxide", "Elementary flows/Emission to water/unspecified", None),
])
def test_gases_as_others_name_them(name: str, compartment: str,
                                   read: tuple[str, str] | None) -> None:
    got = olca.read_gas(name, None, compartment)
    if read is None:
        assert got is None
    else:
        assert got is not None and (got.gas, got.category) == read


def test_an_unnamed_origin_is_taken_as_fossil_and_said() -> None:
    assert olca.read_gas("Methane") == olca.GasRead(
        "CH4-fossil", "fossil", "Methane: origin not stated, counted as fossil")
    # by CAS number alone
    assert olca.read_gas("二氧化碳", "124-38-9").gas == "CO2"


# openLCA's reference data: each unit's factor to its group's reference unit.
OPENLCA_FACTORS = {
    "g": 0.001, "mg": 1e-6, "t": 1000.0, "kt": 1e6, "Mt": 1e9, "kJ": 0.001, "J": 1e-6,
    "GJ": 1000.0, "TJ": 1e6, "Wh": 0.0036, "kWh": 3.6, "MWh": 3600.0, "l": 0.001, "ml": 1e-6,
    "dm3": 0.001, "cm3": 1e-6, "Nm3": 1.0, "kg*km": 0.001, "km": 1000.0, "cm": 0.01,
    "mm": 0.001, "km2": 1e6, "ha": 1e4, "cm2": 1e-4, "d": 24.0, "s": 2.7777768e-4,
}


@pytest.mark.parametrize("name", sorted(olca.OLCA_UNITS))
def test_each_unit_means_what_openlca_means(name: str) -> None:
    group = ou.group_ref(name)
    assert group is not None and group.name in olca.GROUP_REFERENCE
    reference = olca.GROUP_REFERENCE[group.name]
    factor = units.factor(olca.OLCA_UNITS[name], olca.OLCA_UNITS[reference])
    assert factor == pytest.approx(OPENLCA_FACTORS.get(name, 1.0), rel=1e-6)
    unit, k = olca.olca_unit(olca.OLCA_UNITS[name], "here")
    assert (unit.name, k) == (name, 1.0)


def test_a_unit_openlca_lacks_is_written_in_its_reference_unit() -> None:
    unit, k = olca.olca_unit("lb", "here")
    assert unit.name == "kg" and k == pytest.approx(0.45359237)
    unit, k = olca.olca_unit("t·km", "here")
    assert (unit.name, k) == ("t*km", 1.0)
    with pytest.raises(olca.OlcaError, match="no counterpart"):
        olca.olca_unit("CFU", "here")


# --- through the API -----------------------------------------------------------------------

def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def factor_body(f: Factor) -> dict[str, Any]:
    out: dict[str, Any] = {"key": f"firm.{f.key}", "unit": f.unit, "basis": f.basis,
                           "source": "test", "gases": [g.__dict__ for g in f.gases]}
    if f.uncertainty.varies:
        out["uncertainty"] = {"kind": f.uncertainty.kind, "gsd": f.uncertainty.gsd}
    return out


def with_keys(model: dict[str, Any], org_id: str) -> dict[str, Any]:
    """The model citing the organisation's copies of the factors (keys firm.*)."""
    for p in model["processes"]:
        for i in p["inputs"]:
            if i.get("factor"):
                i["factor"] = f"firm.{i['factor']}"
    return {**model, "org_id": org_id}


@pytest.fixture
def firm(client, db):  # type: ignore[no-untyped-def]
    a = make_account(db, "maker@motors.cn", kind=OrgKind.enterprise)
    b = make_account(db, "rival@motors.cn", kind=OrgKind.enterprise)
    token = api_token(db, a, ["carbon:write"])
    r = client.post("/api/carbon/factors", params={"org_id": a.org.id}, headers=auth(token),
                    json=[factor_body(f) for f in FACTORS.values()])
    assert r.status_code == 201, r.text
    sub = client.post("/api/carbon/models", json=with_keys(stator(), a.org.id),
                      headers=auth(token))
    assert sub.status_code == 201, sub.text
    top = client.post("/api/carbon/models", json=with_keys(motor(sub.json()["id"]), a.org.id),
                      headers=auth(token))
    assert top.status_code == 201, top.text
    return {"token": token, "org": a.org.id, "model": top.json()["id"],
            "other": api_token(db, b, ["carbon:write"]), "other_org": b.org.id}


def upload(client, token: str, org_id: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post("/api/carbon/models/olca", headers=auth(token), data={"org_id": org_id},
                       files={"file": ("model.zip", data, "application/zip")})


def test_export_and_import_through_the_api(client, db, firm) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/carbon/models/{firm['model']}/olca", headers=auth(firm["token"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''YE3%20%E7%94%B5%E6%9C%BA.zip" in r.headers["content-disposition"]
    assert zipfile.ZipFile(io.BytesIO(r.content)).read("olca-schema.json") == b'{"version": 2}'
    again = client.get(f"/api/carbon/models/{firm['model']}/olca", headers=auth(firm["token"]))
    assert again.content == r.content

    created = upload(client, firm["token"], firm["org"], r.content)
    assert created.status_code == 201, created.text
    body = created.json()
    assert [m["name"] for m in body["models"]] == ["Stator", "YE3 电机"]
    sub_id, top_id = (m["id"] for m in body["models"])
    assert top_id != firm["model"] and all(m["org_id"] == firm["org"] for m in body["models"])
    assembly = next(p for p in body["models"][1]["processes"] if p["key"] == "assembly")
    assert any(i.get("model") == sub_id for i in assembly["inputs"])
    assert {(f["key"], f["in_zip"], f["in_library"]) for f in body["factors"]} == {
        (f"firm.{k}", True, True) for k in ("copper", "elec", "ng", "steel", "wood")}
    # The imported model's footprint is the original's, and the hand-worked figure.
    totals = []
    for model_id in (firm["model"], top_id):
        s = client.post(f"/api/carbon/models/{model_id}/studies", json={"iterations": 0},
                        headers=auth(firm["token"]))
        assert s.status_code == 201, s.text
        totals.append(s.json()["total"])
    assert totals[0] == pytest.approx(MOTOR_TOTAL, rel=1e-9)
    assert totals[1] == pytest.approx(MOTOR_TOTAL, rel=1e-9)


def test_another_organisation_can_neither_export_nor_import_as_the_owner(client, db, firm) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/carbon/models/{firm['model']}/olca", headers=auth(firm["other"]))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    mine = client.get(f"/api/carbon/models/{firm['model']}/olca", headers=auth(firm["token"]))
    assert upload(client, firm["other"], firm["org"], mine.content).status_code == 403
    assert client.get(f"/api/carbon/models/{firm['model']}/olca").status_code == 401
    # Its own import of the package: its own models, the factors not in its library.
    own = upload(client, firm["other"], firm["other_org"], mine.content)
    assert own.status_code == 201, own.text
    assert all(m["org_id"] == firm["other_org"] for m in own.json()["models"])
    assert not any(f["in_library"] for f in own.json()["factors"])


def test_refusals_through_the_api_name_the_field(client, db, firm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases = [(b"not a zip at all", "file")]
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("olca-schema.json", '{"version": 2}')
    cases.append((empty.getvalue(), "processes"))
    furlong = o.Ref(ref_type=o.RefType.Unit, id="3b5bb3a1-0000-4000-8000-000000000001",
                    name="furlong")
    cases.append((openlca_package(tmp_path, sheet_unit=furlong), "unit"))
    for data, field_name in cases:
        r = upload(client, firm["token"], firm["org"], data)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"].split("/")[-1] == field_name
    big = upload(client, firm["token"], firm["org"], b"0" * (5 * 1024 * 1024 + 1))
    assert big.status_code == 422 and big.json()["errors"][0]["field"] == "file"
    listed = client.get("/api/carbon/models", params={"org_id": firm["org"]},
                        headers=auth(firm["token"]))
    assert len(listed.json()) == 2  # nothing was stored


def test_openlca_package_becomes_a_model_through_the_api(client, db, firm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = upload(client, firm["token"], firm["org"], openlca_package(tmp_path))
    assert r.status_code == 201, r.text
    body = r.json()
    [model] = body["models"]
    assert model["boundary"] == "cradle_to_gate" and model["reference"] == "stamping"
    assert body["factors"] == [{"key": "electricity-medium-voltage",
                                "name": "Electricity, medium voltage", "unit": "kWh",
                                "in_zip": False, "in_library": False}]
    assert body["warnings"]
    # Once the library has the factor, the model computes: 1.18 kg CO2 (worked out above).
    client.post("/api/carbon/factors", params={"org_id": firm["org"]},
                headers=auth(firm["token"]), json=[{
                    "key": "electricity-medium-voltage", "unit": "kWh", "source": "test",
                    "gases": [{"gas": "CO2", "amount": 0.6}]}])
    s = client.post(f"/api/carbon/models/{model['id']}/studies", json={"iterations": 0},
                    headers=auth(firm["token"]))
    assert s.status_code == 201, s.text
    assert math.isclose(s.json()["total"], 1.18, rel_tol=1e-9)
