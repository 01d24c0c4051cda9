"""Bounded numbers for the API's paths, queries and bodies.

An integer beyond what its column holds overflows in the driver (SQLite's OverflowError,
PostgreSQL's NumericValueOutOfRange) and a float that is not finite breaks arithmetic and
JSON: both must be refused as a 422 naming the field before they reach a use case. The
aliases carry their bounds into the OpenAPI document, so clients and fuzzers see them too.
"""

from __future__ import annotations

import re
from typing import Annotated

from annotated_types import Interval
from pydantic import AllowInfNan

# The largest integer every JSON client holds exactly (JavaScript's Number.MAX_SAFE_INTEGER,
# a double's 53 bits). It fits a BIGINT with room to spare, and unlike 2**63 - 1 it survives
# the OpenAPI document, whose bounds are written as doubles.
SAFE_INT_MAX = 2**53 - 1
INT32_MAX = 2**31 - 1  # PostgreSQL's INTEGER

# A count, size or index stored in a BIGINT column: a log's size or entry, a timestamp.
Count = Annotated[int, Interval(ge=0, le=SAFE_INT_MAX)]
# An integer stored in an INTEGER column.
Int32 = Annotated[int, Interval(ge=-INT32_MAX - 1, le=INT32_MAX)]
# Any float the API takes: NaN and the infinities are not measurements, and JSON has none.
Finite = Annotated[float, AllowInfNan(False)]


_WHOLE = re.compile(r"-?[0-9]{1,30}")


def whole_number(text: str, field: str, default: int) -> int:
    """A whole number typed in a form (blank: ``default``); anything else is the field's
    422, never int()'s ValueError. The schema the value goes on to bounds it."""
    from tichub.core import errors
    from tichub.core.messages import Msg

    text = text.strip()
    if not text:
        return default
    # Not str.isdigit(), which takes "²" and other digits int() refuses; and a bounded
    # length, since int() refuses more than 4,300 digits.
    if not _WHOLE.fullmatch(text):
        raise errors.invalid(field, Msg("“{text}” is not a whole number", text=text[:40]))
    return int(text)
