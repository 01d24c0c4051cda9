"""A witness's side of cosigning (C2SP tlog-cosignature): it cosigns the log's latest
checkpoint only after proving it consistent, from the log's tiles, with the last checkpoint
it cosigned itself, so a log cannot show different histories to different people."""

from __future__ import annotations

from dataclasses import dataclass

from tichub.reports import audit
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
    opened = open_checkpoint(reader.checkpoint(), log_key).checkpoint
    if opened.size != report.state.size or opened.root_hash != report.state.root_hash:
        raise WitnessError("the log's checkpoint moved during the check; try again")
    return Cosigned(opened, witness.signature_line(opened.body(), now), report.state)
