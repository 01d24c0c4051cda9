"""Converting amounts between units people type: a PT result into its measurand's unit, a
product model's input into its emission factor's unit.

pint knows the units; two units are compatible only when pint finds the same dimensions, so
mg/L is never taken for mg/kg. What people type is read by a small grammar of our own
first — unit words, an exponent digit (m3), products and quotients, and a number only in
a denominator (g/100 g) — because pint would evaluate any arithmetic it is given, and
"9**9**9" typed into a unit field must not hang the server.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

# Laboratory spellings onto pint's names.
SPELLINGS = {"μ": "u", "µ": "u", "％": "percent", "%": "percent", "‰": "permille",
             "℃": "degC", "°C": "degC", "L": "l", "·": "*"}
WORD = r"[A-Za-zµμ°℃%％‰]+[23]?"
NUMBER = r"\d{1,6}(?:\.\d{1,6})?"
GRAMMAR = re.compile(
    rf"^\s*{WORD}(?:\s*(?:/\s*(?:{NUMBER}\s*)?|[·.*]\s*|\s+){WORD})*\s*$")


class UnitError(ValueError):
    pass


@lru_cache(maxsize=1)
def _registry() -> Any:
    import pint

    ureg: Any = pint.UnitRegistry(case_sensitive=True)
    for definition in (
        "ppb = 1e-9 = parts_per_billion",
        # counts and conventional units that PT schemes report in; each its own dimension,
        # so none converts into another or into mass
        "CFU = [colony_forming_unit]", "IU = [international_unit]",
        "NTU = [turbidity_unit]", "MPN = [most_probable_number]",
        # product models count pieces, and gas by normal cubic metre (0 °C, 101.325 kPa)
        "piece = [piece] = pc = pcs", "Nm3 = meter ** 3",
    ):
        name = definition.split("=")[0].strip()
        if name not in ureg:
            ureg.define(definition)
    return ureg


def _normal(unit: str) -> str:
    text = unit.strip()
    if not text:
        return "dimensionless"
    if len(text) > 40 or not GRAMMAR.match(text):
        raise UnitError(f"{unit!r} is not written as a unit (e.g. mg/kg, µg/L, g/100 g, %)")
    for spelled, pint_name in SPELLINGS.items():
        text = text.replace(spelled, pint_name)
    text = re.sub(r"(?<![A-Za-z])Nm3\b", "Nm3_", text)  # a name of its own, not N·m³
    text = re.sub(r"(?<=[A-Za-z])([23])\b", r"**\1", text)  # m3 → m**3
    text = text.replace("Nm3_", "Nm3")
    text = re.sub(r"(?<=[A-Za-z])\.(?=[A-Za-z])", "*", text)  # N.m → N*m
    # "g/100g", "mg/100 mL": the number binds to the unit after it
    return re.sub(r"/\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)", r"/(\1*\2)", text)


def _parsed(unit: str) -> Any:
    import pint

    try:
        return _registry().parse_expression(_normal(unit))
    except UnitError:
        raise
    except (pint.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
            TypeError, ValueError, AssertionError, OverflowError) as exc:
        raise UnitError(f"{unit!r} is not a unit TICHub knows ({exc.__class__.__name__})"
                        ) from None


def check(unit: str) -> None:
    """Raises ``UnitError`` unless ``unit`` is a unit TICHub can convert."""
    _parsed(unit)


@lru_cache(maxsize=1024)
def factor(from_unit: str, to_unit: str) -> float:
    """The number a value in ``from_unit`` is multiplied by to be in ``to_unit``."""
    if _normal(from_unit) == _normal(to_unit):
        return 1.0
    import pint

    try:
        ratio = float((_parsed(from_unit) / _parsed(to_unit)).to("dimensionless").magnitude)
    except pint.DimensionalityError:
        raise UnitError(f"{from_unit} cannot be converted to {to_unit}") from None
    except pint.errors.OffsetUnitCalculusError:
        raise UnitError(f"{from_unit} to {to_unit} is not a scale factor") from None
    if not (math.isfinite(ratio) and ratio > 0):
        raise UnitError(f"{from_unit} to {to_unit} is not a usable factor")
    return float(f"{ratio:.12g}")  # 1e-9/1e-9 is 1.0000000000000002 in binary
