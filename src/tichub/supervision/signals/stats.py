"""The arithmetic of the rules that SQL does not do the same way on SQLite and PostgreSQL:
great-circle distance and travel speed, and the trailing-digit test. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance; accurate to well under 0.5 % for any two points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def too_fast(km: float, seconds: float, limit_kmh: float, min_km: float) -> bool:
    """Whether covering ``km`` in ``seconds`` needs more than ``limit_kmh``. Exactly at the
    limit is plausible; under ``min_km`` is the same place."""
    if km < min_km:
        return False
    if seconds <= 0:
        return True
    return km * 3600.0 > limit_kmh * seconds


def speed_kmh(km: float, seconds: float) -> float:
    return math.inf if seconds <= 0 else km * 3600.0 / seconds


def last_digit(value_text: str, min_significant: int) -> int | None:
    """The last digit of a number as reported, if it has at least ``min_significant``
    significant digits (leading zeros and signs do not count; trailing zeros do)."""
    digits = "".join(c for c in value_text if c.isdigit()).lstrip("0")
    if len(digits) < min_significant or not value_text[-1:].isdigit():
        return None
    return int(value_text[-1])


def chi_square_uniform(counts: Sequence[int]) -> tuple[float, float]:
    """Pearson's chi-square of digit counts against the uniform distribution, and its
    upper-tail p-value (degrees of freedom: number of cells − 1)."""
    n = sum(counts)
    k = len(counts)
    if n == 0 or k < 2:
        return 0.0, 1.0
    expected = n / k
    chi2 = sum((c - expected) ** 2 / expected for c in counts)
    return chi2, chi2_sf(chi2, k - 1)


def chi2_sf(x: float, dof: int) -> float:
    """P(X ≥ x) for X chi-square with ``dof`` degrees of freedom: the regularised upper
    incomplete gamma Q(dof/2, x/2), by its series (x small) or continued fraction."""
    if x <= 0:
        return 1.0
    a, z = dof / 2.0, x / 2.0
    if z < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(500):
            ap += 1
            term *= z / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        p = total * math.exp(-z + a * math.log(z) - math.lgamma(a))
        return max(0.0, 1.0 - p)
    # Lentz's continued fraction for Q.
    tiny = 1e-300
    b = z + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 500):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return math.exp(-z + a * math.log(z) - math.lgamma(a)) * h


def digits_test(counts: Mapping[int, int], min_values: int,
                alpha: float) -> tuple[bool, float, float, int]:
    """Whether a lab's last-digit counts (digit → count) are beyond chance: (flag, chi2, p,
    n). Fewer than ``min_values`` values are never flagged."""
    cells = [counts.get(d, 0) for d in range(10)]
    n = sum(cells)
    if n < min_values:
        return False, 0.0, 1.0, n
    chi2, p = chi_square_uniform(cells)
    return p < alpha, chi2, p, n


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
