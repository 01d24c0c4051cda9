"""Search keys pack what ranking and filtering need, and follow the registry's changes."""

from __future__ import annotations

from datetime import date

import pytest

from helpers import make_account, make_institution
from tichub.registry import search_key as sk
from tichub.registry import service
from tichub.registry.schemas import QualificationIn


def test_pack_and_unpack_round_trip() -> None:
    key = sk.Key(seq=123_456, district="chongming", published=True, slot=255, kind="cbtl",
                 status="withdrawn", valid_until=date(2089, 1, 1))
    packed = key.pack()
    assert packed < 2**62
    assert sk.unpack(packed) == key


@pytest.mark.parametrize("bad", [{"seq": 0}, {"seq": 2**27}, {"slot": 256}])
def test_out_of_range_fields_are_refused(bad: dict[str, int]) -> None:
    fields = {"seq": 1, "district": "pudong", "published": True, "slot": 1} | bad
    with pytest.raises(ValueError):
        sk.Key(**fields).pack()  # type: ignore[arg-type]


def test_a_suspension_reaches_search_at_once(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, qual = make_institution(db, acc, name="甲", serial=1,
                                  scope=[("GB 31241-2022", "锂离子电池", "过充电")])

    def found(**params: str) -> list[str]:
        body = client.get("/api/registry/search", params=params).json()
        return [h["institution"]["id"] for h in body["items"]]

    assert found(q="GB 31241", status="valid") == [inst]
    service.update_qualification(db, acc.principal(db), qual, QualificationIn(
        kind="cnas", number="CNAS L0001", valid_until=date(2030, 1, 1), status="suspended"))
    assert found(q="GB 31241", status="valid") == []
    assert found(q="GB 31241", status="suspended") == [inst]
    assert found(q="锂离子电池", status="suspended") == [inst]
