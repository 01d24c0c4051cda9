"""Life-cycle inventory and impact assessment by matrix algebra: the calculation core of
carbon footprints. Pure: NumPy and SciPy, no storage.

The conventions are Brightway's, so results can be held against bw2calc: a square
technosphere matrix A (rows: products, columns: activities; each activity's reference
product positive on the diagonal, its inputs negative), a biosphere matrix B (rows:
elementary flows, columns: activities; emissions positive), characterisation factors c
(kg CO2e per unit of each flow). For a final demand f: supply s = A⁻¹f, inventory g = Bs,
score h = c·g. A is factorised once (sparse LU) and the factors reused for every demand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.linalg import splu

Array = NDArray[np.float64]


class SingularSystem(ValueError):
    """The technosphere cannot be solved: an activity whose product nothing makes, or a
    loop that produces nothing net."""


@dataclass(frozen=True)
class Result:
    demand: Array
    supply: Array  # s: how much of each activity the demand calls for
    inventory: Array  # g: each elementary flow, summed over the system
    score: float  # h, in the characterisation's unit (kg CO2e)
    by_activity: Array  # each activity's share of h (its direct emissions × factors × supply)
    by_flow: Array  # each flow's share of h


def matrix(shape: tuple[int, int], entries: Iterable[tuple[int, int, float]]) -> sparse.csc_matrix:
    """A sparse matrix from (row, column, value) triples; repeated cells add up."""
    rows, cols, vals = [], [], []
    for r, c, v in entries:
        rows.append(r)
        cols.append(c)
        vals.append(v)
    return sparse.csc_matrix((np.asarray(vals, float), (np.asarray(rows, int),
                                                        np.asarray(cols, int))), shape=shape)


class LCA:
    def __init__(self, technosphere: sparse.spmatrix, biosphere: sparse.spmatrix,
                 factors: ArrayLike) -> None:
        a = sparse.csc_matrix(technosphere, dtype=np.float64)
        b = sparse.csr_matrix(biosphere, dtype=np.float64)
        c = np.asarray(factors, dtype=np.float64)
        n = a.shape[0]
        if a.shape != (n, n):
            raise ValueError(f"the technosphere must be square, not {a.shape}")
        if b.shape[1] != n:
            raise ValueError(f"the biosphere has {b.shape[1]} columns for {n} activities")
        if c.shape != (b.shape[0],):
            raise ValueError(f"{c.shape[0]} factors for {b.shape[0]} flows")
        self.technosphere, self.biosphere, self.factors = a, b, c
        try:
            self._lu = splu(a)
        except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
            raise SingularSystem(str(exc)) from None
        # c·B once: each activity's direct emissions per unit of it, characterised.
        self._direct = np.asarray(b.T @ c).ravel()

    def supply(self, demand: ArrayLike) -> Array:
        f = np.asarray(demand, dtype=np.float64)
        s = np.asarray(self._lu.solve(f), dtype=np.float64)
        if not np.all(np.isfinite(s)):
            raise SingularSystem("the solution is not finite")
        return s

    def solve(self, demand: ArrayLike) -> Result:
        f = np.asarray(demand, dtype=np.float64)
        s = self.supply(f)
        g = np.asarray(self.biosphere @ s).ravel()
        by_activity = self._direct * s
        return Result(demand=f, supply=s, inventory=g, score=float(self.factors @ g),
                      by_activity=by_activity, by_flow=self.factors * g)

    def scores(self, demands: ArrayLike) -> Array:
        """Scores of many demands at once (columns of ``demands``), one factorisation."""
        f = np.asarray(demands, dtype=np.float64)
        return np.asarray(self._direct @ self._lu.solve(f), dtype=np.float64)
