"""Document numbers as people type them: one form per number, whatever the keyboard.

A report or certificate number is typed by a lab's LIMS, by a clerk, or by a member of the
public checking a document, often with a Chinese input method that gives full-width forms.
``normalise`` makes one form of every number (Unicode NFKC, surrounding white space
stripped) and refuses what no printed number holds but what makes two numbers look alike:
control characters, invisible format characters (zero-width space, BOM, bidirectional
overrides), line and paragraph separators, and any space other than U+0020 that NFKC left.
Registration, duplicate detection and every look-up go through it. Pure: no storage.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 100  # the stored column's length, in the normalised form
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


class NumberError(ValueError):
    """Why a typed number cannot be a document number."""


def _refused(char: str) -> bool:
    category = unicodedata.category(char)
    return category in REFUSED_CATEGORIES or (category.startswith("Z") and char != " ")


def normalise(number: str) -> str:
    """The number's one form; ``NumberError`` if it holds a character no number may."""
    form = unicodedata.normalize("NFKC", number).strip()
    bad = next((c for c in form if _refused(c)), None)
    if bad is not None:
        raise NumberError(f"must not contain U+{ord(bad):04X} "
                          f"({unicodedata.name(bad, unicodedata.category(bad))})")
    if not form:
        raise NumberError("is empty once surrounding white space is removed")
    if len(form) > MAX_LENGTH:
        raise NumberError(f"is longer than {MAX_LENGTH} characters once normalised")
    return form


def lookup_key(number: str) -> str:
    """The form a number is found by: ``normalise`` for any number it accepts, and for one
    stored before numbers were normalised, the same with the refused characters dropped,
    so that a look-alike registered then is found (and flagged) with the real number."""
    form = unicodedata.normalize("NFKC", number).strip()
    return "".join(c for c in form if not _refused(c)).strip()[:MAX_LENGTH]
