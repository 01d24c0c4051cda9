"""What labs send to register a document or an event, and what the log gives back."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from tichub.core.schemas import InputModel
from tichub.reports import numbers
from tichub.reports.evidence.schemas import EvidenceIn
from tichub.reports.models import RecordEvent, RecordKind

Text = Annotated[str, Field(min_length=1, max_length=300)]
Mark = Literal["CMA", "CNAS", "ILAC-MRA"]
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class RecordIn(InputModel):
    """One document issued, or one later event about a document already registered
    (``event`` other than ``issued``: the ``number`` is that document's)."""

    number: Annotated[str, Field(min_length=1, max_length=100, description=(
        "the document's number as printed: normalised (Unicode NFKC, surrounding white "
        "space removed); refused if it holds control, format or separator characters"))]
    kind: RecordKind
    event: RecordEvent = RecordEvent.issued
    institution_id: Annotated[str, Field(min_length=26, max_length=26)]
    # The client is private unless the issuer makes it public; only a commitment is logged.
    client: Annotated[str, Field(max_length=300)] = ""
    client_public: bool = False
    product: Annotated[str, Field(max_length=300)] = ""
    sample: Annotated[str, Field(max_length=300)] = ""
    standards: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50)
    sample_received_on: date | None = None
    tested_from: date | None = None
    tested_to: date | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    signatories: list[Text] = Field(default_factory=list, max_length=10)
    conclusion: Annotated[str, Field(max_length=2000)] = ""
    marks: list[Mark] = Field(default_factory=list, max_length=3)
    pdf_sha256: str | None = None
    # For events: why, and (an amendment) the number of the document that replaces it.
    reason: Annotated[str, Field(max_length=1000)] = ""
    replacement: Annotated[str | None, Field(max_length=100)] = None
    issuer_signature: Annotated[str | None, Field(
        max_length=300, description="the issuer's own signature line on the record's issuer "
        "statement (`tichub issuer sign`); logged with the record")] = None
    evidence: EvidenceIn | None = Field(None, description=(
        "what the report rests on (items tested, sampling, numeric results): private to the "
        "issuer and its supervisors, bound into the record's commitment; only with "
        "``event`` issued"))

    @field_validator("number", "replacement")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        # One form per number (``reports/numbers.py``): what is registered, compared and
        # logged is the normalised number.
        return numbers.normalise(value) if value is not None else None

    @field_validator("pdf_sha256")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not HEX64.match(value.lower()):
            raise ValueError("is the SHA-256 of the PDF: 64 hexadecimal digits")
        return value.lower() if value else None

    @model_validator(mode="after")
    def _by_event(self) -> RecordIn:
        if self.event is RecordEvent.issued:
            if self.issued_on is None:
                raise ValueError("issued_on: a document issued has an issue date")
        elif self.event is RecordEvent.amended and not self.replacement:
            raise ValueError("replacement: an amendment names the document that replaces it")
        if self.evidence is not None and self.event is not RecordEvent.issued:
            raise ValueError("evidence: only a document issued carries evidence")
        return self


class RecordsIn(BaseModel):
    records: Annotated[list[RecordIn], Field(min_length=1, max_length=1000)]


class Receipt(BaseModel):
    """Given at once on registration: the leaf is in the log's queue, and the log signed so;
    its inclusion proof follows when the next batch is integrated."""

    record_id: str
    number: str
    leaf_hash: str
    registered_at: datetime
    flags: list[str]
    receipt: str = Field(description="a C2SP signed note by the log's key: origin, "
                                     "'receipt', the base64 root of the Merkle tree over the "
                                     "leaf hashes registered in the same call (for one record, "
                                     "its own leaf hash), the time in milliseconds, and how many")
    batch_index: int = Field(0, description="this record's place in that call, from 0")
    batch_proof: list[str] = Field([], description="its inclusion proof in that tree, "
                                                   "base64 hashes in RFC 9162 order")
    verifier_key: str


class RecordOut(BaseModel):
    id: str
    number: str
    kind: RecordKind
    event: RecordEvent
    issuer: str
    institution_id: str
    public: dict[str, object]
    flags: list[str]
    registered_at: datetime
    log_index: int | None
    leaf_hash: str


class Verdict(BaseModel):
    number: str
    found: bool
    status: str | None = Field(None, description="valid, amended, withdrawn, suspended, "
                                                 "revoked or expired; None when not found")
    verdict: str
    history: list[RecordOut] = []
    replacement: str | None = None
    revoked_by: dict[str, str] | None = Field(None, description="revoked by the market "
                                              "regulator: its name and decision number")
    integrity: str = Field("verified", description="verified: every record shown is its "
                           "leaf, proven in the signed log; queued: some are not integrated "
                           "yet; failed: a stored record does not match the log")
    integrity_detail: str = ""


class StatusEntry(BaseModel):
    issuer: str = Field(description="the issuing institution's id")
    leaf_hash: str = Field(description="the leaf hash of the document's latest record")
    event: str = Field(description="that record's event: issued, amended, withdrawn, …")


class StatusProof(BaseModel):
    """A document number's latest records, provable from the log's checkpoint alone: the
    bucket of the status map that holds the number, and the bucket's inclusion proof under
    the ``tichub-status`` root the checkpoint carries (``reports/statusmap.py``)."""

    number: str
    bucket: int
    data: str = Field(description="base64 of the bucket's exact bytes")
    proof: list[str] = Field(description="base64 hashes, RFC 9162 order, tree of 65,536")
    latest: list[StatusEntry] = Field(description="the number's entries in the bucket, one "
                                                  "per issuer; none: never registered")
    checkpoint: str


class Bundle(BaseModel):
    """Everything needed to check one record offline (``tichub verify BUNDLE``)."""

    record: dict[str, object]
    leaf: str = Field(description="base64 of the exact leaf bytes")
    index: int
    inclusion: list[str] = Field(description="base64 hashes, RFC 9162 order")
    checkpoint: str = Field(description="the signed checkpoint note")
    verifier_key: str
    status: StatusProof | None = Field(None, description="the document's latest records "
                                       "under the same checkpoint (absent for an older, "
                                       "witnessed checkpoint)")
