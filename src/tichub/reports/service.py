"""Report registry use cases: the only code that writes records and the log."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, cached_property
from itertools import pairwise
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal, require
from tichub.core.config import Settings
from tichub.core.db import Base, table
from tichub.core.errors import FieldError
from tichub.core.ids import new_id, today, utcnow
from tichub.core.messages import Msg
from tichub.core.models import Organisation, OrgKind, Role
from tichub.registry import service as registry
from tichub.registry.models import Institution, QualificationKind
from tichub.reports import (
    idempotency,
    leaf,
    merkle,
    numbers,
    receipt,
    statement,
    statusmap,
    tiles,
    witness,
)
from tichub.reports.checkpoint import Checkpoint, Opened, open_checkpoint, sign_checkpoint
from tichub.reports.evidence import service as evidence
from tichub.reports.lookup import CheckpointRow, Reader, StoredRecord
from tichub.reports.models import (
    IssuerKey,
    LogCheckpoint,
    LogCosignature,
    LogPending,
    LogState,
    LogTile,
    LogWitness,
    RecordEvent,
    ReportPdf,
    ReportRecord,
    StatusBucket,
    StatusTile,
)
from tichub.reports.note import COSIGNATURE, ED25519, NoteError, Signer, Verifier, open_note, split
from tichub.reports.schemas import (
    Bundle,
    Receipt,
    RecordIn,
    RecordOut,
    StatusEntry,
    StatusProof,
    Verdict,
)

STATE_ID = 1
# The dates a record carries, as a refusal names them to people.
DATE_LABELS = {"sample_received_on": Msg("the sample's receipt"),
               "tested_from": Msg("the start of testing"),
               "tested_to": Msg("the end of testing"), "issued_on": Msg("the issue date")}
NOT_SIGNED_BY_ISSUER = "not_signed_by_issuer"
MARK_ON_COMMITMENT = "mark_on_commitment"  # the mark's qualification is on commitment
BATCH = 5_000  # entries per integration transaction
MARK_KINDS = {"CMA": QualificationKind.cma, "CNAS": QualificationKind.cnas,
              "ILAC-MRA": QualificationKind.cnas}  # the ILAC-MRA mark rides on CNAS
# A document's status after each kind of event.
STATUS_AFTER = {RecordEvent.issued: "valid", RecordEvent.reinstated: "valid",
                RecordEvent.amended: "amended", RecordEvent.withdrawn: "withdrawn",
                RecordEvent.suspended: "suspended", RecordEvent.revoked: "revoked",
                RecordEvent.expired: "expired"}


@dataclass(frozen=True)
class Log:
    origin: str
    signer: Signer
    # Checkpoints already opened with the log's key, by their exact note text: a changed
    # note is a new key, checked afresh.
    _opened: dict[str, Opened] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Log:
        signer = Signer.parse(settings.resolved_log_key())
        if signer.name != settings.log_origin:
            raise ValueError(f"the log key is named {signer.name!r}, but the log's origin "
                             f"is {settings.log_origin!r} (TICHUB_LOG_ORIGIN)")
        return cls(settings.log_origin, signer)

    @cached_property
    def verifier(self) -> Verifier:
        return self.signer.verifier()

    @cached_property
    def empty_note(self) -> str:
        """The checkpoint of the empty tree. Made when asked, not stored: an Ed25519
        signature is deterministic, so every process makes the same note."""
        return sign_checkpoint(Checkpoint(self.origin, 0, merkle.EMPTY_ROOT,
                                          (statusmap.extension(empty_map_root()),)),
                               self.signer)

    def open(self, note: str) -> Opened:
        """The checkpoint in ``note``, its log signature checked (NoteError if not)."""
        opened = self._opened.get(note)
        if opened is None:
            opened = open_checkpoint(note, self.verifier)
            if len(self._opened) >= 256:
                self._opened.clear()
            self._opened[note] = opened
        return opened


# --- registering ----------------------------------------------------------------------------

def _date_faults(data: RecordIn, row: int | None) -> list[FieldError]:
    faults = []
    chain = [("sample_received_on", data.sample_received_on), ("tested_from", data.tested_from),
             ("tested_to", data.tested_to), ("issued_on", data.issued_on)]
    known = [(name, d) for name, d in chain if d is not None]
    for (a, da), (b, db_) in pairwise(known):
        if db_ < da:
            faults.append(FieldError(b, Msg("is before {field} ({date})", field=DATE_LABELS[a],
                                            date=da.isoformat()), row))
    for name, d in known:
        if d > today():
            faults.append(FieldError(name, Msg("is in the future"), row))
    if data.valid_until and data.issued_on and data.valid_until < data.issued_on:
        faults.append(FieldError("valid_until", Msg("is before {field}",
                                                    field=DATE_LABELS["issued_on"]), row))
    return faults


@dataclass(frozen=True)
class Regulator:
    """Who registers an event in the issuer's stead: the market regulator, under a decision
    (a report found false is revoked this way). The public record names both."""

    name: str
    decision_no: str

    def public(self) -> dict[str, str]:
        return {"authority": "market_regulator", "name": self.name,
                "decision_no": self.decision_no}


@dataclass(frozen=True)
class _Issued:
    """The first record of a document's issue, which later events point at."""

    id: str
    leaf_hash: str


class _Batch:
    """What registering a batch needs to know, read once for the whole batch (a LIMS sends
    up to 1,000 records that mostly share an issuer, signatories and standards) and kept up
    to date as the batch's own records are prepared, so duplicates inside it are flagged."""

    def __init__(self, db: Session, items: Sequence[RecordIn],
                 regulator: Regulator | None = None) -> None:
        self.db = db
        self.regulator = regulator
        institutions = {d.institution_id for d in items}
        numbers = {d.number for d in items} | {d.replacement for d in items if d.replacement}
        # By number alone, the issuer filtered here: given both, SQLite's planner, without
        # fresh statistics, walks the issuer's index, which holds every record of a lab.
        self.issued: dict[tuple[str, str], _Issued] = {}
        # Numbers arrive normalised (the schema sees to it); stored ones are found by their
        # normalised form, so a look-alike registered before normalisation counts too.
        for inst_id, number, record_id, leaf_hash in db.execute(
                select(ReportRecord.institution_id, ReportRecord.number_key, ReportRecord.id,
                       ReportRecord.leaf_hash)
                .where(ReportRecord.number_key.in_(numbers),
                       ReportRecord.event == RecordEvent.issued)
                .order_by(ReportRecord.registered_at, ReportRecord.id)):
            if inst_id in institutions:
                self.issued.setdefault((inst_id, number), _Issued(record_id, leaf_hash))
        pdfs = {d.pdf_sha256 for d in items if d.pdf_sha256}
        self.pdf_numbers: dict[str, set[str]] = {}
        for sha, number in db.execute(select(ReportRecord.pdf_sha256, ReportRecord.number_key)
                                      .where(ReportRecord.pdf_sha256.in_(pdfs))):
            self.pdf_numbers.setdefault(sha or "", set()).add(number)
        self._checked: dict[tuple[object, ...], list[FieldError]] = {}
        self._commitment: dict[tuple[str, QualificationKind, date], bool] = {}
        self._issuer_keys: dict[str, list[Verifier]] = {}
        # Held here: the session's identity map keeps objects only while someone does.
        self._institutions: dict[str, Institution] = {}

    def institution(self, principal: Principal, institution_id: str) -> Institution:
        if institution_id not in self._institutions:
            inst = registry.get_institution(self.db, principal, institution_id)
            # The regulator's revocation: its caller checked the supervisor's jurisdiction.
            if self.regulator is None:
                require(principal, Role.editor, org=inst.org_id, scope="reports:write")
            self._institutions[institution_id] = inst
        return self._institutions[institution_id]

    def issuer_keys(self, org_id: str) -> list[Verifier]:
        if org_id not in self._issuer_keys:
            self._issuer_keys[org_id] = [Verifier.parse(k) for k in self.db.scalars(
                select(IssuerKey.verifier_key).where(IssuerKey.org_id == org_id))]
        return self._issuer_keys[org_id]

    def on_commitment(self, institution_id: str, kind: QualificationKind, on: date) -> bool:
        key = (institution_id, kind, on)
        if key not in self._commitment:
            self._commitment[key] = registry.mark_on_commitment(self.db, institution_id, kind,
                                                                on)
        return self._commitment[key]

    def checked(self, key: tuple[object, ...],
                check: Callable[[], list[FieldError]]) -> list[FieldError]:
        if key not in self._checked:
            self._checked[key] = check()
        return self._checked[key]


def _prepare(
    db: Session, principal: Principal, data: RecordIn, now: datetime, batch: _Batch,
    record_id: str, row: int | None = None,
) -> dict[str, Any]:
    """The record's row, once every check passed; raises ``Problem`` naming the faults."""
    inst = batch.institution(principal, data.institution_id)
    faults = _date_faults(data, row)
    flags: list[str] = []
    refers_to: _Issued | None = None
    if data.event is RecordEvent.issued:
        on = data.issued_on
        assert on is not None  # the schema sees to it
        names = tuple(data.signatories)
        faults += [FieldError(f.field, f.message, row) for f in batch.checked(
            ("signatories", inst.id, names, on),
            lambda: registry.signatory_faults(db, inst.id, names, on))]
        standards = tuple(data.standards)
        for mark in sorted(set(data.marks)):
            kind = MARK_KINDS[mark]
            faults += [FieldError(f.field, Msg("{mark}: {message}", mark=mark,
                                               message=f.message), row) for f in batch.checked(
                ("marks", inst.id, kind, standards, on),
                lambda kind=kind: registry.accreditation_faults(  # type: ignore[misc]
                    db, inst.id, kind, standards, on))]
        # A mark on a qualification granted on commitment (告知承诺) stands, but the record
        # says so: the bureau has not yet verified on site what the lab committed to.
        if any(batch.on_commitment(inst.id, MARK_KINDS[mark], on) for mark in set(data.marks)):
            flags.append(MARK_ON_COMMITMENT)
        if (inst.id, data.number) in batch.issued:
            flags.append("number_registered_before")
        if data.pdf_sha256 and batch.pdf_numbers.get(data.pdf_sha256, set()) - {data.number}:
            flags.append("pdf_under_another_number")
    else:
        refers_to = batch.issued.get((inst.id, data.number))
        if refers_to is None:
            faults.append(FieldError("number", Msg(
                "no document {number} issued by this institution is registered",
                number=data.number), row))
        if data.event is RecordEvent.amended and data.replacement and \
                (inst.id, data.replacement) not in batch.issued:
            faults.append(FieldError("replacement", Msg(
                "register {number} as issued before the amendment that names it",
                number=data.replacement), row))
    if faults:
        raise errors.Problem(422, "Record refused", detail="; ".join(
            f"{f.field}: {f.message}" for f in faults), errors=faults)
    if data.event is RecordEvent.issued and data.pdf_sha256:
        batch.pdf_numbers.setdefault(data.pdf_sha256, set()).add(data.number)

    public = {
        "number": data.number, "kind": data.kind.value, "event": data.event.value,
        "issuer": {"institution_id": inst.id, "name": inst.name_zh,
                   "credit_code": inst.credit_code},
        "product": data.product, "standards": list(data.standards),
        "dates": {k: v.isoformat() for k, v in (
            ("sample_received", data.sample_received_on), ("tested_from", data.tested_from),
            ("tested_to", data.tested_to), ("issued", data.issued_on),
            ("valid_until", data.valid_until)) if v is not None},
        "signatories": list(data.signatories), "conclusion": data.conclusion,
        "marks": sorted(set(data.marks)), "pdf_sha256": data.pdf_sha256,
        "refers_to": refers_to.leaf_hash if refers_to else None,
        "replacement": data.replacement, "reason": data.reason,
        "registered_at": now.isoformat().replace("+00:00", "Z"),
    }
    if data.issuer_signature is not None:
        public["issuer_signature"] = data.issuer_signature
    if batch.regulator is not None:
        public["revoked_by"] = batch.regulator.public()
    keys = batch.issuer_keys(inst.org_id) if batch.regulator is None else []
    # A lab that holds keys is told of every record in its name that none of them signed.
    if (keys or data.issuer_signature) and statement.signer_of(
            statement.of_record(public), data.issuer_signature, keys) is None:
        flags.append(NOT_SIGNED_BY_ISSUER)
    if data.client_public:
        public["client"] = data.client
    private: dict[str, Any] = {"client": "" if data.client_public else data.client,
                               "sample": data.sample}
    if data.evidence is not None:
        # Only then: a record without evidence keeps exactly the private fields it always had.
        private[evidence.KEY] = evidence.committed(data.evidence)
    salt = leaf.new_salt()
    # Strings, nulls, lists and ASCII keys only: the schemas refuse what JSON cannot hold.
    commit = leaf.commitment(private, salt, plain=True)
    leaf_bytes = leaf.leaf_bytes(public, commit)
    leaf_hash = merkle.leaf_hash(leaf_bytes).hex()
    if data.event is RecordEvent.issued:
        # Later records of the same batch may be about this document (or name it).
        batch.issued.setdefault((inst.id, data.number), _Issued(record_id, leaf_hash))
    return {
        "id": record_id, "number": data.number, "number_key": data.number,
        "kind": data.kind, "event": data.event,
        "refers_to_id": refers_to.id if refers_to else None, "institution_id": inst.id,
        "org_id": inst.org_id, "issued_on": data.issued_on, "pdf_sha256": data.pdf_sha256,
        "public": public, "private": private, "salt": salt.hex(), "commitment": commit,
        "leaf": leaf_bytes, "leaf_hash": leaf_hash, "flags": flags,
        "registered_at": now, "log_index": None,
        "registered_by": principal.user_id if principal.user_id != "cli" else None}


def register(
    db: Session, principal: Principal, log: Log, items: Sequence[RecordIn],
    before_write: Callable[[list[Receipt]], None] | None = None,
    regulator: Regulator | None = None, commit: bool = True,
) -> list[Receipt]:
    """Registers every record or none; returns once they are durably queued for the log.
    ``before_write`` is given the receipts before anything is written, in the same
    transaction (the idempotency key's answer is stored with the records, or neither).
    ``regulator``: registered by the market regulator under a decision (see
    ``revoke_by_regulator``); ``commit=False`` leaves the transaction to the caller."""
    now = utcnow()
    records, faults = [], []
    with db.no_autoflush:
        batch = _Batch(db, items, regulator)
        # A batch's records share one time; their ids, sorted, keep their order (a document
        # issued and withdrawn in one batch must read in that order).
        ids = sorted(new_id() for _ in items)
        for row, (data, record_id) in enumerate(zip(items, ids, strict=True), start=1):
            try:
                records.append(_prepare(db, principal, data, now, batch, record_id,
                                        row if len(items) > 1 else None))
            except errors.Problem as exc:
                if len(items) == 1 or exc.status != 422:
                    raise
                faults += exc.errors
    if faults:
        raise errors.Problem(422, "Records refused", detail=f"{len(faults)} error(s); "
                             "nothing was registered", errors=faults)
    # One signature for the whole call: a receipt proves each record into the signed root.
    leaf_hashes = [bytes.fromhex(r["leaf_hash"]) for r in records]
    note, proofs = receipt.issue(log.origin, log.signer, leaf_hashes,
                                 int(now.timestamp() * 1000))
    key = log.verifier.encode()
    receipts = [Receipt(record_id=r["id"], number=r["number"], leaf_hash=r["leaf_hash"],
                        registered_at=now, flags=r["flags"], receipt=note, batch_index=i,
                        batch_proof=[base64.b64encode(h).decode() for h in proof],
                        verifier_key=key)
                for i, (r, proof) in enumerate(zip(records, proofs, strict=True))]
    if before_write is not None:
        before_write(receipts)
    # Multi-row inserts, in one transaction: the records, their places in the queue (in
    # registration order) and their audit events.
    # Core inserts of the tables, not ORM bulk inserts: the rows are complete already, and
    # the ORM's bookkeeping per row cost more than the database's work.
    db.execute(insert(table(ReportRecord)), records)
    db.execute(insert(table(LogPending)), [{"record_id": r["id"]} for r in records])
    with_evidence = [(r, d.evidence) for r, d in zip(records, items, strict=True)
                     if d.evidence is not None]
    if with_evidence:
        refs = evidence.References.read(db, ((r["org_id"], r["institution_id"], e)
                                             for r, e in with_evidence))
        rows = evidence.Rows()
        for r, e in with_evidence:
            rows.add(r["id"], r["institution_id"], r["org_id"], e, refs)
        rows.insert(db)
    audit.record_many(db, [{
        "action": "report.registered", "object_type": "report_record", "object_id": r["id"],
        "actor_user_id": r["registered_by"], "org_id": r["org_id"],
        "data": {"number": r["number"], "event": r["event"].value,
                 "leaf_hash": r["leaf_hash"], "flags": r["flags"],
                 **({"evidence": {k: len(v) for k, v in r["private"][evidence.KEY].items()}}
                    if evidence.KEY in r["private"] else {})}} for r in records])
    # The alert the issuing organisation reads in its audit log.
    audit.record_many(db, [{
        "action": "report.not_signed_by_issuer", "object_type": "report_record",
        "object_id": r["id"], "actor_user_id": r["registered_by"], "org_id": r["org_id"],
        "summary": f"{r['number']} names this organisation as issuer but carries no "
                   "signature of its keys",
        "data": {"number": r["number"], "leaf_hash": r["leaf_hash"]}}
        for r in records if NOT_SIGNED_BY_ISSUER in r["flags"]])
    # The rules that can judge a record at once, in the same transaction; imported here, as
    # supervision builds on this domain and not the other way round.
    from tichub.supervision.signals import incremental
    incremental.check(db, [r["id"] for r in records])
    if commit:
        db.commit()
    return receipts


def revoke_by_regulator(
    db: Session, principal: Principal, log: Log, institution_id: str,
    report_numbers: Sequence[str], regulator: Regulator, reason: str,
) -> list[Receipt]:
    """Registers, for each report the regulator found false, a revocation in the log in the
    issuer's name, naming the regulator and its decision; in the caller's transaction (the
    sanction and its revocations are written together or not at all). The caller checks
    that the principal supervises the institution."""
    items, faults = [], []
    for row, number in enumerate(report_numbers, start=1):
        found = issued_record(db, institution_id, number)
        if found is None:
            faults.append(FieldError("false_numbers", Msg(
                "{number}: no valid document of this institution has this number",
                number=number), row))
            continue
        items.append(RecordIn(number=found.number_key, kind=found.kind,
                              event=RecordEvent.revoked, institution_id=institution_id,
                              reason=reason[:1000]))
    if faults:
        raise errors.Problem(422, "Invalid input", detail="; ".join(
            f"{f.field}: {f.message}" for f in faults), errors=faults)
    if not items:
        return []
    return register(db, principal, log, items, regulator=regulator, commit=False)


def first_checkpoint_after(db: Session, size: int, moment: datetime) -> LogCheckpoint | None:
    """The first checkpoint the log signed after ``moment`` that is larger than ``size``
    (the log's size then): what seeds a draw frozen at that moment."""
    return db.scalar(select(LogCheckpoint).where(LogCheckpoint.size > size,
                                                 LogCheckpoint.created_at > moment)
                     .order_by(LogCheckpoint.size).limit(1))


def register_once(
    db: Session, principal: Principal, log: Log, items: Sequence[RecordIn],
    request: idempotency.Request, render: Callable[[list[Receipt]], str],
) -> idempotency.Answer:
    """``register`` under the client's Idempotency-Key: the first request registers and
    keeps its answer (``render`` of the receipts, status 201) with the records; a retry
    gets that answer again and registers nothing."""
    now = utcnow()
    found = idempotency.find(db, request, now)
    if found is not None:
        return found
    answer: list[idempotency.Answer] = []

    def keep(receipts: list[Receipt]) -> None:
        answer.append(idempotency.claim(db, request, 201, render(receipts), now))

    try:
        register(db, principal, log, items, before_write=keep)
    except idempotency.Replayed as race:  # the same key, sent again before we answered
        return race.answer
    return answer[0]


# --- the log ---------------------------------------------------------------------------------

def tile_fetcher(db: Session) -> Callable[[int, int, int], bytes]:
    """Reads tiles in the session's own transaction (integration reads the edge it is
    about to extend), through the driver: a proof reads a handful, and each read through
    the ORM cost ten times the query."""
    cursor = db.connection().connection.cursor()
    p = "?" if db.get_bind().dialect.name == "sqlite" else "%s"
    sql = f"SELECT data FROM log_tiles WHERE level = {p} AND tile_index = {p}"

    def fetch(level: int, index: int, width: int) -> bytes:
        cursor.execute(sql, (level, index))
        row = cursor.fetchone()
        # Tiles only grow: an older tree reads the first hashes of today's partial tile.
        return bytes(row[0])[:width * merkle.HASH_SIZE] if row else b""
    return fetch


# Shared by the proofs a process serves; keyed by tile content, so it never hides a change.
NODE_MEMO = tiles.NodeMemo()


def tree(db: Session, size: int) -> tiles.TileSource:
    return tiles.TileSource(size, tile_fetcher(db), NODE_MEMO)


def integrate(db: Session, log: Log, limit: int = BATCH) -> int:
    """Moves queued records into the tree and signs a checkpoint; returns the new size."""
    # Updating the one state row first makes integrators take turns: a row lock on
    # PostgreSQL, the database's write lock on SQLite.
    db.execute(update(LogState).where(LogState.id == STATE_ID).values(size=LogState.size))
    state = db.get(LogState, STATE_ID, populate_existing=True)
    if state is None:
        raise RuntimeError("the log has no state row: run `tichub db upgrade`")
    queued = list(db.execute(select(LogPending.seq, ReportRecord.id, ReportRecord.leaf_hash,
                                    ReportRecord.number, ReportRecord.institution_id,
                                    ReportRecord.event)
                             .join(ReportRecord, ReportRecord.id == LogPending.record_id)
                             .order_by(LogPending.seq).limit(limit)))
    if not queued:
        db.rollback()
        return state.size
    size = state.size
    edge = {}
    for level in range(64):
        if level and tiles.level_width(size, level) == 0:
            break
        index = tiles.level_width(size, level) // tiles.TILE_WIDTH
        edge[level] = tile_fetcher(db)(level, index, tiles.level_width(size, level)
                                       % tiles.TILE_WIDTH)
    changed = tiles.append(size, edge, [bytes.fromhex(q.leaf_hash) for q in queued])
    db.execute(_upsert(db, LogTile, "level", "tile_index"),
               [{"level": level, "tile_index": index, "data": data}
                for (level, index), data in changed.items()])
    records = table(ReportRecord)
    db.execute(update(records).where(records.c.id == bindparam("record_id"))
               .values(log_index=bindparam("index")),
               [{"record_id": q.id, "index": size + i} for i, q in enumerate(queued)])
    # Exactly these: on PostgreSQL a registration holding an earlier seq may commit while
    # this runs, and a range delete would drop its queue entry unintegrated.
    db.execute(delete(LogPending).where(LogPending.seq.in_([q.seq for q in queued])))
    db.flush()
    new_size = size + len(queued)
    root = merkle.root(tree(db, new_size), new_size)
    map_root = _update_status_map(db, [
        {"number": q.number, "issuer": q.institution_id, "leaf_hash": q.leaf_hash,
         "event": q.event.value} for q in queued])
    note = sign_checkpoint(Checkpoint(log.origin, new_size, root,
                                      (statusmap.extension(map_root),)), log.signer)
    db.add(LogCheckpoint(size=new_size, root_hash=root.hex(), note=note))
    state.size, state.root_hash, state.updated_at = new_size, root.hex(), utcnow()
    db.commit()
    return new_size


# --- the status map ----------------------------------------------------------------------


@cache
def _empty_status_tile(level: int) -> bytes:
    """A tile of only empty buckets (level 0), or of the roots of such tiles (level 1)."""
    below = statusmap.empty_bucket_hash() if level == 0 else tiles.fold(
        _hashes(_empty_status_tile(level - 1)))
    return below * tiles.TILE_WIDTH


def _hashes(data: bytes) -> list[bytes]:
    return [data[i:i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]


def status_tile_fetcher(db: Session) -> Callable[[int, int, int], bytes]:
    stored = {}

    def fetch(level: int, index: int, width: int) -> bytes:
        key = (level, index)
        if key not in stored:
            data = db.scalar(select(StatusTile.data).where(StatusTile.level == level,
                                                           StatusTile.tile_index == index))
            stored[key] = data if data is not None else _empty_status_tile(level)
        return stored[key][:width * merkle.HASH_SIZE]
    return fetch


def _update_status_map(db: Session, records: list[dict[str, str]]) -> bytes:
    """Makes each record (in log order) its document's latest in the status map; returns
    the map's new root."""
    by_bucket: dict[int, list[dict[str, str]]] = {}
    for r in records:
        by_bucket.setdefault(statusmap.bucket_of(r["number"]), []).append(r)
    stored = {bucket: data for bucket, data in db.execute(
        select(StatusBucket.bucket, StatusBucket.data).where(StatusBucket.bucket.in_(by_bucket)))}
    rows, hashes = [], {}
    for bucket, recs in by_bucket.items():
        before = statusmap.parse_bucket(stored[bucket], strict=False) if bucket in stored \
            else []
        data = statusmap.bucket_bytes(statusmap.updated(before, recs))
        rows.append({"bucket": bucket, "data": data})
        hashes[bucket] = statusmap.bucket_hash(data)
    db.execute(_upsert(db, StatusBucket, "bucket"), rows)
    indexes = sorted({b // tiles.TILE_WIDTH for b in hashes})
    held = {(level, index): data for level, index, data in db.execute(
        select(StatusTile.level, StatusTile.tile_index, StatusTile.data).where(
            ((StatusTile.level == 0) & StatusTile.tile_index.in_(indexes))
            | (StatusTile.level == 1)))}
    top = _hashes(held.get((1, 0), _empty_status_tile(1)))
    tile_rows = []
    for index in indexes:
        level0 = _hashes(held.get((0, index), _empty_status_tile(0)))
        for bucket in range(index * tiles.TILE_WIDTH, (index + 1) * tiles.TILE_WIDTH):
            if bucket in hashes:
                level0[bucket % tiles.TILE_WIDTH] = hashes[bucket]
        tile_rows.append({"level": 0, "tile_index": index, "data": b"".join(level0)})
        top[index] = tiles.fold(level0)
    tile_rows.append({"level": 1, "tile_index": 0, "data": b"".join(top)})
    db.execute(_upsert(db, StatusTile, "level", "tile_index"), tile_rows)
    return tiles.fold(top)


def _upsert(db: Session, model: type[Base], *key: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE of every other column, on either database."""
    make = sqlite_insert if db.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = make(table(model))
    others = {c.name: statement.excluded[c.name] for c in table(model).columns
              if c.name not in key}
    return statement.on_conflict_do_update(index_elements=list(key), set_=others)


def rebuild_status_map(db: Session) -> bytes:
    """Writes the status map of every integrated record, for a log that has records from
    before the map existed (migration 0008); returns its root. The caller commits."""
    db.execute(delete(StatusBucket))
    db.execute(delete(StatusTile))
    rows = db.execute(select(ReportRecord.number, ReportRecord.institution_id,
                             ReportRecord.leaf_hash, ReportRecord.event)
                      .where(ReportRecord.log_index.is_not(None))
                      .order_by(ReportRecord.log_index))
    records = [{"number": n, "issuer": i, "leaf_hash": h, "event": e.value}
               for n, i, h, e in rows]
    return _update_status_map(db, records) if records else tiles.fold(
        _hashes(_empty_status_tile(1)))


def status_proof(db: Session, number: str) -> StatusProof:
    """The number's bucket and its proof under the latest checkpoint's status map."""
    for _ in range(3):
        latest = latest_checkpoint(db)
        if latest is None:
            raise errors.Problem(404, "Not found", detail=Msg(
                "checkpoint not found (the log is empty)"))
        if statusmap.root_in(Checkpoint.parse(split(latest.note)[0])) is None:
            raise errors.Problem(409, "No status map yet", detail="the log's latest "
                                 "checkpoint predates the status map; the next one carries it")
        found = _status_proof(db, number, latest)
        if found is not None:
            return found
        db.rollback()  # an integration committed between the reads: read afresh
    raise errors.Problem(500, "Status map inconsistent", detail="the stored status map does "
                         "not match the signed checkpoint: report this to the platform's operator")


def _status_proof(db: Session, number: str, latest: LogCheckpoint) -> StatusProof | None:
    """The proof under ``latest``, or None when the map read is not that checkpoint's (on
    PostgreSQL each statement sees the latest commit, and integration may run between)."""
    bucket = statusmap.bucket_of(number)
    data = db.scalar(select(StatusBucket.data).where(StatusBucket.bucket == bucket)) \
        or statusmap.bucket_bytes([])
    source = tiles.TileSource(statusmap.BUCKETS, status_tile_fetcher(db), NODE_MEMO)
    proof = merkle.inclusion_proof(source, bucket, statusmap.BUCKETS)
    root = statusmap.root_in(Checkpoint.parse(split(latest.note)[0]))
    try:
        if root is None:
            return None
        entries = statusmap.check(number, data, bucket, proof, root)
    except statusmap.StatusError:
        return None
    return StatusProof(number=number, bucket=bucket, data=base64.b64encode(data).decode(),
                       proof=[base64.b64encode(h).decode() for h in proof],
                       latest=[StatusEntry(issuer=e.issuer, leaf_hash=e.leaf_hash,
                                           event=e.event) for e in entries],
                       checkpoint=latest.note)


def integrate_all(db: Session, log: Log) -> int:
    size = -1
    while (new := integrate(db, log)) != size:
        size = new
    return size


def empty_map_root() -> bytes:
    """The root of the status map with no document in it."""
    return tiles.fold(_hashes(_empty_status_tile(1)))


def latest_note(db: Session, log: Log) -> str:
    """The latest checkpoint with its cosignatures; for an empty log, the log's signed
    checkpoint of the empty tree (size 0, root SHA-256 of nothing, RFC 9162 §2.1.1)."""
    latest = latest_checkpoint(db)
    return cosigned_note(db, latest) if latest is not None else log.empty_note


def latest_checkpoint(db: Session) -> LogCheckpoint | None:
    return db.scalar(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1))


def checkpoint_at(db: Session, size: int) -> LogCheckpoint:
    found = db.get(LogCheckpoint, size)
    if found is None:
        raise errors.Problem(404, "Not found", detail=Msg(
            "checkpoint of size {size} not found", size=size))
    return found


def checkpoint_sizes(db: Session, since: int = 0, limit: int = 1000) -> list[int]:
    return list(db.scalars(select(LogCheckpoint.size).where(LogCheckpoint.size >= since)
                           .order_by(LogCheckpoint.size).limit(limit)))


def consistency(db: Session, old_size: int, new_size: int) -> list[bytes]:
    latest = latest_checkpoint(db)
    if latest is None or not 0 <= old_size <= new_size <= latest.size:
        raise errors.invalid("size", Msg("sizes go from 0 to {size}",
                                         size=latest.size if latest else 0))
    return merkle.consistency_proof(tree(db, new_size), old_size, new_size)


def tile(db: Session, level: int, index: int, width: int) -> bytes:
    """A tile of the tree under the latest checkpoint, ``width`` hashes wide. A partial
    width is served as long as the tile holds that many hashes, full or not: C2SP
    tlog-tiles has logs serve the partial tiles of every checkpointed size (a client that
    read an older checkpoint fetches them after the log grew) and only allows them gone
    once the full tile exists. Tiles only grow, so each width's bytes never change."""
    latest = latest_checkpoint(db)
    size = latest.size if latest else 0
    have = min(tiles.TILE_WIDTH, tiles.level_width(size, level) - index * tiles.TILE_WIDTH)
    if width > have:
        raise errors.Problem(404, "Not found", detail=Msg("tile not found"))
    return tile_fetcher(db)(level, index, width)


def entry_bundle(db: Session, index: int, width: int) -> bytes:
    tile(db, 0, index, width)  # the same existence rules
    first = index * tiles.TILE_WIDTH
    leaves = db.scalars(select(ReportRecord.leaf).where(
        ReportRecord.log_index >= first, ReportRecord.log_index < first + width)
        .order_by(ReportRecord.log_index))
    return tiles.bundle(list(leaves))


# --- reading -------------------------------------------------------------------------------

# A record as the ORM loads it, or as verification reads it through the driver.
Recorded = ReportRecord | StoredRecord


def record_out(record: Recorded) -> RecordOut:
    return RecordOut(id=record.id, number=record.number, kind=record.kind, event=record.event,
                     issuer=record.public["issuer"]["name"],
                     institution_id=record.institution_id, public=record.public,
                     flags=list(record.flags), registered_at=record.registered_at,
                     log_index=record.log_index, leaf_hash=record.leaf_hash)


def check_record(log: Log, record: Recorded, checkpoint: LogCheckpoint | CheckpointRow | None,
                 fetch: Callable[[int, int, int], bytes]) -> str | None:
    """Why a stored record cannot be trusted, or None: its fields must be its leaf's, and
    the leaf must be in the tree under the log's signed checkpoint."""
    if merkle.leaf_hash(record.leaf).hex() != record.leaf_hash:
        return f"record {record.id}: its leaf hash is not its leaf's"
    try:
        logged = json.loads(record.leaf)
    except ValueError:
        return f"record {record.id}: its leaf is not JSON"
    if logged.get("record") != record.public or logged.get("private") != record.commitment:
        return f"record {record.id}: its fields differ from those in the log"
    if record.log_index is None:
        return None
    if checkpoint is None or checkpoint.size <= record.log_index:
        return f"record {record.id}: no signed checkpoint covers its index"
    try:
        opened = log.open(checkpoint.note)
        size = opened.checkpoint.size
        source = tiles.TileSource(size, fetch, NODE_MEMO)
        proof = merkle.inclusion_proof(source, record.log_index, size)
        merkle.verify_inclusion(bytes.fromhex(record.leaf_hash), record.log_index, size, proof,
                                opened.checkpoint.root_hash)
    except (NoteError, merkle.ProofError) as exc:
        return f"record {record.id}: {exc}"
    return None


STATUS_WORDS = {"valid": "registered and valid", "amended": "replaced by an amended document",
                "withdrawn": "withdrawn by its issuer", "suspended": "suspended",
                "revoked": "revoked", "expired": "expired"}


def verdict(engine: Engine, number: str, on: date | None = None,
            log: Log | None = None) -> Verdict:
    """A document's status from its records, oldest first; the last event decides.
    ``number`` is found by its normalised form (``reports/numbers.py``)."""
    number = numbers.lookup_key(number)
    reader = Reader(engine)
    try:
        history = reader.history(number)
        if not history:
            return Verdict(number=number, found=False, verdict="No document with this number "
                           "is registered: treat the document as unverified.")
        last = history[-1]
        status = STATUS_AFTER[last.event]
        valid_until = next((r.public["dates"].get("valid_until") for r in reversed(history)
                            if r.event is RecordEvent.issued), None)
        if status == "valid" and valid_until and \
                date.fromisoformat(valid_until) < (on or today()):
            status = "expired"
        text = f"{number} is {STATUS_WORDS[status]}."
        revoked_by = last.public.get("revoked_by") if status == "revoked" else None
        if isinstance(revoked_by, dict):
            text = (f"{number} was revoked by the market regulator ({revoked_by.get('name')}), "
                    f"decision {revoked_by.get('decision_no')}.")
        else:
            revoked_by = None
        if len({r.institution_id for r in history}) > 1:
            text += " Several issuers registered this number: check the issuer."
        integrity, detail = "verified", ""
        if log is not None:
            checkpoint = reader.latest_checkpoint()
            fetch = reader.tile_fetcher()
            faults = [f for r in history if (f := check_record(log, r, checkpoint, fetch))]
            if faults:
                integrity, detail = "failed", "; ".join(faults)
                text = (f"Warning: the stored record of {number} does not match the public "
                        "log, so it cannot be relied on. Report this to the market regulator.")
            elif any(r.log_index is None for r in history):
                integrity = "queued"
    finally:
        reader.close()
    return Verdict(number=number, found=True, status=status, verdict=text,
                   history=[record_out(r) for r in history],
                   replacement=last.public.get("replacement") if status == "amended" else None,
                   revoked_by=revoked_by, integrity=integrity, integrity_detail=detail)


def numbers_by_pdf(db: Session, sha256: str, limit: int = 5) -> list[str]:
    """The document numbers registered with this PDF hash."""
    return list(db.scalars(select(ReportRecord.number_key)
                           .where(ReportRecord.pdf_sha256 == sha256)
                           .group_by(ReportRecord.number_key)
                           .order_by(ReportRecord.number_key).limit(limit)))


def issuers_of(db: Session, number: str) -> list[str]:
    """The institutions that registered a document with this number (complaints name a
    report by its number; usually one issuer, several when numbers collide)."""
    return list(db.scalars(select(ReportRecord.institution_id)
                           .where(ReportRecord.number_key == numbers.lookup_key(number))
                           .group_by(ReportRecord.institution_id)
                           .order_by(ReportRecord.institution_id).limit(20)))


def get_record(db: Session, record_id: str) -> ReportRecord:
    record = db.get(ReportRecord, record_id)
    if record is None:
        raise errors.Problem(404, "Not found", detail=Msg("record not found"))
    return record


def bundle(db: Session, log: Log, record_id: str, witnessed: int = 0) -> Bundle:
    """The record's proof against the latest checkpoint, or with ``witnessed`` k > 0 the
    latest one that at least k witnesses cosigned (with their cosignatures)."""
    record = get_record(db, record_id)
    latest = latest_checkpoint(db)
    if record.log_index is None or latest is None or latest.size <= record.log_index:
        raise errors.Problem(409, "Not yet in the log", detail=Msg(
            "the record is queued; its proof is ready once the next batch is integrated "
            "(about a second)"))
    chosen = latest
    if witnessed > 0:
        found = db.scalar(select(LogCheckpoint).join(
            LogCosignature, LogCosignature.size == LogCheckpoint.size)
            .where(LogCheckpoint.size > record.log_index).group_by(LogCheckpoint.size)
            .having(func.count() >= witnessed).order_by(LogCheckpoint.size.desc()).limit(1))
        if found is None:
            raise errors.Problem(409, "Not yet witnessed", detail=Msg(
                "no checkpoint holding this record has {n} witness cosignatures yet",
                n=witnessed))
        chosen = found
    proof = merkle.inclusion_proof(tree(db, chosen.size), record.log_index, chosen.size)
    # The map is kept for the latest checkpoint only.
    status = _status_proof(db, record.number, chosen) if chosen is latest else None
    return Bundle(record=record.public, leaf=base64.b64encode(record.leaf).decode(),
                  index=record.log_index,
                  inclusion=[base64.b64encode(h).decode() for h in proof],
                  checkpoint=cosigned_note(db, chosen), verifier_key=log.verifier.encode(),
                  status=status)


# --- witnesses -------------------------------------------------------------------------------

def _org_key(key: str, sig_type: int, wrong_type: str) -> Verifier:
    """A verifier key an organisation registers, of the type its use needs."""
    try:
        verifier = Verifier.parse(key)
    except NoteError as exc:
        raise errors.invalid("verifier_key", str(exc)) from None
    if verifier.sig_type != sig_type:
        raise errors.invalid("verifier_key", wrong_type)
    return verifier


OrgKey = TypeVar("OrgKey", LogWitness, IssuerKey)


def _store_org_key(db: Session, principal: Principal, org_id: str, row: OrgKey,
                   verifier: Verifier, action: str, object_type: str) -> OrgKey:
    """Stores a key an organisation registered (names are unique per kind) and audits it."""
    model = type(row)
    if db.scalar(select(model.id).where(model.name == verifier.name)):
        raise errors.conflict("verifier_key", Msg("a key named {name} exists",
                                                  name=verifier.name))
    row.org_id, row.name, row.verifier_key = org_id, verifier.name, verifier.encode()
    db.add(row)
    db.flush()
    audit.record(db, action=action, object_type=object_type, object_id=row.id,
                 actor_user_id=principal.user_id, org_id=org_id,
                 data={"verifier_key": row.verifier_key})
    db.commit()
    return row


def add_witness(db: Session, principal: Principal, org_id: str, key: str) -> LogWitness:
    require(principal, Role.admin, org=org_id, scope="accounts:admin")
    verifier = _org_key(key, COSIGNATURE, Msg("a witness key is a cosignature key (type "
                                              "0x04): make one with `tichub witness keygen`"))
    return _store_org_key(db, principal, org_id, LogWitness(), verifier, "witness.added",
                          "log_witness")


def list_witnesses(db: Session) -> list[LogWitness]:
    return list(db.scalars(select(LogWitness).order_by(LogWitness.name)))


# --- issuers' own keys ----------------------------------------------------------------------

def add_issuer_key(db: Session, principal: Principal, org_id: str, key: str) -> IssuerKey:
    require(principal, Role.admin, org=org_id, scope="accounts:admin")
    org = db.get(Organisation, org_id)
    if org is None or org.kind not in (OrgKind.lab, OrgKind.certification_body):
        raise errors.invalid("org_id", Msg(
            "issuer keys belong to labs and certification bodies"))
    verifier = _org_key(key, ED25519, Msg("an issuer key signs statements (type 0x01): "
                                          "make one with `tichub issuer keygen`"))
    return _store_org_key(db, principal, org_id, IssuerKey(), verifier, "issuer_key.added",
                          "issuer_key")


def list_issuer_keys(db: Session, org_id: str) -> list[IssuerKey]:
    return list(db.scalars(select(IssuerKey).where(IssuerKey.org_id == org_id)
                           .order_by(IssuerKey.created_at, IssuerKey.name)))


def add_cosignature(db: Session, principal: Principal, size: int, line: str) -> LogCosignature:
    """Stores a witness's cosignature of the checkpoint at ``size`` once it verifies."""
    checkpoint = checkpoint_at(db, size)
    name = line.removeprefix("\u2014 ").split(" ", 1)[0]
    witness = db.scalar(select(LogWitness).where(LogWitness.name == name))
    if witness is None:
        raise errors.invalid("cosignature", Msg("no witness named {name} is registered",
                                                name=repr(name)))
    require(principal, Role.editor, org=witness.org_id, scope="log:cosign")
    body = checkpoint.note[:checkpoint.note.index("\n\n") + 1]
    line = line if line.endswith("\n") else line + "\n"
    try:
        opened = open_note(body + "\n" + line, [Verifier.parse(witness.verifier_key)])
    except NoteError as exc:
        raise errors.invalid("cosignature", str(exc)) from None
    timestamp = opened.verified[0].timestamp or 0
    row = db.get(LogCosignature, (size, witness.id)) or LogCosignature(
        size=size, witness_id=witness.id)
    row.timestamp, row.line = timestamp, line
    db.add(row)
    audit.record(db, action="checkpoint.cosigned", object_type="log_checkpoint",
                 object_id=str(size), actor_user_id=principal.user_id, org_id=witness.org_id,
                 data={"witness": witness.name, "timestamp": timestamp})
    db.commit()
    return row


def cosigned_note(db: Session, checkpoint: LogCheckpoint) -> str:
    lines = db.scalars(select(LogCosignature.line).where(LogCosignature.size == checkpoint.size)
                       .order_by(LogCosignature.witness_id))
    return checkpoint.note + "".join(lines)


def count_pending(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(LogPending)) or 0


class DatabaseReader:
    """The log as the audit reads it, straight from the database (the operator's audit)."""

    def __init__(self, db: Session, log: Log | None = None) -> None:
        self.db = db
        self.log = log

    def checkpoint(self) -> str:
        latest = latest_checkpoint(self.db)
        if latest is None:
            if self.log is not None:
                return self.log.empty_note
            raise errors.Problem(404, "Not found", detail=Msg(
                "checkpoint not found (the log is empty)"))
        return latest.note

    def checkpoint_at(self, size: int) -> str:
        return checkpoint_at(self.db, size).note

    def checkpoint_sizes(self, since: int) -> list[int]:
        return checkpoint_sizes(self.db, since)

    def tile(self, level: int, index: int, width: int) -> bytes:
        return tile_fetcher(self.db)(level, index, width)

    def bundle(self, index: int, width: int) -> bytes:
        return entry_bundle(self.db, index, width)


def record_faults(db: Session, log: Log) -> Iterator[str]:
    """Every stored record that is not its leaf, or whose leaf is not the tree's."""
    checkpoint = latest_checkpoint(db)
    size = checkpoint.size if checkpoint else 0
    fetch = tile_fetcher(db)
    hashes: dict[int, bytes] = {}
    for record in db.scalars(select(ReportRecord).order_by(ReportRecord.log_index)):
        fault = check_record(log, record, None, fetch) if record.log_index is None else None
        if record.log_index is not None:
            if merkle.leaf_hash(record.leaf).hex() != record.leaf_hash or \
                    json.loads(record.leaf).get("record") != record.public:
                fault = f"record {record.id} ({record.number}): its fields are not its leaf"
            elif record.log_index < size:
                tile_index = record.log_index // tiles.TILE_WIDTH
                if tile_index not in hashes:
                    width = min(tiles.TILE_WIDTH, size - tile_index * tiles.TILE_WIDTH)
                    hashes[tile_index] = fetch(0, tile_index, width)
                at = (record.log_index % tiles.TILE_WIDTH) * merkle.HASH_SIZE
                if hashes[tile_index][at:at + merkle.HASH_SIZE].hex() != record.leaf_hash:
                    fault = f"record {record.id} ({record.number}): its leaf is not entry " \
                            f"{record.log_index} of the log"
        if fault:
            yield fault


# --- pushing checkpoints to witnesses (C2SP tlog-witness) ---------------------------------

def push_to_witness(db: Session, url: str, client: httpx.Client,
                    believed: dict[str, int]) -> LogCosignature | None:
    """Sends the latest checkpoint to the witness at ``url`` with a consistency proof from
    the size it cosigned last (``believed``, learnt from its 409 answers), and stores the
    cosignature it returns once it verifies with a registered witness key."""
    latest = latest_checkpoint(db)
    if latest is None:
        return None
    for _ in range(2):  # a first guess, then the size the witness says it holds
        old = believed.get(url, 0)
        if old > latest.size:
            old = 0
        proof = consistency(db, old, latest.size) if old else []
        body = (f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
                + "\n" + latest.note)
        r = client.post(url.rstrip("/") + "/add-checkpoint", content=body.encode())
        if r.status_code == 409 and r.headers.get("content-type", "").startswith(
                witness.SIZE_TYPE) and r.text.strip().isdigit():
            believed[url] = int(r.text.strip())
            continue
        if r.status_code != 200:
            raise WitnessRefused(f"{url}: HTTP {r.status_code} {r.text.strip()[:200]}")
        believed[url] = latest.size
        return _store_cosignatures(db, latest, r.text)
    raise WitnessRefused(f"{url}: the witness and the log disagree on its last size")


class WitnessRefused(Exception):
    """A witness did not cosign; the log goes on, its checkpoints just lack that cosigner."""


def _store_cosignatures(db: Session, checkpoint: LogCheckpoint,
                        lines: str) -> LogCosignature | None:
    body = checkpoint.note[:checkpoint.note.index("\n\n") + 1]
    stored = None
    for line in lines.splitlines():
        name = line.removeprefix("\u2014 ").split(" ", 1)[0]
        known = db.scalar(select(LogWitness).where(LogWitness.name == name))
        if known is None:
            continue  # the protocol says: ignore cosignatures from unknown keys
        try:
            opened = open_note(body + "\n" + line + "\n", [Verifier.parse(known.verifier_key)])
        except NoteError:
            continue
        row = db.get(LogCosignature, (checkpoint.size, known.id)) or LogCosignature(
            size=checkpoint.size, witness_id=known.id)
        row.timestamp, row.line = opened.verified[0].timestamp or 0, line + "\n"
        db.add(row)
        stored = row
    db.commit()
    return stored


# --- the issued PDFs -------------------------------------------------------------------------

MAX_PDF_BYTES = 20 * 1024 * 1024


def store_pdf(db: Session, principal: Principal, record_id: str, data: bytes) -> ReportPdf:
    """Keeps the issued PDF of a record whose logged SHA-256 it matches."""
    record = get_record(db, record_id)
    require(principal, Role.editor, org=record.org_id, scope="reports:write")
    if record.pdf_sha256 is None:
        raise errors.invalid("pdf", Msg("the record names no PDF hash: register one with it"))
    if len(data) > MAX_PDF_BYTES:
        raise errors.Problem(413, "Invalid input", f"pdf: larger than "
                             f"{MAX_PDF_BYTES // (1024 * 1024)} MB",
                             [FieldError("pdf", Msg("is too large"))])
    if not data.startswith(b"%PDF-"):
        raise errors.invalid("pdf", Msg("is not a PDF file"))
    if hashlib.sha256(data).hexdigest() != record.pdf_sha256:
        raise errors.invalid("pdf", Msg("its SHA-256 is not the one registered for the record"))
    row = db.get(ReportPdf, record_id) or ReportPdf(record_id=record_id)
    row.data, row.uploaded_by, row.uploaded_at = data, principal.user_id, utcnow()
    db.add(row)
    audit.record(db, action="report.pdf_stored", object_type="report_record",
                 object_id=record_id, actor_user_id=principal.user_id, org_id=record.org_id,
                 data={"number": record.number, "bytes": len(data)})
    db.commit()
    return row


def get_pdf(db: Session, principal: Principal, record_id: str) -> tuple[ReportRecord, bytes]:
    record = get_record(db, record_id)
    require(principal, Role.viewer, org=record.org_id, scope="reports:read")
    row = db.get(ReportPdf, record_id)
    if row is None:
        raise errors.Problem(404, "Not found", detail=Msg(
            "the record's PDF not found (its issuer did not store it)"))
    return record, row.data


def issued_record(db: Session, institution_id: str, number: str) -> ReportRecord | None:
    """The record by which an institution issued document ``number``, if it did and has
    not withdrawn, revoked or replaced it since."""
    record = db.scalar(select(ReportRecord).where(
        ReportRecord.institution_id == institution_id,
        ReportRecord.number_key == numbers.lookup_key(number),
        ReportRecord.event == RecordEvent.issued).order_by(ReportRecord.registered_at.desc())
        .limit(1))
    if record is None:
        return None
    latest = db.scalar(select(ReportRecord.event).where(ReportRecord.refers_to_id == record.id)
                       .order_by(ReportRecord.registered_at.desc(), ReportRecord.id.desc())
                       .limit(1))
    if latest in (RecordEvent.withdrawn, RecordEvent.revoked, RecordEvent.amended,
                  RecordEvent.suspended):
        return None
    return record


# --- a lab's own documents (its pages) -------------------------------------------------------

@dataclass(frozen=True)
class OwnDocument:
    """A document an organisation issued, with its status now (the latest event about it)."""

    record: ReportRecord
    status: str  # as STATUS_AFTER names it: valid, amended, withdrawn, …
    replacement: str | None


def own_documents(db: Session, principal: Principal, offset: int = 0, limit: int = 50,
                  number: str = "") -> tuple[list[OwnDocument], int]:
    """A page of the documents the principal's organisations issued (as editors), newest
    first, and how many there are; ``number`` narrows to numbers starting so. A document's
    later events (amended, withdrawn, …) give its status."""
    orgs = principal.orgs_with(Role.editor)
    if not orgs:
        return [], 0
    where = [ReportRecord.org_id.in_(orgs), ReportRecord.event == RecordEvent.issued]
    if number.strip():
        prefix = numbers.lookup_key(number).replace("\\", "\\\\").replace(
            "%", "\\%").replace("_", "\\_")
        # Upper-cased on both sides: SQLite's LIKE ignores ASCII case and PostgreSQL's does
        # not, and people type "r-2026" for "R-2026".
        where.append(func.upper(ReportRecord.number_key).like(prefix.upper() + "%",
                                                              escape="\\"))
    total = db.scalar(select(func.count()).select_from(ReportRecord).where(*where)) or 0
    issued = list(db.scalars(select(ReportRecord).where(*where)
        .order_by(ReportRecord.registered_at.desc(), ReportRecord.id.desc())
        .offset(offset).limit(limit)))
    latest: dict[str, ReportRecord] = {}
    if issued:
        for event in db.scalars(select(ReportRecord).where(
                ReportRecord.refers_to_id.in_([r.id for r in issued]))
                .order_by(ReportRecord.registered_at, ReportRecord.id)):
            latest[event.refers_to_id or ""] = event
    out = []
    for record in issued:
        last = latest.get(record.id)
        status = STATUS_AFTER[last.event] if last is not None else "valid"
        out.append(OwnDocument(record, status, last.public.get("replacement")
                               if last is not None and status == "amended" else None))
    return out, total


def own_record(db: Session, principal: Principal, record_id: str) -> ReportRecord:
    """A record of the principal's organisation, for its editors' pages."""
    record = get_record(db, record_id)
    require(principal, Role.editor, org=record.org_id, scope="reports:write")
    return record


def log_size(db: Session) -> int:
    """How many records the public log holds (the home page's figure): one row read."""
    return int(db.scalar(select(LogState.size).limit(1)) or 0)
