"""A round's statistics from its results: the assigned value and σ_pt of each measurand, as
the provider chose to set them, and every participant's scores.

Pure like ``stats``: arrays and plain values in, dataclasses out. The command line and the
round service both call ``analyse``, so a coordinator's spreadsheet and the platform give
the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tichub.core.messages import Msg
from tichub.pt import stats

AssignedKind = Literal["consensus", "formulation", "reference", "expert"]
SigmaKind = Literal["fixed", "horwitz", "previous", "robust"]
ScoreKind = Literal["z", "z_prime", "zeta", "en"]
ASSIGNED_KINDS: tuple[AssignedKind, ...] = ("consensus", "formulation", "reference", "expert")
SIGMA_KINDS: tuple[SigmaKind, ...] = ("fixed", "horwitz", "previous", "robust")
SCORE_KINDS: tuple[ScoreKind, ...] = ("z", "z_prime", "zeta", "en")
# How people name each way of setting x_pt and σ_pt (the report's words).
ASSIGNED_LABELS = {"consensus": Msg("consensus of participants"),
                   "formulation": Msg("formulation"),
                   "reference": Msg("certified reference value"),
                   "expert": Msg("expert laboratories")}
SIGMA_LABELS = {"robust": Msg("robust SD of this round"),
                "fixed": Msg("fitness for purpose (fixed)"),
                "previous": Msg("a previous round"), "horwitz": Msg("Horwitz function")}


@dataclass(frozen=True)
class Assigned:
    """How a measurand's assigned value is set: by the participants' consensus (``method``),
    or given — known by formulation, a certified reference value, or expert laboratories —
    with its standard uncertainty."""

    kind: AssignedKind = "consensus"
    method: stats.Method = "algorithm-a"
    value: float | None = None
    u: float | None = None

    def check(self) -> Msg | None:
        """Why this setting cannot be used, or None."""
        if self.kind not in ASSIGNED_KINDS:
            return Msg("unknown way of setting the assigned value: {kind}", kind=self.kind)
        if self.kind == "consensus":
            return None if self.method in stats.METHODS else Msg(
                "unknown statistical method: {method}", method=self.method)
        if self.value is None or not np.isfinite(self.value):
            return Msg("an assigned value from {kind} needs its value",
                       kind=ASSIGNED_LABELS[self.kind])
        if self.u is None or not (np.isfinite(self.u) and self.u >= 0):
            return Msg("an assigned value from {kind} needs its standard uncertainty (≥ 0)",
                       kind=ASSIGNED_LABELS[self.kind])
        return None


@dataclass(frozen=True)
class Sigma:
    """How σ_pt is set: fixed by fitness for purpose, taken from a previous round, predicted
    by Horwitz's function from the assigned value (``per_unit`` converts the measurand's
    unit to a mass fraction, e.g. 1e-6 for mg/kg), or the round's own robust SD."""

    kind: SigmaKind = "robust"
    value: float | None = None
    per_unit: float | None = None

    def check(self) -> Msg | None:
        if self.kind not in SIGMA_KINDS:
            return Msg("unknown way of setting σ_pt: {kind}", kind=self.kind)
        if self.kind in ("fixed", "previous") and not (
                self.value is not None and np.isfinite(self.value) and self.value > 0):
            return Msg("σ_pt from {kind} needs a positive value", kind=SIGMA_LABELS[self.kind])
        if self.kind == "horwitz" and not (self.per_unit is not None and self.per_unit > 0):
            return Msg("Horwitz's σ_pt needs the mass fraction of one unit "
                       "(e.g. 1e-6 for mg/kg)")
        return None


@dataclass
class Measurand:
    """The statistics of one measurand and the scores of its results, in input order."""

    name: str
    n: int
    assigned: Assigned
    sigma: Sigma
    x_pt: float
    u_xpt: float
    spread: float | None  # the consensus method's robust SD (s*, MADe, nIQR or SD)
    iterations: int | None
    sigma_pt: float
    u_negligible: bool
    z: np.ndarray = field(repr=False)
    z_prime: np.ndarray = field(repr=False)
    zeta: np.ndarray = field(repr=False)
    en: np.ndarray = field(repr=False)
    warnings: list[Msg] = field(default_factory=list)

    def primary(self, kind: ScoreKind) -> np.ndarray:
        return {"z": self.z, "z_prime": self.z_prime, "zeta": self.zeta, "en": self.en}[kind]

    def classes(self, kind: ScoreKind) -> np.ndarray:
        scores = self.primary(kind)
        return stats.classify_en(scores) if kind == "en" else stats.classify_z(scores)


def _finite(a: float) -> float | None:
    return float(a) if np.isfinite(a) else None


def analyse_one(
    name: str,
    values: np.ndarray,
    big_u: np.ndarray | None = None,
    k: np.ndarray | None = None,
    assigned: Assigned | None = None,
    sigma: Sigma | None = None,
    k_xpt: float = 2.0,
    estimate: stats.Estimate | None = None,
) -> Measurand:
    """One measurand: ``values`` are its results (NaN for none), ``big_u`` their expanded
    uncertainties with coverage factors ``k`` (NaN where not given). ``estimate`` is the
    consensus when the caller computed many measurands at once."""
    assigned = assigned or Assigned()
    sigma = sigma or Sigma()
    for fault in (assigned.check(), sigma.check()):
        if fault:
            raise ValueError(fault)
    x = np.asarray(values, dtype=np.float64)
    present = ~np.isnan(x)
    n = int(present.sum())
    warnings: list[Msg] = []
    spread: float | None = None
    iterations: int | None = None
    if assigned.kind == "consensus" or sigma.kind == "robust":
        est = estimate or stats.estimate(x[present], assigned.method)
        spread = _finite(float(est.s))
        if est.iterations is not None:
            iterations = int(est.iterations)
    if assigned.kind == "consensus":
        x_pt, u_xpt = float(est.x), float(est.u)
        if n < 12:
            warnings.append(Msg("only {n} results: ISO 13528 advises against consensus "
                                "values from fewer than about 12 participants", n=n))
    else:
        x_pt, u_xpt = float(assigned.value or 0.0), float(assigned.u or 0.0)
    match sigma.kind:
        case "fixed" | "previous":
            sigma_pt = float(sigma.value or 0.0)
        case "horwitz":
            per_unit = float(sigma.per_unit or 0.0)
            if not x_pt > 0:
                raise ValueError(Msg("Horwitz's σ_pt needs a positive assigned value"))
            sigma_pt = float(stats.horwitz_sigma(x_pt * per_unit)) / per_unit
        case _:
            sigma_pt = spread if spread is not None else float("nan")
    if not sigma_pt > 0:
        warnings.append(Msg("σ_pt is 0 or undefined (too few or identical results): "
                            "no z scores"))
    negligible = bool(stats.u_negligible(u_xpt, sigma_pt)) if sigma_pt > 0 else False
    if sigma_pt > 0 and not negligible:
        u_shown, limit_shown = format(u_xpt, ".4g"), format(0.3 * sigma_pt, ".4g")
        warnings.append(Msg("u(x_pt) = {u} exceeds 0.3·σ_pt = {limit}: use z′ (or ζ/E_n) "
                            "rather than z", u=u_shown, limit=limit_shown))
    uu = np.full_like(x, np.nan) if big_u is None else np.asarray(big_u, dtype=np.float64)
    kk = np.full_like(x, 2.0) if k is None else np.asarray(k, dtype=np.float64)
    return Measurand(
        name=name, n=n, assigned=assigned, sigma=sigma, x_pt=x_pt, u_xpt=u_xpt,
        spread=spread, iterations=iterations, sigma_pt=sigma_pt, u_negligible=negligible,
        z=stats.z_score(x, x_pt, sigma_pt),
        z_prime=stats.z_prime_score(x, x_pt, sigma_pt, u_xpt),
        zeta=stats.zeta_score(x, uu / kk, x_pt, u_xpt),
        en=stats.en_score(x, uu, x_pt, k_xpt * u_xpt),
        warnings=warnings,
    )


def as_json(m: Measurand, labels: list[str] | None = None,
            values: np.ndarray | None = None, rows: list[int] | None = None) -> dict[str, Any]:
    """The documented JSON form of a measurand (docs/cli.md, "tichub pt stats")."""
    def num(v: float) -> float | None:
        return None if not np.isfinite(v) else float(v)

    out: dict[str, Any] = {
        "measurand": m.name or None, "n": m.n, "assigned_value_from": m.assigned.kind,
        "method": m.assigned.method if m.assigned.kind == "consensus" else None,
        "x_pt": num(m.x_pt), "u_x_pt": num(m.u_xpt), "robust_sd": m.spread,
        "iterations": m.iterations, "sigma_pt_from": m.sigma.kind, "sigma_pt": num(m.sigma_pt),
        "u_negligible": m.u_negligible, "warnings": m.warnings,
    }
    if labels is not None and values is not None:
        scored = []
        for i, label in enumerate(labels):
            row: dict[str, Any] = {"lab": label, "value": num(values[i])}
            if rows is not None:
                row["row"] = rows[i]
            for kind in SCORE_KINDS:
                score = m.primary(kind)[i]
                row[kind] = num(score)
                row[f"{kind}_class"] = stats.class_name(int(m.classes(kind)[i]))
            scored.append(row)
        out["scores"] = scored
    return out
