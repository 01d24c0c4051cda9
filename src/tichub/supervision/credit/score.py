"""The credit-risk scorer: a published rule set and an institution's input counts give a
score, its tier and the contribution of every input. No database: anyone holding a rule set
(``rules/<version>.json``, also served at ``/api/supervision/credit/rules/{version}``) and
the inputs stored with a score recomputes it with this module alone.

Arithmetic is exact: weights, caps and thresholds are decimal strings read as fractions,
and the rule set must keep them to multiples of a quarter point, so that every contribution
and the score are exactly representable as binary floats (what JSON carries) and the
contributions, the base among them, sum to the score with no rounding at all.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).resolve().parent / "rules"
QUARTER = Fraction(1, 4)
VERSION = re.compile(r"^v[0-9]{1,4}$")
TIERS = ("A", "B", "C", "D")
MAX_COUNT = 10**9  # more events than any institution could have: a corrupt input


class RuleSetError(ValueError):
    """A rule set that is not well formed (a developer's error, caught by the tests)."""


@dataclass(frozen=True)
class InputRule:
    key: str
    weight: Fraction
    low: Fraction | None  # the least the input may contribute (a floor on a penalty)
    high: Fraction | None  # the most it may contribute (a cap on a credit)
    label: dict[str, str]

    def points(self, count: int) -> Fraction:
        points = self.weight * count
        if self.low is not None:
            points = max(points, self.low)
        if self.high is not None:
            points = min(points, self.high)
        return points


@dataclass(frozen=True)
class RuleSet:
    version: str
    base: Fraction
    window_months: int
    inputs: tuple[InputRule, ...]
    thresholds: tuple[tuple[str, Fraction | None], ...]  # best tier first; None: the rest
    document: dict[str, Any]

    def input_keys(self) -> list[str]:
        return [r.key for r in self.inputs]

    def tier_of(self, score: Fraction) -> str:
        for tier, least in self.thresholds:
            if least is None or score >= least:
                return tier
        raise RuleSetError("no tier takes this score")  # parse() makes the last open


@dataclass(frozen=True)
class Contribution:
    key: str  # "base" for the starting score
    count: int
    weight: Fraction
    points: Fraction

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "count": self.count, "weight": float(self.weight),
                "points": float(self.points)}


@dataclass(frozen=True)
class Result:
    score: Fraction
    tier: str
    contributions: tuple[Contribution, ...]
    version: str

    def as_json(self) -> dict[str, Any]:
        return {"rule_version": self.version, "score": float(self.score), "tier": self.tier,
                "contributions": [c.as_json() for c in self.contributions]}


def _points(value: Any, where: str) -> Fraction:
    if not isinstance(value, str):
        raise RuleSetError(f"{where}: write points as a decimal string")
    try:
        number = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise RuleSetError(f"{where}: {value!r} is not a number") from None
    if number % QUARTER:
        raise RuleSetError(f"{where}: {value} is not a multiple of 0.25")
    return number


def parse(document: Mapping[str, Any]) -> RuleSet:
    """A rule set from its JSON document, checked whole."""
    version = str(document.get("version", ""))
    if not VERSION.match(version):
        raise RuleSetError(f"version {version!r} is not v<number>")
    inputs = []
    seen: set[str] = set()
    for i, item in enumerate(document.get("inputs") or []):
        key = str(item.get("key", ""))
        if not re.match(r"^[a-z][a-z0-9_]{0,39}$", key) or key in seen or key == "base":
            raise RuleSetError(f"inputs[{i}]: key {key!r} is malformed or repeated")
        seen.add(key)
        label = item.get("label") or {}
        if not label.get("zh") or not label.get("en"):
            raise RuleSetError(f"inputs[{i}]: a label in zh and en is needed")
        inputs.append(InputRule(
            key=key, weight=_points(item.get("weight"), f"{key}.weight"),
            low=_points(item["min"], f"{key}.min") if item.get("min") is not None else None,
            high=_points(item["max"], f"{key}.max") if item.get("max") is not None else None,
            label={"zh": str(label["zh"]), "en": str(label["en"])}))
    if not inputs:
        raise RuleSetError("a rule set needs inputs")
    thresholds: list[tuple[str, Fraction | None]] = []
    for i, t in enumerate(document.get("tiers") or []):
        least = t.get("min")
        thresholds.append((str(t.get("tier")),
                           None if least is None else _points(least, f"tiers[{i}].min")))
    if tuple(t for t, _ in thresholds) != TIERS:
        raise RuleSetError("tiers must be A, B, C and D, in that order")
    bounds = [m for _, m in thresholds[:-1] if m is not None]
    if len(bounds) != len(thresholds) - 1 or thresholds[-1][1] is not None:
        raise RuleSetError("every tier but the last needs a minimum; the last none")
    if any(a <= b for a, b in itertools.pairwise(bounds)):
        raise RuleSetError("tier minimums must fall from A to C")
    window = document.get("window_months")
    if not isinstance(window, int) or not 1 <= window <= 120:
        raise RuleSetError("window_months must be a whole number of months, 1 to 120")
    return RuleSet(version=version, base=_points(document.get("base"), "base"),
                   window_months=window, inputs=tuple(inputs), thresholds=tuple(thresholds),
                   document=dict(document))


def versions() -> list[str]:
    """The published versions, oldest first."""
    found = [p.stem for p in RULES_DIR.glob("v*.json") if VERSION.match(p.stem)]
    return sorted(found, key=lambda v: int(v[1:]))


def current_version() -> str:
    return versions()[-1]


@cache
def load(version: str) -> RuleSet:
    """A published rule set; KeyError for a version never published."""
    if not VERSION.match(version) or version not in versions():
        raise KeyError(version)
    document = json.loads((RULES_DIR / f"{version}.json").read_text(encoding="utf-8"))
    rules = parse(document)
    if rules.version != version:
        raise RuleSetError(f"{version}.json says it is {rules.version}")
    return rules


def score(inputs: Mapping[str, int], rules: RuleSet) -> Result:
    """The score and tier from the input counts; an input the rule set names but the counts
    lack counts as none. Counts are whole and not negative, except ``pt_trend``-like inputs
    that a rule set may let fall below zero (any whole number is taken)."""
    unknown = sorted(set(inputs) - set(rules.input_keys()))
    if unknown:
        raise ValueError(f"inputs the rule set {rules.version} does not know: "
                         + ", ".join(unknown))
    parts = [Contribution("base", 1, rules.base, rules.base)]
    for rule in rules.inputs:
        count = inputs.get(rule.key, 0)
        if isinstance(count, bool) or not isinstance(count, int) or abs(count) > MAX_COUNT:
            raise ValueError(f"{rule.key}: a count must be a whole number")
        parts.append(Contribution(rule.key, count, rule.weight, rule.points(count)))
    total = sum((p.points for p in parts), Fraction(0))
    return Result(score=total, tier=rules.tier_of(total), contributions=tuple(parts),
                  version=rules.version)


def verify(stored: Mapping[str, Any]) -> tuple[bool, Result]:
    """Recomputes a stored score (``rule_version``, ``inputs``, ``score``, ``tier`` and
    ``contributions`` as the API gives them); True if every figure agrees."""
    result = score(stored["inputs"], load(str(stored["rule_version"])))
    as_json = result.as_json()
    same = (as_json["score"] == float(stored["score"]) and as_json["tier"] == stored["tier"]
            and as_json["contributions"] == list(stored.get("contributions") or []))
    return same, result
