"""Converting a result from the unit a participant reported in to the measurand's unit.

pint knows the units; a laboratory's spelling is mapped onto pint's first (µ and μ, "%",
"ppm", "L"), and two units are compatible only when pint finds the same dimensions, so
mg/L is never taken for mg/kg.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

SPELLINGS = {"μ": "u", "µ": "u", "％": "percent", "%": "percent", "‰": "permille",
             "ppm": "ppm", "ppb": "ppb", "L": "l"}


class UnitError(ValueError):
    pass


@lru_cache(maxsize=1)
def _registry() -> Any:
    import pint

    ureg: Any = pint.UnitRegistry(case_sensitive=True)
    if "ppb" not in ureg:
        ureg.define("ppb = 1e-9 = parts_per_billion")
    return ureg


def _normal(unit: str) -> str:
    text = unit.strip()
    for spelled, pint_name in SPELLINGS.items():
        text = text.replace(spelled, pint_name)
    # "g/100g", "mg/100 mL": a number in the denominator binds to its unit
    text = re.sub(r"/\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)", r"/(\1*\2)", text)
    if text.startswith("/"):
        text = "1" + text
    return text or "dimensionless"


@lru_cache(maxsize=1024)
def factor(from_unit: str, to_unit: str) -> float:
    """The number a value in ``from_unit`` is multiplied by to be in ``to_unit``."""
    if from_unit.strip() == to_unit.strip():
        return 1.0
    import pint

    ureg = _registry()
    try:
        # Expressions, not units, so that "g/100 g" keeps its 100.
        ratio = ureg.parse_expression(_normal(from_unit)) / ureg.parse_expression(
            _normal(to_unit))
        return float(ratio.to("dimensionless").magnitude)
    except pint.errors.OffsetUnitCalculusError:
        raise UnitError(f"{from_unit} to {to_unit} is not a scale factor") from None
    except pint.DimensionalityError:
        raise UnitError(f"{from_unit} cannot be converted to {to_unit}") from None
    except (pint.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
            TypeError, ValueError, AssertionError) as exc:
        raise UnitError(f"{from_unit!r} is not a unit TICHub knows ({exc.__class__.__name__})"
                        ) from None


def check(unit: str) -> None:
    """Raises ``UnitError`` unless pint can read ``unit``."""
    import pint

    try:
        _registry().parse_expression(_normal(unit))
    except (pint.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
            TypeError, ValueError, AssertionError) as exc:
        raise UnitError(f"{unit!r} is not a unit TICHub knows ({exc.__class__.__name__})"
                        ) from None
