"""Registration receipts: one signature for all the records of a registration call.

A receipt is a C2SP signed note by the log's key whose text is the log's origin, the word
``receipt``, the base64 root of the Merkle tree (RFC 9162 hashing) over the leaf hashes of
the records registered together, in their order, the time in milliseconds and how many
there were. Each record's receipt adds its position and inclusion proof in that small
tree. A record registered alone has its own leaf hash as the root and an empty proof.
Signing once per call, not once per record, is what lets a LIMS register a thousand
records at a time at the log's speed, since a signature costs more than the rest of a
record's registration. Pure: no storage.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from tichub.reports import merkle
from tichub.reports.note import NoteError, Signer, Verifier, open_note, sign


@dataclass(frozen=True)
class Batch:
    root: bytes
    size: int
    stamp_ms: int


def text(origin: str, batch: Batch) -> str:
    root = base64.b64encode(batch.root).decode()
    return f"{origin}\nreceipt\n{root}\n{batch.stamp_ms}\n{batch.size}\n"


def issue(origin: str, signer: Signer, leaf_hashes: Sequence[bytes],
          stamp_ms: int) -> tuple[str, list[list[bytes]]]:
    """The signed receipt note for records registered together, and each one's proof."""
    root, proofs = merkle.all_inclusion_proofs(leaf_hashes)
    note = sign(text(origin, Batch(root, len(leaf_hashes), stamp_ms)), [signer])
    return note, proofs


def check(note: str, verifier: Verifier, leaf_hash: bytes, index: int,
          proof: Sequence[bytes]) -> Batch:
    """That the log signed a receipt for this leaf: the note's signature, its form, and
    the leaf's proof up to the signed root. Raises NoteError or merkle.ProofError."""
    opened = open_note(note, [verifier])
    lines = opened.text.split("\n")
    if len(lines) != 6 or lines[1] != "receipt" or lines[0] != verifier.name:
        raise NoteError("not a receipt of this log")
    try:
        root = base64.b64decode(lines[2], validate=True)
        stamp_ms, size = int(lines[3]), int(lines[4])
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"a malformed receipt: {exc}") from exc
    if len(root) != merkle.HASH_SIZE or size < 1 or str(size) != lines[4]:
        raise NoteError("a malformed receipt")
    merkle.verify_inclusion(leaf_hash, index, size, proof, root)
    return Batch(root, size, stamp_ms)
