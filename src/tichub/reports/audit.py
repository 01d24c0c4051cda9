"""Auditing the log: is each checkpoint it published consistent with the one before, do its
tiles hash to the signed roots, do tiles and entry bundles agree with each other?

An auditor trusts only the log's public key and the last checkpoint it saw itself (its
state): a log that rewrote history cannot be consistent with that checkpoint. Proofs are
computed here from the log's tiles, not taken from the log. The reader is HTTP (any
auditor, mirror or witness) or the database (the operator).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from tichub.reports import merkle, statusmap, tiles
from tichub.reports.checkpoint import Checkpoint, open_checkpoint
from tichub.reports.note import NoteError, Verifier


class LogReader(Protocol):
    def checkpoint(self) -> str: ...
    def checkpoint_at(self, size: int) -> str: ...
    def checkpoint_sizes(self, since: int) -> list[int]: ...
    def tile(self, level: int, index: int, width: int) -> bytes: ...
    def bundle(self, index: int, width: int) -> bytes: ...


@dataclass(frozen=True)
class State:
    """The last checkpoint the auditor verified, kept between runs."""

    size: int
    root_hash: bytes

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"size": self.size,
                                    "root_hash": base64.b64encode(self.root_hash).decode()}))

    @classmethod
    def load(cls, path: Path) -> State | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(int(data["size"]), base64.b64decode(data["root_hash"]))


@dataclass
class Report:
    size: int = 0
    checkpoints: int = 0
    findings: list[str] = field(default_factory=list)
    state: State | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


def _open(note: str, key: Verifier, what: str) -> Checkpoint:
    try:
        return open_checkpoint(note, key).checkpoint
    except NoteError as exc:
        raise AuditError(f"{what}: {exc}") from None


class AuditError(Exception):
    """The audit could not go on (an unsigned checkpoint, an unreachable log)."""


def _sizes(reader: LogReader, since: int, upto: int) -> Iterator[int]:
    while True:
        batch = [s for s in reader.checkpoint_sizes(since) if s <= upto]
        yield from batch
        if not batch or batch[-1] >= upto or len(batch) < 1000:
            return
        since = batch[-1] + 1


def audit(
    reader: LogReader, key: Verifier, state: State | None = None, full: bool = False,
    step: Callable[[int], None] = lambda n: None,
) -> Report:
    report = Report()
    latest = _open(reader.checkpoint(), key, "the latest checkpoint")
    report.size = latest.size
    source = tiles.TileSource(latest.size, reader.tile)
    try:
        if merkle.root(source, latest.size) != latest.root_hash:
            report.findings.append(f"the tiles do not hash to the root signed at size "
                                   f"{latest.size}")
    except merkle.ProofError as exc:
        report.findings.append(f"tiles: {exc}")
        return report
    previous = state
    if previous is not None and previous.size > latest.size:
        report.findings.append(f"the log shrank from {previous.size} to {latest.size} entries")
        return report
    for size in _sizes(reader, previous.size if previous else 0, latest.size):
        cp = latest if size == latest.size else _open(
            reader.checkpoint_at(size), key, f"the checkpoint at size {size}")
        report.checkpoints += 1
        if previous is not None and previous.size == cp.size:
            if previous.root_hash != cp.root_hash:
                report.findings.append(f"two different roots signed for size {cp.size}")
        elif previous is not None:
            try:
                proof = merkle.consistency_proof(source, previous.size, cp.size)
                merkle.verify_consistency(previous.size, cp.size, previous.root_hash,
                                          cp.root_hash, proof)
            except merkle.ProofError as exc:
                report.findings.append(f"the checkpoint at {cp.size} is not consistent with "
                                       f"the one at {previous.size}: {exc}")
        previous = State(cp.size, cp.root_hash)
        step(1)
    if full:
        report.findings += list(tiles.check_tiles(latest.size, reader.tile, reader.bundle))
        if not report.findings:
            report.findings += _check_status_map(reader, latest)
    report.state = State(latest.size, latest.root_hash) if report.ok else state
    return report


class HttpReader:
    """Reads a TICHub log over HTTP: ``/log/...`` tiles and ``/api/reports/log/...``."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _get(self, path: str, **params: int) -> bytes:
        try:
            r = self.client.get(path, params=params or None)
        except httpx.HTTPError as exc:
            raise AuditError(f"{path}: {exc}") from None
        if r.status_code != 200:
            raise AuditError(f"{path}: HTTP {r.status_code}")
        return r.content

    def checkpoint(self) -> str:
        return self._get("/log/checkpoint").decode()

    def checkpoint_at(self, size: int) -> str:
        return self._get(f"/api/reports/log/checkpoints/{size}").decode()

    def checkpoint_sizes(self, since: int) -> list[int]:
        sizes: list[int] = json.loads(self._get("/api/reports/log/checkpoints",
                                                since=since))["sizes"]
        return sizes

    def tile(self, level: int, index: int, width: int) -> bytes:
        return self._get("/log/" + tiles.tile_path(level, index, width))

    def bundle(self, index: int, width: int) -> bytes:
        return self._get("/log/" + tiles.bundle_path(index, width))


def _check_status_map(reader: LogReader, latest: Checkpoint) -> list[str]:
    """Rebuilds the status map from every entry in log order and compares its root with
    the one the latest checkpoint carries (entries already checked against the tiles)."""
    try:
        claimed = statusmap.root_in(latest)
    except statusmap.StatusError as exc:
        return [f"status map: {exc}"]
    if claimed is None:
        return []  # a checkpoint from before the map, or another log's
    entries = []
    for first in range(0, latest.size, tiles.TILE_WIDTH):
        width = min(tiles.TILE_WIDTH, latest.size - first)
        for data in tiles.unbundle(reader.bundle(first // tiles.TILE_WIDTH, width)):
            try:
                entries.append(statusmap.entry_of_leaf(data))
            except (ValueError, KeyError, TypeError):
                return [f"status map: entry {len(entries)} is not a TICHub record"]
    root, _ = statusmap.rebuild(entries)
    if root != claimed:
        return [f"the status map signed at size {latest.size} is not the one its entries "
                "make: a document's latest status was misstated"]
    return []
