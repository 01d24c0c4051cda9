"""How uncertain an amount is, as people state it: a distribution around the amount, or
data-quality (pedigree) scores that imply one. Pure.

Pedigree scores follow the ecoinvent data quality guideline (Weidema et al. 2013): five
indicators, each scored 1 (best) to 5, each score standing for an uncertainty factor; with
the basic uncertainty of the kind of exchange they combine into a lognormal distribution
whose σ_g² is exp(√Σ ln²U). The factors are the guideline's for ecoinvent version 3
(from Ciroth et al. 2016, Int J LCA 21:1338).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tichub.carbon.lca import Distribution

INDICATORS = ("reliability", "completeness", "temporal", "geographical", "technological")

PEDIGREE_FACTORS: dict[str, tuple[float, ...]] = {
    "reliability": (1.0, 1.54, 1.61, 1.69, 1.69),
    "completeness": (1.0, 1.03, 1.04, 1.08, 1.08),
    "temporal": (1.0, 1.03, 1.10, 1.19, 1.29),
    "geographical": (1.0, 1.04, 1.08, 1.11, 1.11),
    "technological": (1.0, 1.18, 1.65, 2.08, 2.80),
}

KINDS = ("fixed", "lognormal", "normal", "triangular", "uniform", "pedigree")


def pedigree_sigma(scores: tuple[int, ...], basic: float = 1.0) -> float:
    """σ of the logarithm for pedigree ``scores`` (one per indicator, 1–5) and the basic
    uncertainty ``basic`` (a σ_g², 1.05 for most energy and material inputs)."""
    if len(scores) != len(INDICATORS):
        raise ValueError(f"pedigree needs {len(INDICATORS)} scores: {', '.join(INDICATORS)}")
    if basic < 1:
        raise ValueError("the basic uncertainty is a factor of at least 1")
    terms = [math.log(basic) ** 2]
    for name, score in zip(INDICATORS, scores, strict=True):
        if score not in (1, 2, 3, 4, 5):
            raise ValueError(f"a pedigree score is 1 to 5, not {score} ({name})")
        terms.append(math.log(PEDIGREE_FACTORS[name][score - 1]) ** 2)
    return math.sqrt(sum(terms)) / 2


@dataclass(frozen=True)
class Uncertainty:
    """Relative to the amount it qualifies: lognormal by its geometric SD σ_g; normal by
    its SD as a fraction of the amount; triangular and uniform by their ends as multiples
    of it (0.9 and 1.2: from 10 % below to 20 % above); pedigree by its five scores."""

    kind: str = "fixed"
    gsd: float = 1.0
    sd: float = 0.0
    low: float = 1.0
    high: float = 1.0
    pedigree: tuple[int, ...] = ()
    basic: float = 1.05

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown uncertainty {self.kind!r}; one of {', '.join(KINDS)}")
        if self.kind == "lognormal" and not self.gsd >= 1:
            raise ValueError("a geometric standard deviation is at least 1")
        if self.kind == "normal" and not self.sd >= 0:
            raise ValueError("a standard deviation is never negative")
        if self.kind in ("triangular", "uniform") and not 0 <= self.low <= 1 <= self.high:
            raise ValueError("the ends must bracket the amount: low ≤ 1 ≤ high")
        if self.kind == "pedigree":
            pedigree_sigma(self.pedigree, self.basic)

    @property
    def varies(self) -> bool:
        return self.kind != "fixed"

    def around(self, amount: float) -> Distribution:
        """The distribution of ``amount`` (signs kept; ends ordered for negatives)."""
        lo, hi = sorted((amount * self.low, amount * self.high))
        match self.kind:
            case "lognormal":
                return Distribution("lognormal", amount, math.log(self.gsd))
            case "pedigree":
                return Distribution("lognormal", amount,
                                    pedigree_sigma(self.pedigree, self.basic))
            case "normal":
                return Distribution("normal", amount, abs(amount) * self.sd)
            case "triangular":
                return Distribution("triangular", amount, minimum=lo, maximum=hi)
            case "uniform":
                return Distribution("uniform", amount, minimum=lo, maximum=hi)
        return Distribution("fixed", amount)
