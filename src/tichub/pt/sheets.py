"""PT results and homogeneity measurements from CSV or Excel: every cell checked, every
fault reported with its spreadsheet row, nothing half-read."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from tichub.core import errors
from tichub.core.errors import FieldError
from tichub.core.messages import Msg
from tichub.core.tables import Columns, read_table

RESULT_COLUMNS: Columns = {
    "measurand": ("measurand", "analyte", "被测量", "检测项目", "项目"),
    "item": ("item", "sample", "样品", "样品编号"),
    "lab": ("lab", "participant", "code", "lab code", "实验室", "实验室代码", "参加者代码"),
    "value": ("value", "result", "x", "结果", "测定值", "测量值"),
    "unit": ("unit", "单位"),
    # "U" and "u" are one header once case is folded: a result's uncertainty in a PT sheet
    # is its expanded uncertainty, with k beside it.
    "big_u": ("U", "expanded_uncertainty", "uncertainty", "扩展不确定度", "不确定度"),
    "k": ("k", "coverage_factor", "包含因子"),
    "method": ("method", "方法", "检测方法"),
}
REPLICATE_COLUMNS: Columns = {
    "item": ("item", "sample", "样品", "样品编号"),
    "value": ("value", "result", "结果", "测定值"),
}
# A plain decimal number, as laboratories write one; no thousands separators, no "NaN".
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str, field: str, row: int | None, faults: list[FieldError],
                 positive: bool = False) -> float | None:
    text = text.strip().replace("\u2212", "-")  # a typographic minus pasted from a report
    if not NUMBER.match(text):
        faults.append(FieldError(field, Msg("'{text}' is not a number", text=text), row))
        return None
    value = float(text)
    if not math.isfinite(value):
        faults.append(FieldError(field, Msg("'{text}' is out of range", text=text), row))
        return None
    if positive and not value > 0:
        faults.append(FieldError(field, Msg("must be greater than 0"), row))
        return None
    return value


@dataclass(frozen=True)
class ResultRow:
    row: int
    measurand: str
    item: str
    lab: str
    value: float
    big_u: float | None
    k: float | None
    unit: str
    method: str


def read_results(filename: str, data: bytes, mixed_units: bool = False) -> list[ResultRow]:
    """Rows with a ``value`` column and optionally measurand, item, lab, unit, U, k, method.
    Units must agree within a measurand unless ``mixed_units`` (the caller converts)."""
    table, faults = read_table(filename, data, RESULT_COLUMNS, ("value",))
    out: list[ResultRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row, cells in table:
        value = parse_number(cells["value"], "value", row, faults)
        big_u = k = None
        if cells.get("big_u"):
            big_u = parse_number(cells["big_u"], "U", row, faults)
            if big_u is not None and big_u < 0:
                faults.append(FieldError("U", Msg("must not be negative"), row))
        if cells.get("k"):
            k = parse_number(cells["k"], "k", row, faults, positive=True)
        elif big_u is not None:
            k = 2.0
        lab = cells.get("lab", "") or f"row {row}"
        key = (cells.get("measurand", ""), cells.get("item", ""), lab)
        if cells.get("lab") and key in seen:
            faults.append(FieldError("lab", Msg("{lab} already has a result here (row {row})",
                                                lab=lab, row=seen[key]), row))
        seen.setdefault(key, row)
        if value is not None:
            out.append(ResultRow(row, cells.get("measurand", ""), cells.get("item", ""), lab,
                                 value, big_u, k, cells.get("unit", ""),
                                 cells.get("method", "")))
    if faults:
        raise errors.Problem(422, "Invalid input", detail=Msg("the file has faulty rows"),
                             errors=faults)
    if not out:
        raise errors.invalid("file", Msg("has no results"))
    units: dict[str, set[str]] = defaultdict(set)
    for r in out:
        units[r.measurand].add(r.unit)
    mixed = {m: u for m, u in units.items() if len(u) > 1 and not mixed_units}
    if mixed:
        m, u = next(iter(mixed.items()))
        raise errors.invalid("unit", Msg(
            "measurand {measurand} mixes units {units}; convert first",
            measurand=m or "—", units=", ".join(sorted(x or "—" for x in u))))
    return out


def read_replicates(filename: str, data: bytes) -> tuple[list[str], np.ndarray]:
    """Homogeneity data: one row per measurement, ``item`` and ``value``; every item must
    have the same number of replicates. Returns the items and a (g, m) array."""
    table, faults = read_table(filename, data, REPLICATE_COLUMNS, ("item", "value"))
    by_item: dict[str, list[float]] = {}
    for row, cells in table:
        value = parse_number(cells["value"], "value", row, faults)
        if not cells["item"]:
            faults.append(FieldError("item", Msg("is empty"), row))
        elif value is not None:
            by_item.setdefault(cells["item"], []).append(value)
    if faults:
        raise errors.Problem(422, "Invalid input", detail=Msg("the file has faulty rows"),
                             errors=faults)
    counts = {len(v) for v in by_item.values()}
    if len(counts) > 1:
        raise errors.invalid("item", Msg(
            "every item needs the same number of replicates; found {counts}",
            counts=", ".join(str(c) for c in sorted(counts))))
    if len(by_item) < 2 or min(counts, default=0) < 2:
        raise errors.invalid("file", Msg("needs at least 2 items measured at least twice each"))
    return list(by_item), np.array(list(by_item.values()), dtype=np.float64)
