"""Unified social credit codes (统一社会信用代码) and their check character, GB 32100-2015.

Eighteen characters from a 31-character alphabet (no I, O, S, V, Z): registration
authority, entity type, six-digit division code, nine-character organisation code and a
check character. The check character is chosen so that the weighted sum, with weights
3^i mod 31, is congruent to 0 mod 31.
"""

from __future__ import annotations

from tichub.core.messages import Msg

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class CreditCodeError(ValueError):
    pass


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    return code.strip().upper().replace(" ", "")


def validate(code: str) -> str:
    """Returns the normalised code or raises ``CreditCodeError`` saying what is wrong."""
    code = normalise(code)
    if len(code) != 18:
        raise CreditCodeError(Msg("must have 18 characters, not {n}", n=len(code)))
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        raise CreditCodeError(Msg("contains characters not allowed in a credit code: {chars}",
                                  chars="".join(bad)))
    if not code[2:8].isdigit():
        raise CreditCodeError(Msg("characters 3 to 8 must be an administrative division code"))
    expected = check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError(Msg("check character is {got}, expected {expected}",
                                  got=code[17], expected=expected))
    return code
