"""The credit-risk scorer on its own: the published rule set, exact explanations, tiers at
their boundaries, and recomputing a stored score."""

from __future__ import annotations

import copy
import json
import random
from fractions import Fraction

import pytest

from tichub.supervision.credit import score
from tichub.supervision.credit.score import RuleSetError


def rules() -> score.RuleSet:
    return score.load("v1")


def test_the_published_rule_set_loads_and_names_every_input_in_both_languages() -> None:
    r = rules()
    assert score.versions()[0] == "v1" and score.current_version() in score.versions()
    keys = set(r.input_keys())
    # Every input the issue lists has a weight.
    for needed in ("pt_unsatisfactory", "pt_trend", "signals_critical", "complaints_upheld",
                   "findings_serious", "sanctions_revocation", "qualifications_withdrawn",
                   "commitment_checks_failed", "orders_disputed", "corrections_on_time"):
        assert needed in keys
    assert all(i.label["zh"] and i.label["en"] for i in r.inputs)
    assert r.document["basis"]["zh"] and r.document["basis"]["en"]


def test_each_explanation_sums_exactly_to_its_score() -> None:
    r = rules()
    rng = random.Random(15)
    for _ in range(500):
        inputs = {k: rng.randint(0, 12) for k in r.input_keys() if rng.random() < 0.5}
        if "pt_trend" in inputs:
            inputs["pt_trend"] -= 6
        result = score.score(inputs, r)
        assert sum((c.points for c in result.contributions), Fraction(0)) == result.score
        as_json = result.as_json()
        # The floats that JSON carries sum exactly as well (quarter points).
        assert sum(c["points"] for c in as_json["contributions"]) == as_json["score"]
        assert result.tier == r.tier_of(result.score)


def test_nothing_on_record_is_the_base_score_and_tier_b() -> None:
    result = score.score({}, rules())
    assert result.score == 90 and result.tier == "B"
    assert result.contributions[0].key == "base"


@pytest.mark.parametrize(("inputs", "expected_score", "tier"), [
    ({"signals_medium": 5}, 80, "B"),  # exactly at B's minimum: B
    ({"signals_medium": 6}, 78, "C"),  # one more confirmed signal: C
    ({"pt_satisfactory": 10}, 95, "A"),  # exactly at A's minimum
    ({"pt_satisfactory": 9}, Fraction(189, 2), "B"),  # half a point short
    ({"pt_satisfactory": 40}, 95, "A"),  # capped at +5
    ({"findings_serious": 3}, 60, "C"),  # C's minimum
    ({"findings_serious": 3, "orders_disputed": 1}, 59, "D"),
    ({"signals_medium": 50}, 70, "C"),  # a floor of -20 on this input
    ({"pt_trend": 2}, 92, "B"), ({"pt_trend": -10}, 84, "B"),  # trend bounded to -6..+3
])
def test_changing_one_input_moves_the_tier_as_the_rule_set_says(
        inputs: dict[str, int], expected_score: Fraction, tier: str) -> None:
    result = score.score(inputs, rules())
    assert result.score == expected_score and result.tier == tier


def test_a_stored_score_verifies_and_a_tampered_one_does_not() -> None:
    result = score.score({"complaints_upheld": 2, "sanctions_warning": 1}, rules())
    stored = {**result.as_json(), "inputs": {"complaints_upheld": 2, "sanctions_warning": 1}}
    ok, again = score.verify(json.loads(json.dumps(stored)))
    assert ok and again.score == result.score
    for field, value in (("tier", "A"), ("score", 90.0),
                         ("inputs", {"complaints_upheld": 1, "sanctions_warning": 1})):
        tampered = {**stored, field: value}
        assert not score.verify(tampered)[0]


def test_unknown_inputs_and_malformed_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="does not know"):
        score.score({"bribes": 1}, rules())
    with pytest.raises(ValueError, match="whole number"):
        score.score({"complaints_upheld": 1.5}, rules())  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="whole number"):
        score.score({"complaints_upheld": True}, rules())
    with pytest.raises(KeyError):
        score.load("v999")
    with pytest.raises(KeyError):
        score.load("../etc/passwd")


def test_a_malformed_rule_set_is_refused_whole() -> None:
    good = rules().document
    cases = []
    bad = copy.deepcopy(good)
    bad["inputs"][0]["weight"] = "0.1"  # not a quarter point: sums would round
    cases.append((bad, "multiple of 0.25"))
    bad = copy.deepcopy(good)
    bad["tiers"] = list(reversed(bad["tiers"]))
    cases.append((bad, "A, B, C and D"))
    bad = copy.deepcopy(good)
    bad["tiers"][1]["min"] = "99"
    cases.append((bad, "fall"))
    bad = copy.deepcopy(good)
    bad["inputs"][1]["key"] = bad["inputs"][0]["key"]
    cases.append((bad, "repeated"))
    bad = copy.deepcopy(good)
    bad["inputs"][0]["weight"] = 0.5
    cases.append((bad, "decimal string"))
    for document, message in cases:
        with pytest.raises(RuleSetError, match=message):
            score.parse(document)
    assert score.parse(good).version == "v1"
