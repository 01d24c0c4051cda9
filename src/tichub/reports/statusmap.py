"""The status map: every document number's latest record, committed to in each checkpoint,
so that "amended", "withdrawn" or "still as issued" is as provable as "issued".

Inclusion in the log proves a record exists, never that no later one does. The map answers
that: numbers fall into 65,536 buckets by the first two bytes of SHA-256(number); a bucket
holds, sorted, one entry per (number, issuer) with the leaf hash and event of that
document's latest record in the log. A bucket's hash is the RFC 9162 leaf hash of its
canonical JSON; the map's root is the RFC 9162 root over the 65,536 bucket hashes in order
(a perfect tree: 256 tiles of 256). Checkpoints carry it as the extension line
``tichub-status <base64 root>``. A proof for a number is its bucket's bytes and the
bucket's 16-hash inclusion proof: the bucket shows the latest record of every issuer of
that number, or that none was registered.

Anyone can rebuild the map from the log's entries in order (the last record of each
(number, issuer) wins). Pure: no storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, NamedTuple

from tichub.reports import leaf, merkle
from tichub.reports.checkpoint import Checkpoint

BUCKET_BITS = 16
BUCKETS = 1 << BUCKET_BITS
EXTENSION = "tichub-status"


class StatusError(ValueError):
    """A status proof that does not verify, or a malformed one."""


class Entry(NamedTuple):
    # A tuple: buckets of a large log hold dozens, sorted and rewritten on every update.
    number: str
    issuer: str  # institution id
    leaf_hash: str  # hex, of the document's latest record
    event: str


def bucket_of(number: str) -> int:
    return int.from_bytes(hashlib.sha256(number.encode()).digest()[:2], "big")


def bucket_bytes(entries: Iterable[Entry]) -> bytes:
    return leaf.canonical_plain({"entries": sorted(entries)})


def parse_bucket(data: bytes, strict: bool = True) -> list[Entry]:
    """A bucket's entries; ``strict`` also holds the bytes to be exactly the entries'
    canonical form (a verifier's check; the map's own writer, rewriting the bucket from
    these entries at once, can skip it)."""
    try:
        rows = json.loads(data)["entries"]
        entries = [Entry(*row) for row in rows]
    except (ValueError, KeyError, TypeError):
        raise StatusError("a bucket is canonical JSON of its entries") from None
    if strict and (any(type(v) is not str for e in entries for v in e)
                   or bucket_bytes(entries) != data):
        raise StatusError("a bucket is canonical JSON of its entries")
    return entries


def bucket_hash(data: bytes) -> bytes:
    return merkle.leaf_hash(data)


@cache
def empty_bucket_hash() -> bytes:
    return bucket_hash(bucket_bytes([]))


def updated(entries: Iterable[Entry], records: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """A bucket's entries after ``records`` (each with number, issuer, leaf_hash, event),
    in log order: each record becomes its document's latest."""
    by_key = {(e.number, e.issuer): e for e in entries}
    for r in records:
        by_key[(r["number"], r["issuer"])] = Entry(r["number"], r["issuer"], r["leaf_hash"],
                                                   r["event"])
    return sorted(by_key.values())


def extension(root: bytes) -> str:
    return f"{EXTENSION} {base64.b64encode(root).decode()}"


def root_in(checkpoint: Checkpoint) -> bytes | None:
    """The status map's root a checkpoint carries, or None (a checkpoint without one)."""
    for line in checkpoint.extensions:
        name, _, value = line.partition(" ")
        if name == EXTENSION:
            try:
                root = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise StatusError("the status map's root is not base64") from None
            if len(root) != merkle.HASH_SIZE:
                raise StatusError("the status map's root is not a SHA-256 hash")
            return root
    return None


def check(number: str, data: bytes, bucket: int, proof: Sequence[bytes],
          root: bytes) -> list[Entry]:
    """The latest record of each issuer of ``number`` (none: never registered), once the
    bucket is proven to be the map's under ``root``."""
    if bucket != bucket_of(number):
        raise StatusError(f"{number} belongs in bucket {bucket_of(number)}, not {bucket}")
    entries = parse_bucket(data)
    try:
        merkle.verify_inclusion(bucket_hash(data), bucket, BUCKETS, proof, root)
    except merkle.ProofError as exc:
        raise StatusError(f"the bucket is not the map's: {exc}") from None
    return [e for e in entries if e.number == number]


def rebuild(records: Iterable[Mapping[str, Any]]) -> tuple[bytes, dict[int, bytes]]:
    """The map of a whole log from its records in log order (each a leaf's ``record``, or
    anything with number, issuer, leaf_hash and event): (root, non-empty buckets' bytes).
    What an auditor runs to check the roots the checkpoints carry."""
    by_bucket: dict[int, list[Mapping[str, Any]]] = {}
    for r in records:
        by_bucket.setdefault(bucket_of(r["number"]), []).append(r)
    buckets = {b: bucket_bytes(updated([], recs)) for b, recs in by_bucket.items()}
    hashes = [bucket_hash(buckets[b]) if b in buckets else empty_bucket_hash()
              for b in range(BUCKETS)]
    while len(hashes) > 1:  # a perfect tree: pairs all the way up
        hashes = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0], buckets


def entry_of_leaf(data: bytes) -> dict[str, str]:
    """What a log entry (a record's leaf bytes) contributes to the map."""
    record = json.loads(data)["record"]
    return {"number": record["number"], "issuer": record["issuer"]["institution_id"],
            "leaf_hash": merkle.leaf_hash(data).hex(), "event": record["event"]}
