"""Proficiency-testing schemes, rounds, participants and results.

A provider organisation (a lab or certification body) runs schemes; a round of a scheme is
sent to participants, each known to others only by a code. Results are kept as submitted
and in the measurand's unit; a round's statistics and scores are stored when computed, so
the published report never changes under anyone's feet.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tichub.core.db import Base, CreatedMixin, IdMixin, UTCDateTime
from tichub.core.ids import utcnow
from tichub.core.models import _enum


class RoundStatus(enum.StrEnum):
    draft = "draft"  # being defined; participants may be invited
    open = "open"  # items sent, results accepted until the deadline
    closed = "closed"  # no more results; statistics may be computed and recomputed
    published = "published"  # scores and report visible to participants; final


class ParticipantStatus(enum.StrEnum):
    invited = "invited"  # by the provider, awaiting the lab
    requested = "requested"  # by the lab, awaiting the provider
    accepted = "accepted"
    declined = "declined"


class PtScheme(IdMixin, CreatedMixin, Base):
    __tablename__ = "pt_schemes"

    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The provider's institution, which issues the participation certificates.
    institution_id: Mapped[str | None] = mapped_column(ForeignKey("institutions.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    field: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    method_groups: Mapped[list[str]] = mapped_column(JSON, default=list)

    measurands: Mapped[list[PtMeasurand]] = relationship(
        back_populates="scheme", order_by="PtMeasurand.position", lazy="selectin")


class PtMeasurand(IdMixin, Base):
    __tablename__ = "pt_measurands"
    __table_args__ = (UniqueConstraint("scheme_id", "name", name="pt_measurand_name"),)

    scheme_id: Mapped[str] = mapped_column(ForeignKey("pt_schemes.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(40))
    # For Horwitz's σ_pt: the mass fraction of one unit (1e-6 for mg/kg); None if not one.
    mass_fraction_per_unit: Mapped[float | None] = mapped_column(Float)

    scheme: Mapped[PtScheme] = relationship(back_populates="measurands")


class PtRound(IdMixin, CreatedMixin, Base):
    __tablename__ = "pt_rounds"
    __table_args__ = (UniqueConstraint("scheme_id", "code", name="pt_round_code"),)

    scheme_id: Mapped[str] = mapped_column(ForeignKey("pt_schemes.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[RoundStatus] = mapped_column(_enum(RoundStatus, "pt_round_status"),
                                                default=RoundStatus.draft)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # item codes, e.g. A, B
    dispatch_on: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    score: Mapped[str] = mapped_column(String(10), default="z")  # the score classified
    k_xpt: Mapped[float] = mapped_column(Float, default=2.0)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    scheme: Mapped[PtScheme] = relationship(lazy="joined")
    settings: Mapped[list[PtRoundMeasurand]] = relationship(
        back_populates="round", lazy="selectin", order_by="PtRoundMeasurand.position")


class PtRoundMeasurand(IdMixin, Base):
    """A measurand in a round: how its assigned value and σ_pt are set, and once computed,
    what they came to."""

    __tablename__ = "pt_round_measurands"
    __table_args__ = (UniqueConstraint("round_id", "measurand_id", name="pt_round_measurand"),)

    round_id: Mapped[str] = mapped_column(ForeignKey("pt_rounds.id"), index=True)
    measurand_id: Mapped[str] = mapped_column(ForeignKey("pt_measurands.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    assigned_kind: Mapped[str] = mapped_column(String(20), default="consensus")
    method: Mapped[str] = mapped_column(String(20), default="algorithm-a")
    assigned_value: Mapped[float | None] = mapped_column(Float)
    assigned_u: Mapped[float | None] = mapped_column(Float)
    sigma_kind: Mapped[str] = mapped_column(String(20), default="robust")
    sigma_value: Mapped[float | None] = mapped_column(Float)
    # Per item, once computed: {item: {"x_pt":…, "u_x_pt":…, "sigma_pt":…, …}}
    computed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The provider's checks of the items, with their data: {"data": …, "result": …}
    homogeneity: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stability: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    round: Mapped[PtRound] = relationship(back_populates="settings")
    measurand: Mapped[PtMeasurand] = relationship(lazy="joined")


class PtParticipant(IdMixin, Base):
    __tablename__ = "pt_participants"
    __table_args__ = (
        UniqueConstraint("round_id", "org_id", name="pt_participant_org"),
        UniqueConstraint("round_id", "code", name="pt_participant_code"),
    )

    round_id: Mapped[str] = mapped_column(ForeignKey("pt_rounds.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(10))  # all that others ever see of it
    status: Mapped[ParticipantStatus] = mapped_column(
        _enum(ParticipantStatus, "pt_participant_status"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    certificate_number: Mapped[str | None] = mapped_column(String(100))
    certificate_record_id: Mapped[str | None] = mapped_column(String(26))


class PtResult(IdMixin, Base):
    __tablename__ = "pt_results"
    __table_args__ = (
        UniqueConstraint("participant_id", "round_measurand_id", "item", name="pt_result_one"),
    )

    round_id: Mapped[str] = mapped_column(ForeignKey("pt_rounds.id"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("pt_participants.id"), index=True)
    round_measurand_id: Mapped[str] = mapped_column(ForeignKey("pt_round_measurands.id"))
    item: Mapped[str] = mapped_column(String(20))
    # As submitted, then in the measurand's unit (what the statistics use).
    reported_value: Mapped[float] = mapped_column(Float)
    reported_unit: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    expanded_u: Mapped[float | None] = mapped_column(Float)  # in the measurand's unit
    coverage_k: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(200), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # Scores, once the round is computed.
    z: Mapped[float | None] = mapped_column(Float)
    z_prime: Mapped[float | None] = mapped_column(Float)
    zeta: Mapped[float | None] = mapped_column(Float)
    en: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str | None] = mapped_column(String(20))  # the round's score's class


class PtReportPdf(IdMixin, Base):
    """A round report's PDF, rendered in the background and kept until what it shows
    changes (``version``: a digest of the report's content). A participant's copy marks its
    own code, so each reader's codes (``viewer``, empty for the provider and supervision)
    have their own."""

    __tablename__ = "pt_report_pdfs"
    __table_args__ = (UniqueConstraint("round_id", "locale", "viewer", name="pt_report_pdf_key"),)

    round_id: Mapped[str] = mapped_column(ForeignKey("pt_rounds.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10))
    viewer: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(64))
    # queued, charts, layout (rendering), ready, failed; never shown as such
    state: Mapped[str] = mapped_column(String(20))
    # Who renders it now: each claim takes a new job id, so a late writer cannot overwrite
    # a newer job's row.
    job: Mapped[str] = mapped_column(String(26))
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PtCorrectiveAction(IdMixin, Base):
    """A lab's corrective action after an unsatisfactory PT result (CNAS-RL02): until one is
    recorded, reporting results for that parameter is a supervision signal."""

    __tablename__ = "pt_corrective_actions"

    result_id: Mapped[str] = mapped_column(ForeignKey("pt_results.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    recorded_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
