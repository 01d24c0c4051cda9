"""The marketplace's tables: shared instruments and their bookings, innovation-voucher
programmes with their double-entry ledger.

Money is integer fen. Two rules live in the database itself, not only in Python, because
requests race: a bookable instrument's active bookings never overlap (PostgreSQL: an
exclusion constraint; SQLite: a trigger, inside SQLite's single writer), and a voucher's
balance never goes below zero (a CHECK, and redemptions that decrement it conditionally).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tichub.core.db import Base, CreatedMixin, IdMixin, UTCDateTime
from tichub.core.models import _enum

# --- shared instruments ------------------------------------------------------------------


class Instrument(IdMixin, CreatedMixin, Base):
    __tablename__ = "instruments"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(100))  # e.g. ICP-MS, SEM, climatic chamber
    maker: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    district: Mapped[str] = mapped_column(String(20), default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    hourly_rate_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    daily_rate_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    calibrated_on: Mapped[date | None] = mapped_column(Date)
    calibration_due: Mapped[date | None] = mapped_column(Date)
    operator_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # The owner's rules.
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=True)
    min_lead_hours: Mapped[int] = mapped_column(Integer, default=0)  # book at least … ahead
    max_advance_days: Mapped[int] = mapped_column(Integer, default=90)  # … at most ahead
    quota_hours_per_month: Mapped[int | None] = mapped_column(Integer)  # per booking org
    enterprise_share_pct: Mapped[int] = mapped_column(Integer, default=0)  # reserved hours
    hours_per_day: Mapped[int] = mapped_column(Integer, default=8)  # bookable, for the share
    cancel_hours: Mapped[int] = mapped_column(Integer, default=24)  # free cancellation until
    no_show_limit: Mapped[int] = mapped_column(Integer, default=3)  # no-shows in 90 days …
    bar_days: Mapped[int] = mapped_column(Integer, default=30)  # … bar the booker this long
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The equipment register (issue 15): every instrument a lab tests with is a row here; the
    # marketplace lists the ``shared`` ones. ``asset_no`` is the lab's own code for it, by
    # which evidence and imports name it.
    institution_id: Mapped[str | None] = mapped_column(ForeignKey("institutions.id"), index=True)
    asset_no: Mapped[str | None] = mapped_column(String(60))
    shared: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    tests_per_day: Mapped[int | None] = mapped_column(Integer)  # capacity, one of these two
    hours_per_test: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        # An index, not a constraint: SQLite adds one without rebuilding the table.
        Index("ix_instruments_asset_no", "org_id", "asset_no", unique=True),
        CheckConstraint("hourly_rate_fen >= 0 AND daily_rate_fen >= 0", name="rates"),
        CheckConstraint("enterprise_share_pct BETWEEN 0 AND 100", name="share"),
    )


class InstrumentEventKind(enum.StrEnum):
    calibration = "calibration"
    verification = "verification"  # 检定
    out_of_service = "out_of_service"  # away for repair, or otherwise not usable


class InstrumentEvent(IdMixin, CreatedMixin, Base):
    """A calibration or verification with the period it is valid for, or a period the
    instrument was out of service. The instrument may be used on a day some calibration or
    verification covers and no out-of-service period does."""

    __tablename__ = "instrument_events"

    instrument_id: Mapped[str] = mapped_column(ForeignKey("instruments.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[InstrumentEventKind] = mapped_column(
        _enum(InstrumentEventKind, "instrument_event_kind"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # out of service: None = still
    certificate_no: Mapped[str] = mapped_column(String(100), default="")
    performed_by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(500), default="")


class BookingStatus(enum.StrEnum):
    requested = "requested"  # waiting for the owner's approval; holds the slot
    confirmed = "confirmed"
    declined = "declined"
    cancelled = "cancelled"
    completed = "completed"
    no_show = "no_show"


# Bookings in these states hold their slot; the database refuses overlaps among them.
HOLDING = ("requested", "confirmed", "completed", "no_show")


class Booking(IdMixin, CreatedMixin, Base):
    __tablename__ = "bookings"

    instrument_id: Mapped[str] = mapped_column(ForeignKey("instruments.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    booked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    on_behalf_of: Mapped[str] = mapped_column(String(200), default="")  # a colleague
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus, "booking_status"))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(500), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint("price_fen >= 0", name="price"),
        Index("ix_bookings_instrument_period", "instrument_id", "starts_at", "ends_at"),
    )


# --- innovation vouchers ------------------------------------------------------------------


class Programme(IdMixin, CreatedMixin, Base):
    """A voucher programme: its budget, who may use vouchers and for what."""

    __tablename__ = "voucher_programmes"

    operator_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    # What vouchers have been issued for, less what revocations gave back; raised only
    # where it stays within the budget, so concurrent issuing cannot overcommit it.
    allocated_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    max_share_pct: Mapped[int] = mapped_column(Integer, default=50)  # of an order's price
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    eligible_kinds: Mapped[str] = mapped_column(String(300), default="test")  # comma-separated
    notice_days: Mapped[int] = mapped_column(Integer, default=7)  # public notice of providers

    __table_args__ = (
        CheckConstraint("budget_fen > 0", name="budget"),
        CheckConstraint("allocated_fen >= 0 AND allocated_fen <= budget_fen", name="allocated"),
        CheckConstraint("max_share_pct BETWEEN 1 AND 100", name="share"),
        CheckConstraint("valid_until >= valid_from", name="period"),
    )


class ListingStatus(enum.StrEnum):
    applied = "applied"
    approved = "approved"  # listed once its public-notice period has passed
    rejected = "rejected"


class ProgrammeProvider(IdMixin, CreatedMixin, Base):
    """A service provider's place in a programme: vouchers may pay it once listed."""

    __tablename__ = "voucher_providers"
    __table_args__ = (UniqueConstraint("programme_id", "org_id", name="programme_provider"),)

    programme_id: Mapped[str] = mapped_column(ForeignKey("voucher_programmes.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[ListingStatus] = mapped_column(_enum(ListingStatus, "listing_status"))
    listed_from: Mapped[date | None] = mapped_column(Date)  # approval + notice period
    note: Mapped[str] = mapped_column(String(500), default="")


class VoucherStatus(enum.StrEnum):
    active = "active"
    revoked = "revoked"


class Voucher(IdMixin, CreatedMixin, Base):
    __tablename__ = "vouchers"

    programme_id: Mapped[str] = mapped_column(ForeignKey("voucher_programmes.id"), index=True)
    holder_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    face_fen: Mapped[int] = mapped_column(BigInteger)
    # Kept equal to the ledger's balance of this voucher's account, and never negative:
    # redemptions decrement it only where it suffices, so racing ones cannot overspend.
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[VoucherStatus] = mapped_column(_enum(VoucherStatus, "voucher_status"),
                                                  default=VoucherStatus.active)

    __table_args__ = (
        CheckConstraint("balance_fen >= 0 AND balance_fen <= face_fen", name="balance"),
    )


class LedgerTransaction(IdMixin, CreatedMixin, Base):
    """One movement of money; its entries sum to zero."""

    __tablename__ = "ledger_transactions"

    programme_id: Mapped[str] = mapped_column(ForeignKey("voucher_programmes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # funded, issued, redeemed, settled, …
    memo: Mapped[str] = mapped_column(String(500), default="")
    actor_user_id: Mapped[str | None] = mapped_column(String(26))
    reference: Mapped[str | None] = mapped_column(String(100))  # e.g. the order redeemed for


class LedgerEntry(IdMixin, Base):
    """A debit (positive) or credit (negative) to one account. Accounts are names:
    ``funds`` (the programme's unallocated budget), ``voucher:<id>``,
    ``provider:<org id>`` (owed to a service provider), ``settled`` (paid out),
    ``source`` (where the budget came from)."""

    __tablename__ = "ledger_entries"

    transaction_id: Mapped[str] = mapped_column(ForeignKey("ledger_transactions.id"),
                                                index=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("voucher_programmes.id"))
    account: Mapped[str] = mapped_column(String(60))
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="nonzero"),
        Index("ix_ledger_entries_programme_account", "programme_id", "account"),
    )


class Redemption(IdMixin, CreatedMixin, Base):
    __tablename__ = "voucher_redemptions"
    __table_args__ = (UniqueConstraint("voucher_id", "reference", name="voucher_reference"),)

    voucher_id: Mapped[str] = mapped_column(ForeignKey("vouchers.id"), index=True)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(100))  # the order or booking paid for
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[str] = mapped_column(ForeignKey("ledger_transactions.id"))
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    reversed: Mapped[bool] = mapped_column(Boolean, default=False)  # the order was cancelled


# --- the service catalogue, requests and orders --------------------------------------------


class ServiceListing(IdMixin, CreatedMixin, Base):
    """A service a lab offers: within its valid accredited scope, or plainly marked as
    unaccredited."""

    __tablename__ = "service_listings"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), default="test")
    standards: Mapped[list[str]] = mapped_column(JSON, default=list)
    parameters: Mapped[str] = mapped_column(Text, default="")
    sample_requirements: Mapped[str] = mapped_column(Text, default="")
    turnaround_days: Mapped[int] = mapped_column(Integer, default=7)
    price_fen: Mapped[int] = mapped_column(BigInteger)  # tax included
    tax_rate_pct: Mapped[int] = mapped_column(Integer, default=6)
    capacity_per_month: Mapped[int | None] = mapped_column(Integer)
    accredited: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("price_fen >= 0", name="price"),
                      CheckConstraint("tax_rate_pct BETWEEN 0 AND 100", name="tax"))


class ServiceRequest(IdMixin, CreatedMixin, Base):
    """What a company needs tested; sent to one or more labs as orders to quote."""

    __tablename__ = "service_requests"

    company_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    product: Mapped[str] = mapped_column(String(300))
    standards: Mapped[list[str]] = mapped_column(JSON, default=list)
    target_markets: Mapped[list[str]] = mapped_column(JSON, default=list)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    needed_by: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")


class OrderStatus(enum.StrEnum):
    submitted = "submitted"
    quoted = "quoted"
    accepted = "accepted"
    sample_received = "sample_received"
    testing = "testing"
    report_issued = "report_issued"
    completed = "completed"
    cancelled = "cancelled"
    disputed = "disputed"


class Order(IdMixin, CreatedMixin, Base):
    __tablename__ = "orders"

    number: Mapped[str] = mapped_column(String(40), unique=True)
    company_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    lab_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"))
    listing_id: Mapped[str | None] = mapped_column(ForeignKey("service_listings.id"))
    request_id: Mapped[str | None] = mapped_column(ForeignKey("service_requests.id"),
                                                   index=True)
    product: Mapped[str] = mapped_column(String(300))
    standards: Mapped[list[str]] = mapped_column(JSON, default=list)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    needed_by: Mapped[date | None] = mapped_column(Date)
    sample_delivery: Mapped[str] = mapped_column(String(20), default="drop_off")
    sample_return: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "order_status"))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # the quote, tax included
    tax_fen: Mapped[int | None] = mapped_column(BigInteger)
    quote_valid_until: Mapped[date | None] = mapped_column(Date)
    voucher_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    report_number: Mapped[str | None] = mapped_column(String(100))
    report_record_id: Mapped[str | None] = mapped_column(String(26))
    rating: Mapped[int | None] = mapped_column(Integer)
    review: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount"),
        CheckConstraint("voucher_fen >= 0", name="voucher"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        # A lab's inbox and a company's list, newest change first, with or without a
        # status filter: each an index range read in order.
        Index("ix_orders_lab_status", "lab_org_id", "status", "updated_at"),
        Index("ix_orders_lab_updated", "lab_org_id", "updated_at"),
        Index("ix_orders_company_updated", "company_org_id", "updated_at"),
    )


class OrderEvent(IdMixin, Base):
    """Every transition of an order: who, when, from what to what, and why."""

    __tablename__ = "order_events"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_user_id: Mapped[str | None] = mapped_column(String(26))
    actor_org_id: Mapped[str | None] = mapped_column(String(26))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")


class ApplicationStatus(enum.StrEnum):
    applied = "applied"
    approved = "approved"
    rejected = "rejected"


class VoucherApplication(IdMixin, CreatedMixin, Base):
    """An enterprise's application for a voucher, with the district and sector it reports
    under (the programme's figures are counted by them)."""

    __tablename__ = "voucher_applications"
    __table_args__ = (UniqueConstraint("programme_id", "org_id", name="one_application"),)

    programme_id: Mapped[str] = mapped_column(ForeignKey("voucher_programmes.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    requested_fen: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(Text, default="")
    district: Mapped[str] = mapped_column(String(20))
    sector: Mapped[str] = mapped_column(String(50))
    status: Mapped[ApplicationStatus] = mapped_column(
        _enum(ApplicationStatus, "application_status"), default=ApplicationStatus.applied)
    voucher_id: Mapped[str | None] = mapped_column(ForeignKey("vouchers.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- expert consulting ---------------------------------------------------------------------


class Expert(IdMixin, CreatedMixin, Base):
    """An expert an organisation offers for consultation."""

    __tablename__ = "experts"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. 电池安全, EMC
    committees: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. SAC/TC 294
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    fee_fen_per_hour: Mapped[int] = mapped_column(BigInteger, default=0)
    bio: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ConsultationStatus(enum.StrEnum):
    requested = "requested"
    scheduled = "scheduled"
    advised = "advised"
    declined = "declined"
    cancelled = "cancelled"


class Consultation(IdMixin, CreatedMixin, Base):
    __tablename__ = "consultations"

    expert_id: Mapped[str] = mapped_column(ForeignKey("experts.id"), index=True)
    client_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    topic: Mapped[str] = mapped_column(String(300))
    question: Mapped[str] = mapped_column(Text, default="")
    preferred_times: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[ConsultationStatus] = mapped_column(
        _enum(ConsultationStatus, "consultation_status"))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    minutes: Mapped[int | None] = mapped_column(Integer)
    advice: Mapped[str] = mapped_column(Text, default="")  # the record of the advice given
    fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
