"""A record's bytes in the log: RFC 8785 canonical JSON of its public fields and a salted
commitment to its private ones (a client's name, say), which anyone holding the fields and
the salt can open, and nobody can guess from the log.

Pure: no storage. Canonical JSON comes from the ``rfc8785`` package.
"""

from __future__ import annotations

import hashlib
import hmac
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


def canonical(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise LeafError(str(exc)) from exc


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_SIZE)


def commitment(private: Mapping[str, Any], salt: bytes) -> str:
    """Hex SHA-256 over the domain, the salt and the private fields' canonical JSON."""
    if len(salt) != SALT_SIZE:
        raise LeafError(f"the salt must be {SALT_SIZE} bytes")
    return hashlib.sha256(COMMIT_DOMAIN + salt + canonical(dict(private))).hexdigest()


def opens(commit: str, private: Mapping[str, Any], salt: bytes) -> bool:
    return hmac.compare_digest(commit, commitment(private, salt))


def leaf_bytes(public: Mapping[str, Any], commit: str) -> bytes:
    """The exact bytes hashed into the tree for one record."""
    return canonical({"v": LEAF_VERSION, "record": dict(public), "private": commit})
