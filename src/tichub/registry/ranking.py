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
    valid: NDArray[np.bool_]
    lines: Ints
    total: int
    by_district: dict[int, int]
    by_kind: dict[int, int]


def _fields(keys: Ints) -> dict[str, Ints]:
    return {name: sk.field(keys, name) for name in sk.FIELDS}


def _status_mask(f: dict[str, Ints], statuses: tuple[str, ...], today: int) -> NDArray[np.bool_]:
    has_qualification = f["kind"] != 0
    is_valid = has_qualification & (f["status"] == 0) & (f["days"] >= today)
    mask = np.zeros(len(f["kind"]), dtype=bool)
    for s in statuses:
        if s == "valid":
            mask |= is_valid
        elif s == "expired":
            mask |= has_qualification & ((f["status"] == sk.STATUSES["expired"])
                                         | ((f["status"] == 0) & (f["days"] < today)))
        else:
            mask |= has_qualification & (f["status"] == sk.STATUSES[s])
    return mask


def rank(keys: Ints, tiers: Ints, lines: Ints, filters: Filters, offset: int,
         limit: int) -> Ranked:
    """Folds matching keys per institution and returns one page, the total and facets.

    Order: best tier, then matched under a valid qualification, then more lines, then the
    institution's sequence number (registration order).
    """
    f = _fields(keys)
    mask = f["published"] == 1
    if filters.districts:
        mask &= np.isin(f["district"], filters.districts)
    if filters.kinds:
        mask &= np.isin(f["kind"], filters.kinds)
    if filters.statuses:
        mask &= _status_mask(f, filters.statuses, filters.today)
    seq = f["seq"][mask]
    kind = f["kind"][mask]
    district = f["district"][mask]
    tier = tiers[mask]
    count = lines[mask]
    valid = ((kind != 0) & (f["status"][mask] == 0) & (f["days"][mask] >= filters.today))

    order = np.argsort(seq, kind="stable")
    seq, kind, district = seq[order], kind[order], district[order]
    tier, count, valid = tier[order], count[order], valid[order]
    if len(seq) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Ranked(empty, empty, np.zeros(0, dtype=bool), empty, 0, {}, {})
    starts = np.flatnonzero(np.r_[True, seq[1:] != seq[:-1]])
    inst_seq = seq[starts]
    inst_tier = np.maximum.reduceat(tier, starts)
    inst_valid = np.maximum.reduceat(valid.astype(np.int64), starts)
    inst_lines = np.add.reduceat(count, starts)
    inst_district = district[starts]

    best = np.lexsort((inst_seq, -inst_lines, -inst_valid, -inst_tier))[offset:offset + limit]
    by_district = np.bincount(inst_district, minlength=len(sk.DISTRICT_INDEX))
    by_kind: dict[int, int] = {}
    for code in sk.KIND_NAMES:
        holders = seq[kind == code]  # sorted, so distinct institutions are the changes
        if len(holders):
            by_kind[code] = int(1 + np.count_nonzero(holders[1:] != holders[:-1]))
    return Ranked(
        seq=inst_seq[best], tier=inst_tier[best], valid=inst_valid[best].astype(bool),
        lines=inst_lines[best], total=len(inst_seq),
        by_district={i: int(n) for i, n in enumerate(by_district) if n},
        by_kind=by_kind,
    )
