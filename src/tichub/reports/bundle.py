"""Checking a verification bundle offline, trusting nothing but the log's key.

A bundle (the API's ``/records/{id}/bundle``) holds the record, the exact leaf bytes, the
leaf's index, its inclusion proof and a signed checkpoint. It holds when the checkpoint is
signed by the trusted key, the leaf is the record's, and the proof leads from the leaf to
the checkpoint's root. Pure: no storage, no network.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tichub.reports import merkle, statusmap
from tichub.reports.checkpoint import Checkpoint, open_checkpoint
from tichub.reports.note import NoteError, Verifier


class BundleError(ValueError):
    """The bundle is malformed or does not verify; the message says which check failed."""


@dataclass(frozen=True)
class Checked:
    number: str
    event: str
    issuer: str
    index: int
    tree_size: int
    log: str
    cosigners: tuple[str, ...]
    # From the status map, when the bundle carries its proof: the event of this document's
    # latest record, and whether that record is this one.
    latest_event: str | None = None
    is_latest: bool | None = None


def _b64(value: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(f"{what} is not valid base64") from None


def check(
    bundle: Mapping[str, Any], trusted_key: str | None = None,
    witnesses: Sequence[str] = (), quorum: int = 0,
) -> Checked:
    """Verifies ``bundle``; ``trusted_key`` is the log's verifier key as published by the
    platform (without it, the key in the bundle is taken on trust and said so)."""
    for field in ("record", "leaf", "index", "inclusion", "checkpoint", "verifier_key"):
        if field not in bundle:
            raise BundleError(f"the bundle has no {field!r}")
    try:
        key = Verifier.parse(str(trusted_key or bundle["verifier_key"]))
        if trusted_key and Verifier.parse(str(bundle["verifier_key"])) != key:
            raise BundleError("the bundle names another log key than the trusted one")
        opened = open_checkpoint(str(bundle["checkpoint"]), key,
                                 [Verifier.parse(w) for w in witnesses], quorum)
    except NoteError as exc:
        raise BundleError(f"checkpoint: {exc}") from None
    leaf = _b64(bundle["leaf"], "the leaf")
    try:
        logged = json.loads(leaf)
    except ValueError:
        raise BundleError("the leaf is not JSON") from None
    if not isinstance(logged, dict) or logged.get("record") != bundle["record"]:
        raise BundleError("the record is not the one the leaf holds")
    index = bundle["index"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise BundleError("the index is not a leaf number")
    proof = [_b64(h, "an inclusion hash") for h in bundle["inclusion"]]
    cp = opened.checkpoint
    try:
        merkle.verify_inclusion(merkle.leaf_hash(leaf), index, cp.size, proof, cp.root_hash)
    except merkle.ProofError as exc:
        raise BundleError(f"inclusion: {exc}") from None
    record = bundle["record"]
    latest_event, is_latest = _status(bundle.get("status"), record, cp, leaf)
    return Checked(number=str(record.get("number")), event=str(record.get("event")),
                   issuer=str(record.get("issuer", {}).get("name")), index=index,
                   tree_size=cp.size, log=cp.origin, cosigners=opened.cosigners,
                   latest_event=latest_event, is_latest=is_latest)


def _status(status: Any, record: Mapping[str, Any], cp: Checkpoint,
            leaf: bytes) -> tuple[str | None, bool | None]:
    """The document's latest event per the checkpoint's status map, and whether this
    record is that latest one; (None, None) when the bundle carries no status proof."""
    if status is None:
        return None, None
    if not isinstance(status, dict) or not isinstance(status.get("bucket"), int) or \
            not isinstance(status.get("proof"), list):
        raise BundleError("status: malformed")
    try:
        root = statusmap.root_in(cp)
        if root is None:
            raise BundleError("status: the checkpoint carries no status map")
        entries = statusmap.check(str(record.get("number")), _b64(status.get("data"), "status"),
                                  status["bucket"],
                                  [_b64(h, "a status hash") for h in status["proof"]], root)
    except statusmap.StatusError as exc:
        raise BundleError(f"status: {exc}") from None
    issuer = str(record.get("issuer", {}).get("institution_id"))
    mine = [e for e in entries if e.issuer == issuer]
    if not mine:
        raise BundleError("status: the status map does not hold this document")
    return mine[0].event, mine[0].leaf_hash == merkle.leaf_hash(leaf).hex()
