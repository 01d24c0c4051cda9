"""Standard numbers: the spellings people use compare equal."""

from __future__ import annotations

import pytest

from tichub.registry.standards import (
    StandardNumberError,
    looks_like_standard,
    parse,
    part_bounds,
)


@pytest.mark.parametrize(("raw", "key", "year", "display"), [
    ("GB4943.1—2022", "GB 4943.1", 2022, "GB 4943.1-2022"),
    ("GB 4943.1-2022", "GB 4943.1", 2022, "GB 4943.1-2022"),
    ("gb 4943.1", "GB 4943.1", None, "GB 4943.1"),
    ("ＧＢ／Ｔ　３６２７６－２０２３", "GB/T 36276", 2023, "GB/T 36276-2023"),
    ("GB/T 36276–2023", "GB/T 36276", 2023, "GB/T 36276-2023"),
    ("IEC 62133-2:2017", "IEC 62133-2", 2017, "IEC 62133-2:2017"),
    ("iec62133-2", "IEC 62133-2", None, "IEC 62133-2"),
    ("IEC 61000-4-2", "IEC 61000-4-2", None, "IEC 61000-4-2"),
    ("ISO/IEC 17025:2017", "ISO/IEC 17025", 2017, "ISO/IEC 17025:2017"),
    ("EN 62368-1:2014+A11:2017", "EN 62368-1", 2014, "EN 62368-1:2014"),
    ("T/CAS 115-2020", "T/CAS 115", 2020, "T/CAS 115-2020"),
    ("DB31/T 1234-2020", "DB31/T 1234", 2020, "DB31/T 1234-2020"),
    ("QC/T 743-2006", "QC/T 743", 2006, "QC/T 743-2006"),
    ("YY 0505-2012", "YY 0505", 2012, "YY 0505-2012"),
])
def test_parse(raw: str, key: str, year: int | None, display: str) -> None:
    parsed = parse(raw)
    assert (parsed.key, parsed.year, parsed.display) == (key, year, display)


@pytest.mark.parametrize("raw", ["", "锂离子电池", "GB", "GB/T abc"])
def test_not_a_standard(raw: str) -> None:
    with pytest.raises(StandardNumberError):
        parse(raw)


def test_queries_that_look_like_standards() -> None:
    assert looks_like_standard("GB 31241")
    assert looks_like_standard("iec62133-2:2017")
    assert looks_like_standard("DB31/T 1234-2020")
    assert not looks_like_standard("锂离子电池")
    assert not looks_like_standard("lithium battery")
    assert not looks_like_standard("battery 2020")


def test_part_bounds_hold_the_parts_only() -> None:
    lo, hi = part_bounds("GB 4943")
    inside = ["GB 4943.1", "GB 4943.23", "GB 4943-2"]
    outside = ["GB 4943", "GB 49430", "GB 4944", "GB 4942.1"]
    assert all(lo <= k < hi for k in inside)
    assert not any(lo <= k < hi for k in outside)
