"""The ``Idempotency-Key`` request header (IETF draft-ietf-httpapi-idempotency-key-header):
a client that did not hear back from a registration sends it again with the same key, and
gets the first answer instead of registering twice.

The key is scoped to the user who sent it and kept for ``TTL``. A request carries a
fingerprint of its operation and validated body: the same key with another request is
refused (422, as the draft has it), never answered with the other request's receipts.
The answer is stored in the registration's own transaction, before its records, so a
crash leaves both or neither, and two concurrent requests with one key meet at the key's
primary key: the second waits for the first, then replays its answer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tichub.core import errors
from tichub.core.db import table
from tichub.core.messages import Msg
from tichub.reports.models import IdempotencyKey

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
MAX_LENGTH = 255
# Visible ASCII but the double quote and backslash: the key as an RFC 8941 sf-string
# needs no escapes, and a UUID (what the draft recommends) fits.
KEY = re.compile(rf"[\x21\x23-\x5b\x5d-\x7e]{{1,{MAX_LENGTH}}}")
DESCRIPTION = (
    "Makes a retry safe: the same key with the same request, within 24 hours, returns the "
    "first answer (the same status and receipts, with `Idempotent-Replayed: true`) and "
    "registers nothing again. The key is the user's own (a UUID is recommended): 1 to 255 "
    "visible ASCII characters without `\"` or `\\`, sent bare or as a quoted string "
    "(`\"…\"`, RFC 8941). The same key with a different request is refused (422); while "
    "the first request is still being written, a retry waits for it, or is answered 409 "
    "if that request failed. Refused requests (4xx) are not kept: correct and resend.")


@dataclass(frozen=True)
class Request:
    owner: str  # the user who sent it: keys of different users never meet
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    replayed: bool = False


def parse_key(value: str | None) -> str | None:
    """The key in the header's value (bare, or an RFC 8941 string), None without one."""
    if value is None:
        return None
    key = value.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not KEY.fullmatch(key):
        raise errors.invalid(HEADER, Msg("is 1 to {n} visible ASCII characters without '\"' "
                                         "or '\\' (a UUID, for instance)", n=MAX_LENGTH))
    return key


def fingerprint(operation: str, body: str) -> str:
    """Of the operation (method and route) and the request as validated, so that a retry
    whose JSON differs only in spacing or key order is the same request."""
    return hashlib.sha256(f"{operation}\n{body}".encode()).hexdigest()


def find(db: Session, request: Request, now: datetime) -> Answer | None:
    """The answer kept under the key, None if none is (or it expired); a 422 problem if
    the key was used for another request."""
    row = db.get(IdempotencyKey, (request.owner, request.key), populate_existing=True)
    if row is None or row.expires_at <= now:
        return None
    if row.fingerprint != request.fingerprint:
        raise errors.Problem(
            422, "Idempotency-Key already used",
            detail=f"{HEADER}: this key was used within the last {TTL.total_seconds() / 3600:g} "
                   "hours for a different request; send a new key with a new request",
            errors=[errors.FieldError(HEADER, Msg("was used for a different request"))])
    return Answer(row.status, row.body, replayed=True)


class Replayed(Exception):
    """A concurrent request with the same key registered first: give its answer."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("replayed")
        self.answer = answer


def claim(db: Session, request: Request, status: int, body: str, now: datetime) -> Answer:
    """Stores the answer under the key in the caller's transaction, before its other
    writes. Raises ``Replayed`` (the transaction rolled back) when another request took the
    key meanwhile, or a 409 problem if that one's answer is not there to give."""
    keys = table(IdempotencyKey)
    try:
        # The user's expired keys go, this one's with them: a key is free again after TTL.
        db.execute(delete(keys).where(keys.c.owner == request.owner,
                                      keys.c.expires_at <= now))
        db.execute(insert(keys).values(owner=request.owner, key=request.key,
                                       fingerprint=request.fingerprint, status=status,
                                       body=body, created_at=now, expires_at=now + TTL))
    except IntegrityError:
        db.rollback()
        found = find(db, request, now)
        if found is None:
            raise errors.Problem(
                409, "Idempotency-Key in use", detail=f"{HEADER}: a request with this key "
                "is being processed; retry shortly") from None
        raise Replayed(found) from None
    return Answer(status, body)
