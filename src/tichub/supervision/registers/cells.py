"""Reading one cell of an uploaded register (CSV or Excel): each reader returns the value or
None and adds a ``FieldError`` naming the row and the field, so that an import can list
every fault of the file before refusing it."""

from __future__ import annotations

import math
from datetime import date, datetime

from tichub.core.errors import FieldError
from tichub.core.messages import Msg

TRUE = {"是", "yes", "y", "true", "1", "共享"}
FALSE = {"否", "no", "n", "false", "0", "", "不共享"}


def day(raw: str, name: str, row: int, errs: list[FieldError]) -> date | None:
    if not raw.strip():
        return None
    try:
        # Excel cells arrive as "2030-01-01 00:00:00"; CSV as "2030-01-01" (or 2030/01/01).
        return datetime.fromisoformat(raw.strip().replace("/", "-")).date()
    except ValueError:
        errs.append(FieldError(name, Msg("{value} is not a date (YYYY-MM-DD)",
                                         value=repr(raw)), row))
        return None


def flag(raw: str, name: str, row: int, errs: list[FieldError]) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value not in FALSE:
        errs.append(FieldError(name, Msg("{value} is not yes/no (是/否)", value=repr(raw)), row))
    return False


def whole(raw: str, name: str, row: int, errs: list[FieldError], low: int,
          high: int) -> int | None:
    if not raw.strip():
        return None
    try:
        number = float(raw.strip())  # Excel gives 12 as "12.0"
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number != int(number) or not low <= number <= high:
        errs.append(FieldError(name, Msg("must be a whole number from {low} to {high}",
                                         low=low, high=high), row))
        return None
    return int(number)


def positive(raw: str, name: str, row: int, errs: list[FieldError],
             high: float) -> float | None:
    if not raw.strip():
        return None
    try:
        number = float(raw.strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not 0 < number <= high:
        errs.append(FieldError(name, Msg("must be a number above 0 and at most {high}",
                                         high=format(high, "g")), row))
        return None
    return number


def listed(raw: str) -> list[str]:
    """"a; b、c，d" → ["a", "b", "c", "d"]."""
    for sep in ("；", "、", "，", ",", "|"):
        raw = raw.replace(sep, ";")
    return [p.strip() for p in raw.split(";") if p.strip()]
