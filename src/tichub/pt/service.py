"""PT use cases: the only place that writes schemes, rounds, participants and results.

Who may do what: a provider's editors define schemes and rounds, invite, open, close,
compute and publish; a participant's editors accept, submit results and read their own
scores; anyone signed in reads a published round's anonymous report; regulators (and the
operator) read everything, including unsatisfactory results by laboratory.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tichub.core import audit, errors, units
from tichub.core import service as core_service
from tichub.core.auth import Principal, can, require, require_member
from tichub.core.db import claim_transition
from tichub.core.errors import FieldError
from tichub.core.ids import BEIJING, today, utcnow
from tichub.core.messages import Msg
from tichub.core.models import Organisation, OrgKind, Role
from tichub.pt import analysis, stats
from tichub.pt.models import (
    ParticipantStatus,
    PtCorrectiveAction,
    PtMeasurand,
    PtParticipant,
    PtResult,
    PtRound,
    PtRoundMeasurand,
    PtScheme,
    RoundStatus,
)
from tichub.pt.schemas import (
    CorrectiveActionIn,
    MeasurandIn,
    ResultIn,
    RoundIn,
    SchemeIn,
    SettingIn,
)
from tichub.registry import service as registry

PROVIDER_KINDS = (OrgKind.lab, OrgKind.certification_body)
PARTICIPANT_KINDS = (OrgKind.lab, OrgKind.certification_body)
SCOPE_WRITE = "pt:write"
SCOPE_READ = "pt:read"


# --- schemes -------------------------------------------------------------------------------

_org = core_service.named_organisation


def _beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def create_scheme(db: Session, principal: Principal, data: SchemeIn) -> PtScheme:
    org = _org(db, data.org_id)
    require(principal, Role.editor, org=org.id, scope=SCOPE_WRITE)
    if org.kind not in PROVIDER_KINDS:
        raise errors.invalid("org_id", Msg("PT providers are laboratories or certification bodies"))
    if data.institution_id:
        inst = registry.get_institution(db, principal, data.institution_id)
        if inst.org_id != org.id:
            raise errors.invalid("institution_id",
                                 Msg("is not an institution of this organisation"))
    if db.scalar(select(PtScheme.id).where(PtScheme.code == data.code)):
        raise errors.conflict("code", Msg("a scheme {code} exists already", code=data.code))
    names = [m.name for m in data.measurands]
    if len(set(names)) != len(names):
        raise errors.invalid("measurands", Msg("measurand names must differ"))
    scheme = PtScheme(provider_org_id=org.id, institution_id=data.institution_id,
                      code=data.code, name_zh=data.name_zh, name_en=data.name_en,
                      field=data.field, description=data.description,
                      method_groups=list(data.method_groups))
    db.add(scheme)
    db.flush()
    for m in data.measurands:
        _add_measurand(db, scheme, m)
    audit.record(db, action="pt.scheme.created", object_type="pt_scheme", object_id=scheme.id,
                 actor_user_id=principal.user_id, org_id=org.id,
                 summary=f"PT scheme {scheme.code} {scheme.name_zh}")
    db.commit()
    db.refresh(scheme)
    return scheme


def _add_measurand(db: Session, scheme: PtScheme, data: MeasurandIn) -> PtMeasurand:
    try:
        units.check(data.unit)
    except units.UnitError:
        raise errors.invalid("unit", Msg(
            "“{unit}” is not a unit TICHub knows (e.g. mg/kg, µg/L, g/100 g, %)",
            unit=data.unit)) from None
    if any(m.name == data.name for m in scheme.measurands):
        raise errors.conflict("name", Msg("the scheme has a measurand {name} already",
                                          name=data.name))
    m = PtMeasurand(scheme_id=scheme.id, position=len(scheme.measurands), name=data.name,
                    name_en=data.name_en, unit=data.unit,
                    mass_fraction_per_unit=data.mass_fraction_per_unit)
    db.add(m)
    scheme.measurands.append(m)
    return m


def add_measurand(db: Session, principal: Principal, scheme_id: str,
                  data: MeasurandIn) -> PtMeasurand:
    scheme = get_scheme(db, scheme_id)
    require(principal, Role.editor, org=scheme.provider_org_id, scope=SCOPE_WRITE)
    m = _add_measurand(db, scheme, data)
    db.commit()
    return m


def get_scheme(db: Session, scheme_id: str) -> PtScheme:
    scheme = db.get(PtScheme, scheme_id)
    if scheme is None:
        raise errors.not_found(Msg("PT scheme"))
    return scheme


def list_schemes(db: Session) -> list[PtScheme]:
    """Schemes are public: labs look for the ones to join."""
    return list(db.scalars(select(PtScheme).order_by(PtScheme.code)))


# --- rounds --------------------------------------------------------------------------------

def create_round(db: Session, principal: Principal, scheme_id: str, data: RoundIn) -> PtRound:
    scheme = get_scheme(db, scheme_id)
    require(principal, Role.editor, org=scheme.provider_org_id, scope=SCOPE_WRITE)
    if not scheme.measurands:
        raise errors.invalid("scheme", Msg("define the scheme's measurands first"))
    if db.scalar(select(PtRound.id).where(PtRound.scheme_id == scheme.id,
                                          PtRound.code == data.code)):
        raise errors.conflict("code", Msg("the scheme has a round {code} already", code=data.code))
    by_name = {m.name: m for m in scheme.measurands}
    given: dict[str, SettingIn] = {}
    faults = []
    for i, s in enumerate(data.settings):
        if s.measurand not in by_name:
            faults.append(FieldError(f"settings.{i}.measurand", Msg(
                "the scheme has no measurand {measurand}", measurand=s.measurand)))
        elif s.sigma_kind == "horwitz" and not by_name[s.measurand].mass_fraction_per_unit:
            faults.append(FieldError(f"settings.{i}.sigma_kind", Msg(
                "Horwitz's σ_pt needs the measurand's unit as a mass fraction "
                "(e.g. mg/kg = 1e-6)")))
        given[s.measurand] = s
    if faults:
        raise errors.Problem(422, "Invalid input", detail=faults[0].message, errors=faults)
    rnd = PtRound(scheme_id=scheme.id, code=data.code, title=data.title, items=data.items,
                  dispatch_on=data.dispatch_on, deadline=data.deadline, score=data.score,
                  k_xpt=data.k_xpt, status=RoundStatus.draft)
    db.add(rnd)
    db.flush()
    for pos, m in enumerate(scheme.measurands):
        chosen = given.get(m.name)
        db.add(PtRoundMeasurand(
            round_id=rnd.id, measurand_id=m.id, position=pos,
            assigned_kind=chosen.assigned_kind if chosen else "consensus",
            method=chosen.method if chosen else "algorithm-a",
            assigned_value=chosen.assigned_value if chosen else None,
            assigned_u=chosen.assigned_u if chosen else None,
            sigma_kind=chosen.sigma_kind if chosen else "robust",
            sigma_value=chosen.sigma_value if chosen else None, computed={}))
    audit.record(db, action="pt.round.created", object_type="pt_round", object_id=rnd.id,
                 actor_user_id=principal.user_id, org_id=scheme.provider_org_id,
                 summary=f"round {scheme.code}/{rnd.code}")
    db.commit()
    db.refresh(rnd)
    return rnd


def get_round(db: Session, round_id: str) -> PtRound:
    rnd = db.get(PtRound, round_id)
    if rnd is None:
        raise errors.not_found(Msg("PT round"))
    return rnd


def is_provider(principal: Principal, rnd: PtRound) -> bool:
    return principal.is_operator or rnd.scheme.provider_org_id in principal.roles


def own_participants(db: Session, principal: Principal, rnd: PtRound) -> list[PtParticipant]:
    """The caller's organisations' places in the round."""
    orgs = list(principal.roles)
    if not orgs:
        return []
    return list(db.scalars(select(PtParticipant).where(
        PtParticipant.round_id == rnd.id, PtParticipant.org_id.in_(orgs))))


def list_rounds(db: Session, scheme_id: str | None = None) -> list[PtRound]:
    q = select(PtRound).order_by(PtRound.created_at.desc())
    if scheme_id:
        q = q.where(PtRound.scheme_id == scheme_id)
    return list(db.scalars(q))


def rounds_of(db: Session, principal: Principal) -> list[tuple[PtRound, PtParticipant]]:
    """The rounds the caller's organisations take part in (or were invited to)."""
    orgs = list(principal.roles)
    if not orgs:
        return []
    rows = db.execute(select(PtRound, PtParticipant).join(
        PtParticipant, PtParticipant.round_id == PtRound.id).where(
        PtParticipant.org_id.in_(orgs)).order_by(PtRound.deadline.desc()))
    return [(r, p) for r, p in rows]


def _new_code(db: Session, rnd: PtRound) -> str:
    """A participant code that says nothing of when or in what order the lab joined."""
    taken = set(db.scalars(select(PtParticipant.code).where(PtParticipant.round_id == rnd.id)))
    space = 1000 if len(taken) < 500 else 10_000
    while True:
        code = f"P{secrets.randbelow(space):0{len(str(space - 1))}d}"
        if code not in taken:
            return code


def _participant_kind_ok(org: Organisation) -> None:
    if org.kind not in PARTICIPANT_KINDS:
        raise errors.invalid("org_id", Msg("participants are laboratories or certification bodies"))


def invite(db: Session, principal: Principal, round_id: str, org_id: str) -> PtParticipant:
    rnd = get_round(db, round_id)
    require(principal, Role.editor, org=rnd.scheme.provider_org_id, scope=SCOPE_WRITE)
    org = _org(db, org_id)
    _participant_kind_ok(org)
    if org.id == rnd.scheme.provider_org_id:
        raise errors.invalid("org_id", Msg("a provider does not take part in its own round"))
    return _add_participant(db, principal, rnd, org, ParticipantStatus.invited)


def request_to_join(db: Session, principal: Principal, round_id: str,
                    org_id: str) -> PtParticipant:
    rnd = get_round(db, round_id)
    require_member(principal, Role.editor, org=org_id, scope=SCOPE_WRITE)
    org = _org(db, org_id)
    _participant_kind_ok(org)
    if org.id == rnd.scheme.provider_org_id:
        raise errors.invalid("org_id", Msg("a provider does not take part in its own round"))
    return _add_participant(db, principal, rnd, org, ParticipantStatus.requested)


def _add_participant(db: Session, principal: Principal, rnd: PtRound, org: Organisation,
                     status: ParticipantStatus) -> PtParticipant:
    if rnd.status not in (RoundStatus.draft, RoundStatus.open):
        raise errors.conflict("status", Msg("the round is {status}: no new participants",
                                            status=rnd.status))
    if db.scalar(select(PtParticipant.id).where(PtParticipant.round_id == rnd.id,
                                                PtParticipant.org_id == org.id)):
        raise errors.conflict("org_id", Msg("{name} is already on this round's list",
                                            name=org.name))
    p = PtParticipant(round_id=rnd.id, org_id=org.id, code=_new_code(db, rnd), status=status,
                      changed_at=utcnow())
    db.add(p)
    db.flush()
    audit.record(db, action=f"pt.participant.{status.value}", object_type="pt_participant",
                 object_id=p.id, actor_user_id=principal.user_id, org_id=org.id,
                 summary=f"{org.name} in round {rnd.scheme.code}/{rnd.code}",
                 data={"round_id": rnd.id, "code": p.code})
    try:
        db.commit()
    except IntegrityError:  # a concurrent invitation of the same lab, or the same code
        db.rollback()
        raise errors.conflict("org_id", Msg("{name} is already on this round's list",
                                            name=org.name)) from None
    return p


def answer(db: Session, principal: Principal, participant_id: str, accept: bool) -> PtParticipant:
    """An invited lab accepts or declines; a provider accepts or declines a lab's request."""
    p = db.get(PtParticipant, participant_id)
    if p is None:
        raise errors.not_found(Msg("participant"))
    rnd = get_round(db, p.round_id)
    provider = rnd.scheme.provider_org_id
    if not (can(principal, Role.editor, org=p.org_id, scope=SCOPE_WRITE)
            or can(principal, Role.editor, org=provider, scope=SCOPE_WRITE)):
        require(principal, Role.editor, org=p.org_id, scope=SCOPE_WRITE)  # says why
    if p.status is ParticipantStatus.invited:
        require_member(principal, Role.editor, org=p.org_id, scope=SCOPE_WRITE)
    elif p.status is ParticipantStatus.requested:
        require(principal, Role.editor, org=rnd.scheme.provider_org_id, scope=SCOPE_WRITE)
    else:
        raise errors.conflict("status", Msg("already answered: {status}", status=p.status))
    if rnd.status not in (RoundStatus.draft, RoundStatus.open):
        raise errors.conflict("status", Msg("the round is {status}", status=rnd.status))
    to = ParticipantStatus.accepted if accept else ParticipantStatus.declined
    if not claim_transition(db, PtParticipant, p.id, p.status, to, changed_at=utcnow()):
        db.rollback()
        raise errors.conflict("status", Msg("answered meanwhile; reload the page"))
    p.status = to
    p.changed_at = utcnow()
    audit.record(db, action=f"pt.participant.{p.status.value}", object_type="pt_participant",
                 object_id=p.id, actor_user_id=principal.user_id, org_id=p.org_id,
                 data={"round_id": rnd.id, "code": p.code})
    db.commit()
    return p


def participants(db: Session, rnd: PtRound) -> list[PtParticipant]:
    return list(db.scalars(select(PtParticipant).where(PtParticipant.round_id == rnd.id)
                           .order_by(PtParticipant.code)))


TRANSITIONS = {"open": (RoundStatus.draft, RoundStatus.open),
               "close": (RoundStatus.open, RoundStatus.closed)}


def transition(db: Session, principal: Principal, round_id: str, action: str) -> PtRound:
    rnd = get_round(db, round_id)
    require(principal, Role.editor, org=rnd.scheme.provider_org_id, scope=SCOPE_WRITE)
    if action not in TRANSITIONS:
        raise errors.invalid("action", Msg("one of open, close"))
    before, after = TRANSITIONS[action]
    if rnd.status is not before:
        raise errors.conflict("status", Msg(
            "the round is {status}; only a {before} round can be opened", status=rnd.status,
            before=before) if action == "open" else Msg(
            "the round is {status}; only a {before} round can be closed", status=rnd.status,
            before=before))
    if action == "open" and not any(p.status is ParticipantStatus.accepted
                                    for p in participants(db, rnd)):
        raise errors.conflict("participants", Msg("no participant has accepted yet"))
    if not claim_transition(db, PtRound, rnd.id, before, after):
        db.rollback()
        raise errors.conflict("status", Msg("the round changed meanwhile; reload the page"))
    rnd.status = after
    audit.record(db, action=f"pt.round.{after.value}", object_type="pt_round",
                 object_id=rnd.id, actor_user_id=principal.user_id,
                 org_id=rnd.scheme.provider_org_id)
    db.commit()
    return rnd


# --- results -------------------------------------------------------------------------------

def check_participant(db: Session, principal: Principal, round_id: str,
                      org_id: str) -> tuple[PtRound, PtParticipant]:
    """The round and the caller's accepted place in it, or the refusal: checked before a
    submitted file is even read."""
    rnd = get_round(db, round_id)
    require_member(principal, Role.editor, org=org_id, scope=SCOPE_WRITE)
    p = db.scalar(select(PtParticipant).where(PtParticipant.round_id == rnd.id,
                                              PtParticipant.org_id == org_id))
    if p is None or p.status is not ParticipantStatus.accepted:
        raise errors.forbidden(Msg("this organisation is not an accepted participant of the "
                                    "round"))
    return rnd, p


def require_provider(db: Session, principal: Principal, scheme_id: str) -> PtScheme:
    scheme = get_scheme(db, scheme_id)
    require(principal, Role.editor, org=scheme.provider_org_id, scope=SCOPE_WRITE)
    return scheme


def submit_results(db: Session, principal: Principal, round_id: str, org_id: str,
                   entries: list[ResultIn], now: datetime | None = None,
                   rows_of: list[int] | None = None) -> list[PtResult]:
    """A participant's results, all stored or none; each fault names the entry (``row``:
    its position from 1, or its spreadsheet row, ``rows_of``, when they came from a file)."""
    now = now or utcnow()
    rnd, p = check_participant(db, principal, round_id, org_id)
    if rnd.status is not RoundStatus.open:
        raise errors.conflict("status", Msg("the round is {status}, not open for results",
                                            status=rnd.status))
    if now > rnd.deadline:
        raise errors.conflict("deadline", Msg("the deadline, {deadline} Beijing time, has passed",
                                              deadline=_beijing(rnd.deadline)))
    settings = {s.measurand.name: s for s in rnd.settings}
    existing = set(db.execute(select(PtResult.round_measurand_id, PtResult.item).where(
        PtResult.participant_id == p.id)))
    faults: list[FieldError] = []
    rows: list[PtResult] = []
    seen: dict[tuple[str, str], int] = {}
    for i, e in enumerate(entries, start=1):
        row = rows_of[i - 1] if rows_of else i
        s = settings.get(e.measurand)
        if s is None:
            faults.append(FieldError("measurand", Msg("the round has no measurand {measurand}",
                                                      measurand=e.measurand), row))
            continue
        if e.item not in rnd.items:
            faults.append(FieldError("item", Msg("the round's items are {items}",
                                                 items=", ".join(rnd.items)), row))
            continue
        key = (s.id, e.item)
        if key in existing:
            faults.append(FieldError("measurand", Msg(
                "a result for {measurand}, item {item} was submitted already",
                measurand=e.measurand, item=e.item), row))
            continue
        if key in seen:
            faults.append(FieldError("measurand", Msg(
                "{measurand}, item {item} appears twice (entry {entry})",
                measurand=e.measurand, item=e.item, entry=seen[key]), row))
            continue
        seen[key] = row
        unit = e.unit.strip() or s.measurand.unit
        try:
            f = units.factor(unit, s.measurand.unit)
        except units.UnitError:
            faults.append(FieldError("unit", Msg(
                "{measurand} is reported in {unit}: “{given}” cannot be converted to it",
                measurand=e.measurand, unit=s.measurand.unit, given=unit), row))
            continue
        big_u = e.expanded_uncertainty * f if e.expanded_uncertainty is not None else None
        k = e.coverage_factor if e.coverage_factor is not None else (
            2.0 if big_u is not None else None)
        rows.append(PtResult(round_id=rnd.id, participant_id=p.id, round_measurand_id=s.id,
                             item=e.item, reported_value=e.value, reported_unit=unit,
                             value=e.value * f, expanded_u=big_u, coverage_k=k,
                             method=e.method, submitted_at=now,
                             submitted_by=principal.user_id if principal.user_id != "cli"
                             else None))
    if faults:
        raise errors.Problem(422, Msg("Results refused"), detail=Msg(
            "{count} entries need correcting; nothing was stored", count=len(faults)),
            errors=faults)
    db.add_all(rows)
    audit.record(db, action="pt.results.submitted", object_type="pt_participant",
                 object_id=p.id, actor_user_id=principal.user_id, org_id=org_id,
                 data={"round_id": rnd.id, "count": len(rows)},
                 summary=f"{len(rows)} result(s) for round {rnd.scheme.code}/{rnd.code}")
    try:
        db.commit()
    except IntegrityError:  # the same result sent twice at once
        db.rollback()
        raise errors.conflict("measurand", Msg("a result was submitted already")) from None
    return rows


def results_upload(filename: str, data: bytes) -> tuple[list[ResultIn], list[int]]:
    """A participant's results sheet (columns as ``tichub pt stats`` reads, per measurand
    and item) as entries, with the spreadsheet row of each."""
    from pydantic import ValidationError

    from tichub.pt.sheets import read_results

    out: list[ResultIn] = []
    rows: list[int] = []
    faults: list[FieldError] = []
    for r in read_results(filename, data, mixed_units=True):
        try:
            entry = ResultIn(measurand=r.measurand, item=r.item or "A", value=r.value,
                             unit=r.unit, expanded_uncertainty=r.big_u, coverage_factor=r.k,
                             method=r.method)
        except ValidationError as exc:
            faults += errors.field_errors(exc.errors(), r.row)
            continue
        out.append(entry)
        rows.append(r.row)
    if faults:
        raise errors.Problem(422, "Invalid input", detail=Msg("the file has faulty rows"),
                             errors=faults)
    return out, rows


def results_of(db: Session, participant: PtParticipant) -> list[PtResult]:
    return list(db.scalars(select(PtResult).where(PtResult.participant_id == participant.id)))


# --- the items' homogeneity and stability -----------------------------------------------

def _setting_for(db: Session, principal: Principal, round_id: str,
                 measurand: str) -> tuple[PtRound, PtRoundMeasurand]:
    rnd = get_round(db, round_id)
    require(principal, Role.editor, org=rnd.scheme.provider_org_id, scope=SCOPE_WRITE)
    if rnd.status is RoundStatus.published:
        raise errors.conflict("status", Msg("the round is published"))
    s = next((s for s in rnd.settings if s.measurand.name == measurand), None)
    if s is None:
        raise errors.invalid("measurand", Msg("the round has no measurand {measurand}",
                                              measurand=measurand))
    return rnd, s


def _planned_sigma(s: PtRoundMeasurand, given: float | None) -> float:
    """σ_pt for checking the items before results exist: given, or the round's own when
    it does not depend on the results."""
    if given is not None:
        if not given > 0:
            raise errors.invalid("sigma_pt", Msg("must be greater than 0"))
        return given
    if s.sigma_kind in ("fixed", "previous") and s.sigma_value:
        return s.sigma_value
    if s.sigma_kind == "horwitz" and s.assigned_value and s.measurand.mass_fraction_per_unit:
        f = s.measurand.mass_fraction_per_unit
        return float(stats.horwitz_sigma(s.assigned_value * f)) / f
    raise errors.invalid("sigma_pt", Msg("give σ_pt: this round's σ_pt comes from its results"))


def record_homogeneity(db: Session, principal: Principal, round_id: str, measurand: str,
                       filename: str, data: bytes, sigma_pt: float | None = None
                       ) -> dict[str, Any]:
    """The homogeneity check of one measurand's items (ISO 13528:2022 Annex B) from the
    provider's replicate measurements (rows: item, value); kept with its data."""
    from dataclasses import asdict

    from tichub.pt.sheets import read_replicates

    rnd, s = _setting_for(db, principal, round_id, measurand)
    sigma = _planned_sigma(s, sigma_pt)
    items, values = read_replicates(filename, data)
    try:
        result = stats.homogeneity(values, sigma)
    except ValueError:
        raise errors.invalid("file", Msg(
            "needs at least 2 items measured at least twice each")) from None
    s.homogeneity = {"items": items, "data": values.tolist(), "result": asdict(result)}
    audit.record(db, action="pt.homogeneity.checked", object_type="pt_round", object_id=rnd.id,
                 actor_user_id=principal.user_id, org_id=rnd.scheme.provider_org_id,
                 data={"measurand": measurand, "passes": result.passes,
                       "passes_expanded": result.passes_expanded})
    db.commit()
    return s.homogeneity


def record_stability(db: Session, principal: Principal, round_id: str, measurand: str,
                     before: list[float], after: list[float],
                     sigma_pt: float | None = None) -> dict[str, Any]:
    """The stability check (ISO 13528:2022 B.5): means before dispatch and after the
    round, within 0.3·σ_pt (widened by their uncertainty)."""
    from dataclasses import asdict

    rnd, s = _setting_for(db, principal, round_id, measurand)
    sigma = _planned_sigma(s, sigma_pt)
    if len(before) < 1 or len(after) < 1:
        raise errors.invalid("before", Msg("give measurements before and after"))
    result = stats.stability(before, after, sigma)
    s.stability = {"before": before, "after": after, "result": asdict(result),
                   "sigma_pt": sigma}
    audit.record(db, action="pt.stability.checked", object_type="pt_round", object_id=rnd.id,
                 actor_user_id=principal.user_id, org_id=rnd.scheme.provider_org_id,
                 data={"measurand": measurand, "passes": result.passes})
    db.commit()
    return s.stability


# --- statistics and publication ------------------------------------------------------------

def _setting(s: PtRoundMeasurand) -> tuple[analysis.Assigned, analysis.Sigma]:
    return (analysis.Assigned(s.assigned_kind, s.method, s.assigned_value,  # type: ignore[arg-type]
                              s.assigned_u),
            analysis.Sigma(s.sigma_kind, s.sigma_value,  # type: ignore[arg-type]
                           s.measurand.mass_fraction_per_unit))


def compute(db: Session, principal: Principal, round_id: str,
            now: datetime | None = None) -> PtRound:
    """Statistics and scores of a closed round; may be run again until it is published.
    ``now``: when (the demo's past rounds say when they were computed)."""
    rnd = get_round(db, round_id)
    require(principal, Role.editor, org=rnd.scheme.provider_org_id, scope=SCOPE_WRITE)
    if rnd.status is not RoundStatus.closed:
        raise errors.conflict("status", Msg("the round is {status}; close it first",
                                            status=rnd.status))
    results = list(db.scalars(select(PtResult).where(PtResult.round_id == rnd.id)))
    groups: dict[tuple[str, str], list[PtResult]] = defaultdict(list)
    for r in results:
        groups[(r.round_measurand_id, r.item)].append(r)
    score_kind: analysis.ScoreKind = rnd.score  # type: ignore[assignment]
    faults: list[Msg] = []
    for s in rnd.settings:
        assigned, sigma = _setting(s)
        computed: dict[str, Any] = {}
        for item in rnd.items:
            group = groups.get((s.id, item), [])
            if not group:
                computed[item] = {"n": 0, "warnings": [Msg("no results")],
                                  "notes": [Msg("no results").as_json()]}
                continue
            values = np.array([r.value for r in group])
            big_u = np.array([np.nan if r.expanded_u is None else r.expanded_u for r in group])
            k = np.array([r.coverage_k or 2.0 for r in group])
            try:
                m = analysis.analyse_one(s.measurand.name, values, big_u, k, assigned, sigma,
                                         rnd.k_xpt)
            except (ValueError, ArithmeticError) as exc:
                reason = exc.args[0] if exc.args and isinstance(exc.args[0], Msg) else Msg(
                    "the statistics cannot be computed from these results")
                faults.append(Msg("{measurand}, item {item}: {reason}",
                                  measurand=s.measurand.name, item=item, reason=reason))
                continue
            computed[item] = analysis.as_json(m)
            # The warnings again, as messages the report shows in its reader's language.
            computed[item]["notes"] = [w.as_json() for w in m.warnings]
            classes = m.classes(score_kind)
            for i, r in enumerate(group):
                r.z, r.z_prime = _num(m.z[i]), _num(m.z_prime[i])
                r.zeta, r.en = _num(m.zeta[i]), _num(m.en[i])
                r.verdict = stats.class_name(int(classes[i]))
        s.computed = computed
    if faults:
        db.rollback()
        raise errors.Problem(422, Msg("Cannot compute"), detail="; ".join(faults),
                             errors=[FieldError("settings", f) for f in faults])
    rnd.computed_at = now or utcnow()
    audit.record(db, action="pt.round.computed", object_type="pt_round", object_id=rnd.id,
                 actor_user_id=principal.user_id, org_id=rnd.scheme.provider_org_id,
                 data={"results": len(results)})
    db.commit()
    return rnd


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def publish(db: Session, principal: Principal, round_id: str, log: Any | None = None,
            now: datetime | None = None) -> PtRound:
    """Makes the scores and report visible to participants, tells supervision of every
    unsatisfactory result, and registers each participant's certificate when the scheme
    names its issuing institution."""
    rnd = get_round(db, round_id)
    require(principal, Role.editor, org=rnd.scheme.provider_org_id, scope=SCOPE_WRITE)
    if rnd.status is not RoundStatus.closed or rnd.computed_at is None:
        raise errors.conflict("status", Msg("compute the closed round's statistics first"))
    now = now or utcnow()
    rnd.status = RoundStatus.published
    rnd.published_at = now
    names = {s.id: s.measurand.name for s in rnd.settings}
    parts = {p.id: p for p in participants(db, rnd)}
    by_participant: dict[str, list[PtResult]] = defaultdict(list)
    for r in db.scalars(select(PtResult).where(PtResult.round_id == rnd.id)):
        by_participant[r.participant_id].append(r)
        if r.verdict == stats.UNSATISFACTORY:
            p = parts[r.participant_id]
            # In the participant's own audit log and in supervision's feed (issue: credit).
            audit.record(db, action="pt.result.unsatisfactory", object_type="pt_result",
                         object_id=r.id, actor_user_id=principal.user_id, org_id=p.org_id,
                         data={"round_id": rnd.id, "measurand": names[r.round_measurand_id],
                               "item": r.item, "score": rnd.score,
                               "value": getattr(r, rnd.score)},
                         summary=f"unsatisfactory {rnd.score} in {rnd.scheme.code}/{rnd.code}: "
                                 f"{names[r.round_measurand_id]} ({r.item})")
    audit.record(db, action="pt.round.published", object_type="pt_round", object_id=rnd.id,
                 actor_user_id=principal.user_id, org_id=rnd.scheme.provider_org_id)
    if rnd.scheme.institution_id and log is not None:
        _register_certificates(db, principal, rnd, parts, by_participant, log, now)
    db.commit()
    return rnd


def _register_certificates(db: Session, principal: Principal, rnd: PtRound,
                           parts: dict[str, PtParticipant],
                           by_participant: dict[str, list[PtResult]], log: Any,
                           now: datetime) -> None:
    from tichub.reports import service as reports
    from tichub.reports.models import RecordKind
    from tichub.reports.schemas import RecordIn

    records = []
    accepted = [p for p in parts.values() if p.status is ParticipantStatus.accepted
                and by_participant.get(p.id)]
    for p in accepted:
        results = by_participant[p.id]
        good = sum(r.verdict == stats.SATISFACTORY for r in results)
        p.certificate_number = f"{rnd.scheme.code}-{rnd.code}-{p.code}"
        org = db.get(Organisation, p.org_id)
        records.append(RecordIn(
            number=p.certificate_number, kind=RecordKind.pt_certificate,
            institution_id=rnd.scheme.institution_id or "", client=org.name if org else "",
            product=f"{rnd.scheme.name_zh} {rnd.code}", standards=["ISO/IEC 17043"],
            issued_on=now.astimezone(BEIJING).date(),
            conclusion=f"participant {p.code}: {good} of {len(results)} results satisfactory "
                       f"({rnd.score})"))
    if records:
        receipts = reports.register(db, principal, log, records)  # commits with the rest
        for p, receipt in zip(accepted, receipts, strict=True):
            p.certificate_record_id = receipt.record_id


# --- what each one reads -------------------------------------------------------------------

@dataclass
class ItemStats:
    item: str
    computed: dict[str, Any]
    rows: list[dict[str, Any]]  # code, value, u, z…, verdict (anonymous)


@dataclass
class MeasurandReport:
    name: str
    name_en: str
    unit: str
    assigned_kind: str
    method: str
    sigma_kind: str
    items: list[ItemStats] = field(default_factory=list)
    homogeneity: dict[str, Any] = field(default_factory=dict)
    stability: dict[str, Any] = field(default_factory=dict)


def can_read_round(db: Session, principal: Principal, rnd: PtRound) -> bool:
    if is_provider(principal, rnd) or principal.is_regulator or principal.is_operator:
        return True
    return any(p.status is ParticipantStatus.accepted for p in own_participants(db, principal,
                                                                                 rnd))


def round_report(db: Session, principal: Principal, round_id: str) -> tuple[
        PtRound, list[MeasurandReport], set[str]]:
    """The anonymous round report: every result by participant code. Participants read it
    once published; the provider and supervision at any time. Returns the caller's own
    codes too, to mark them."""
    rnd = get_round(db, round_id)
    if not principal.authenticated:
        raise errors.unauthorized()
    if not can_read_round(db, principal, rnd):
        raise errors.forbidden(Msg("the round's report is for its provider, participants "
                                   "and supervision"))
    privileged = is_provider(principal, rnd) or principal.is_regulator or principal.is_operator
    if rnd.status is not RoundStatus.published and not privileged:
        raise errors.forbidden(Msg("the round's report is published after the round closes"))
    codes = {p.id: p.code for p in participants(db, rnd)}
    mine = {p.code for p in own_participants(db, principal, rnd)}
    results = list(db.scalars(select(PtResult).where(PtResult.round_id == rnd.id)))
    out = []
    for s in rnd.settings:
        mr = MeasurandReport(s.measurand.name, s.measurand.name_en, s.measurand.unit,
                             s.assigned_kind, s.method, s.sigma_kind,
                             homogeneity=s.homogeneity or {}, stability=s.stability or {})
        for item in rnd.items:
            rows = sorted(({"code": codes.get(r.participant_id, "?"), "value": r.value,
                            "U": r.expanded_u, "k": r.coverage_k, "z": r.z,
                            "z_prime": r.z_prime, "zeta": r.zeta, "en": r.en,
                            "verdict": r.verdict, "method": r.method}
                           for r in results
                           if r.round_measurand_id == s.id and r.item == item),
                          key=lambda row: str(row["code"]))
            mr.items.append(ItemStats(item, (s.computed or {}).get(item, {}), rows))
        out.append(mr)
    return rnd, out, mine


def history(db: Session, principal: Principal, org_id: str) -> list[dict[str, Any]]:
    """A participant's scores over every published round, oldest first: its own page."""
    require(principal, Role.viewer, org=org_id, scope=SCOPE_READ)
    rows = db.execute(
        select(PtResult, PtRound, PtParticipant, PtRoundMeasurand, PtMeasurand)
        .join(PtRound, PtRound.id == PtResult.round_id)
        .join(PtParticipant, PtParticipant.id == PtResult.participant_id)
        .join(PtRoundMeasurand, PtRoundMeasurand.id == PtResult.round_measurand_id)
        .join(PtMeasurand, PtMeasurand.id == PtRoundMeasurand.measurand_id)
        .where(PtParticipant.org_id == org_id, PtRound.status == RoundStatus.published)
        .order_by(PtRound.published_at, PtMeasurand.position, PtResult.item))
    return [{"result_id": r.id, "round_id": rnd.id, "scheme": rnd.scheme.code,
             "round": rnd.code,
             "published_at": rnd.published_at, "code": p.code, "measurand": m.name,
             "item": r.item, "value": r.value, "unit": m.unit, "score": rnd.score,
             "z": r.z, "z_prime": r.z_prime, "zeta": r.zeta, "en": r.en,
             "verdict": r.verdict}
            for r, rnd, p, _s, m in rows]


def unsatisfactory(db: Session, principal: Principal, org_id: str | None = None,
                   limit: int = 500) -> list[dict[str, Any]]:
    """Unsatisfactory results of published rounds, by laboratory, newest first: for
    supervision (every lab) and for a lab itself (its own)."""
    if not principal.authenticated:
        raise errors.unauthorized()
    if org_id is None:
        if not (principal.is_regulator or principal.is_operator) or not principal.has_scope(
                SCOPE_READ):
            raise errors.forbidden(Msg("the whole list is for supervision; give your organisation"))
    else:
        require(principal, Role.viewer, org=org_id, scope=SCOPE_READ)
    q = (select(PtResult, PtRound, PtParticipant, PtRoundMeasurand, PtMeasurand, Organisation)
         .join(PtRound, PtRound.id == PtResult.round_id)
         .join(PtParticipant, PtParticipant.id == PtResult.participant_id)
         .join(Organisation, Organisation.id == PtParticipant.org_id)
         .join(PtRoundMeasurand, PtRoundMeasurand.id == PtResult.round_measurand_id)
         .join(PtMeasurand, PtMeasurand.id == PtRoundMeasurand.measurand_id)
         .where(PtRound.status == RoundStatus.published,
                PtResult.verdict == stats.UNSATISFACTORY)
         .order_by(PtRound.published_at.desc(), Organisation.name).limit(limit))
    if org_id:
        q = q.where(PtParticipant.org_id == org_id)
    return [{"round_id": rnd.id, "scheme_code": rnd.scheme.code, "round_code": rnd.code,
             "org_id": org.id, "org_name": org.name, "measurand": m.name, "item": r.item,
             "score": rnd.score, "value": getattr(r, rnd.score),
             "published_at": rnd.published_at}
            for r, rnd, _p, _s, m, org in db.execute(q)]


# --- corrective actions --------------------------------------------------------------------

def _unsatisfactory_of(db: Session, result_id: str) -> tuple[PtResult, PtRound, str]:
    """A published unsatisfactory result, its round and its laboratory's organisation."""
    row = db.execute(select(PtResult, PtRound, PtParticipant.org_id)
                     .join(PtRound, PtRound.id == PtResult.round_id)
                     .join(PtParticipant, PtParticipant.id == PtResult.participant_id)
                     .where(PtResult.id == result_id)).first()
    if row is None:
        raise errors.not_found(Msg("PT result"))
    return row[0], row[1], row[2]


def record_corrective_action(db: Session, principal: Principal, result_id: str,
                             data: CorrectiveActionIn) -> PtCorrectiveAction:
    """The laboratory records what it did after an unsatisfactory result (CNAS-RL02): from
    that day, its reports of the parameter no longer raise the PT_NO_CORRECTION signal.
    Only the laboratory's own editors, in its name; more than one may be recorded (a second
    attempt after the first did not work)."""
    result, rnd, org_id = _unsatisfactory_of(db, result_id)
    if not principal.authenticated:
        raise errors.unauthorized()
    if org_id not in principal.roles and not (principal.is_regulator or principal.is_operator):
        # Another laboratory learns nothing of the result, not even that it exists.
        raise errors.not_found(Msg("PT result"))
    require_member(principal, Role.editor, org=org_id, scope=SCOPE_WRITE)
    if rnd.status is not RoundStatus.published or rnd.published_at is None \
            or result.verdict != stats.UNSATISFACTORY:
        raise errors.conflict("result", Msg(
            "a corrective action is recorded for an unsatisfactory result of a published "
            "round"))
    published = rnd.published_at.astimezone(BEIJING).date()
    if data.done_on > today():
        raise errors.invalid("done_on", Msg("is in the future"))
    if data.done_on < published:
        raise errors.invalid("done_on", Msg(
            "is before the round's results were published ({day})", day=published.isoformat()))
    action = PtCorrectiveAction(result_id=result.id, org_id=org_id, recorded_on=data.done_on,
                                note=data.note, recorded_by=principal.user_id)
    db.add(action)
    db.flush()
    audit.record(db, action="pt.corrective_action", object_type="pt_result",
                 object_id=result.id, actor_user_id=principal.user_id, org_id=org_id,
                 data={"id": action.id, "done_on": data.done_on.isoformat(),
                       "round_id": rnd.id})
    db.commit()
    return action


def corrective_actions(db: Session, principal: Principal, result_id: str
                       ) -> list[PtCorrectiveAction]:
    """The corrective actions of one result, oldest first: for its laboratory and for
    supervision."""
    _result, _rnd, org_id = _unsatisfactory_of(db, result_id)
    if not can(principal, Role.viewer, org=org_id, scope=SCOPE_READ):
        if principal.authenticated and principal.has_scope(SCOPE_READ):
            raise errors.not_found(Msg("PT result"))
        require(principal, Role.viewer, org=org_id, scope=SCOPE_READ)
    return list(db.scalars(select(PtCorrectiveAction)
                           .where(PtCorrectiveAction.result_id == result_id)
                           .order_by(PtCorrectiveAction.recorded_on,
                                     PtCorrectiveAction.created_at)))


def corrective_actions_of(db: Session, principal: Principal, org_id: str
                          ) -> dict[str, list[PtCorrectiveAction]]:
    """A laboratory's corrective actions by result id (its score history page)."""
    require(principal, Role.viewer, org=org_id, scope=SCOPE_READ)
    out: dict[str, list[PtCorrectiveAction]] = defaultdict(list)
    for a in db.scalars(select(PtCorrectiveAction).where(PtCorrectiveAction.org_id == org_id)
                        .order_by(PtCorrectiveAction.recorded_on,
                                  PtCorrectiveAction.created_at)):
        out[a.result_id].append(a)
    return dict(out)


def counts(db: Session, rnd: PtRound) -> dict[str, int]:
    """How many results each participant has sent: what the provider watches while open."""
    rows = db.execute(select(PtResult.participant_id, func.count()).where(
        PtResult.round_id == rnd.id).group_by(PtResult.participant_id))
    return {participant_id: n for participant_id, n in rows}


def open_round_count(db: Session) -> int:
    """How many PT rounds take results now (the home page's figure)."""
    return int(db.scalar(select(func.count()).select_from(PtRound)
                         .where(PtRound.status == RoundStatus.open)) or 0)
