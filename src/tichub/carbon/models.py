"""Carbon tables: the emission-factor library, product models, footprint studies with their
certification, PACT exchange credentials and events, CBAM installations.

A factor is never changed once stored: an import that changes one adds its next version,
so a study that cites ``key@version`` can always be recomputed. A product model is a
document (processes, their inputs and co-products) edited as a whole; a study freezes the
models and factor versions it was computed from, and what a certification body reviews and
certifies is that frozen study, never the live model.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
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
from sqlalchemy.orm import Mapped, mapped_column

from tichub.core.db import Base, CreatedMixin, IdMixin, UTCDateTime
from tichub.core.ids import utcnow
from tichub.core.models import _enum


class EmissionFactor(IdMixin, CreatedMixin, Base):
    __tablename__ = "carbon_factors"
    __table_args__ = (UniqueConstraint("key", "version", name="carbon_factor_version"),)

    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True)  # the key's latest version
    # None: the platform's public library; otherwise an organisation's own (e.g. a
    # supplier's footprint received over PACT), seen by that organisation alone.
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(300), default="")
    name_en: Mapped[str] = mapped_column(String(300), default="")
    unit: Mapped[str] = mapped_column(String(40))  # per what (kWh, kg, t*km, TJ)
    # [{"gas": "CO2", "category": "fossil", "amount": 0.5306}, …]: kg of gas per unit
    gases: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    basis: Mapped[str] = mapped_column(String(8), default="")  # GWP basis of CO2e amounts
    region: Mapped[str] = mapped_column(String(60), default="")
    year: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    uncertainty: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class ProductModel(IdMixin, CreatedMixin, Base):
    __tablename__ = "carbon_models"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    product: Mapped[str] = mapped_column(String(200), default="")  # trade name, model number
    category: Mapped[str] = mapped_column(String(60), default="")  # motor, steel, …
    cn_code: Mapped[str] = mapped_column(String(20), default="")  # HS/CN code, for PACT and CBAM
    declared_amount: Mapped[float] = mapped_column(Float, default=1.0)
    declared_unit: Mapped[str] = mapped_column(String(40), default="piece")
    mass_kg: Mapped[float | None] = mapped_column(Float)  # product mass per declared unit
    functional_unit: Mapped[str] = mapped_column(Text, default="")
    boundary: Mapped[str] = mapped_column(String(20), default="cradle_to_gate")
    basis: Mapped[str] = mapped_column(String(8), default="AR6")
    standard: Mapped[str] = mapped_column(String(60), default="GB/T 24067-2024")
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    geography: Mapped[str] = mapped_column(String(60), default="CN")
    cut_off: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(40), default="")  # reference process key
    # [{"key", "name", "stage", "output_amount", "output_unit", "allocation", …,
    #   "inputs": [...], "coproducts": [...]}]
    processes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class StudyStatus(enum.StrEnum):
    draft = "draft"  # computed, kept by the company
    submitted = "submitted"  # sent to a certification body
    in_review = "in_review"  # the body has taken it up
    questions = "questions"  # the body awaits the company's answers
    certified = "certified"  # a carbon-label certificate issued
    rejected = "rejected"
    withdrawn = "withdrawn"  # by the company, before a decision


class Study(IdMixin, CreatedMixin, Base):
    """A footprint computed from frozen models and factor versions."""

    __tablename__ = "carbon_studies"
    __table_args__ = (Index("carbon_study_cb_status", "cb_org_id", "status"),)

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("carbon_models.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[StudyStatus] = mapped_column(_enum(StudyStatus, "carbon_study_status"),
                                                default=StudyStatus.draft)
    # What it was computed from: every model reached (by id) and "key@version" of factors.
    models: Mapped[dict[str, Any]] = mapped_column(JSON)
    factors: Mapped[list[str]] = mapped_column(JSON)
    total: Mapped[float] = mapped_column(Float)  # kg CO2e per declared unit
    excluding_biogenic: Mapped[float] = mapped_column(Float)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
    uncertainty: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # Certification.
    cb_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    # The certification body (registry institution) that issues the label certificate.
    cb_institution_id: Mapped[str | None] = mapped_column(ForeignKey("institutions.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")
    certificate_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    certificate_record_id: Mapped[str | None] = mapped_column(String(26))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # PACT: shared with customers' systems once certified (or when the company says so).
    pact_id: Mapped[str | None] = mapped_column(String(36), unique=True)  # a UUID
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewMessage(IdMixin, CreatedMixin, Base):
    """A certification body's question on a study, or the company's answer."""

    __tablename__ = "carbon_review_messages"

    study_id: Mapped[str] = mapped_column(ForeignKey("carbon_studies.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    topic: Mapped[str] = mapped_column(String(40), default="")  # a checklist item, or ""
    text: Mapped[str] = mapped_column(Text)


class PactClient(IdMixin, CreatedMixin, Base):
    """A customer's system allowed to pull an organisation's shared footprints (OAuth2
    client credentials)."""

    __tablename__ = "carbon_pact_clients"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))  # the customer
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # The customer's credentials for its own token endpoint, with which we answer its
    # requests (RequestFulfilled, RequestRejected): the secret encrypted with a key derived
    # from the platform's secret key (``pact_events.seal``), never shown again.
    callback_client_id: Mapped[str | None] = mapped_column(String(200))
    callback_secret: Mapped[str | None] = mapped_column(Text)
    callback_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PactToken(IdMixin, Base):
    __tablename__ = "carbon_pact_tokens"

    client_id: Mapped[str] = mapped_column(ForeignKey("carbon_pact_clients.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PactEvent(IdMixin, CreatedMixin, Base):
    """A CloudEvent a customer's system sent us (e.g. a request for a footprint)."""

    __tablename__ = "carbon_pact_events"

    client_id: Mapped[str] = mapped_column(ForeignKey("carbon_pact_clients.id"), index=True)
    spec: Mapped[str] = mapped_column(String(4))  # "2" or "3"
    type: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Of a RequestCreated: pending (for a person to answer), fulfilled or rejected.
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PactDelivery(IdMixin, CreatedMixin, Base):
    """An event we owe a customer's system (our answer to its request), kept until it is
    delivered or given up, so that a restart loses none."""

    __tablename__ = "carbon_pact_deliveries"

    client_id: Mapped[str] = mapped_column(ForeignKey("carbon_pact_clients.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("carbon_pact_events.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # fulfilled, rejected
    target: Mapped[str] = mapped_column(String(600))  # the customer's events endpoint
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                      index=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CbamInstallation(IdMixin, CreatedMixin, Base):
    """An installation making CBAM goods, as its operator describes it for one reporting
    period: source streams, production processes, precursors and carbon prices paid (one
    document, computed by ``cbam.py``)."""

    __tablename__ = "carbon_cbam_installations"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
