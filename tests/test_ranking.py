"""The NumPy ranking core agrees with a plain, obviously-correct Python version."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from tichub.registry import ranking
from tichub.registry import search_key as sk
from tichub.registry.districts import DISTRICTS

TODAY = sk.day_number(date(2026, 11, 24))


def _random_keys(rng: random.Random, n_inst: int) -> list[int]:
    keys = []
    for seq in range(1, n_inst + 1):
        district = rng.choice(DISTRICTS).slug
        published = rng.random() > 0.1
        keys.append(sk.Key(seq, district, published).pack())
        for slot in range(1, rng.randint(0, 3) + 1):
            keys.append(sk.Key(seq, district, published, slot=slot,
                               kind=rng.choice(list(sk.KINDS)),
                               status=rng.choice(list(sk.STATUSES)),
                               valid_until=date(2026, 11, 24)
                               + timedelta(days=rng.randint(-500, 500))).pack())
    return keys


def _effective(k: sk.Key, today: int) -> str | None:
    """A key's effective status, or None for the names document (no qualification)."""
    if k.kind is None:
        return None
    if k.status == "valid" and sk.day_number(k.valid_until) < today:
        return "expired"
    return k.status


def _passes(k: sk.Key, f: ranking.Filters, skip: str = "") -> bool:
    """Whether a key passes every filter but ``skip`` (the facet being counted)."""
    if not k.published:
        return False
    if skip != "district" and f.districts and sk.DISTRICT_INDEX[k.district] not in f.districts:
        return False
    if skip != "kind" and f.kinds and (k.kind is None or sk.KINDS[k.kind] not in f.kinds):
        return False
    return not (skip != "status" and f.statuses and _effective(k, f.today) not in f.statuses)


@dataclass
class Expected:
    order: list[int]  # every matching institution, best first
    best: dict[int, tuple[int, bool, int]]  # seq -> (tier, valid, lines)
    by_district: dict[int, int]
    by_kind: dict[int, int]
    by_status: dict[str, int]


def _reference(keys: list[int], tiers: list[int], lines: list[int],
               f: ranking.Filters) -> Expected:
    """The ranking spelled out one key at a time, as the docstring of ``rank`` states it."""
    unpacked = [sk.unpack(key) for key in keys]
    # Each institution's matching keys, as (tier, valid, lines).
    matches: dict[int, list[tuple[int, bool, int]]] = {}
    for k, tier, n in zip(unpacked, tiers, lines, strict=True):
        if _passes(k, f):
            matches.setdefault(k.seq, []).append((tier, _effective(k, f.today) == "valid", n))
    best: dict[int, tuple[int, bool, int]] = {}
    for seq, found in matches.items():
        tier, valid = max((t, v) for t, v, _ in found)  # tier first, then valid
        best[seq] = (tier, valid, sum(n for t, v, n in found if (t, v) == (tier, valid)))
    order = sorted(best, key=lambda s: (-best[s][0], -best[s][1], -best[s][2], s))

    def count(skip: str, value_of: Callable[[sk.Key], object]) -> dict[Any, int]:
        holders: dict[Any, set[int]] = {}
        for k in unpacked:
            value = value_of(k)
            if value is not None and _passes(k, f, skip):
                holders.setdefault(value, set()).add(k.seq)
        return {v: len(s) for v, s in holders.items()}

    return Expected(
        order=order, best=best,
        by_district=count("district", lambda k: sk.DISTRICT_INDEX[k.district]),
        by_kind=count("kind", lambda k: sk.KINDS[k.kind] if k.kind else None),
        by_status=count("status", lambda k: _effective(k, f.today)),
    )


def test_rank_matches_the_reference_on_random_data() -> None:
    rng = random.Random(13)
    for trial in range(60):
        keys = _random_keys(rng, rng.randint(0, 60))
        rng.shuffle(keys)  # the database need not return keys in order
        tiers = [rng.randint(0, 3) for _ in keys]
        lines = [rng.randint(0, 9) for _ in keys]
        f = ranking.Filters(
            districts=tuple(rng.sample(range(16), rng.choice([0, 0, 3]))),
            kinds=tuple(rng.sample([1, 2, 3], rng.choice([0, 0, 1]))),
            statuses=tuple(rng.sample(["valid", "expired", "suspended", "withdrawn"],
                                      rng.choice([0, 0, 1, 2]))),
            today=TODAY,
        )
        want = _reference(keys, tiers, lines, f)
        offset = rng.choice([0, 0, 5])
        got = ranking.rank(np.array(keys, dtype=np.int64), np.array(tiers, dtype=np.int64),
                           np.array(lines, dtype=np.int64), f, offset, 10)
        page = want.order[offset:offset + 10]
        assert list(got.seq) == page, trial
        assert [(int(t), bool(v), int(n)) for t, v, n in
                zip(got.tier, got.valid, got.lines, strict=True)] == [want.best[s] for s in page]
        assert got.total == len(want.order)
        assert got.by_district == want.by_district
        assert got.by_kind == want.by_kind
        assert got.by_status == want.by_status


def test_empty_input() -> None:
    empty = np.zeros(0, dtype=np.int64)
    got = ranking.rank(empty, empty, empty, ranking.Filters(today=TODAY), 0, 20)
    assert got.total == 0 and len(got.seq) == 0 and got.by_district == {}
    assert got.by_kind == {} and got.by_status == {}


def _rank(rows: list[tuple[sk.Key, int, int]], f: ranking.Filters | None = None,
          ) -> ranking.Ranked:
    return ranking.rank(np.array([k.pack() for k, _, _ in rows], dtype=np.int64),
                        np.array([t for _, t, _ in rows], dtype=np.int64),
                        np.array([n for _, _, n in rows], dtype=np.int64),
                        f or ranking.Filters(today=TODAY), 0, 20)


def test_valid_counts_only_at_the_tier_it_was_reached() -> None:
    """A has the exact edition only under an expired CNAS and an older edition under a valid
    CMA; B has the exact edition under a valid CMA. B is the better match."""
    later, earlier = date(2030, 1, 1), date(2020, 1, 1)
    a = [(sk.Key(1, "pudong", True, 1, "cnas", "valid", earlier), 3, 5),
         (sk.Key(1, "pudong", True, 2, "cma", "valid", later), 2, 5)]
    b = [(sk.Key(2, "pudong", True, 1, "cma", "valid", later), 3, 1)]
    got = _rank(a + b)
    assert list(got.seq) == [2, 1]
    assert (list(got.tier), list(got.valid), list(got.lines)) == ([3, 3], [True, False], [1, 5])
    # The same with the status set to expired rather than lapsed by date.
    a[0] = (sk.Key(1, "pudong", True, 1, "cnas", "expired", later), 3, 5)
    assert list(_rank(a + b).seq) == [2, 1]


def test_lines_count_only_where_the_best_match_is() -> None:
    later, earlier = date(2030, 1, 1), date(2020, 1, 1)
    # A: the exact edition under a valid CMA (1 line) and an expired CNAS (9 lines).
    a = [(sk.Key(1, "pudong", True, 1, "cma", "valid", later), 3, 1),
         (sk.Key(1, "pudong", True, 2, "cnas", "valid", earlier), 3, 9)]
    b = [(sk.Key(2, "pudong", True, 1, "cma", "valid", later), 3, 2)]
    got = _rank(a + b)
    assert list(got.seq) == [2, 1] and list(got.lines) == [2, 1]


def test_each_facet_leaves_its_own_filter_out() -> None:
    later, earlier = date(2030, 1, 1), date(2020, 1, 1)
    rows = [(sk.Key(1, "pudong", True, 1, "cma", "valid", later), 1, 1),
            (sk.Key(2, "xuhui", True, 1, "cnas", "valid", later), 1, 1),
            (sk.Key(3, "xuhui", True, 1, "cma", "valid", earlier), 1, 1),
            (sk.Key(4, "jiading", True, 1, "cma", "withdrawn", later), 1, 1)]
    pudong, xuhui, jiading = (sk.DISTRICT_INDEX[d] for d in ("pudong", "xuhui", "jiading"))
    got = _rank(rows, ranking.Filters(districts=(pudong,), kinds=(1,), today=TODAY))
    assert list(got.seq) == [1] and got.total == 1
    assert got.by_district == {pudong: 1, xuhui: 1, jiading: 1}  # CMA holders anywhere
    assert got.by_kind == {1: 1}  # in Pudong
    assert got.by_status == {"valid": 1}  # CMA holders in Pudong
    got = _rank(rows, ranking.Filters(statuses=("valid",), today=TODAY))
    assert got.by_status == {"valid": 2, "expired": 1, "withdrawn": 1}
    assert got.by_district == {pudong: 1, xuhui: 1}
