"""A witness's side of cosigning (C2SP tlog-cosignature): it cosigns the log's latest
checkpoint only after proving it consistent with the last checkpoint it cosigned itself, so
a log cannot show different histories to different people. Two ways: the witness pulls
(``cosign``: it reads the log's tiles and posts its cosignature back), or the log pushes
(``add_checkpoint``, the C2SP tlog-witness protocol: the log sends the checkpoint with a
consistency proof and gets the cosignature in the answer)."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tichub.reports import audit, merkle
from tichub.reports.checkpoint import Checkpoint, open_checkpoint
from tichub.reports.note import COSIGNATURE, NoteError, Signer, Verifier


class WitnessError(Exception):
    """The witness will not cosign; the message says why."""


@dataclass(frozen=True)
class Cosigned:
    checkpoint: Checkpoint
    line: str
    state: audit.State


def cosign(
    reader: audit.LogReader, log_key: Verifier, witness: Signer, state: audit.State | None,
    now: int,
) -> Cosigned:
    if witness.sig_type != COSIGNATURE:
        raise WitnessError("a witness signs with a cosignature key (type 0x04)")
    try:
        report = audit.audit(reader, log_key, state)
    except (audit.AuditError, NoteError) as exc:
        raise WitnessError(str(exc)) from None
    if not report.ok or report.state is None:
        raise WitnessError("; ".join(report.findings) or "nothing to cosign")
    if report.state.size == 0:  # the log's size-0 checkpoint: nothing to hold it to yet
        raise WitnessError("the log is empty: nothing to cosign yet")
    opened = open_checkpoint(reader.checkpoint(), log_key).checkpoint
    if opened.size != report.state.size or opened.root_hash != report.state.root_hash:
        raise WitnessError("the log's checkpoint moved during the check; try again")
    return Cosigned(opened, witness.signature_line(opened.body(), now), report.state)


# --- the C2SP tlog-witness protocol: a witness serving add-checkpoint --------------------

SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class WitnessState:
    """The latest checkpoint cosigned for each log origin, in a JSON file. Checking the old
    size and recording the new checkpoint happen under one lock, as the protocol requires
    (else a slow request could roll the record back)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        if not self.path.exists():
            return None
        held = json.loads(self.path.read_text()).get(origin)
        return (int(held["size"]), base64.b64decode(held["root_hash"])) if held else None

    def record(self, origin: str, size: int, root: bytes) -> None:
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        data[origin] = {"size": size, "root_hash": base64.b64encode(root).decode()}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)  # the new record is on disk before the answer


def add_checkpoint(body: str, logs: Mapping[str, Verifier], state: WitnessState,
                   witness: Signer, now: int) -> Answer:
    """POST <prefix>/add-checkpoint of C2SP tlog-witness: the old size the client believes
    the witness cosigned last, a consistency proof from it, a blank line, the checkpoint."""
    head, sep, note = body.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old "):
        return Answer(400, "the body is an old size line, proof lines, a blank line and a "
                           "checkpoint\n")
    old_text = lines[0][4:]
    if not old_text.isdigit() or (old_text != "0" and old_text.startswith("0")) \
            or len(lines) - 1 > 63:
        return Answer(400, "malformed old size or too many proof lines\n")
    try:
        proof = [base64.b64decode(x, validate=True) for x in lines[1:]]
        origin = Checkpoint.parse(note[:note.index("\n\n") + 1]).origin
    except (binascii.Error, ValueError, NoteError):
        return Answer(400, "malformed proof line or checkpoint\n")
    key = logs.get(origin)
    if key is None:
        return Answer(404, f"unknown log {origin}\n")
    try:
        checkpoint = open_checkpoint(note, key).checkpoint
    except NoteError:
        return Answer(403, "no trusted signature of the log on the checkpoint\n")
    old = int(old_text)
    if old > checkpoint.size:
        return Answer(400, "the old size is larger than the checkpoint's\n")
    with state.lock:
        held = state.latest(origin)
        held_size, held_root = held if held else (0, b"")
        if old != held_size:
            return Answer(409, f"{held_size}\n", SIZE_TYPE)
        if old == 0 and proof:
            return Answer(422, "the proof from size 0 is empty\n")
        if old == checkpoint.size and old and held_root != checkpoint.root_hash:
            return Answer(409, f"{held_size}\n", SIZE_TYPE)
        if 0 < old < checkpoint.size:
            try:
                merkle.verify_consistency(old, checkpoint.size, held_root,
                                          checkpoint.root_hash, proof)
            except merkle.ProofError:
                return Answer(422, "the consistency proof does not verify\n")
        state.record(origin, checkpoint.size, checkpoint.root_hash)
    return Answer(200, witness.signature_line(checkpoint.body(), now))
