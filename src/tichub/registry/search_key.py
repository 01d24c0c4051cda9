"""The search key: one 62-bit integer that carries everything ranking and filtering need.

Every search document (and every scope line, through its qualification's document) is
keyed by this integer, so a full-text or standard-number match yields keys alone, and
``registry.ranking`` filters, ranks and counts facets with vectorised bit arithmetic
instead of a row lookup per match. That keeps broad queries over millions of scope lines
fast.

    bits  0–7   slot: 0 for the institution's names, 1–255 for its qualifications in order
    bits  8–22  qualification valid-until, as days since 2000-01-01
    bits 23–24  qualification status: 0 valid, 1 suspended, 2 withdrawn, 3 expired
    bits 25–28  qualification kind: 0 none (names), 1 CMA, 2 CNAS, 3 CBTL
    bits 29–33  district: index in ``DISTRICTS``
    bit  34     published
    bits 35–61  institution sequence number

The key changes when any of these does; the search index then rewrites the institution's
documents and its scope lines' keys (``search_index.rebuild``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tichub.registry.districts import DISTRICTS

EPOCH = date(2000, 1, 1)
MAX_SLOT = 255
MAX_DAYS = (1 << 15) - 1
MAX_SEQ = (1 << 27) - 1

KINDS = {"cma": 1, "cnas": 2, "cbtl": 3}
KIND_NAMES = {v: k for k, v in KINDS.items()}
STATUSES = {"valid": 0, "suspended": 1, "withdrawn": 2, "expired": 3}
STATUS_NAMES = {v: k for k, v in STATUSES.items()}
DISTRICT_INDEX = {d.slug: i for i, d in enumerate(DISTRICTS)}

# (shift, mask) of each field; the sequence number takes every bit above 35.
FIELDS: dict[str, tuple[int, int | None]] = {
    "slot": (0, 255),
    "days": (8, MAX_DAYS),
    "status": (23, 3),
    "kind": (25, 15),
    "district": (29, 31),
    "published": (34, 1),
    "seq": (35, None),
}


@dataclass(frozen=True)
class Key:
    seq: int
    district: str
    published: bool
    slot: int = 0
    kind: str | None = None
    status: str = "valid"
    valid_until: date = EPOCH

    def pack(self) -> int:
        if not 0 < self.seq <= MAX_SEQ:
            raise ValueError(f"institution sequence {self.seq} out of range")
        if not 0 <= self.slot <= MAX_SLOT:
            raise ValueError(f"an institution holds at most {MAX_SLOT} qualifications")
        values = {
            "slot": self.slot,
            "days": min(max((self.valid_until - EPOCH).days, 0), MAX_DAYS),
            "status": STATUSES[self.status],
            "kind": KINDS[self.kind] if self.kind else 0,
            "district": DISTRICT_INDEX[self.district],
            "published": int(self.published),
            "seq": self.seq,
        }
        return sum(values[name] << shift for name, (shift, _) in FIELDS.items())


def field(key: Any, name: str) -> Any:
    """One field of a key, or of a NumPy array of keys."""
    shift, mask = FIELDS[name]
    return key >> shift if mask is None else (key >> shift) & mask


def unpack(key: int) -> Key:
    return Key(
        seq=field(key, "seq"),
        district=DISTRICTS[field(key, "district")].slug,
        published=bool(field(key, "published")),
        slot=field(key, "slot"),
        kind=KIND_NAMES.get(field(key, "kind")),
        status=STATUS_NAMES[field(key, "status")],
        valid_until=EPOCH + timedelta(days=field(key, "days")),
    )


def day_number(on: date) -> int:
    return (on - EPOCH).days
