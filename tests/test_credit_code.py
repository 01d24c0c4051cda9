"""Unified social credit codes, GB 32100-2015."""

from __future__ import annotations

import pytest

from tichub.registry.credit_code import CreditCodeError, check_character, validate

# Codes printed on real business licences (public records), independent of our code.
PUBLISHED = [
    "91350100M000100Y43",  # the example used in GB 32100-2015 explanations
    "9144030071526726XG",  # Tencent Technology (Shenzhen)
    "91330100716105852F",  # Alibaba (China)
    "911100001000080343",  # a Beijing state enterprise
    "91310000607216596U",  # a Shanghai enterprise
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert validate(code) == code
    assert check_character(code[:17]) == code[17]


def test_lower_case_and_spaces_are_normalised() -> None:
    assert validate(" 9144030071526726xg ") == "9144030071526726XG"


@pytest.mark.parametrize(("code", "message"), [
    ("9144030071526726XA", "check character is A, expected G"),
    ("9144030071526726X", "18 characters"),
    ("9144030071526I26XG", "not allowed"),  # I, O, S, V, Z are outside the alphabet
    ("91AB030071526726XG", "division code"),
])
def test_faults_are_named(code: str, message: str) -> None:
    with pytest.raises(CreditCodeError, match=message):
        validate(code)


def test_every_single_character_change_is_caught() -> None:
    code = PUBLISHED[1]
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for i in range(17):
        for c in alphabet:
            if c != code[i]:
                changed = code[:i] + c + code[i + 1:]
                if changed[2:8].isdigit():
                    with pytest.raises(CreditCodeError):
                        validate(changed)
