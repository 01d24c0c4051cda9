"""The NumPy ranking core agrees with a plain, obviously-correct Python version."""

from __future__ import annotations

import random
from datetime import date, timedelta

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


def _reference(keys: list[int], tiers: list[int], lines: list[int],
               f: ranking.Filters) -> tuple[list[int], int, dict[int, int], dict[int, int]]:
    per: dict[int, list[int]] = {}
    kinds: dict[int, set[int]] = {}
    for key, tier, n in zip(keys, tiers, lines, strict=True):
        k = sk.unpack(key)
        days = sk.day_number(k.valid_until)
        valid = k.kind is not None and k.status == "valid" and days >= f.today
        if not k.published:
            continue
        if f.districts and sk.DISTRICT_INDEX[k.district] not in f.districts:
            continue
        if f.kinds and (sk.KINDS.get(k.kind or "", 0)) not in f.kinds:
            continue
        if f.statuses:
            effective = ("expired" if k.status == "valid" and days < f.today else k.status)
            if k.kind is None or effective not in f.statuses:
                continue
        entry = per.setdefault(k.seq, [0, 0, 0, sk.DISTRICT_INDEX[k.district]])
        entry[0] = max(entry[0], tier)
        entry[1] = max(entry[1], int(valid))
        entry[2] += n
        if k.kind:
            kinds.setdefault(sk.KINDS[k.kind], set()).add(k.seq)
    order = sorted(per, key=lambda s: (-per[s][0], -per[s][1], -per[s][2], s))
    by_district: dict[int, int] = {}
    for v in per.values():
        by_district[v[3]] = by_district.get(v[3], 0) + 1
    return order, len(per), by_district, {k: len(v) for k, v in kinds.items()}


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
        order, total, by_district, by_kind = _reference(keys, tiers, lines, f)
        offset = rng.choice([0, 0, 5])
        got = ranking.rank(np.array(keys, dtype=np.int64), np.array(tiers, dtype=np.int64),
                           np.array(lines, dtype=np.int64), f, offset, 10)
        assert list(got.seq) == order[offset:offset + 10], trial
        assert got.total == total
        assert got.by_district == by_district
        assert got.by_kind == by_kind


def test_empty_input() -> None:
    empty = np.zeros(0, dtype=np.int64)
    got = ranking.rank(empty, empty, empty, ranking.Filters(today=TODAY), 0, 20)
    assert got.total == 0 and len(got.seq) == 0 and got.by_district == {}
