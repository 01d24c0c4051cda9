"""The password rule (NIST SP 800-63B): long enough, not a common password, not the
account's own e-mail. No composition rules ("a digit and a symbol"), which make passwords
harder to remember without making them harder to guess."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from tichub.core.messages import Msg

MIN_PASSWORD_LENGTH = 12
# Fewer distinct characters than this is a repetition ("aaaaaaaaaaaa", "abababababab"),
# which 800-63B names among the values to refuse.
MIN_DISTINCT_CHARACTERS = 5
# A local part shorter than this ("a@…") would refuse every password with that letter.
MIN_LOCAL_PART = 4
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased; only entries the length rule lets through matter."""
    with COMMON_PASSWORDS.open(encoding="utf-8") as f:
        words = (line.rstrip("\n").lower() for line in f if not line.startswith("#"))
        return frozenset(w for w in words if len(w) >= MIN_PASSWORD_LENGTH)


def password_fault(password: str, email: str = "") -> str | None:
    """Why ``password`` may not be set for the account ``email``, or None if it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Msg("must have at least {n} characters", n=MIN_PASSWORD_LENGTH)
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return Msg("must have at least {n} different characters", n=MIN_DISTINCT_CHARACTERS)
    lowered = password.lower()
    if lowered in common_passwords():
        return Msg("is one of the most common passwords; choose another")
    email = email.strip().lower()
    local = email.split("@", 1)[0]
    if email and (email in lowered or (len(local) >= MIN_LOCAL_PART and local in lowered)):
        return Msg("must not contain the e-mail address")
    return None
