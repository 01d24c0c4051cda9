"""Registered reports and certificates, and the transparency log that holds them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tichub.core.db import Base, IdMixin, UTCDateTime
from tichub.core.ids import utcnow
from tichub.core.models import _enum

# Log indexes and sizes pass 2**31 in a long-lived log.
LogInt = BigInteger().with_variant(Integer(), "sqlite")


class RecordKind(enum.StrEnum):
    test_report = "test_report"
    calibration_certificate = "calibration_certificate"
    inspection_report = "inspection_report"
    product_certificate = "product_certificate"
    carbon_label_certificate = "carbon_label_certificate"
    pt_certificate = "pt_certificate"


class RecordEvent(enum.StrEnum):
    """What a record says of a document: issued, or a later event pointing at the original."""

    issued = "issued"
    amended = "amended"  # replaced by a new document, named in the amending record
    withdrawn = "withdrawn"
    suspended = "suspended"
    reinstated = "reinstated"
    revoked = "revoked"
    expired = "expired"


class ReportRecord(IdMixin, Base):
    __tablename__ = "report_records"

    number: Mapped[str] = mapped_column(String(100), index=True)  # as logged
    # The number's normalised form (``reports/numbers.py``), by which it is looked up and
    # duplicates are found: the number itself for every record registered since numbers are
    # normalised, and for one from before, its look-up key (its leaf cannot change).
    number_key: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[RecordKind] = mapped_column(_enum(RecordKind, "record_kind"))
    event: Mapped[RecordEvent] = mapped_column(_enum(RecordEvent, "record_event"))
    # A later event names the record of the document it is about.
    refers_to_id: Mapped[str | None] = mapped_column(
        ForeignKey("report_records.id"), index=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    issued_on: Mapped[date | None] = mapped_column(Date)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # The public fields as logged (canonical JSON); the private ones, their salt and the
    # commitment the leaf carries; and the leaf's exact bytes.
    public: Mapped[dict[str, Any]] = mapped_column(JSON)
    private: Mapped[dict[str, Any]] = mapped_column(JSON)
    salt: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[str] = mapped_column(String(64), unique=True)
    log_index: Mapped[int | None] = mapped_column(LogInt, unique=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    registered_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class LogPending(Base):
    """Records acknowledged but not yet in the tree, in the order they will enter it."""

    __tablename__ = "log_pending"

    seq: Mapped[int] = mapped_column(LogInt, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("report_records.id"), unique=True)


class LogTile(Base):
    """C2SP tlog tiles as served: full ones never change, the last of a level grows."""

    __tablename__ = "log_tiles"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tile_index: Mapped[int] = mapped_column(LogInt, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LogState(Base):
    """One row: the tree's size and root. Integration updates it first, which makes
    integrators take turns on both databases."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(LogInt, default=0)
    root_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LogCheckpoint(Base):
    """Every checkpoint the log signed, so auditors can check any two for consistency."""

    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(LogInt, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LogWitness(IdMixin, Base):
    """An organisation's witness key (C2SP cosignature, type 0x04). The platform never holds
    a witness's private key: the witness checks consistency and cosigns on its own side."""

    __tablename__ = "log_witnesses"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    verifier_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LogCosignature(Base):
    __tablename__ = "log_cosignatures"

    size: Mapped[int] = mapped_column(ForeignKey("log_checkpoints.size"), primary_key=True)
    witness_id: Mapped[str] = mapped_column(ForeignKey("log_witnesses.id"), primary_key=True)
    timestamp: Mapped[int] = mapped_column(LogInt)
    line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IssuerKey(IdMixin, Base):
    """A lab's or certification body's own signing key (Ed25519, type 0x01): records naming
    one of its institutions as issuer should carry a statement signed by one of these, and a
    record that does not is flagged and reported to the organisation."""

    __tablename__ = "issuer_keys"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    verifier_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatusBucket(Base):
    """A bucket of the status map (``reports/statusmap.py``): its canonical JSON."""

    __tablename__ = "status_buckets"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class StatusTile(Base):
    """The status map's bucket hashes as tiles of 256 (level 0: 256 tiles; level 1: one).
    A tile not stored holds only empty buckets."""

    __tablename__ = "status_tiles"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tile_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ReportPdf(Base):
    """The issued PDF itself, kept for its issuer when it chooses to (the log holds only
    its SHA-256). Private: the issuing organisation and supervisors read it."""

    __tablename__ = "report_pdfs"

    record_id: Mapped[str] = mapped_column(ForeignKey("report_records.id"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class IdempotencyKey(Base):
    """A registration's answer, kept under the client's ``Idempotency-Key`` for a day so
    that a retry gets the same answer instead of registering again. Written in the
    registration's own transaction: there is never one without the other."""

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)  # the user who sent it
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the operation and request
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# --- evidence (issue 15) ---------------------------------------------------------------------
# What a lab may register with a report: the items tested (each with its instrument, tester and
# times), the sampling events and the numeric results. Private to the lab and its supervisors;
# bound into the record's salted commitment. Each row repeats its record's institution and
# organisation so the supervision rules run as SQL over these tables alone.
# ``*_id`` columns hold the register rows the lab's references resolved to (None: not in the
# register, itself a signal); ``*_ref`` keep the references as the lab gave them.


class EvidenceItem(Base):
    __tablename__ = "report_evidence_items"

    record_id: Mapped[str] = mapped_column(ForeignKey("report_records.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    institution_id: Mapped[str] = mapped_column(String(26), index=True)
    org_id: Mapped[str] = mapped_column(String(26))
    parameter: Mapped[str] = mapped_column(String(300))
    standard: Mapped[str | None] = mapped_column(String(100))
    instrument_id: Mapped[str | None] = mapped_column(String(26))
    instrument_ref: Mapped[str] = mapped_column(String(60), default="")
    tester_id: Mapped[str | None] = mapped_column(String(26))
    tester_ref: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_report_evidence_items_instrument", "instrument_id", "started_at"),
        Index("ix_report_evidence_items_tester", "tester_id", "started_at"),
    )


class EvidenceSampling(Base):
    __tablename__ = "report_evidence_samplings"

    record_id: Mapped[str] = mapped_column(ForeignKey("report_records.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    institution_id: Mapped[str] = mapped_column(String(26), index=True)
    org_id: Mapped[str] = mapped_column(String(26))
    what: Mapped[str] = mapped_column(String(200), default="")  # "surface water", "air"
    sampler_id: Mapped[str | None] = mapped_column(String(26))
    sampler_ref: Mapped[str] = mapped_column(String(100), default="")
    district: Mapped[str] = mapped_column(String(20), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_report_evidence_samplings_sampler", "sampler_id", "at"),)


class EvidenceResult(Base):
    __tablename__ = "report_evidence_results"

    record_id: Mapped[str] = mapped_column(ForeignKey("report_records.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    institution_id: Mapped[str] = mapped_column(String(26), index=True)
    org_id: Mapped[str] = mapped_column(String(26))
    parameter: Mapped[str] = mapped_column(String(300))
    # As reported ("0.0250"): trailing digits are evidence too.
    value_text: Mapped[str] = mapped_column(String(60))
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40), default="")
