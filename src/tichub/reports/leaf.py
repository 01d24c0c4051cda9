"""A record's bytes in the log: RFC 8785 canonical JSON of its public fields and a salted
commitment to its private ones (a client's name, say), which anyone holding the fields and
the salt can open, and nobody can guess from the log.

Pure: no storage. Canonical JSON comes from the standard library's encoder where its
output provably matches, and from the ``rfc8785`` package otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

import rfc8785

LEAF_VERSION = 1
SALT_SIZE = 32
# Separates commitments from every other SHA-256 input the platform makes.
COMMIT_DOMAIN = b"tichub/record-commitment/v1\n"


class LeafError(ValueError):
    """Fields that canonical JSON cannot express (a float NaN, a non-string key...)."""


# For values of only strings, booleans, null, safe integers, lists and objects with ASCII
# keys, RFC 8785 output is what the standard library's C encoder writes with sorted keys,
# no spaces and no ASCII escaping: the same escapes (\" \\ \b \f \n \r \t, other
# controls as lowercase \u00xx), integers in plain digits, and key order by code unit,
# which for ASCII keys is code point order. Anything else (floats above all) goes through
# the rfc8785 package. tests/test_leaf.py holds the two to the same bytes.
_PLAIN = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                          allow_nan=False)
_SAFE_INT = 2**53 - 1


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_SAFE_INT <= value <= _SAFE_INT
    if kind is dict:
        return all(type(k) is str and k.isascii() and _plain(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_plain(v) for v in value)
    return False


def canonical(value: Any) -> bytes:
    if _plain(value):
        try:
            return _PLAIN.encode(value).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate, which rfc8785 refuses below
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise LeafError(str(exc)) from exc


def canonical_plain(value: Any) -> bytes:
    """``canonical`` for a value its caller built from strings, lists or tuples, and
    objects with ASCII keys only: the walk that proves it plain is skipped (it cost more
    than the encoding, for a status-map bucket)."""
    try:
        return _PLAIN.encode(value).encode()
    except UnicodeEncodeError:
        return canonical(value)  # which refuses what RFC 8785 cannot hold


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_SIZE)


def commitment(private: Mapping[str, Any], salt: bytes, *, plain: bool = False) -> str:
    """Hex SHA-256 over the domain, the salt and the private fields' canonical JSON.
    ``plain``: the caller built the fields as ``canonical_plain`` needs them (registration
    does, and a report's evidence made the walk that proves it the larger cost)."""
    if len(salt) != SALT_SIZE:
        raise LeafError(f"the salt must be {SALT_SIZE} bytes")
    data = canonical_plain(dict(private)) if plain else canonical(dict(private))
    return hashlib.sha256(COMMIT_DOMAIN + salt + data).hexdigest()


def opens(commit: str, private: Mapping[str, Any], salt: bytes) -> bool:
    return hmac.compare_digest(commit, commitment(private, salt))


def leaf_bytes(public: Mapping[str, Any], commit: str) -> bytes:
    """The exact bytes hashed into the tree for one record."""
    return canonical({"v": LEAF_VERSION, "record": dict(public), "private": commit})
