"""C2SP signed notes with Ed25519 keys, and the timestamped cosignatures of C2SP
tlog-cosignature that witnesses add to checkpoints.

A note is UTF-8 text ending in a newline, then a blank line, then one line per signature:
``— <key name> <base64(key ID || signature)>``. A key ID is the first four bytes of
SHA-256(name || "\\n" || type || public key); type 0x01 signs the text itself, type 0x04
(a cosignature) signs "cosignature/v1\\ntime <t>\\n" + the text and carries t.
Keys travel as ``<name>+<hex key ID>+<base64(type || key)>``, private ones with a
``PRIVATE+KEY+`` prefix and the 32-byte seed. Pure: no storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
COSIGNATURE = 0x04
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
PRIVATE_PREFIX = "PRIVATE+KEY+"
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A malformed note or key, or a note no trusted key signed."""


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


def _parse_key(text: str, what: str, part: str) -> tuple[str, str, int, bytes]:
    """<name>+<hex key ID>+<base64(type || 32 bytes)>: name, key ID, type and bytes."""
    parts = text.split("+", 2)  # base64 may hold "+", so only the first two split
    if len(parts) != 3:
        raise NoteError(f"a {what} reads <name>+<hex key ID>+<base64 {part}>")
    name, hex_id, packed = parts
    _check_name(name)
    raw = _b64(packed, f"the {what}")
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise NoteError(f"the {what} is not an Ed25519 (0x01) or cosignature (0x04) key")
    return name, hex_id.lower(), raw[0], raw[1:]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    name: str
    sig_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public_key)

    def encode(self) -> str:
        packed = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{packed}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        name, hex_id, sig_type, key = _parse_key(text.strip(), "verifier key", "key")
        verifier = cls(name, sig_type, key)
        if hex_id != verifier.key_id.hex():
            raise NoteError("the verifier key's ID does not match its name and key")
        return verifier

    def check(self, text: str, signature: bytes) -> int | None:
        """Verifies one signature (raw, after the key ID); returns a cosignature's time."""
        key = Ed25519PublicKey.from_public_bytes(self.public_key)
        timestamp = None
        message = text.encode()
        if self.sig_type == COSIGNATURE:
            if len(signature) != 8 + 64:
                raise NoteError(f"{self.name}: a cosignature is 72 bytes")
            (timestamp,) = struct.unpack(">Q", signature[:8])
            message, signature = cosigned_message(text, timestamp), signature[8:]
        try:
            key.verify(signature, message)
        except InvalidSignature:
            raise NoteError(f"the signature of {self.name} does not verify") from None
        return timestamp


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes
    sig_type: int = ED25519

    @classmethod
    def generate(cls, name: str, sig_type: int = ED25519) -> Signer:
        _check_name(name)
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(name, seed, sig_type)

    @classmethod
    def parse(cls, text: str) -> Signer:
        if not text.startswith(PRIVATE_PREFIX):
            raise NoteError("a signer key starts with PRIVATE+KEY+")
        name, hex_id, sig_type, seed = _parse_key(
            text.strip()[len(PRIVATE_PREFIX):], "signer key", "seed")
        signer = cls(name, seed, sig_type)
        if hex_id != signer.verifier().key_id.hex():
            raise NoteError("the signer key's ID does not match its name and key")
        return signer

    def encode(self) -> str:
        """The private key as text: a secret, to keep out of logs and repositories."""
        packed = base64.b64encode(bytes([self.sig_type]) + self.seed).decode()
        return f"{PRIVATE_PREFIX}{self.name}+{self.verifier().key_id.hex()}+{packed}"

    def __repr__(self) -> str:  # never print the seed
        return f"Signer({self.name!r}, type {self.sig_type})"

    # Built once: a log signs a receipt for every record it registers.
    @cached_property
    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @cached_property
    def _verifier(self) -> Verifier:
        return Verifier(self.name, self.sig_type, _raw_public(self._key.public_key()))

    def verifier(self) -> Verifier:
        return self._verifier

    def signature_line(self, text: str, timestamp: int | None = None) -> str:
        key = self._key
        if self.sig_type == COSIGNATURE:
            if timestamp is None or not 0 <= timestamp < 2**63:
                raise NoteError("a cosignature needs its time, in seconds since 1970")
            raw = struct.pack(">Q", timestamp) + key.sign(cosigned_message(text, timestamp))
        else:
            raw = key.sign(text.encode())
        packed = base64.b64encode(self.verifier().key_id + raw).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {packed}\n"


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        packed = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {packed}\n"


@dataclass(frozen=True)
class Verified:
    verifier: Verifier
    timestamp: int | None  # a cosignature's time


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[SignatureLine, ...]
    verified: tuple[Verified, ...]


_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")  # control characters but newline


def check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    if _CONTROL.search(text):
        raise NoteError("a note's text holds no control characters but newlines")


def sign(text: str, signers: list[Signer], timestamp: int | None = None) -> str:
    check_text(text)
    return text + "\n" + "".join(s.signature_line(text, timestamp) for s in signers)


def split(note: str) -> tuple[str, list[SignatureLine]]:
    """The text and its signature lines, parsed but not verified."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("a signed note is text, a blank line and signature lines")
    text, block = note[:cut + 1], note[cut + 2:]
    check_text(text)
    lines = block.split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a signed note carries 1 to {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, packed = line[len(SIGNATURE_PREFIX):].partition(" ")
        _check_name(name)
        raw = _b64(packed, f"the signature of {name}")
        if len(raw) < 5:
            raise NoteError(f"the signature of {name} is too short")
        signatures.append(SignatureLine(name, raw[:4], raw[4:]))
    return text, signatures


def open_note(note: str, verifiers: list[Verifier]) -> Note:
    """Parses a signed note and verifies it. Signatures by unknown keys are ignored; one by
    a known key that fails to verify refuses the note, and so does a note no known key
    signed."""
    text, signatures = split(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verified] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if any(v.verifier == verifier for v in verified):
            raise NoteError(f"{sig.name} signed the note twice")
        verified.append(Verified(verifier, verifier.check(text, sig.signature)))
    if not verified:
        raise NoteError("no trusted key signed the note")
    return Note(text, tuple(signatures), tuple(verified))
