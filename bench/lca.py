"""The LCA core at scale (issue 6): a synthetic, realistic sparse system of 20,000 activities
and 2,000 flows — supply chains that buy mostly upstream, with some loops — timed to build,
factorise and solve, and for Monte Carlo iterations per second, against bw2calc on the same
system in the same run. Target: at least as fast as bw2calc on the solve and on Monte Carlo.

    python bench/lca.py [--activities 20000] [--flows 2000] [--iterations 20]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

from machine import cpu_model, peak_rss_mib
from tichub.carbon.lca import LCA, Distribution, MonteCarlo, matrix


def system(n: int, m: int, seed: int = 2027) -> tuple[list, list, np.ndarray]:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    tech: list[tuple[int, int, float]] = [(i, i, 1.0) for i in range(n)]
    for col in range(n):
        k = rng.integers(2, 9)
        # mostly upstream suppliers (higher index), now and then anyone: loops
        upstream = rng.integers(col + 1, n, size=k) if col + 1 < n else np.array([], int)
        anyone = rng.integers(0, n, size=1 if rng.random() < 0.05 else 0)
        for row in set(upstream.tolist()) | set(anyone.tolist()) - {col}:
            tech.append((int(row), col, -float(rng.uniform(0.001, 0.12))))
    bio = [(int(rng.integers(m)), col, float(rng.lognormal(0, 1.5)))
           for col in range(n) for _ in range(int(rng.integers(1, 6)))]
    return tech, bio, rng.uniform(0, 30, m)


def ours(n: int, m: int, tech: list, bio: list, factors: np.ndarray,  # type: ignore[type-arg]
         demand: np.ndarray, iterations: int) -> dict[str, float]:
    t0 = time.perf_counter()
    a, b = matrix((n, n), tech), matrix((m, n), bio)
    t1 = time.perf_counter()
    lca = LCA(a, b, factors)
    score = lca.solve(demand).score
    t2 = time.perf_counter()
    uncertain = [(r, c, Distribution("lognormal", v, 0.1)) for r, c, v in tech if r != c]
    mc = MonteCarlo(lca, technosphere=uncertain)
    t3 = time.perf_counter()
    mc.run(demand, iterations, seed=1)
    t4 = time.perf_counter()
    return {"build s": t1 - t0, "factorise+solve s": t2 - t1, "score": score,
            "MC iterations/s": iterations / (t4 - t3)}


def brightway(n: int, tech: list, bio: list, factors: np.ndarray,  # type: ignore[type-arg]
              demand: dict[int, float], iterations: int) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import bw2calc
        import bw_processing as bwp
        from stats_arrays import LognormalUncertainty, UncertaintyBase
    t0 = time.perf_counter()
    dp = bwp.create_datapackage()
    idx = np.array([(r + 1, c + 1) for r, c, _ in tech], dtype=bwp.INDICES_DTYPE)
    amounts = np.array([abs(v) for _, _, v in tech])
    flip = np.array([v < 0 for _, _, v in tech])
    dist = UncertaintyBase.from_dicts(*[
        {"loc": np.log(abs(v)), "scale": 0.1, "uncertainty_type": LognormalUncertainty.id}
        if r != c else {"loc": v, "uncertainty_type": 0} for r, c, v in tech])
    dp.add_persistent_vector(matrix="technosphere_matrix", indices_array=idx,
                             data_array=amounts, flip_array=flip, distributions_array=dist)
    dp.add_persistent_vector(
        matrix="biosphere_matrix",
        indices_array=np.array([(10**6 + f, c + 1) for f, c, _ in bio], dtype=bwp.INDICES_DTYPE),
        data_array=np.array([v for _, _, v in bio]))
    dp.add_persistent_vector(
        matrix="characterization_matrix",
        indices_array=np.array([(10**6 + f, 10**6 + f) for f in range(len(factors))],
                               dtype=bwp.INDICES_DTYPE), data_array=factors)
    lca = bw2calc.LCA({k + 1: v for k, v in demand.items()}, data_objs=[dp])
    t1 = time.perf_counter()
    lca.lci()
    lca.lcia()
    t2 = time.perf_counter()
    mc = bw2calc.LCA({k + 1: v for k, v in demand.items()}, data_objs=[dp],
                     use_distributions=True, seed_override=1)
    mc.lci()
    mc.lcia()
    t3 = time.perf_counter()
    for _ in range(iterations):
        next(mc)
    t4 = time.perf_counter()
    return {"build s": t1 - t0, "factorise+solve s": t2 - t1, "score": float(lca.score),
            "MC iterations/s": iterations / (t4 - t3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--activities", type=int, default=20_000)
    ap.add_argument("--flows", type=int, default=2_000)
    ap.add_argument("--iterations", type=int, default=20)
    args = ap.parse_args()
    n, m = args.activities, args.flows
    tech, bio, factors = system(n, m)
    demand = {0: 1.0, n // 2: 3.0}
    f = np.zeros(n)
    for k, v in demand.items():
        f[k] = v
    try:
        import pypardiso  # noqa: F401  (bw2calc uses it when it is installed)
        peer_solver = "pypardiso (MKL PARDISO)"
    except ImportError:
        peer_solver = "scipy spsolve (SuperLU, COLAMD); pip install pypardiso for its fast path"
    print(f"bw2calc solves with {peer_solver}")
    print(f"machine: {cpu_model()}; {n:,} activities, {m:,} flows, {len(tech):,} technosphere "
          f"and {len(bio):,} biosphere exchanges")
    a = ours(n, m, tech, bio, factors, f, args.iterations)
    b = brightway(n, tech, bio, factors, demand, args.iterations)
    assert abs(a["score"] - b["score"]) <= 1e-9 * abs(b["score"]), (a["score"], b["score"])
    for key in ("build s", "factorise+solve s", "MC iterations/s"):
        better = b[key] / a[key] if key.endswith(" s") else a[key] / b[key]
        print(f"{key:>18}: ours {a[key]:.3f}, bw2calc {b[key]:.3f} "
              f"({better:.2f}× {'faster' if better >= 1 else 'slower'})")
    print(f"scores agree: {a['score']:.6g} kg CO2e; peak RSS {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
