"""Standard numbers, normalised so that the ways people write one number compare equal.

"GB4943.1—2022", "GB 4943.1-2022" and "gb 4943.1" all have the key ``GB 4943.1``; the first
two also the year 2022. International numbers put the year after a colon
("IEC 62133-2:2017"), Chinese ones after a dash ("GB/T 36276-2023"); a part number after a
dash ("62133-2") is kept because a year has four digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tichub.core.messages import Msg

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―－﹣−"), "-")
_PREFIX = re.compile(r"^(DB\d{2}(?:/[TZ])?|[A-Z]+(?:/[A-Z]+)*)\s*(?=\d)")
_YEAR = re.compile(r"\s*[-:]\s*((?:19|20)\d{2})$")
_AMENDMENT = re.compile(r"\s*[+/](?:A|AMD|COR|XG)\s*\d.*$")
_LOOKS_LIKE = re.compile(
    r"^\s*(?:DB\d{2}(?:/[TZ])?|[A-Z]{1,6}(?:/[A-Z]{1,6})*)\s*\d+(?:[.\-]\d+)*(?:\s*[-:]\s*(?:19|20)\d{2})?\s*$"
)


@dataclass(frozen=True)
class StandardNumber:
    key: str  # prefix and number, no year: "GB/T 36276"
    year: int | None

    @property
    def display(self) -> str:
        if self.year is None:
            return self.key
        sep = ":" if self.key.split(" ")[0] in INTERNATIONAL else "-"
        return f"{self.key}{sep}{self.year}"


# Bodies whose numbers write the year after a colon.
INTERNATIONAL = {"IEC", "ISO", "ISO/IEC", "EN", "IEEE", "ASTM", "UL", "CISPR", "ITU", "SAE",
                 "JIS", "IEC/TS", "ISO/TS", "IEC/TR", "ISO/TR", "EN/IEC", "BS", "DIN", "EN/ISO"}


class StandardNumberError(ValueError):
    pass


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).translate(_DASHES).upper().strip()
    return re.sub(r"\s+", " ", text)


def parse(raw: str) -> StandardNumber:
    text = _AMENDMENT.sub("", _clean(raw))
    m = _PREFIX.match(text)
    if not m:
        raise StandardNumberError(Msg("{raw} does not look like a standard number",
                                      raw=repr(raw)))
    prefix, rest = m.group(1), text[m.end():].strip()
    year: int | None = None
    y = _YEAR.search(rest)
    if y and y.start() > 0:
        year = int(y.group(1))
        rest = rest[: y.start()]
    rest = rest.replace(" ", "")
    if not rest or not rest[0].isdigit():
        raise StandardNumberError(Msg("{raw} has no number after {prefix}", raw=repr(raw),
                                      prefix=prefix))
    return StandardNumber(key=f"{prefix} {rest}", year=year)


def looks_like_standard(text: str) -> bool:
    """True for queries such as "GB 31241" or "iec62133-2:2017", false for prose."""
    return bool(_LOOKS_LIKE.match(_AMENDMENT.sub("", _clean(text))))


def part_bounds(key: str) -> tuple[str, str]:
    """Half-open key range holding the parts of ``key``: "GB 4943" → "GB 4943.1", "GB 4943-2".

    '-' (0x2D) and '.' (0x2E) are adjacent in ASCII, so one range covers both separators.
    """
    return key + "-", key + "/"
