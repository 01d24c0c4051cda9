"""The reads behind public verification, through the driver's cursor.

Verification is the registry's busiest public call: a document's records, the latest
checkpoint and the few tiles its proofs need. Through the ORM each of those reads cost
ten to twenty times the query itself, so this module reads them with plain SQL and turns
the rows into the same values on SQLite and PostgreSQL (which hands back JSON and zoned
times already decoded, where SQLite gives text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from tichub.reports.merkle import HASH_SIZE
from tichub.reports.models import RecordEvent, RecordKind


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record as stored, with just what verifying and showing it need."""

    id: str
    number: str
    kind: RecordKind
    event: RecordEvent
    institution_id: str
    public: dict[str, Any]
    flags: list[str]
    registered_at: datetime
    log_index: int | None
    leaf_hash: str
    leaf: bytes
    commitment: str


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    size: int
    note: str


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _utc(value: Any) -> datetime:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


class Reader:
    """A pooled connection of its own, outside any ORM session: these reads need no
    transaction, and opening a session's cost more than the reads."""

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.raw_connection()
        self.cursor = self.connection.cursor()
        self.p = "?" if engine.dialect.name == "sqlite" else "%s"

    def close(self) -> None:
        self.cursor.close()
        self.connection.close()  # back to the pool, which rolls it back

    def history(self, number: str) -> list[StoredRecord]:
        """The records of one document number (its normalised form), oldest first."""
        self.cursor.execute(
            "SELECT id, number, kind, event, institution_id, public, flags, registered_at, "
            "log_index, leaf_hash, leaf, commitment FROM report_records "
            f"WHERE number_key = {self.p} ORDER BY registered_at, id", (number,))
        return [StoredRecord(r[0], r[1], RecordKind(r[2]), RecordEvent(r[3]), r[4],
                             _json(r[5]), _json(r[6]) or [], _utc(r[7]), r[8], r[9],
                             bytes(r[10]), r[11])
                for r in self.cursor.fetchall()]

    def latest_checkpoint(self) -> CheckpointRow | None:
        self.cursor.execute("SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1")
        row = self.cursor.fetchone()
        return CheckpointRow(int(row[0]), row[1]) if row else None

    def tile_fetcher(self) -> Callable[[int, int, int], bytes]:
        sql = (f"SELECT data FROM log_tiles WHERE level = {self.p} "
               f"AND tile_index = {self.p}")

        def fetch(level: int, index: int, width: int) -> bytes:
            self.cursor.execute(sql, (level, index))
            row = self.cursor.fetchone()
            # Tiles only grow: an older tree reads the first hashes of today's partial tile.
            return bytes(row[0])[:width * HASH_SIZE] if row else b""
        return fetch
