"""Institutions, their qualifications and the capability scopes those cover."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tichub.core.db import Base, CreatedMixin, IdMixin, UTCDateTime
from tichub.core.ids import today, utcnow
from tichub.core.models import _enum

# 64-bit keys; on SQLite a search document's key must be its INTEGER rowid.
SearchKey = BigInteger().with_variant(Integer(), "sqlite")


class InstitutionKind(enum.StrEnum):
    lab = "lab"
    certification_body = "certification_body"
    inspection_body = "inspection_body"


class RevenueTier(enum.StrEnum):
    """Yearly revenue, in the plan's steps: under 10 million yuan, to 100 million, to 1 billion,
    and the "billion-class" leaders."""

    under_10m = "under_10m"
    m10_to_100m = "10m_to_100m"
    m100_to_1b = "100m_to_1b"
    over_1b = "over_1b"


class QualificationKind(enum.StrEnum):
    cma = "cma"  # 检验检测机构资质认定 (China Inspection Body and Laboratory Mandatory Approval)
    cnas = "cnas"  # CNAS accreditation: L (labs), I (inspection), C (certification) numbers
    cbtl = "cbtl"  # IECEE CB Testing Laboratory


class QualificationStatus(enum.StrEnum):
    valid = "valid"
    suspended = "suspended"
    withdrawn = "withdrawn"
    expired = "expired"


class Institution(IdMixin, CreatedMixin, Base):
    __tablename__ = "institutions"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # A small number of its own, packed into search keys (see registry.search_key).
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[InstitutionKind] = mapped_column(_enum(InstitutionKind, "institution_kind"))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(300))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    district: Mapped[str] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    industrial_park: Mapped[str | None] = mapped_column(String(200))
    # How a client reaches the institution: shown on its public page.
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))
    # Private to the institution's organisation, the regulator and the operator.
    revenue_tier: Mapped[RevenueTier | None] = mapped_column(_enum(RevenueTier, "revenue_tier"))
    specialised: Mapped[bool] = mapped_column(Boolean, default=False)  # 专精特新
    headquarters: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    qualifications: Mapped[list[Qualification]] = relationship(
        back_populates="institution", order_by="Qualification.kind", lazy="selectin"
    )


class Qualification(IdMixin, CreatedMixin, Base):
    __tablename__ = "qualifications"
    __table_args__ = (Index("ix_qualifications_kind_number", "kind", "number", unique=True),)

    institution_id: Mapped[str] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[QualificationKind] = mapped_column(_enum(QualificationKind, "qualification_kind"))
    number: Mapped[str] = mapped_column(String(50))
    issued_on: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[QualificationStatus] = mapped_column(
        _enum(QualificationStatus, "qualification_status"), default=QualificationStatus.valid
    )

    # Granted on the institution's signed commitment (告知承诺), not yet verified on site.
    on_commitment: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    institution: Mapped[Institution] = relationship(back_populates="qualifications")

    def effective_status(self, on: date | None = None) -> QualificationStatus:
        if self.status is QualificationStatus.valid and self.valid_until < (on or today()):
            return QualificationStatus.expired
        return self.status


class ScopeLine(IdMixin, Base):
    """One accredited capability: a standard applied to a product for a parameter."""

    __tablename__ = "scope_lines"
    __table_args__ = (
        # Covers the standard-number lookup: the index alone answers it.
        Index("ix_scope_lines_std", "std_key", "std_year", "doc_key"),
        Index("ix_scope_lines_institution", "institution_id", "qualification_id", "line_no"),
    )

    qualification_id: Mapped[str] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE"), index=True
    )
    institution_id: Mapped[str] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE")
    )
    # The search key of its qualification's document, kept in step by the search index.
    doc_key: Mapped[int] = mapped_column(SearchKey, default=0)
    line_no: Mapped[int] = mapped_column(Integer)
    standard: Mapped[str] = mapped_column(String(100))  # as displayed, normalised
    std_key: Mapped[str] = mapped_column(String(80))
    std_year: Mapped[int | None] = mapped_column(Integer)
    standard_title: Mapped[str | None] = mapped_column(String(300))
    product: Mapped[str] = mapped_column(String(300))
    parameter: Mapped[str] = mapped_column(String(300))
    # English names, when the scope schedule gives them, so English searches find the line.
    product_en: Mapped[str | None] = mapped_column(String(300))
    parameter_en: Mapped[str | None] = mapped_column(String(300))
    method_clause: Mapped[str | None] = mapped_column(String(100))
    limitation: Mapped[str | None] = mapped_column(Text)


class StagedScopeLine(CreatedMixin, Base):
    """A scope line of an import in progress, not yet visible to anyone. A long import
    writes its lines here in short chunks, so that it never holds the SQLite writer long,
    then publishes them all in one short transaction: the whole file or nothing."""

    __tablename__ = "scope_line_staging"

    import_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    line_id: Mapped[str] = mapped_column(String(26))
    qualification_id: Mapped[str] = mapped_column(String(26))
    institution_id: Mapped[str] = mapped_column(String(26))
    doc_key: Mapped[int] = mapped_column(SearchKey)
    line_no: Mapped[int] = mapped_column(Integer)
    standard: Mapped[str] = mapped_column(String(100))
    std_key: Mapped[str] = mapped_column(String(80))
    std_year: Mapped[int | None] = mapped_column(Integer)
    standard_title: Mapped[str | None] = mapped_column(String(300))
    product: Mapped[str] = mapped_column(String(300))
    parameter: Mapped[str] = mapped_column(String(300))
    product_en: Mapped[str | None] = mapped_column(String(300))
    parameter_en: Mapped[str | None] = mapped_column(String(300))
    method_clause: Mapped[str | None] = mapped_column(String(100))
    limitation: Mapped[str | None] = mapped_column(Text)


class StaffRole(enum.StrEnum):
    tester = "tester"
    sampler = "sampler"
    signatory = "signatory"


class Staff(IdMixin, CreatedMixin, Base):
    """The staff register: a person of the institution, the roles they hold, what they are
    authorised for and when they were employed. Private to the institution and its
    supervisors. A signatory is a person here holding the signatory role."""

    __tablename__ = "staff"

    institution_id: Mapped[str] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    staff_no: Mapped[str | None] = mapped_column(String(60))  # the lab's own code
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # StaffRole values
    # Standards (their keys, "GB 4943.1") or parameters the person may test or sign for;
    # empty: everything the institution's scope holds.
    authorised_for: Mapped[list[str]] = mapped_column(JSON, default=list)
    employed_from: Mapped[date] = mapped_column(Date)
    employed_until: Mapped[date | None] = mapped_column(Date)
    # For the signatory role: the authorisation's own period, inside the employment.
    authorised_from: Mapped[date | None] = mapped_column(Date)
    authorised_until: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("institution_id", "staff_no", name="staff_no"),)


class StandardEdition(IdMixin, Base):
    """A standard's edition with its dates: a test to an edition before it is implemented
    or after it is withdrawn is flagged. Imported from a CSV with its source."""

    __tablename__ = "standard_editions"

    std_key: Mapped[str] = mapped_column(String(80), index=True)  # "GB 4943.1"
    year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(100))  # as displayed, "GB 4943.1-2022"
    title: Mapped[str] = mapped_column(String(300), default="")
    published_on: Mapped[date | None] = mapped_column(Date)
    implemented_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    replaced_by: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(300), default="")

    __table_args__ = (UniqueConstraint("std_key", "year", name="edition"),)


class SearchDoc(Base):
    """The words of one qualification's scope (or of an institution's names), for search.

    Written only by ``registry.search_index``; on SQLite an FTS5 table mirrors it, on
    PostgreSQL GIN indexes on the word arrays serve the same queries. The id is the
    document's search key (``registry.search_key``).
    """

    __tablename__ = "search_docs"

    id: Mapped[int] = mapped_column(SearchKey, primary_key=True, autoincrement=False)
    institution_id: Mapped[str] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    qualification_id: Mapped[str | None] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text, default="")
    products: Mapped[str] = mapped_column(Text, default="")
    parameters: Mapped[str] = mapped_column(Text, default="")
