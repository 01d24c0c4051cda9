"""The double-random draw (双随机): which institutions a frozen plan inspects, and which
inspectors go to each. Pure: no database, so that anyone holding the published plan and the
log's checkpoint can run it (``tichub supervision draw --verify``); docs/supervision-draw.md
states the procedure in words for those who reimplement it.

- The plan's frozen document is RFC 8785 canonical JSON; its digest is SHA-256 of those bytes.
- seed = SHA-256(digest (32 bytes) ‖ checkpoint root hash (32 bytes) ‖ checkpoint size as an
  8-byte big-endian unsigned integer).
- For each tier A, B, C, D in that order: its institutions, ranked by SHA-256(seed ‖ id as
  ASCII) ascending (ties, which need a SHA-256 collision, by id); take the first
  ceil(count × share_bp / 10000), computed in integers.
- For each institution taken: the inspectors without a declared conflict with it, ranked by
  SHA-256(seed ‖ institution id ‖ inspector id) ascending; take the first ``per_institution``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tichub.reports.leaf import canonical

TIERS = ("A", "B", "C", "D")
VERSION = 1


class DrawError(ValueError):
    """A frozen document the procedure cannot run on."""


@dataclass(frozen=True)
class Pick:
    institution_id: str
    tier: str
    rank: int  # its place in its tier's ranking, from 1
    inspector_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"institution_id": self.institution_id, "tier": self.tier, "rank": self.rank,
                "inspector_ids": list(self.inspector_ids)}


def digest(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def seed(document_digest: str, root_hash: bytes, size: int) -> bytes:
    if len(root_hash) != 32 or not 0 <= size < 2**64:
        raise DrawError("a checkpoint has a 32-byte root hash and a size below 2^64")
    try:
        raw = bytes.fromhex(document_digest)
    except ValueError:
        raise DrawError("the digest is 64 hexadecimal digits") from None
    if len(raw) != 32:
        raise DrawError("the digest is 64 hexadecimal digits")
    return hashlib.sha256(raw + root_hash + size.to_bytes(8, "big")).digest()


def taken(count: int, share_bp: int) -> int:
    """How many of ``count`` a share in basis points takes: the ceiling, in integers (a float
    ceiling of 0.03 × 100 gives 4)."""
    return (count * share_bp + 9999) // 10000


def _rank(key: bytes, ident: str) -> tuple[bytes, str]:
    return hashlib.sha256(key + ident.encode("ascii")).digest(), ident


def conflicts_of(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(inspector id, institution id) pairs the document excludes."""
    return {(str(a), str(b)) for a, b in document.get("conflicts", [])}


def eligible(document: Mapping[str, Any], institution_id: str) -> list[str]:
    excluded = conflicts_of(document)
    return [str(i["id"]) for i in document["inspectors"]
            if (str(i["id"]), institution_id) not in excluded]


def short_of_inspectors(document: Mapping[str, Any]) -> list[str]:
    """The institutions of the pool that would get fewer than ``per_institution`` inspectors
    without a conflict: a plan with any cannot be frozen."""
    need = int(document["per_institution"])
    return [str(i["id"]) for i in document["institutions"]
            if len(eligible(document, str(i["id"]))) < need]


def draw(document: Mapping[str, Any], document_digest: str, root_hash: bytes,
         size: int) -> list[Pick]:
    """The picks, tier by tier, each tier's in rank order."""
    if document.get("version") != VERSION:
        raise DrawError(f"this procedure is version {VERSION}")
    if digest(document) != document_digest:
        raise DrawError("the document does not hash to the published digest")
    s = seed(document_digest, root_hash, size)
    shares: Mapping[str, Any] = document["shares_bp"]
    need = int(document["per_institution"])
    picks: list[Pick] = []
    for tier in TIERS:
        share = shares.get(tier, 0)
        if not isinstance(share, int) or not 0 <= share <= 10000:
            raise DrawError(f"tier {tier}'s share is a whole number of basis points, 0-10000")
        members = sorted(str(i["id"]) for i in document["institutions"] if i["tier"] == tier)
        ranked = sorted(members, key=lambda ident: _rank(s, ident))
        for rank, inst in enumerate(ranked[:taken(len(members), share)], start=1):
            per_inst = s + inst.encode("ascii")
            who = sorted(eligible(document, inst), key=lambda ident: _rank(per_inst, ident))
            if len(who) < need:
                raise DrawError(f"institution {inst} has fewer than {need} inspectors "
                                "without a conflict")
            picks.append(Pick(inst, tier, rank, tuple(who[:need])))
    return picks


def same_picks(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> bool:
    def key(p: Mapping[str, Any]) -> tuple[str, str, tuple[str, ...]]:
        return str(p["institution_id"]), str(p["tier"]), tuple(p["inspector_ids"])
    return [key(p) for p in a] == [key(p) for p in b]
