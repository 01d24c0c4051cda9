"""Issuer statements: a lab's own signature on what it registers, so that a record naming
it as issuer but not signed by one of its keys stands out, to the lab and to any monitor
reading the public log, whoever put the record there.

The statement is the text of a C2SP signed note, signed by one of the lab's Ed25519 keys
(type 0x01; the name is the lab's choice, e.g. ``lab.example/issuer``):

    tichub issuer statement
    <institution id>
    <document number>
    <event>
    <SHA-256 of the PDF, or ->

Every field is among a record's public fields in the log, so the statement can be
rebuilt from the leaf alone. The record carries the signature line, ``— <name> <base64>``.
Pure: no storage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tichub.reports.note import NoteError, Signer, Verifier, open_note, sign

HEADER = "tichub issuer statement"


def text(institution_id: str, number: str, event: str, pdf_sha256: str | None) -> str:
    return f"{HEADER}\n{institution_id}\n{number}\n{event}\n{pdf_sha256 or '-'}\n"


def of_record(public: Mapping[str, Any]) -> str:
    """The statement a record's public fields (as logged) must carry a signature of."""
    return text(public["issuer"]["institution_id"], public["number"], public["event"],
                public.get("pdf_sha256"))


def sign_statement(signer: Signer, institution_id: str, number: str, event: str,
                   pdf_sha256: str | None) -> str:
    """The signature line to send as ``issuer_signature`` with the record."""
    note = sign(text(institution_id, number, event, pdf_sha256), [signer])
    return note.rsplit("\n\n", 1)[1].rstrip("\n")


def signer_of(statement: str, line: str | None, keys: Sequence[Verifier]) -> Verifier | None:
    """The key among ``keys`` whose signature ``line`` is on ``statement``, or None (no
    line, a line by another key, a forged or malformed one)."""
    if not line or not keys or "\n" in line:
        return None
    try:
        opened = open_note(f"{statement}\n{line}\n", list(keys))
    except NoteError:
        return None
    return opened.verified[0].verifier if opened.verified else None
