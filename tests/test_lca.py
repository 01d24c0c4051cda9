"""The LCA core against a worked example and against Brightway's bw2calc on the same
systems (the issue asks for agreement to 1e-9, relative)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tichub.carbon.lca import LCA, SingularSystem, matrix


def bw2calc_score(n: int, tech: list, bio: list, factors: np.ndarray,  # type: ignore[type-arg]
                  demand: dict[int, float]) -> tuple[float, np.ndarray]:
    """The same system through bw2calc, from bw_processing arrays (Brightway's ids: products
    and activities share them; flows numbered after)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bw2calc's hint to install pypardiso
        import bw2calc
        import bw_processing as bwp
    dp = bwp.create_datapackage()
    # Brightway stores inputs as positive amounts flipped on the way into the matrix.
    idx = np.array([(r + 1, c + 1) for r, c, _ in tech], dtype=bwp.INDICES_DTYPE)
    amounts = np.array([abs(v) for _, _, v in tech])
    flip = np.array([v < 0 for _, _, v in tech])
    dp.add_persistent_vector(matrix="technosphere_matrix", indices_array=idx,
                             data_array=amounts, flip_array=flip)
    dp.add_persistent_vector(
        matrix="biosphere_matrix",
        indices_array=np.array([(10_000 + f, c + 1) for f, c, _ in bio],
                               dtype=bwp.INDICES_DTYPE),
        data_array=np.array([v for _, _, v in bio]))
    dp.add_persistent_vector(
        matrix="characterization_matrix",
        indices_array=np.array([(10_000 + f, 10_000 + f) for f in range(len(factors))],
                               dtype=bwp.INDICES_DTYPE),
        data_array=factors)
    lca = bw2calc.LCA(demand={k + 1: v for k, v in demand.items()}, data_objs=[dp])
    lca.lci()
    lca.lcia()
    supply = np.zeros(n)
    for activity, col in lca.dicts.activity.items():
        supply[activity - 1] = lca.supply_array[col]
    return float(lca.score), supply


def test_a_worked_example() -> None:
    # Electricity (0) takes 0.5 kg of coal (1) per kWh; coal mining takes 0.02 kWh per kg.
    # Per kWh: s = [1/(1-0.01), 0.5/(1-0.01)]; CO2 2 kg/kWh at the plant, 0.1 kg/kg at the
    # mine, methane 0.005 kg/kg at the mine (GWP100 29.8, IPCC AR6 fossil CH4).
    tech = [(0, 0, 1.0), (1, 1, 1.0), (1, 0, -0.5), (0, 1, -0.02)]
    bio = [(0, 0, 2.0), (0, 1, 0.1), (1, 1, 0.005)]
    factors = np.array([1.0, 29.8])
    lca = LCA(matrix((2, 2), tech), matrix((2, 2), bio), factors)
    r = lca.solve([1.0, 0.0])
    s0 = 1 / 0.99
    assert r.supply == pytest.approx([s0, 0.5 * s0], rel=1e-12)
    expected = s0 * 2.0 + 0.5 * s0 * (0.1 + 0.005 * 29.8)
    assert r.score == pytest.approx(expected, rel=1e-12)
    assert r.by_activity.sum() == pytest.approx(r.score, rel=1e-12)
    assert r.by_flow.sum() == pytest.approx(r.score, rel=1e-12)
    bw_score, bw_supply = bw2calc_score(2, tech, bio, factors, {0: 1.0})
    assert r.score == pytest.approx(bw_score, rel=1e-9)
    assert r.supply == pytest.approx(bw_supply, rel=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_bw2calc_on_a_random_sparse_system(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 400, 60
    tech = [(i, i, float(rng.uniform(0.8, 1.2))) for i in range(n)]
    for col in range(n):  # each activity buys from a few others, loops included
        for row in rng.choice(n, size=4, replace=False):
            if row != col:
                tech.append((int(row), col, -float(rng.uniform(0.0, 0.15))))
    bio = [(int(rng.integers(m)), col, float(rng.lognormal(0, 1))) for col in range(n)
           for _ in range(3)]
    factors = rng.uniform(0, 30, m)
    lca = LCA(matrix((n, n), tech), matrix((m, n), bio), factors)
    demand = {int(k): float(rng.uniform(1, 10)) for k in rng.choice(n, 3, replace=False)}
    f = np.zeros(n)
    for k, v in demand.items():
        f[k] = v
    ours = lca.solve(f)
    theirs, supply = bw2calc_score(n, tech, bio, factors, demand)
    assert ours.score == pytest.approx(theirs, rel=1e-9)
    assert np.allclose(ours.supply, supply, rtol=1e-9, atol=1e-12)
    # many demands at once give the same scores
    many = np.zeros((n, 2))
    many[:, 0] = f
    many[:, 1] = 2 * f
    assert lca.scores(many) == pytest.approx([ours.score, 2 * ours.score], rel=1e-12)


def test_a_singular_system_is_refused() -> None:
    # the second activity makes nothing: no amount of it yields its product
    tech = [(0, 0, 1.0), (1, 0, -0.3)]
    with pytest.raises(SingularSystem):
        LCA(matrix((2, 2), tech), matrix((1, 2), []), [1.0]).solve([1.0, 0.0])
    with pytest.raises(ValueError, match="square"):
        LCA(matrix((2, 3), []), matrix((1, 3), []), [1.0])


# ---- uncertainty ------------------------------------------------------------------------

from tichub.carbon.lca import Distribution, MonteCarlo, draw, variance_shares  # noqa: E402


def chain_system() -> tuple[LCA, list, list]:  # type: ignore[type-arg]
    """A foreground product (0) made from a background material (1) and electricity (2);
    the material uses electricity; electricity is made from coal (3)."""
    tech = [(0, 0, 1.0), (1, 1, 1.0), (2, 2, 1.0), (3, 3, 1.0),
            (1, 0, -2.0), (2, 0, -5.0), (2, 1, -1.5), (3, 2, -0.4)]
    bio = [(0, 0, 0.3), (0, 1, 1.2), (0, 3, 2.4), (1, 3, 0.01)]
    return LCA(matrix((4, 4), tech), matrix((2, 4), bio), [1.0, 29.8]), tech, bio


def test_draws_follow_their_distributions() -> None:
    rng = np.random.default_rng(5)
    d = draw([Distribution("lognormal", 2.0, 0.2), Distribution("normal", -1.0, 0.1),
              Distribution("triangular", 1.0, minimum=0.5, maximum=2.0),
              Distribution("uniform", 0.0, minimum=1.0, maximum=3.0),
              Distribution("fixed", 4.0)], 200_000, rng)
    assert np.median(d[:, 0]) == pytest.approx(2.0, rel=0.01)  # lognormal: loc is the median
    assert np.std(np.log(d[:, 0])) == pytest.approx(0.2, rel=0.01)
    assert (d[:, 1].mean(), d[:, 1].std()) == pytest.approx((-1.0, 0.1), rel=0.01)
    assert d[:, 2].mean() == pytest.approx((0.5 + 1.0 + 2.0) / 3, rel=0.01)
    assert (d[:, 3].min() >= 1.0) and (d[:, 3].max() <= 3.0)
    assert np.all(d[:, 4] == 4.0)
    with pytest.raises(ValueError, match="minimum ≤ mode ≤ maximum"):
        Distribution("triangular", 5.0, minimum=0.0, maximum=1.0)


def test_without_spread_monte_carlo_is_the_deterministic_score() -> None:
    lca, _, _ = chain_system()
    demand = [1.0, 0, 0, 0]
    mc = MonteCarlo(lca, technosphere=[(2, 0, Distribution("fixed", -5.0))],
                    biosphere=[(0, 0, Distribution("fixed", 0.3))])
    scores, samples = mc.run(demand, 5)
    assert scores == pytest.approx([lca.solve(demand).score] * 5, rel=1e-12)
    assert samples.shape == (5, 2)


def test_the_foreground_shortcut_gives_the_same_scores() -> None:
    lca, _, _ = chain_system()
    demand = [1.0, 0, 0, 0]
    tech = [(2, 0, Distribution("lognormal", -5.0, 0.1)),
            (1, 0, Distribution("triangular", -2.0, minimum=-2.4, maximum=-1.8))]
    bio = [(0, 0, Distribution("normal", 0.3, 0.05))]
    full = MonteCarlo(lca, tech, bio).run(demand, 300, seed=9)[0]
    fast = MonteCarlo(lca, tech, bio, foreground=[0]).run(demand, 300, seed=9)[0]
    assert fast == pytest.approx(full, rel=1e-9)
    with pytest.raises(ValueError, match="outside the foreground"):
        MonteCarlo(lca, [(3, 2, Distribution("fixed", -0.4))], foreground=[0])


def test_lognormal_emission_mean_and_variance_shares() -> None:
    # One activity, one flow: score = e·c with e lognormal(median 2, σ 0.3) — mean
    # 2·exp(σ²/2) — plus a small uniform second flow; the first explains nearly all the
    # variance.
    lca = LCA(matrix((1, 1), [(0, 0, 1.0)]), matrix((2, 1), [(0, 0, 2.0), (1, 0, 0.1)]),
              [1.0, 1.0])
    mc = MonteCarlo(lca, biosphere=[(0, 0, Distribution("lognormal", 2.0, 0.3)),
                                    (1, 0, Distribution("uniform", 0.1, minimum=0.09,
                                                        maximum=0.11))])
    scores, samples = mc.run([1.0], 100_000, seed=3)
    assert scores.mean() == pytest.approx(2 * np.exp(0.3**2 / 2) + 0.1, rel=0.005)
    shares = variance_shares(samples, scores)
    assert shares[0] > 0.99 and shares[1] < 0.01
    assert mc.inputs() == ["biosphere[0,0]", "biosphere[1,0]"]


def test_supply_chain_order_makes_an_acyclic_chain_triangular() -> None:
    from scipy import sparse

    from tichub.carbon.lca import supply_chain_order

    rng = np.random.default_rng(11)
    n = 300
    shuffled = rng.permutation(n)  # a chain whose order hides in the numbering
    tech = [(i, i, 1.0) for i in range(n)]
    for k in range(n - 1):
        for j in range(k + 1, min(n, k + 4)):  # each buys from a few later in the chain
            tech.append((int(shuffled[j]), int(shuffled[k]), -0.1))
    a = matrix((n, n), tech)
    order, ordering = supply_chain_order(a)
    assert sorted(order.tolist()) == list(range(n)) and ordering == "NATURAL"
    ordered = sparse.coo_matrix(a[order][:, order])
    assert np.all(ordered.row >= ordered.col)  # every supplier after its consumers
    lca = LCA(a, matrix((1, n), [(0, c, 1.0) for c in range(n)]), [1.0])
    assert lca._lu.L.nnz + lca._lu.U.nnz <= a.nnz + n  # no fill at all


def test_sobol_indices_of_a_linear_model() -> None:
    from tichub.carbon.lca import sobol

    # score = 1·e1 + 29.8·e2 + 0·e3 with e1 ~ N(2, 0.4), e2 ~ U(0, 0.02), e3 ~ N(1, 1):
    # Var = 0.16 + 29.8²·0.02²/12 = 0.16 + 0.029601…; S1 = 0.16/Var, S2 = the rest, S3 = 0.
    lca = LCA(matrix((1, 1), [(0, 0, 1.0)]),
              matrix((3, 1), [(0, 0, 2.0), (1, 0, 0.01), (2, 0, 1.0)]), [1.0, 29.8, 0.0])
    mc = MonteCarlo(lca, biosphere=[
        (0, 0, Distribution("normal", 2.0, 0.4)),
        (1, 0, Distribution("uniform", 0.01, minimum=0.0, maximum=0.02)),
        (2, 0, Distribution("normal", 1.0, 1.0))])
    result = sobol(mc, [1.0], 20_000, seed=4)
    var = 0.16 + 29.8**2 * 0.02**2 / 12
    expected = np.array([0.16 / var, 1 - 0.16 / var, 0.0])
    assert result.first == pytest.approx(expected, abs=0.03)
    assert result.total == pytest.approx(expected, abs=0.03)  # additive: no interactions
