"""Units of PT results: what converts, what does not, and what is not a unit at all."""

from __future__ import annotations

import pytest

from tichub.core import units


@pytest.mark.parametrize(("source", "target", "factor"), [
    ("µg/kg", "mg/kg", 0.001), ("μg/kg", "mg/kg", 0.001), ("ng/g", "µg/kg", 1.0),
    ("ppm", "mg/kg", 1.0), ("%", "mg/kg", 10_000.0), ("g/100g", "%", 1.0),
    ("mg/100 g", "mg/kg", 10.0), ("mg/L", "µg/L", 1000.0), ("mg/m3", "µg/L", 1.0),
    ("µS/cm", "mS/m", 0.1), ("IU/mL", "IU/L", 1000.0), ("°C", "℃", 1.0),
    ("CFU/g", "CFU/g", 1.0), ("", "", 1.0),
])
def test_conversions(source: str, target: str, factor: float) -> None:
    assert units.factor(source, target) == pytest.approx(factor, rel=1e-12)


@pytest.mark.parametrize(("source", "target", "why"), [
    ("mg/L", "mg/kg", "cannot be converted"),  # volume is not mass
    ("CFU/mL", "CFU/g", "cannot be converted"),
    ("°C", "K", "not a scale factor"),
    ("blorp/kg", "mg/kg", "not a unit TICHub knows"),
    # arithmetic, which pint would evaluate, is not a unit
    ("9**9**9", "mg/kg", "not written as a unit"), ("10**400", "mg/kg", "not written"),
    ("0*mg/kg", "mg/kg", "not written"), ("-mg/kg", "mg/kg", "not written"),
    ("1e308*1e308*mg/kg", "mg/kg", "not written"), ("mg/kg; drop table", "mg/kg", "not"),
])
def test_refusals(source: str, target: str, why: str) -> None:
    with pytest.raises(units.UnitError, match=why):
        units.factor(source, target)
