"""C2SP tlog-checkpoint: a log's signed statement of its size and root hash, and the k of n
witness cosignatures a verifier may ask for before trusting it. Pure: no storage."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from tichub.reports.merkle import HASH_SIZE
from tichub.reports.note import (
    COSIGNATURE,
    ED25519,
    Note,
    NoteError,
    Signer,
    Verifier,
    open_note,
    sign,
)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(),
                 *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        if not body.endswith("\n"):
            raise NoteError("a checkpoint ends with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3 or not all(lines):
            raise NoteError("a checkpoint is an origin, a tree size, a root hash and "
                            "optional non-empty extension lines")
        origin, size_text, root_text, *extensions = lines
        if not size_text.isascii() or not size_text.isdigit() or (
                size_text != "0" and size_text.startswith("0")):
            raise NoteError("the tree size is a decimal number without leading zeros")
        try:
            root_hash = base64.b64decode(root_text, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError("the root hash is not valid base64") from None
        if len(root_hash) != HASH_SIZE:
            raise NoteError("the root hash is not a SHA-256 hash")
        return cls(origin, int(size_text), root_hash, tuple(extensions))


@dataclass(frozen=True)
class Opened:
    checkpoint: Checkpoint
    note: Note
    cosigners: tuple[str, ...]  # the witnesses whose cosignatures verified
    cosigned_at: dict[str, int]


def sign_checkpoint(checkpoint: Checkpoint, log: Signer) -> str:
    if log.name != checkpoint.origin:
        raise NoteError("the log signs under its origin's name")
    return sign(checkpoint.body(), [log])


def open_checkpoint(
    note: str, log: Verifier, witnesses: Sequence[Verifier] = (), quorum: int = 0,
    origin: str | None = None,
) -> Opened:
    """Verifies a signed checkpoint of ``origin`` (by default the log key's name, as the
    format recommends) by ``log``, and at least ``quorum`` cosignatures by distinct
    ``witnesses``. Raises ``NoteError``."""
    if log.sig_type != ED25519 or any(w.sig_type != COSIGNATURE for w in witnesses):
        raise NoteError("a log key has type 0x01 and witness keys type 0x04")
    if quorum > len(witnesses):
        raise NoteError(f"{quorum} cosignatures asked of {len(witnesses)} witnesses")
    opened = open_note(note, [log, *witnesses])
    checkpoint = Checkpoint.parse(opened.text)
    expected = log.name if origin is None else origin
    if checkpoint.origin != expected:
        raise NoteError(f"the checkpoint is of {checkpoint.origin!r}, not of {expected!r}")
    if not any(v.verifier == log for v in opened.verified):
        raise NoteError("the log did not sign this checkpoint")
    cosigned_at = {v.verifier.name: v.timestamp for v in opened.verified
                   if v.verifier.sig_type == COSIGNATURE and v.timestamp is not None}
    if len(cosigned_at) < quorum:
        raise NoteError(f"{len(cosigned_at)} of the {quorum} witness cosignatures asked for")
    return Opened(checkpoint, opened, tuple(sorted(cosigned_at)), cosigned_at)
