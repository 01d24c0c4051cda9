"""Product footprints from models (carbon/footprint.py): every figure below is worked out
by hand in the comments, from the factors the test states."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tichub.carbon import footprint as fp
from tichub.carbon.footprint import CoProduct, Factor, GasAmount, Input, Model, Process
from tichub.carbon.uncertainty import Uncertainty


def co2e(key: str, unit: str, value: float, **kw: object) -> Factor:
    return Factor(key=key, version=1, unit=unit, gases=(GasAmount("CO2e", "fossil", value),),
                  basis="AR6", **kw)  # type: ignore[arg-type]


# IPCC 2006 Guidelines, vol. 2, ch. 2, table 2.3 (manufacturing industries): natural gas
# 56,100 kg CO2, 1 kg CH4 and 0.1 kg N2O per TJ — per GJ a thousandth of that.
NATURAL_GAS = Factor(key="ng", version=1, unit="GJ", gases=(
    GasAmount("CO2", "fossil", 56.1), GasAmount("CH4-fossil", "fossil", 0.001),
    GasAmount("N2O", "fossil", 0.0001)))

FACTORS = {f.key: f for f in (
    co2e("elec", "kWh", 0.5), co2e("steel", "kg", 2.0), co2e("copper", "kg", 4.0),
    co2e("truck", "t*km", 0.1), co2e("scrap", "kg", 0.05), co2e("cement", "kg", 0.8),
    NATURAL_GAS)}

STATOR = Model(key="stator", name="Stator", declared_amount=1, declared_unit="piece",
               reference="winding", processes=(
                   Process("winding", "Winding", "production", 1, "piece", inputs=(
                       Input("copper wire", 3000, "g", factor="copper"),  # 3 kg × 4 = 12
                       Input("power", 2, "kWh", kind="energy", factor="elec"),  # 1.0
                   )),))

MOTOR = Model(key="motor", name="Motor", declared_amount=1, declared_unit="piece",
              reference="use", boundary="cradle_to_grave", processes=(
                  Process("housing", "Housing", "raw_materials", 1, "piece", inputs=(
                      Input("steel", 10, "kg", factor="steel", primary=True),)),  # 20
                  Process("assembly", "Assembly", "production", 1, "piece", inputs=(
                      Input("housing", 1, "piece", process="housing"),
                      Input("stator", 1, "pcs", model="stator"),  # 13
                      Input("power", 0.005, "MWh", kind="energy", factor="elec",
                            primary=True),  # 5 kWh × 0.5 = 2.5
                      Input("gas", 100, "MJ", kind="energy", factor="ng", primary=True),
                      Input("leak", 10, "g", gas="CH4-fossil", primary=True),  # 0.298
                  )),
                  Process("distribution", "Distribution", "distribution", 1, "piece", inputs=(
                      Input("motor", 1, "piece", process="assembly"),
                      Input("lorry", 10, "t·km", kind="transport", factor="truck"),  # 1.0
                  )),
                  Process("eol", "Recycling", "end_of_life", 1, "piece", inputs=(
                      Input("scrap", 20, "kg", kind="waste", factor="scrap"),)),  # 1.0
                  Process("use", "Ten years' use", "use", 1, "piece", inputs=(
                      Input("motor", 1, "piece", process="distribution"),
                      Input("power", 1000, "kWh", kind="energy", factor="elec"),  # 500
                      Input("disposal", 1, "piece", process="eol"),
                  )),
              ))
MODELS = {"motor": MOTOR, "stator": STATOR}

# 0.1 GJ of natural gas: 5.61 kg CO2 + 0.0001 kg CH4 × 29.8 + 0.00001 kg N2O × 273 (AR6)
GAS_AR6 = 5.61 + 0.0001 * 29.8 + 0.00001 * 273


def test_a_motor_cradle_to_grave_by_hand() -> None:
    result = fp.compute("motor", MODELS, FACTORS)
    production = 13 + 2.5 + GAS_AR6 + 0.01 * 29.8
    assert result.by_stage == pytest.approx({
        "raw_materials": 20.0, "production": production, "distribution": 1.0,
        "use": 500.0, "end_of_life": 1.0}, rel=1e-12)
    assert result.total == pytest.approx(20 + production + 1 + 500 + 1, rel=1e-12)
    assert sum(c.co2e for c in result.contributions) == pytest.approx(result.total, rel=1e-12)
    assert result.by_category["fossil"] == pytest.approx(result.total, rel=1e-12)
    assert result.excluding_biogenic == pytest.approx(result.total, rel=1e-12)
    assert result.by_gas["CH4-fossil"] == pytest.approx(0.01 + 0.0001, rel=1e-12)
    assert result.by_gas["CO2"] == pytest.approx(5.61, rel=1e-12)
    stator = next(c for c in result.contributions if c.input == "stator")
    assert stator.co2e == pytest.approx(13.0, rel=1e-12)
    assert result.primary_share == pytest.approx(
        (20 + 2.5 + GAS_AR6 + 0.298) / result.total, rel=1e-12)
    assert result.factors == ["copper@1", "elec@1", "ng@1", "scrap@1", "steel@1", "truck@1"]
    # The Sankey's links carry each supplier's whole chain into its consumer.
    link = {(x.source, x.target): x.co2e for x in result.links}
    assert link[("Motor / Assembly", "Motor / Distribution")] == pytest.approx(
        20 + production, rel=1e-12)
    assert link[("Stator / Winding", "Motor / Assembly")] == pytest.approx(13.0, rel=1e-12)


def test_the_declared_unit_scales_and_the_basis_weighs() -> None:
    ten = Model(**{**MOTOR.__dict__, "declared_amount": 10})
    ar5 = Model(**{**MOTOR.__dict__, "basis": "AR5"})
    one = fp.compute("motor", MODELS, FACTORS).total
    assert fp.compute("motor", {**MODELS, "motor": ten}, FACTORS).total == pytest.approx(10 * one)
    # AR5: fossil CH4 30, N2O 265 (IPCC AR5 WG I table 8.A.1)
    diff = (0.01 + 0.0001) * (30 - 29.8) + 0.00001 * (265 - 273)
    assert fp.compute("motor", {**MODELS, "motor": ar5}, FACTORS).total == pytest.approx(
        one + diff, rel=1e-12)


def smelter(allocation: str) -> Model:
    return Model(key="metal", name="Metal", declared_amount=1, declared_unit="t",
                 reference="smelt", processes=(Process(
                     "smelt", "Smelting", "production", 1, "t", allocation=allocation,
                     output_mass_kg=1000, output_price=10,
                     inputs=(Input("power", 1000, "kWh", factor="elec"),),  # 500 kg CO2e
                     coproducts=(CoProduct("slag", 0.5, "t", mass_kg=500, price=2,
                                           displaces="cement"),)),))


@pytest.mark.parametrize(("allocation", "expected"), [
    ("physical", 500 * 1000 / 1500),  # the metal's 1000 kg of 1500 kg made
    ("economic", 500 * 10 / 11),  # 1 t × 10 against 0.5 t × 2
    ("system_expansion", 500 - 500 * 0.8),  # 500 kg of slag displaces 500 kg of cement
])
def test_allocation_of_a_co_product(allocation: str, expected: float) -> None:
    assert fp.compute("metal", {"metal": smelter(allocation)}, FACTORS).total == \
        pytest.approx(expected, rel=1e-12)


def test_biogenic_and_land_use_change_are_reported_apart() -> None:
    factors = {"wood": Factor("wood", 2, "kg", (
        GasAmount("CO2", "biogenic_removal", -1.6), GasAmount("CO2", "biogenic", 0.2),
        GasAmount("CO2e", "dluc", 0.3), GasAmount("CO2e", "fossil", 0.1)), basis="AR6")}
    model = Model("crate", "Crate", 1, "piece", "make", (Process(
        "make", "Sawing", "production", 1, "piece",
        inputs=(Input("timber", 5, "kg", factor="wood"),)),))
    result = fp.compute("crate", {"crate": model}, factors)
    assert result.by_category["biogenic_removal"] == pytest.approx(-8.0)
    assert result.by_category["biogenic"] == pytest.approx(1.0)
    assert result.by_category["dluc"] == pytest.approx(1.5)
    assert result.by_category["fossil"] == pytest.approx(0.5)
    assert result.excluding_biogenic == pytest.approx(2.0)
    assert result.total == pytest.approx(-5.0)
    assert result.factors == ["wood@2"]


def test_a_unit_that_does_not_fit_its_factor_is_named() -> None:
    bad = Model("m", "M", 1, "kg", "p", (Process("p", "Pressing", "production", 1, "kg", inputs=(
        Input("steel", 10, "kWh", factor="steel"),)),))
    with pytest.raises(fp.FootprintError) as err:
        fp.compute("m", {"m": bad}, FACTORS)
    assert err.value.where == "M / process Pressing, input steel"
    assert "kWh cannot be converted to kg" in err.value.message
    declared = Model("m", "M", 1, "kWh", "p", (Process("p", "P", "production", 1, "kg"),))
    with pytest.raises(fp.FootprintError, match="declared_unit: kWh cannot be converted to kg"):
        fp.compute("m", {"m": declared}, FACTORS)


def test_amounts_whose_footprint_overflows_a_double_are_refused() -> None:
    # Each number is finite, but 1e300 kg at 1e300 kg CO2e per kg is past a double.
    huge = {"huge": co2e("huge", "kg", 1e300)}
    bad = Model("m", "M", 1, "kg", "p", (Process("p", "Pressing", "production", 1, "kg", inputs=(
        Input("alloy", 1e300, "kg", factor="huge"),)),))
    with pytest.raises(fp.FootprintError, match="not a finite number") as err:
        fp.compute("m", {"m": bad}, huge)
    assert err.value.where == "processes"
    with pytest.raises(fp.FootprintError, match="not a finite number"):
        fp.simulate("m", {"m": bad}, huge, iterations=10)


def test_a_missing_factor_is_named() -> None:
    bad = Model("m", "M", 1, "kg", "p", (Process("p", "Pressing", "production", 1, "kg", inputs=(
        Input("alloy", 1, "kg", factor="titanium"),)),))
    with pytest.raises(fp.FootprintError, match="input alloy: no emission factor titanium in"):
        fp.compute("m", {"m": bad}, FACTORS)


def test_a_loop_that_makes_nothing_net_is_named() -> None:
    loop = Model("m", "M", 1, "kg", "a", (
        Process("a", "Anode", "production", 1, "kg", inputs=(Input("b", 1, "kg", process="b"),)),
        Process("b", "Bath", "production", 1, "kg", inputs=(Input("a", 1, "kg", process="a"),)),
    ))
    with pytest.raises(fp.FootprintError) as err:
        fp.compute("m", {"m": loop}, FACTORS)
    assert "supply one another and make nothing net" in err.value.message
    assert "M / Anode ⇄ M / Bath" in err.value.message
    # Takes back more than it gives: solvable, but only with negative amounts.
    greedy = Model("m", "M", 1, "kg", "a", (
        Process("a", "Anode", "production", 1, "kg", inputs=(Input("b", 2, "kg", process="b"),)),
        Process("b", "Bath", "production", 1, "kg", inputs=(Input("a", 1, "kg", process="a"),)),
    ))
    with pytest.raises(fp.FootprintError, match="negative amounts"):
        fp.compute("m", {"m": greedy}, FACTORS)


def test_a_loop_that_does_make_something_is_solved() -> None:
    # Steel mill: 1 kg of steel needs 0.2 kg of its own scrap back, and the power.
    mill = Model("m", "Mill", 1, "kg", "s", (
        Process("s", "Steel", "production", 1, "kg", inputs=(
            Input("own scrap", 0.2, "kg", process="s"),
            Input("power", 1, "kWh", factor="elec"))),))
    # net 0.8 kg per run: 1/0.8 runs per kg, 0.5/0.8 kg CO2e
    assert fp.compute("m", {"m": mill}, FACTORS).total == pytest.approx(0.625, rel=1e-12)


def test_a_product_that_contains_itself_is_refused() -> None:
    a = Model("a", "Rotor", 1, "piece", "p", (Process("p", "P", "production", 1, "piece", inputs=(
        Input("shaft", 1, "piece", model="b"),)),))
    b = Model("b", "Shaft", 1, "piece", "p", (Process("p", "P", "production", 1, "piece", inputs=(
        Input("rotor", 1, "piece", model="a"),)),))
    with pytest.raises(fp.FootprintError, match="a product contains itself: "):
        fp.compute("a", {"a": a, "b": b}, FACTORS)


def test_stages_outside_the_boundary_are_refused() -> None:
    gate = Model(**{**MOTOR.__dict__, "boundary": "cradle_to_gate"})
    with pytest.raises(fp.FootprintError,
                       match=r"lies outside the system boundary \(cradle to gate\)"):
        fp.compute("motor", {**MODELS, "motor": gate}, FACTORS)


def test_monte_carlo_of_a_lognormal_factor() -> None:
    factors = {**FACTORS, "elec": co2e("elec", "kWh", 0.5,
                                         uncertainty=Uncertainty("lognormal", gsd=1.2))}
    model = Model("m", "M", 1, "kg", "p", (Process("p", "P", "production", 1, "kg", inputs=(
        Input("power", 10, "kWh", factor="elec"),
        Input("steel", 1, "kg", factor="steel",
              uncertainty=Uncertainty("uniform", low=0.9, high=1.1)))),))
    run = fp.simulate("m", {"m": model}, factors, iterations=20000, seed=3)
    # 5 kg (σ_g 1.2) + 2 kg (uniform ±10 %): variances 5²·(e^{σ²}−1)e^{σ²} ≈ 0.86 and
    # (0.4)²/12 ≈ 0.0133
    sigma = math.log(1.2)
    var_elec = 25 * (math.exp(sigma ** 2) - 1) * math.exp(sigma ** 2)
    var_steel = 0.4 ** 2 / 12
    summary = run.summary()
    assert summary["mean"] == pytest.approx(5 * math.exp(sigma ** 2 / 2) + 2, rel=0.01)
    assert summary["sd"] == pytest.approx(math.sqrt(var_elec + var_steel), rel=0.03)
    assert list(run.shares) == ["factor elec@1", "M / process P, input steel"]
    assert run.shares["factor elec@1"] == pytest.approx(var_elec / (var_elec + var_steel),
                                                         abs=0.02)
    assert np.all(run.samples > 2 * 0.9)


def test_a_model_without_uncertainty_has_one_value() -> None:
    run = fp.simulate("motor", MODELS, FACTORS, iterations=10)
    assert np.ptp(run.samples) == 0
    assert run.samples[0] == pytest.approx(fp.compute("motor", MODELS, FACTORS).total)


def test_factors_on_another_gwp_basis_make_one_notice_naming_them() -> None:
    # Steel (used by two processes) and copper state CO2e on AR5; the study is on AR6.
    ar5 = {**FACTORS,
           "steel": Factor("steel", 1, "kg", (GasAmount("CO2e", "fossil", 2.0),), basis="AR5",
                           name="Hot-rolled steel", name_zh="热轧钢"),
           "copper": Factor("copper", 1, "kg", (GasAmount("CO2e", "fossil", 4.0),),
                            basis="AR5", name="Copper wire")}
    twice = Model(**{**MOTOR.__dict__, "processes": (*MOTOR.processes, Process(
        "frame", "Frame", "production", 1, "piece",
        inputs=(Input("frame steel", 1, "kg", factor="steel"),)))})
    result = fp.compute("motor", {**MODELS, "motor": twice}, ar5)
    assert len(result.notices) == 1 and len(result.warnings) == 1
    notice = result.notices[0]
    assert (notice.factor_basis, notice.study_basis) == ("AR5", "AR6")
    english = result.warnings[0]
    assert english.startswith("Copper wire; Hot-rolled steel: CO2e stated with IPCC AR5")
    assert "steel@1" not in english and "count as stated" in english
    # Pages name the factors in their language; the stored form comes back whole.
    again = fp.Notice.from_json(notice.as_json())
    assert again == notice
    assert again.message("zh").params["names"] == "Copper wire、热轧钢"
    assert fp.compute("motor", MODELS, FACTORS).notices == []
