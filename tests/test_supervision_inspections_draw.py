"""The draw's pure core: deterministic, seeded by the checkpoint, shares in integers,
conflicts honoured."""

from __future__ import annotations

import hashlib

import pytest

from tichub.supervision.inspections import draw


def _doc(n_per_tier: int = 10, inspectors: int = 4, conflicts: list[list[str]] | None = None,
         shares: dict[str, int] | None = None) -> dict:
    insts = [{"id": f"I{t}{k:024d}", "tier": t} for t in "ABCD" for k in range(n_per_tier)]
    return {"version": 1, "plan_id": "P" * 26, "items": [{"code": "1", "description": ""}],
            "shares_bp": shares or {"A": 300, "B": 1000, "C": 3000, "D": 10000},
            "institutions": sorted(insts, key=lambda i: i["id"]),
            "inspectors": [{"id": f"X{k:025d}", "name": f"x{k}"} for k in range(inspectors)],
            "conflicts": conflicts or [], "per_institution": 2, "log_size": 7}


ROOT = hashlib.sha256(b"root").digest()


def test_the_same_inputs_give_the_same_picks_and_shares_round_up() -> None:
    doc = _doc()
    d = draw.digest(doc)
    a = draw.draw(doc, d, ROOT, 8)
    assert a == draw.draw(doc, d, ROOT, 8)
    per_tier = {t: sum(1 for p in a if p.tier == t) for t in "ABCD"}
    # 3 % of 10 is 0.3, taken up to 1; 10 % of 10 is exactly 1; 30 % is 3; D all.
    assert per_tier == {"A": 1, "B": 1, "C": 3, "D": 10}
    assert all(len(p.inspector_ids) == 2 and len(set(p.inspector_ids)) == 2 for p in a)


def test_integer_ceiling_where_floats_go_wrong() -> None:
    # 0.03 * 100 is 3.0000000000000004 in floats: a float ceiling would take 4.
    assert draw.taken(100, 300) == 3
    assert draw.taken(101, 300) == 4
    assert draw.taken(0, 10000) == 0
    assert draw.taken(5, 0) == 0


def test_a_different_checkpoint_gives_different_picks() -> None:
    doc = _doc(n_per_tier=40)
    d = draw.digest(doc)
    base = [p.as_dict() for p in draw.draw(doc, d, ROOT, 8)]
    other_root = [p.as_dict() for p in draw.draw(doc, d, hashlib.sha256(b"x").digest(), 8)]
    other_size = [p.as_dict() for p in draw.draw(doc, d, ROOT, 9)]
    assert not draw.same_picks(base, other_root)
    assert not draw.same_picks(base, other_size)


def test_conflicted_inspectors_are_never_drawn() -> None:
    doc = _doc(n_per_tier=3, inspectors=3)
    target = next(i["id"] for i in doc["institutions"] if i["tier"] == "D")
    doc["conflicts"] = [["X" + "0" * 25, target]]
    d = draw.digest(doc)
    for size in range(1, 30):
        pick = next(p for p in draw.draw(doc, d, ROOT, size) if p.institution_id == target)
        assert "X" + "0" * 25 not in pick.inspector_ids


def test_too_few_inspectors_is_found_before_the_draw() -> None:
    doc = _doc(n_per_tier=1, inspectors=2)
    target = doc["institutions"][0]["id"]
    assert draw.short_of_inspectors(doc) == []
    doc["conflicts"] = [["X" + "0" * 25, target]]
    assert draw.short_of_inspectors(doc) == [target]


def test_a_changed_document_does_not_match_its_digest() -> None:
    doc = _doc()
    d = draw.digest(doc)
    doc["shares_bp"]["A"] = 10000
    with pytest.raises(draw.DrawError):
        draw.draw(doc, d, ROOT, 8)


def test_the_seed_is_the_published_formula() -> None:
    doc = _doc()
    d = draw.digest(doc)
    expected = hashlib.sha256(bytes.fromhex(d) + ROOT + (8).to_bytes(8, "big")).digest()
    assert draw.seed(d, ROOT, 8) == expected
    first_a = min((i["id"] for i in doc["institutions"] if i["tier"] == "A"),
                  key=lambda i: hashlib.sha256(expected + i.encode()).digest())
    assert draw.draw(doc, d, ROOT, 8)[0].institution_id == first_a
