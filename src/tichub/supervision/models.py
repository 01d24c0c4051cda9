"""The supervision domain's tables.

The evidence a lab registers lives with its owners (instruments and their calibrations in
``market``, staff and standard editions in ``registry``, evidence rows in ``reports``); what
the regulator does with it lives here.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tichub.core.db import Base, CreatedMixin, IdMixin, UTCDateTime
from tichub.core.ids import utcnow
from tichub.core.models import _enum

# --- jurisdiction ----------------------------------------------------------------------------


class Bureau(Base):
    """A regulator organisation's jurisdiction: one district's bureau, or (district None) the
    city bureau, which sees every district."""

    __tablename__ = "supervision_bureaus"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    district: Mapped[str | None] = mapped_column(String(20), unique=True)


class StoredFile(IdMixin, CreatedMixin, Base):
    """A file attached to a lab's answer, an inspection finding, a complaint or an appeal.
    Readable by the uploading organisation and the supervisors of the institution it
    concerns; never public."""

    __tablename__ = "supervision_files"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    institution_id: Mapped[str | None] = mapped_column(ForeignKey("institutions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


# --- signals ---------------------------------------------------------------------------------


class Severity(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class SignalStatus(enum.StrEnum):
    open = "open"
    under_review = "under_review"
    confirmed = "confirmed"
    dismissed = "dismissed"


class Signal(IdMixin, CreatedMixin, Base):
    """One rule's finding about one institution, with the evidence rows that raised it.
    ``subject`` identifies what it is about (rule-specific: a record, an instrument and a
    day, …) so that a rerun finds the same signal instead of raising it twice."""

    __tablename__ = "supervision_signals"

    code: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "signal_severity"))
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    org_id: Mapped[str] = mapped_column(String(26), index=True)
    district: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str | None] = mapped_column(ForeignKey("report_records.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(100))  # the report's, when about one
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # for the explanation
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(12), default="batch")  # registration | batch
    status: Mapped[SignalStatus] = mapped_column(
        _enum(SignalStatus, "signal_status"), default=SignalStatus.open)
    reason: Mapped[str] = mapped_column(Text, default="")  # the supervisor's, on deciding
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Asking the lab to explain makes the signal visible to it.
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    asked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    question: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    answer_files: Mapped[list[str]] = mapped_column(JSON, default=list)  # StoredFile ids
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("code", "subject", name="subject"),
        Index("ix_supervision_signals_district_status", "district", "status"),
        Index("ix_supervision_signals_institution_status", "institution_id", "status"),
    )


class SignalRun(IdMixin, Base):
    """One batch run of the rules over the whole registry."""

    __tablename__ = "supervision_signal_runs"

    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default="running")
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    raised: Mapped[int] = mapped_column(Integer, default=0)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # per rule


# --- complaints ------------------------------------------------------------------------------


class ComplaintStatus(enum.StrEnum):
    received = "received"
    investigating = "investigating"
    upheld = "upheld"
    rejected = "rejected"


class Complaint(IdMixin, CreatedMixin, Base):
    __tablename__ = "supervision_complaints"

    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    about_number: Mapped[str | None] = mapped_column(String(100))
    institution_id: Mapped[str | None] = mapped_column(ForeignKey("institutions.id"),
                                                       index=True)
    district: Mapped[str] = mapped_column(String(20), index=True)  # the bureau it goes to
    text: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact: Mapped[str] = mapped_column(String(254), default="")  # private
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ComplaintStatus] = mapped_column(
        _enum(ComplaintStatus, "complaint_status"), default=ComplaintStatus.received)
    outcome: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    files: Mapped[list[str]] = mapped_column(JSON, default=list)


# --- credit-risk tiers -----------------------------------------------------------------------


class CreditScore(IdMixin, Base):
    """An institution's score and tier as computed by one version of the published rule set
    from the inputs stored with it: anyone holding both can recompute it."""

    __tablename__ = "supervision_credit_scores"

    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    period: Mapped[str] = mapped_column(String(7))  # "2026-12"
    trigger: Mapped[str] = mapped_column(String(12), default="monthly")  # | on_demand
    rule_version: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    tier: Mapped[str] = mapped_column(String(1))  # A–D
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_supervision_credit_scores_institution", "institution_id", "computed_at"),
    )


class AppealStatus(enum.StrEnum):
    open = "open"
    upheld = "upheld"
    rejected = "rejected"


class CreditAppeal(IdMixin, CreatedMixin, Base):
    __tablename__ = "supervision_credit_appeals"

    score_id: Mapped[str] = mapped_column(ForeignKey("supervision_credit_scores.id"))
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    files: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[AppealStatus] = mapped_column(
        _enum(AppealStatus, "appeal_status"), default=AppealStatus.open)
    answer: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- double-random inspections ---------------------------------------------------------------


class PlanStatus(enum.StrEnum):
    draft = "draft"
    frozen = "frozen"  # no longer editable; waiting for the first checkpoint after it
    drawn = "drawn"
    completed = "completed"
    published = "published"


class Inspector(IdMixin, CreatedMixin, Base):
    __tablename__ = "supervision_inspectors"

    bureau_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # [{"institution_id", "reason": former_employer | relative | recent_audit, "until"}]
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class InspectionPlan(IdMixin, CreatedMixin, Base):
    """A double-random plan. Frozen, its ``frozen`` document (items, shares, the pools) is
    published with its digest; the draw is seeded by the first log checkpoint signed after
    the freeze."""

    __tablename__ = "supervision_inspection_plans"

    bureau_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    district: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tier_shares: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)  # {"A": 0.03}
    status: Mapped[PlanStatus] = mapped_column(
        _enum(PlanStatus, "inspection_plan_status"), default=PlanStatus.draft)
    frozen: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest: Mapped[str | None] = mapped_column(String(64))
    seed_size: Mapped[int | None] = mapped_column(BigInteger)  # the seeding checkpoint's
    seed_root: Mapped[str | None] = mapped_column(String(64))
    picks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    completed_on: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InspectionStatus(enum.StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"


class Inspection(IdMixin, CreatedMixin, Base):
    __tablename__ = "supervision_inspections"

    plan_id: Mapped[str | None] = mapped_column(
        ForeignKey("supervision_inspection_plans.id"), index=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    bureau_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    inspector_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[InspectionStatus] = mapped_column(
        _enum(InspectionStatus, "inspection_status"), default=InspectionStatus.planned)
    done_on: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")


class FindingOutcome(enum.StrEnum):
    compliant = "compliant"
    minor = "minor"  # a nonconformity to correct
    serious = "serious"


class Finding(IdMixin, CreatedMixin, Base):
    __tablename__ = "supervision_findings"

    inspection_id: Mapped[str] = mapped_column(
        ForeignKey("supervision_inspections.id"), index=True)
    item: Mapped[str] = mapped_column(String(100))  # the plan item's code
    outcome: Mapped[FindingOutcome] = mapped_column(_enum(FindingOutcome, "finding_outcome"))
    note: Mapped[str] = mapped_column(Text, default="")
    files: Mapped[list[str]] = mapped_column(JSON, default=list)


# --- sanctions -------------------------------------------------------------------------------


class SanctionKind(enum.StrEnum):
    warning = "warning"
    correction = "correction"  # order to correct by a deadline
    fine = "fine"
    suspension = "suspension"
    revocation = "revocation"  # of the CMA qualification
    dishonesty_list = "dishonesty_list"  # 严重失信名单


class Sanction(IdMixin, CreatedMixin, Base):
    __tablename__ = "supervision_sanctions"

    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    bureau_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[SanctionKind] = mapped_column(_enum(SanctionKind, "sanction_kind"))
    decision_no: Mapped[str] = mapped_column(String(60))
    decided_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)  # correction; suspension's end
    corrected_on: Mapped[date | None] = mapped_column(Date)
    fine_fen: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    basis: Mapped[str] = mapped_column(String(60), default="")  # "order39_art14"
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("supervision_inspections.id"))
    signal_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Reports found false, revoked in the log under this decision.
    false_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    key_field: Mapped[bool] = mapped_column(Boolean, default=False)
    lifted_on: Mapped[date | None] = mapped_column(Date)


# --- qualification approval ------------------------------------------------------------------


class ApplicationRoute(enum.StrEnum):
    commitment = "commitment"  # 告知承诺
    general = "general"


class ApplicationKind(enum.StrEnum):
    first = "first"
    renewal = "renewal"
    added_parameters = "added_parameters"
    site_change = "site_change"


class ApplicationStatus(enum.StrEnum):
    submitted = "submitted"  # general route: waiting for review
    provisional = "provisional"  # commitment route: qualified, on-site check due
    verified = "verified"  # commitment confirmed on site
    failed = "failed"  # the on-site check found the commitment untrue
    approved = "approved"  # general route
    rejected = "rejected"


class QualificationApplication(IdMixin, CreatedMixin, Base):
    __tablename__ = "supervision_qualification_applications"

    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    route: Mapped[ApplicationRoute] = mapped_column(_enum(ApplicationRoute, "application_route"))
    kind: Mapped[ApplicationKind] = mapped_column(_enum(ApplicationKind, "application_kind"))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    commitment: Mapped[str] = mapped_column(Text, default="")  # the text signed
    signed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[ApplicationStatus] = mapped_column(
        _enum(ApplicationStatus, "application_status"))
    qualification_id: Mapped[str | None] = mapped_column(ForeignKey("qualifications.id"))
    check_due: Mapped[date | None] = mapped_column(Date)
    checked_on: Mapped[date | None] = mapped_column(Date)
    check_note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    reminded_on: Mapped[date | None] = mapped_column(Date)
