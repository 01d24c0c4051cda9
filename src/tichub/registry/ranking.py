"""Ranking, filtering and facet counts over search keys: a pure NumPy core.

The database answers a query with the search keys that match (plus, for standard numbers,
each key's match tier and line count); everything after that — filters on district,
qualification kind and status, folding per institution, ranking, facets — is vectorised
arithmetic on those integers (see ``registry.search_key`` for the bit layout).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tichub.registry import search_key as sk

Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

STATUS_ORDER = ("valid", "expired", "suspended", "withdrawn")


@dataclass(frozen=True)
class Filters:
    districts: tuple[int, ...] = ()  # district indexes
    kinds: tuple[int, ...] = ()  # kind codes
    statuses: tuple[str, ...] = ()  # "valid", "expired", "suspended", "withdrawn"
    today: int = 0  # day number of the day that decides validity


@dataclass(frozen=True)
class Ranked:
    seq: Ints  # the requested page of institutions, best first
    tier: Ints
    valid: Bools
    lines: Ints
    total: int
    # Each facet counts institutions with every filter applied but its own (so ticking one
    # district still shows what the others would add).
    by_district: dict[int, int]
    by_kind: dict[int, int]
    by_status: dict[str, int]


def _fields(keys: Ints) -> dict[str, Ints]:
    return {name: sk.field(keys, name) for name in ("days", "status", "kind", "district", "seq")}


def _status_masks(f: dict[str, Ints], today: int) -> dict[str, Bools]:
    """Each key's effective status: a valid qualification past its valid-until is expired."""
    has_qualification = f["kind"] != 0
    lapsed = f["days"] < today
    status = f["status"]
    return {
        "valid": has_qualification & (status == 0) & ~lapsed,
        "expired": has_qualification & ((status == sk.STATUSES["expired"])
                                        | ((status == 0) & lapsed)),
        "suspended": has_qualification & (status == sk.STATUSES["suspended"]),
        "withdrawn": has_qualification & (status == sk.STATUSES["withdrawn"]),
    }


def rank(keys: Ints, tiers: Ints, lines: Ints, filters: Filters, offset: int,
         limit: int) -> Ranked:
    """Folds matching keys per institution and returns one page, the total and facets.

    Each key (one qualification, or the institution's names) scores the pair (tier, valid):
    its best match tier and whether its qualification is valid on ``filters.today``. An
    institution takes its best pair, compared tier first, so a valid qualification only
    lifts it within the tier that qualification reached. Its line count is that of the
    keys holding the best pair: lines under an expired qualification do not push it ahead
    of an institution matched as well under a valid one. Order: best pair, then more lines,
    then the institution's sequence number (registration order).
    """
    keep = sk.field(keys, "published") == 1
    keys, tiers, lines = keys[keep], tiers[keep], lines[keep]
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Ranked(empty, empty, np.zeros(0, dtype=bool), empty, 0, {}, {}, {})
    # Sorting the keys sorts by sequence number (the top bits), then within an institution
    # by qualification kind; the database often returns them sorted already.
    if not np.all(keys[1:] >= keys[:-1]):
        order = np.argsort(keys, kind="stable")  # timsort: fast on the runs databases return
        keys, tiers, lines = keys[order], tiers[order], lines[order]
    f = _fields(keys)
    seq, kind = f["seq"], f["kind"]
    statuses = _status_masks(f, filters.today)

    ones = np.ones(len(keys), dtype=bool)
    district_ok = np.isin(f["district"], filters.districts) if filters.districts else ones
    kind_ok = np.isin(kind, filters.kinds) if filters.kinds else ones
    status_ok = ones
    if filters.statuses:
        status_ok = np.logical_or.reduce([statuses[s] for s in filters.statuses])
    mask = district_ok & kind_ok & status_ok

    # Fold the keys that pass every filter: each institution is one run of equal seq.
    m_seq = seq[mask]
    score = 2 * tiers[mask] + statuses["valid"][mask]
    starts = _firsts(m_seq)
    inst_seq = m_seq[starts]
    inst_score = np.maximum.reduceat(score, starts) if len(starts) else score
    at_best = score == np.repeat(inst_score, np.diff(np.r_[starts, len(score)]))
    inst_lines = (np.add.reduceat(np.where(at_best, lines[mask], 0), starts) if len(starts)
                  else inst_score)
    best = np.lexsort((inst_seq, -inst_lines, -inst_score))[offset:offset + limit]

    # Facets: distinct institutions among the keys that pass every other filter.
    m = kind_ok & status_ok
    by_district = np.bincount(f["district"][m][_firsts(seq[m])],
                              minlength=len(sk.DISTRICT_INDEX))
    m = district_ok & status_ok & (kind != 0)
    # Within an institution keys are sorted by kind: a change of key >> kind shift is a new
    # (institution, kind) pair.
    by_kind = np.bincount(kind[m][_firsts(keys[m] >> sk.FIELDS["kind"][0])],
                          minlength=len(sk.KIND_NAMES) + 1)
    m = district_ok & kind_ok
    by_status = {s: len(_firsts(seq[m & statuses[s]])) for s in STATUS_ORDER}
    return Ranked(
        seq=inst_seq[best], tier=inst_score[best] // 2, valid=(inst_score[best] % 2) == 1,
        lines=inst_lines[best], total=len(inst_seq),
        by_district={i: int(n) for i, n in enumerate(by_district) if n},
        by_kind={k: int(by_kind[k]) for k in sk.KIND_NAMES if by_kind[k]},
        by_status={s: n for s, n in by_status.items() if n},
    )


def _firsts(sorted_values: Ints) -> Ints:
    """Indexes where each run of equal values starts."""
    if len(sorted_values) == 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
