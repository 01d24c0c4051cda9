"""Registration receipts: one signed note for the records registered together, and a
proof per record into its root."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tichub.reports import merkle, receipt
from tichub.reports.note import NoteError, Signer, sign


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"record {i}".encode()) for i in range(n)]


def test_each_record_of_a_batch_checks_against_the_one_signature() -> None:
    log = Signer.generate("tichub.example/reports")
    for n in (1, 2, 5, 1000):
        leaves = _leaves(n)
        note, proofs = receipt.issue(log.name, log, leaves, 1_796_000_000_000)
        for i in sorted({0, n // 2, n - 1}):
            batch = receipt.check(note, log.verifier(), leaves[i], i, proofs[i])
            assert (batch.size, batch.stamp_ms) == (n, 1_796_000_000_000)
    # Alone, a record's receipt names its own leaf hash: nothing to prove.
    note, proofs = receipt.issue(log.name, log, _leaves(1), 1)
    assert proofs == [[]]
    assert note.split("\n")[2] == base64.b64encode(_leaves(1)[0]).decode()


def test_a_receipt_does_not_stretch_to_another_record_or_key() -> None:
    log = Signer.generate("tichub.example/reports")
    leaves = _leaves(7)
    note, proofs = receipt.issue(log.name, log, leaves, 5)
    stranger = merkle.leaf_hash(b"never registered")
    with pytest.raises(merkle.ProofError):
        receipt.check(note, log.verifier(), stranger, 3, proofs[3])
    with pytest.raises(merkle.ProofError):
        receipt.check(note, log.verifier(), leaves[3], 4, proofs[3])  # wrong place
    with pytest.raises(merkle.ProofError):
        receipt.check(note, log.verifier(), leaves[3], 3, [*proofs[3][:-1], bytes(32)])
    other = Signer.generate("tichub.example/reports")
    with pytest.raises(NoteError):
        receipt.check(note, other.verifier(), leaves[3], 3, proofs[3])
    # A note of the right key that is not a receipt (a checkpoint, say) is refused.
    not_receipt = sign(f"{log.name}\n7\n{hashlib.sha256().hexdigest()}\n", [log])
    with pytest.raises(NoteError):
        receipt.check(not_receipt, log.verifier(), leaves[3], 3, proofs[3])
