"""Statistics for proficiency testing, after ISO 13528:2022 and ISO 5725-2.

Pure: NumPy and SciPy only, no database or web code. Results are arrays whose last axis runs
over participants, so one call handles a single measurand (shape ``(p,)``) or many at once
(shape ``(m, p)``); NaN marks a missing result, which lets measurands with different numbers
of participants share one array. Every function returns arrays shaped like the input
without its last axis.

Choices the standard leaves open, made once here:
- Quartiles for nIQR interpolate linearly (NumPy's default, R's type 7): the only
  definition that reproduces the published nIQR of ISO 13528:2022 Annex E.3.
- Algorithm A stops by the standard's own rule: when neither s* nor x* changes in the
  third significant figure of s*. The printed results of Annex E.1 follow that rule (run
  to convergence, its first s* would print 7.24, not 7.23); ``stop="converged"`` iterates
  until the change is below ``rtol``·s*, as other software does.
- When more than half the results are equal, the MAD is zero and Algorithm A cannot start
  from it; it then starts from the ordinary standard deviation (if that is zero too, every
  result is equal and s* = 0). When about two thirds or more are equal, s* falls towards 0
  at every step; Algorithm A then gives x* = that value and s* = 0, and callers must take
  σ_pt from elsewhere.
- Fewer than two results give NaN for every spread and uncertainty; callers say why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

Array = NDArray[np.float64]

MADE_FACTOR = 1.483  # ISO 13528:2022 C.2.2: MADe = 1.483·MAD
NIQR_FACTOR = 0.7413  # ISO 13528:2022 C.2.3: nIQR = 0.7413·IQR
ALG_A_LIMIT = 1.5  # δ = 1.5·s*
ALG_A_FACTOR = 1.134  # s* = 1.134·SD of the winsorised values
U_FACTOR = 1.25  # u(x_pt) = 1.25·s*/√p (ISO 13528:2022 7.7.3)
NEGLIGIBLE = 0.3  # u(x_pt) ≤ 0.3·σ_pt, and s_s ≤ 0.3·σ_pt for homogeneity
HAMPEL_ABC = (1.5, 3.0, 4.5)

Method = Literal["algorithm-a", "q-hampel", "median-made", "median-niqr", "mean-sd"]
METHODS: tuple[Method, ...] = ("algorithm-a", "q-hampel", "median-made", "median-niqr",
                               "mean-sd")

# Classes of a score, as stored and printed.
SATISFACTORY, QUESTIONABLE, UNSATISFACTORY = "satisfactory", "questionable", "unsatisfactory"


@dataclass(frozen=True)
class Estimate:
    """A location (the assigned value when it comes from the participants), a spread and
    the standard uncertainty of the location, for each measurand."""

    method: str
    x: Array  # x* or the median or the mean
    s: Array  # s*, MADe, nIQR or the SD
    u: Array  # u(x_pt)
    n: NDArray[np.int64]  # results used
    iterations: NDArray[np.int64] | None = None


def as_rows(values: ArrayLike) -> tuple[Array, tuple[int, ...]]:
    """``values`` as a float (m, p) array and the leading shape to give results back in."""
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 0:
        raise ValueError("expected results along an axis, got a single number")
    lead = a.shape[:-1]
    return a.reshape(-1, a.shape[-1]), lead


def _shape(a: Array, lead: tuple[int, ...]) -> Array:
    return a.reshape(lead) if lead else a.reshape(())


def _count(x: Array) -> NDArray[np.int64]:
    return np.count_nonzero(~np.isnan(x), axis=-1).astype(np.int64)


def _uncertainty(s: Array, n: NDArray[np.int64], factor: float = U_FACTOR) -> Array:
    with np.errstate(invalid="ignore", divide="ignore"):
        u = factor * s / np.sqrt(n)
    return np.where(n >= 2, u, np.nan)


def _nanrows(x: Array, fn_plain: str, fn_nan: str, **kw: object) -> Array:
    """A row reduction that pays for NaN handling only when a row has a gap; rows with no
    result give NaN without a warning."""
    if not np.isnan(x).any():
        return np.asarray(getattr(np, fn_plain)(x, axis=-1, **kw), dtype=np.float64)
    out = np.full(x.shape[0], np.nan)
    ok = ~np.isnan(x).all(axis=-1)
    if ok.any():
        out[ok] = getattr(np, fn_nan)(x[ok], axis=-1, **kw)
    return out


def median(x: Array) -> Array:
    return _nanrows(x, "median", "nanmedian")


def _sd(x: Array) -> Array:
    n = _count(x)
    sd = np.full(x.shape[0], np.nan)
    ok = n >= 2
    if ok.any():
        sd[ok] = _nanrows(x[ok], "std", "nanstd", ddof=1)
    return sd


def mad_e(values: ArrayLike) -> Array:
    """Scaled median absolute deviation, MADe = 1.483·median|x − med(x)|."""
    x, lead = as_rows(values)
    med = median(x)
    return _shape(MADE_FACTOR * median(np.abs(x - med[:, None])), lead)


def niqr(values: ArrayLike) -> Array:
    """Normalised interquartile range, 0.7413·(Q3 − Q1), linear-interpolation quartiles."""
    x, lead = as_rows(values)
    out = np.full(x.shape[0], np.nan)
    ok = _count(x) >= 2
    if ok.any():
        q1, q3 = np.nanquantile(x[ok], [0.25, 0.75], axis=-1)
        out[ok] = NIQR_FACTOR * (q3 - q1)
    return _shape(out, lead)


def _about_median(method: str, values: ArrayLike, spread: Callable[[Array], Array]) -> Estimate:
    x, lead = as_rows(values)
    n = _count(x)
    s = np.where(n >= 2, spread(x), np.nan)
    return Estimate(method, _shape(median(x), lead), _shape(s, lead),
                    _shape(_uncertainty(s, n), lead), n.reshape(lead))


def median_made(values: ArrayLike) -> Estimate:
    return _about_median("median-made", values, mad_e)


def median_niqr(values: ArrayLike) -> Estimate:
    return _about_median("median-niqr", values, niqr)


def mean_sd(values: ArrayLike) -> Estimate:
    """The plain mean and SD; u(x_pt) = s/√p (no robust inflation)."""
    x, lead = as_rows(values)
    n = _count(x)
    s = _sd(x)
    return Estimate("mean-sd", _shape(_nanrows(x, "mean", "nanmean"), lead), _shape(s, lead),
                    _shape(_uncertainty(s, n, 1.0), lead), n.reshape(lead))


def _third_figure(a: Array) -> Array:
    """The place value of the third significant figure of each positive ``a``."""
    with np.errstate(divide="ignore"):
        return np.power(10.0, np.floor(np.log10(np.abs(a))) - 2)


def algorithm_a(
    values: ArrayLike,
    *,
    rtol: float = 1e-10,
    max_iter: int = 100_000,
    stop: Literal["converged", "third-figure"] = "third-figure",
    start_factor: float = MADE_FACTOR,
    factor: float = ALG_A_FACTOR,
) -> Estimate:
    """Robust mean x* and SD s* by ISO 13528:2022 Algorithm A (C.3).

    Starts from the median and 1.483·MAD, winsorises at x* ± 1.5·s*, and takes the mean
    and 1.134·SD of the winsorised values until x* and s* stop changing: in the third
    significant figure of s* and the same decimal place of x* (the standard's rule), or
    (``stop="converged"``) by less than ``rtol``·s*. ``start_factor`` and ``factor``
    replace the standard's rounded constants (R's MASS::hubers uses 1.4826 and 1.1333927,
    their unrounded values).
    """
    x, lead = as_rows(values)
    n = _count(x)
    xs = median(x)
    s = start_factor * median(np.abs(x - xs[:, None]))
    # A MAD of 0, or lost in rounding against the results' own size, cannot start the
    # iteration. (Against their size near the median: one wild value must not decide.)
    flat = ((s == 0) | (s <= 1e-12 * np.abs(xs))) & (n >= 2)
    if flat.any():
        s[flat] = _sd(x[flat])
    s[n < 2] = np.nan
    iterations = np.zeros(x.shape[0], dtype=np.int64)
    active = np.flatnonzero((n >= 2) & (s > 0))
    gaps = bool(np.isnan(x).any())
    # s* has collapsed when it falls to rounding noise of x* or of where it started.
    floor = 1e-12 * np.maximum(np.abs(xs), np.where(s > 0, s, 0))
    for _ in range(max_iter):
        if active.size == 0:
            break
        rows = x[active]
        old_x, old_s = xs[active], s[active]
        d = ALG_A_LIMIT * old_s
        lo, hi = (old_x - d)[:, None], (old_x + d)[:, None]
        w = np.clip(rows, lo, hi)
        if gaps:
            new_x = np.nanmean(w, axis=-1)
            new_s = factor * np.nanstd(w, axis=-1, ddof=1)
        else:
            new_x = w.mean(axis=-1)
            new_s = factor * w.std(axis=-1, ddof=1)
        iterations[active] += 1
        if stop == "third-figure":
            q = _third_figure(new_s)
            with np.errstate(invalid="ignore", divide="ignore"):
                done = (np.round(new_s / q) == np.round(old_s / q)) & (
                    np.round(new_x / q) == np.round(old_x / q))
        else:
            tol = rtol * new_s
            done = (np.abs(new_x - old_x) <= tol) & (np.abs(new_s - old_s) <= tol)
        # When some two thirds of the results are one value, every result not winsorised
        # is that value and s* shrinks towards 0 by a constant factor: stop there, s* = 0.
        shrinking = new_s < old_s
        collapsed = shrinking & (new_s <= floor[active])
        tied = shrinking & flat[active] & ~collapsed
        if tied.any():
            inside = (rows > lo) & (rows < hi)
            top = np.where(inside, rows, -np.inf).max(axis=-1)
            bottom = np.where(inside, rows, np.inf).min(axis=-1)
            collapsed |= tied & (top == bottom)
            new_x = np.where(tied & (top == bottom), bottom, new_x)
        new_s = np.where(collapsed, 0.0, new_s)
        done |= collapsed
        done |= new_s == 0
        xs[active], s[active] = new_x, new_s
        active = active[~done]
    else:
        if active.size:
            raise ArithmeticError(f"Algorithm A did not converge in {max_iter} iterations")
    return Estimate("algorithm-a", _shape(xs, lead), _shape(s, lead),
                    _shape(_uncertainty(s, n), lead), n.reshape(lead),
                    iterations.reshape(lead))


def algorithm_a_steps(values: ArrayLike, steps: int) -> list[tuple[float, float]]:
    """x* and s* of one measurand at the start (median, 1.483·MAD) and after each of
    ``steps`` iterations: what a report shows of how the consensus was reached."""
    y = np.asarray(values, dtype=np.float64)
    y = y[~np.isnan(y)]
    if y.size < 2:
        raise ValueError("Algorithm A needs at least 2 results")
    xs = float(np.median(y))
    s = MADE_FACTOR * float(np.median(np.abs(y - xs))) or float(np.std(y, ddof=1))
    out = [(xs, s)]
    for _ in range(steps):
        w = np.clip(y, xs - ALG_A_LIMIT * s, xs + ALG_A_LIMIT * s)
        xs, s = float(w.mean()), ALG_A_FACTOR * float(w.std(ddof=1))
        out.append((xs, s))
    return out


def q_sd(values: ArrayLike) -> Array:
    """Robust SD by the Q method (ISO 13528:2022 C.5.2) for one result per participant.

    H1 is the empirical distribution of the p(p−1)/2 absolute differences between
    participants; G1 joins the midpoints of H1's jumps (and the origin) linearly;
    s* = G1⁻¹(0.25 + 0.75·H1(0)) / (√2·Φ⁻¹(0.625 + 0.375·H1(0))).
    """
    x, lead = as_rows(values)
    out = np.full(x.shape[0], np.nan)
    for i, row in enumerate(x):
        y = row[~np.isnan(row)]
        if y.size >= 2:
            out[i] = _q_sd_row(y)
    return _shape(out, lead)


def _q_sd_row(y: Array) -> float:
    i, j = np.triu_indices(y.size, k=1)
    d = np.sort(np.abs(y[i] - y[j]))
    # Differences equal in exact arithmetic may differ in the last bits (0.3 − 0.2 against
    # 0.2 − 0.1); merge them, or H1's jumps depend on the unit the results are given in.
    tol = 1e-12 * float(np.median(np.abs(y)))  # the typical size, not a wild value's
    d[d <= tol] = 0.0
    starts = np.concatenate(([True], np.diff(d) > tol))
    jumps = d[starts]
    counts = np.diff(np.concatenate((np.flatnonzero(starts), [d.size])))
    h = np.cumsum(counts) / d.size
    h_left = np.concatenate(([0.0], h[:-1]))
    g = 0.5 * (h + h_left)
    h0 = float(h[0]) if jumps[0] == 0 else 0.0
    if jumps[0] > 0:
        jumps, g = np.concatenate(([0.0], jumps)), np.concatenate(([0.0], g))
    if h0 >= 1.0:  # every result equal
        return 0.0
    level = 0.25 + 0.75 * h0
    spread = float(np.interp(level, g, jumps))
    return spread / (math.sqrt(2.0) * NormalDist().inv_cdf(0.625 + 0.375 * h0))


def _psi(q: Array, a: float, b: float, c: float) -> Array:
    """Hampel's redescending ψ (ISO 13528:2022 C.5.3)."""
    r = np.abs(q)
    out = np.where(r <= a, r, np.where(r <= b, a, np.where(r <= c, a * (c - r) / (c - b), 0.0)))
    return np.sign(q) * out


def hampel_location(y: Array, s: float, abc: tuple[float, float, float] = HAMPEL_ABC) -> float:
    """The root of Σψ((y_i − x)/s) = 0 nearest the median, found exactly: the sum is
    piecewise linear in x with its knots at y_i ± {a, b, c}·s."""
    med = float(np.median(y))
    if not s > 0:
        return med
    a, b, c = abc
    knots = np.unique(np.concatenate([y + k * s for k in (-c, -b, -a, a, b, c)]))

    def total(x: Array) -> Array:
        return _psi((y[None, :] - x[:, None]) / s, a, b, c).sum(axis=1)

    f = total(knots)
    zero = np.abs(f) <= 1e-9 * y.size  # ψ sums in rounding error: a root
    roots = list(knots[zero])
    # where the sum is 0 across a whole segment, the point of it nearest the median
    flat = np.flatnonzero(zero[:-1] & zero[1:])
    roots.extend(np.clip(med, knots[flat], knots[flat + 1]))
    left, right = f[:-1], f[1:]
    cross = np.flatnonzero((left * right < 0) & ~zero[:-1] & ~zero[1:])
    roots.extend(knots[cross] - left[cross] * (knots[cross + 1] - knots[cross])
                 / (right[cross] - left[cross]))
    if not roots:
        return med
    r = np.asarray(roots)
    return float(r[np.argmin(np.abs(r - med))])


def q_hampel(values: ArrayLike) -> Estimate:
    """The Q method's SD and Hampel's location (ISO 13528:2022 C.5)."""
    x, lead = as_rows(values)
    n = _count(x)
    s = np.asarray(q_sd(x), dtype=np.float64).reshape(-1)
    loc = np.full(x.shape[0], np.nan)
    for i, row in enumerate(x):
        y = row[~np.isnan(row)]
        if y.size:
            loc[i] = hampel_location(y, float(s[i]))
    return Estimate("q-hampel", _shape(loc, lead), _shape(s, lead),
                    _shape(_uncertainty(s, n), lead), n.reshape(lead))


def estimate(values: ArrayLike, method: Method,
             stop: Literal["converged", "third-figure"] = "third-figure") -> Estimate:
    match method:
        case "algorithm-a":
            return algorithm_a(values, stop=stop)
        case "q-hampel":
            return q_hampel(values)
        case "median-made":
            return median_made(values)
        case "median-niqr":
            return median_niqr(values)
        case "mean-sd":
            return mean_sd(values)
    raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")


def algorithm_s_factors(dof: int) -> tuple[float, float]:
    """Limit factor η and adjustment factor ξ of Algorithm S (ISO 13528:2022 C.4) for
    standard deviations with ``dof`` degrees of freedom: η² is the 90 % point of χ²/ν, and
    ξ makes the clipped mean square unbiased for normal data."""
    eta2 = float(sps.chi2.ppf(0.9, dof)) / dof
    # E[min(χ²_ν/ν, η²)] = F_{ν+2}(νη²) + η²·(1 − F_ν(νη²)).
    mean_clipped = float(sps.chi2.cdf(dof * eta2, dof + 2)
                         + eta2 * sps.chi2.sf(dof * eta2, dof))
    return math.sqrt(eta2), 1.0 / math.sqrt(mean_clipped)


def algorithm_s(sds: ArrayLike, dof: int, *, rtol: float = 1e-10,
                max_iter: int = 1000) -> Array:
    """Robust pooled standard deviation w* of participants' SDs (ISO 13528:2022 C.4)."""
    w, lead = as_rows(sds)
    eta, xi = algorithm_s_factors(dof)
    ws = median(w)
    out = ws.copy()
    for i, row in enumerate(w):
        v = row[~np.isnan(row)]
        cur = ws[i]
        if v.size == 0 or not cur > 0:
            continue
        for _ in range(max_iter):
            new = xi * math.sqrt(float(np.mean(np.minimum(v, eta * cur) ** 2)))
            if abs(new - cur) <= rtol * new:
                cur = new
                break
            cur = new
        out[i] = cur
    return _shape(out, lead)


# ---- σ_pt ---------------------------------------------------------------------------------

def horwitz_sigma(c: ArrayLike, thompson: bool = True) -> Array:
    """Horwitz's predicted reproducibility SD for a mass fraction c (dimensionless, e.g.
    1 mg/kg = 1e-6): σ = 0.02c^0.8495; with ``thompson``, Thompson's (2000) limits below
    1.2e-7 (σ = 0.22c) and above 0.138 (σ = 0.01c^0.5)."""
    conc = np.asarray(c, dtype=np.float64)
    if np.any(conc <= 0) or np.any(conc > 1):
        raise ValueError("a mass fraction must lie in (0, 1]")
    if not thompson:
        return np.asarray(0.02 * conc**0.8495, dtype=np.float64)
    return np.where(conc < 1.2e-7, 0.22 * conc,
                    np.where(conc > 0.138, 0.01 * np.sqrt(conc), 0.02 * conc ** 0.8495))


def u_negligible(u_xpt: ArrayLike, sigma_pt: ArrayLike) -> NDArray[np.bool_]:
    """ISO 13528:2022 9.2.1: u(x_pt) ≤ 0.3·σ_pt, when z scores need no correction."""
    return np.asarray(np.asarray(u_xpt) <= NEGLIGIBLE * np.asarray(sigma_pt))


# ---- scores -------------------------------------------------------------------------------

def _div(num: Array, den: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def z_score(x: ArrayLike, x_pt: ArrayLike, sigma_pt: ArrayLike) -> Array:
    return _div(np.asarray(x, float) - np.asarray(x_pt, float), np.asarray(sigma_pt, float))


def z_prime_score(x: ArrayLike, x_pt: ArrayLike, sigma_pt: ArrayLike,
                  u_xpt: ArrayLike) -> Array:
    den = np.hypot(np.asarray(sigma_pt, float), np.asarray(u_xpt, float))
    return _div(np.asarray(x, float) - np.asarray(x_pt, float), den)


def zeta_score(x: ArrayLike, u_x: ArrayLike, x_pt: ArrayLike, u_xpt: ArrayLike) -> Array:
    den = np.hypot(np.asarray(u_x, float), np.asarray(u_xpt, float))
    return _div(np.asarray(x, float) - np.asarray(x_pt, float), den)


def en_score(x: ArrayLike, big_u_x: ArrayLike, x_pt: ArrayLike, big_u_xpt: ArrayLike) -> Array:
    den = np.hypot(np.asarray(big_u_x, float), np.asarray(big_u_xpt, float))
    return _div(np.asarray(x, float) - np.asarray(x_pt, float), den)


def percent_difference(x: ArrayLike, x_pt: ArrayLike) -> Array:
    """D% = 100·(x − x_pt)/x_pt."""
    return 100.0 * _div(np.asarray(x, float) - np.asarray(x_pt, float),
                        np.abs(np.asarray(x_pt, float))) * np.sign(np.asarray(x_pt, float))


def classify_z(score: ArrayLike) -> NDArray[np.int8]:
    """0 satisfactory (|z| ≤ 2), 1 questionable (2 < |z| < 3), 2 unsatisfactory (|z| ≥ 3),
    −1 no score; for z, z′ and ζ (ISO 13528:2022 9.4.1, 9.5, 9.6)."""
    a = np.abs(np.asarray(score, dtype=np.float64))
    out = np.where(a <= 2.0, 0, np.where(a < 3.0, 1, 2)).astype(np.int8)
    out[np.isnan(a)] = -1
    return out


def classify_en(score: ArrayLike) -> NDArray[np.int8]:
    """0 satisfactory (|E_n| ≤ 1), 2 unsatisfactory (|E_n| > 1), −1 no score."""
    a = np.abs(np.asarray(score, dtype=np.float64))
    out = np.where(a <= 1.0, 0, 2).astype(np.int8)
    out[np.isnan(a)] = -1
    return out


CLASS_NAMES = {0: SATISFACTORY, 1: QUESTIONABLE, 2: UNSATISFACTORY, -1: None}


def class_name(code: int) -> str | None:
    return CLASS_NAMES[int(code)]


def rescaled_sum_z(z: ArrayLike) -> Array:
    """RSZ = Σz/√n over a participant's rounds (last axis), missing rounds skipped."""
    a, lead = as_rows(z)
    n = _count(a)
    return _shape(_div(np.nansum(a, axis=-1), np.sqrt(n).astype(float)), lead)


def sum_squared_z(z: ArrayLike) -> tuple[Array, NDArray[np.int64]]:
    """SSZ = Σz² and its degrees of freedom; compare with χ² on n degrees of freedom."""
    a, lead = as_rows(z)
    return _shape(np.nansum(a * a, axis=-1), lead), _count(a).reshape(lead)


# ---- homogeneity and stability (ISO 13528:2022 Annex B) ----------------------------------

@dataclass(frozen=True)
class Homogeneity:
    items: int  # g
    replicates: int  # m
    mean: float
    s_x: float  # SD of the item means
    s_w: float  # within-item (repeatability) SD
    s_s: float  # between-item SD
    limit: float  # 0.3·σ_pt, or 0.1·δ_E
    passes: bool  # s_s ≤ limit
    f1: float
    f2: float
    expanded_limit: float  # √(F1·limit² + F2·s_w²)
    passes_expanded: bool
    f_statistic: float  # one-way ANOVA: between-item over within-item mean square
    f_critical: float
    items_differ: bool  # the F test finds the items different at level α
    sigma_pt: float | None
    method_adequate: bool | None  # s_w ≤ 0.5·σ_pt: the check can see what it looks for
    sigma_pt_with_s_s: float | None  # √(σ_pt² + s_s²), for use when the check fails


def homogeneity(data: ArrayLike, sigma_pt: float | None = None, *,
                delta_e: float | None = None, alpha: float = 0.05) -> Homogeneity:
    """Homogeneity of g items measured m ≥ 2 times each (rows: items; columns: replicates),
    after ISO 13528:2022 Annex B.

    s_s² = s_x² − s_w²/m (0 when negative), checked against 0.3·σ_pt (or 0.1·δ_E when
    performance is judged against a maximum permissible error δ_E); the expanded criterion
    s_s² ≤ F1·limit² + F2·s_w² with F1 = χ²_{1−α; g−1}/(g−1) and
    F2 = (F_{1−α; g−1, g(m−1)} − 1)/m allows for the sampling error of s_s (Fearn and
    Thompson's test); and the analysis-of-variance F test of the items' means.
    """
    a = np.asarray(data, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 2:
        raise ValueError("need at least 2 items with at least 2 replicates each")
    if np.isnan(a).any():
        raise ValueError("every item needs the same number of replicates")
    if sigma_pt is not None and not sigma_pt > 0:
        raise ValueError("σ_pt must be positive")
    if delta_e is not None and not delta_e > 0:
        raise ValueError("δ_E must be positive")
    if sigma_pt is None and delta_e is None:
        raise ValueError("give σ_pt or δ_E")
    g, m = a.shape
    means = a.mean(axis=1)
    s_x = float(np.std(means, ddof=1))
    s_w = float(np.sqrt(np.mean(np.var(a, axis=1, ddof=1))))
    s_s = math.sqrt(max(0.0, s_x**2 - s_w**2 / m))
    limit = NEGLIGIBLE * sigma_pt if sigma_pt is not None else 0.1 * float(delta_e or 0)
    f1 = float(sps.chi2.ppf(1 - alpha, g - 1)) / (g - 1)
    f_crit = float(sps.f.ppf(1 - alpha, g - 1, g * (m - 1)))
    f2 = (f_crit - 1.0) / m
    expanded = math.sqrt(f1 * limit**2 + f2 * s_w**2)
    f_stat = m * s_x**2 / s_w**2 if s_w > 0 else math.inf
    return Homogeneity(
        items=g, replicates=m, mean=float(means.mean()), s_x=s_x, s_w=s_w, s_s=s_s,
        limit=limit, passes=s_s <= limit, f1=f1, f2=f2,
        expanded_limit=expanded, passes_expanded=s_s <= expanded,
        f_statistic=f_stat, f_critical=f_crit, items_differ=f_stat > f_crit,
        sigma_pt=sigma_pt,
        method_adequate=None if sigma_pt is None else s_w <= 0.5 * sigma_pt,
        sigma_pt_with_s_s=None if sigma_pt is None else math.sqrt(sigma_pt**2 + s_s**2),
    )


@dataclass(frozen=True)
class Stability:
    difference: float  # |ȳ_before − ȳ_after|
    limit: float
    passes: bool


def stability(before: ArrayLike, after: ArrayLike, sigma_pt: float,
              with_uncertainty: bool = True) -> Stability:
    """ISO 13528:2022 B.5: |ȳ1 − ȳ2| ≤ 0.3·σ_pt, widened by 2·√(u²(ȳ1) + u²(ȳ2)) (the
    standard errors of the two means) when ``with_uncertainty``."""
    b, a = np.asarray(before, float), np.asarray(after, float)
    if b.size < 1 or a.size < 1:
        raise ValueError("need measurements before and after")
    diff = abs(float(b.mean() - a.mean()))
    limit = NEGLIGIBLE * sigma_pt
    if with_uncertainty and b.size >= 2 and a.size >= 2:
        limit += 2 * math.hypot(float(b.std(ddof=1)) / math.sqrt(b.size),
                                float(a.std(ddof=1)) / math.sqrt(a.size))
    return Stability(diff, limit, diff <= limit)


# ---- ISO 5725-2 outlier tests and Mandel's statistics ------------------------------------

@dataclass(frozen=True)
class Test:
    statistic: float
    critical_5: float  # straggler
    critical_1: float  # outlier
    which: int | None = None  # the index the statistic points at

    @property
    def verdict(self) -> str:
        """"outlier", "straggler" or "ok", in ISO 5725-2's terms (larger is worse)."""
        if self.statistic > self.critical_1:
            return "outlier"
        if self.statistic > self.critical_5:
            return "straggler"
        return "ok"


def cochran(sds: ArrayLike, replicates: int) -> Test:
    """Cochran's C = s²_max/Σs² over p cells of n replicates (ISO 5725-2 7.3.3), with the
    critical values C = 1/(1 + (p−1)/F_{1−α/p; n−1, (p−1)(n−1)})."""
    s = np.asarray(sds, dtype=np.float64)
    p, n = s.size, replicates
    if p < 2 or n < 2:
        raise ValueError("Cochran's test needs at least 2 cells of at least 2 replicates")
    var = s**2
    stat = float(var.max() / var.sum())

    def crit(alpha: float) -> float:
        f = float(sps.f.ppf(1 - alpha / p, n - 1, (p - 1) * (n - 1)))
        return 1.0 / (1.0 + (p - 1) / f)

    return Test(stat, crit(0.05), crit(0.01), int(var.argmax()))


def grubbs_critical(p: int, alpha: float) -> float:
    """The critical value of Grubbs' single-outlier statistic for p values, two-sided at
    level α: ((p−1)/√p)·√(t²/(p−2+t²)), t the 1 − α/(2p) point of Student's t, p−2 dof."""
    t = float(sps.t.ppf(1 - alpha / (2 * p), p - 2))
    return (p - 1) / math.sqrt(p) * math.sqrt(t * t / (p - 2 + t * t))


def grubbs_single(values: ArrayLike) -> tuple[Test, Test]:
    """Grubbs' statistics for the smallest and the largest value (ISO 5725-2 7.3.4):
    G_1 = (x̄ − x_min)/s and G_p = (x_max − x̄)/s."""
    x = np.asarray(values, dtype=np.float64)
    p = x.size
    if p < 3:
        raise ValueError("Grubbs' test needs at least 3 values")
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    c5, c1 = grubbs_critical(p, 0.05), grubbs_critical(p, 0.01)
    if sd == 0:
        return Test(0.0, c5, c1, None), Test(0.0, c5, c1, None)
    low = Test((mean - float(x.min())) / sd, c5, c1, int(x.argmin()))
    high = Test((float(x.max()) - mean) / sd, c5, c1, int(x.argmax()))
    return low, high


def grubbs_double_statistics(values: ArrayLike) -> tuple[float, float]:
    """ISO 5725-2's double-Grubbs ratios: the sum of squares without the two smallest
    (then the two largest) values over the total sum of squares. Small is suspect."""
    x = np.sort(np.asarray(values, dtype=np.float64), axis=-1)
    if x.shape[-1] < 4:
        raise ValueError("the double Grubbs test needs at least 4 values")
    return _double_ratios(x)


def _double_ratios(x: Array) -> tuple[Any, Any]:
    """Both ratios for sorted rows (the last axis)."""
    def ss(a: Array) -> Array:
        return np.sum((a - a.mean(axis=-1, keepdims=True)) ** 2, axis=-1)

    total = ss(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = ss(x[..., 2:]) / total, ss(x[..., :-2]) / total
    return np.where(total > 0, low, 1.0)[()], np.where(total > 0, high, 1.0)[()]


def grubbs_double_critical(p: int, simulations: int = 200_000, seed: int = 5725
                           ) -> tuple[float, float]:
    """The 5 % and 1 % points of the double-Grubbs ratio for p normal values, by simulation
    (the ratio has no closed-form distribution; ISO 5725-2 tabulates simulated values too).
    The two-sided test takes the smaller of the two ratios, so each tail gets half."""
    rng = np.random.default_rng(seed + p)
    low, high = _double_ratios(np.sort(rng.standard_normal((simulations, p)), axis=-1))
    smaller = np.minimum(low, high)
    return float(np.quantile(smaller, 0.05)), float(np.quantile(smaller, 0.01))


def grubbs_double(values: ArrayLike) -> tuple[Test, Test]:
    """The double Grubbs test for the two smallest and the two largest values. A ratio
    *below* its critical value is suspect; the ``Test`` holds 1 − ratio and 1 − critical,
    so that larger is worse as for the other tests."""
    x = np.asarray(values, dtype=np.float64)
    low, high = grubbs_double_statistics(x)
    c5, c1 = grubbs_double_critical(x.size)
    order = np.argsort(x)
    return (Test(1 - float(low), 1 - c5, 1 - c1, int(order[0])),
            Test(1 - float(high), 1 - c5, 1 - c1, int(order[-1])))


def mandel_h(means: ArrayLike) -> Array:
    """Mandel's h for each laboratory's cell mean: (ȳ_i − ȳ)/s(ȳ) (ISO 5725-2 7.3.1)."""
    y = np.asarray(means, dtype=np.float64)
    return _div(y - y.mean(), np.asarray(y.std(ddof=1)))


def mandel_k(sds: ArrayLike) -> Array:
    """Mandel's k for each laboratory's cell SD: s_i/√(mean s²)."""
    s = np.asarray(sds, dtype=np.float64)
    return _div(s, np.asarray(math.sqrt(float(np.mean(s**2)))))


def mandel_h_critical(p: int, alpha: float) -> float:
    """h's indicator: (p−1)·t/√(p·(p−2+t²)), t the two-sided α point of t with p−2 dof."""
    t = float(sps.t.ppf(1 - alpha / 2, p - 2))
    return (p - 1) * t / math.sqrt(p * (p - 2 + t * t))


def mandel_k_critical(p: int, replicates: int, alpha: float) -> float:
    """k's indicator: √(p/(1 + (p−1)/F)), F the 1 − α point with n−1, (p−1)(n−1) dof."""
    n = replicates
    f = float(sps.f.ppf(1 - alpha, n - 1, (p - 1) * (n - 1)))
    return math.sqrt(p / (1 + (p - 1) / f))
