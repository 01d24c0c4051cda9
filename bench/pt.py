"""Proficiency-testing statistics at scale (issue 4).

Target: Algorithm A and every score (z, z′, ζ, E_n and their classes) for 1,000,000 results,
10,000 measurands × 100 laboratories, in under 1 s on the 2-core machine; print the time and
peak memory. Peer: the pt13528 library (ISO 13528 in Python, one measurand per call), run on
a sample of the measurands and scaled, with the same stopping rule; the ratio is printed.

    python bench/pt.py [--measurands 10000] [--labs 100] [--peer-sample 500]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

import numpy as np

from machine import cpu_model, peak_rss_mib
from tichub.pt import stats


def make_round(measurands: int, labs: int, missing: float,
               seed: int = 2027) -> tuple[np.ndarray, np.ndarray]:
    """Results like a real round: each measurand at its own level with a relative spread of
    2-15 %, 5 % of results wild (units mistaken, transcription slips), a share ``missing``
    left out; each lab's expanded uncertainty about twice its spread, k = 2."""
    rng = np.random.default_rng(seed)
    level = 10 ** rng.uniform(-2, 3, measurands)[:, None]
    spread = level * rng.uniform(0.02, 0.15, measurands)[:, None]
    values = rng.normal(level, spread, (measurands, labs))
    wild = rng.random((measurands, labs)) < 0.05
    values[wild] *= rng.choice([0.001, 0.1, 10.0, 1000.0], wild.sum())
    values[rng.random((measurands, labs)) < missing] = np.nan
    big_u = np.abs(rng.normal(2.0, 0.5, (measurands, labs))) * spread
    return values, big_u


def score_round(values: np.ndarray, big_u: np.ndarray) -> dict[str, np.ndarray]:
    est = stats.algorithm_a(values)
    x_pt, sigma, u_pt = est.x[:, None], est.s[:, None], est.u[:, None]
    z = stats.z_score(values, x_pt, sigma)
    zp = stats.z_prime_score(values, x_pt, sigma, u_pt)
    zeta = stats.zeta_score(values, big_u / 2, x_pt, u_pt)
    en = stats.en_score(values, big_u, x_pt, 2 * u_pt)
    return {"z": stats.classify_z(z), "z'": stats.classify_z(zp),
            "zeta": stats.classify_z(zeta), "En": stats.classify_en(en),
            "iterations": est.iterations if est.iterations is not None else np.zeros(1)}


def peer_time(values: np.ndarray, big_u: np.ndarray, sample: int) -> float | None:
    try:
        from pt13528 import robust, scores  # type: ignore[import-not-found]
    except ImportError:
        print("peer: pt13528 is not installed (pip install pt13528); no ratio")
        return None
    rows = values[:sample]
    start = time.perf_counter()
    for i, row in enumerate(rows):
        ok = ~np.isnan(row)
        y, uu = row[ok], big_u[i][ok]
        r = robust.algorithm_a(y, tol="equivalent-figure")
        u_pt = 1.25 * r.scale / np.sqrt(y.size)
        for v, big in zip(y, uu, strict=True):
            scores.z_score(v, r.location, r.scale)
            scores.z_prime_score(v, r.location, r.scale, u_pt)
            scores.zeta_score(v, r.location, big / 2, u_pt)
            scores.en_score(v, r.location, big, 2 * u_pt)
    return (time.perf_counter() - start) * len(values) / len(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measurands", type=int, default=10_000)
    ap.add_argument("--labs", type=int, default=100)
    ap.add_argument("--peer-sample", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--missing", type=float, default=0.0,
                    help="share of results left out (NaN), e.g. 0.03")
    args = ap.parse_args()

    values, big_u = make_round(args.measurands, args.labs, args.missing)
    n = int(np.count_nonzero(~np.isnan(values)))
    print(f"machine: {cpu_model()}; numpy {np.__version__}")
    print(f"data: {args.measurands:,} measurands × {args.labs} labs, {n:,} results "
          f"({values.size - n:,} missing)")
    score_round(values[:10], big_u[:10])  # warm up imports and caches

    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        out = score_round(values, big_u)
        times.append(time.perf_counter() - start)
    best, median = min(times), float(np.median(times))
    tracemalloc.start()
    score_round(values, big_u)
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    it = out["iterations"]
    print(f"Algorithm A + z, z′, ζ, E_n and classes: best {best:.3f} s, median {median:.3f} s "
          f"of {args.repeat} (target < 1 s: {'met' if median < 1 else 'MISSED'})")
    print(f"Algorithm A iterations per measurand: mean {it.mean():.1f}, max {int(it.max())}")
    print(f"unsatisfactory z: {int((out['z'] == 2).sum()):,}; "
          f"questionable z: {int((out['z'] == 1).sum()):,}")
    print(f"peak memory: {traced / 2**20:.0f} MiB allocated by the computation "
          f"(tracemalloc); process peak RSS {peak_rss_mib():.0f} MiB")
    peer = peer_time(values, big_u, min(args.peer_sample, args.measurands))
    if peer is not None:
        print(f"peer pt13528, one measurand per call ({args.peer_sample} measurands timed, "
              f"scaled): {peer:.1f} s; ratio peer/ours {peer / median:.0f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
