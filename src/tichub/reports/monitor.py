"""An issuer's monitor: reads the whole public log and names every record that gives one
of the issuer's institutions as issuer without its own signature (``reports/statement.py``).

It trusts only the log's verifier key and the issuer's own keys: the entries it reads must
hash to the root of the log's signed checkpoint, so a server cannot show the monitor a log
other than the one it shows everyone else (witnesses see to that part). It reads everything
from the start each time. Pure but for the reader it is given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tichub.reports import merkle, statement, tiles
from tichub.reports.checkpoint import open_checkpoint
from tichub.reports.note import NoteError, Verifier


class MonitorError(Exception):
    """The log could not be read, or what it served is not what it signed."""


class Reader(Protocol):
    def checkpoint(self) -> str: ...

    def bundle(self, index: int, width: int) -> bytes: ...


@dataclass(frozen=True)
class Alert:
    index: int
    number: str
    event: str
    why: str


def scan(reader: Reader, log_key: Verifier, institution_id: str,
         keys: Sequence[Verifier]) -> tuple[int, list[Alert]]:
    """(the size of the log read, the records naming the institution that none of ``keys``
    signed)."""
    try:
        opened = open_checkpoint(reader.checkpoint(), log_key)
    except NoteError as exc:
        raise MonitorError(f"the checkpoint: {exc}") from None
    size = opened.checkpoint.size
    tree = merkle.MemoryTree()
    alerts = []
    for first in range(0, size, tiles.TILE_WIDTH):
        width = min(tiles.TILE_WIDTH, size - first)
        try:
            entries = tiles.unbundle(reader.bundle(first // tiles.TILE_WIDTH, width))
        except ValueError as exc:
            raise MonitorError(f"entries from {first}: {exc}") from None
        if len(entries) != width:
            raise MonitorError(f"entries from {first}: {len(entries)}, not {width}")
        for offset, data in enumerate(entries):
            tree.append(data)
            try:
                record = json.loads(data)["record"]
                named = record["issuer"]["institution_id"]
            except (ValueError, KeyError, TypeError):
                raise MonitorError(f"entry {first + offset} is not a TICHub record") from None
            if named != institution_id:
                continue
            line = record.get("issuer_signature")
            if statement.signer_of(statement.of_record(record), line, keys) is None:
                why = "no issuer signature" if not line else "not signed by the issuer's keys"
                alerts.append(Alert(first + offset, record["number"], record["event"], why))
    if tree.root() != opened.checkpoint.root_hash:
        raise MonitorError("the entries served do not hash to the signed checkpoint's root")
    return size, alerts
