"""Credit-risk tiers: gathering every institution's inputs, scoring them by the published
rule set (``score.py``), storing the scores, showing them, and appeals.

The inputs are gathered in SQL straight from other domains' tables (PT results, orders,
qualifications) and supervision's own, one grouped query per input for every institution
at once: a monthly run covers thousands of institutions, and a Python loop over their
services would make one query per institution per input. These reads are read-only, the
exception DESIGN.md allows supervision's batch figures.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from tichub.core import audit, errors, notify
from tichub.core.auth import Principal
from tichub.core.db import table
from tichub.core.ids import BEIJING, new_id, today, utcnow
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.core.progress import ProgressFactory, bars
from tichub.market.models import Order, OrderStatus
from tichub.pt.models import PtParticipant, PtResult, PtRound, RoundStatus
from tichub.registry.models import Institution, Qualification, QualificationStatus
from tichub.supervision import files, jurisdiction
from tichub.supervision.credit import score as scorer
from tichub.supervision.models import (
    AppealStatus,
    ApplicationStatus,
    Complaint,
    ComplaintStatus,
    CreditAppeal,
    CreditScore,
    Finding,
    FindingOutcome,
    Inspection,
    QualificationApplication,
    Sanction,
    SanctionKind,
    Signal,
    SignalStatus,
    StoredFile,
)

DEFAULT_TIER = "B"  # an institution never scored: the tier a new one would get
SCOPE_READ, SCOPE_WRITE = "supervision:read", "supervision:write"
CHUNK = 2_000  # institutions scored and written per transaction in a run

# --- the window ------------------------------------------------------------------------------


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day where that month is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _start_of(day: date) -> datetime:
    """The instant a Beijing day begins, in UTC (what instants are stored as)."""
    return datetime.combine(day, time(0), BEIJING).astimezone(UTC)


@dataclass(frozen=True)
class Window:
    since: date  # first day counted
    middle: date  # first day of the recent half (PT trend)
    until: date  # last day counted

    @classmethod
    def of(cls, on: date, months: int) -> Window:
        return cls(since=months_before(on, months), middle=months_before(on, months // 2),
                   until=on)

    def dates(self, column: Any) -> Any:
        return and_(column >= self.since, column <= self.until)

    def instants(self, column: Any) -> Any:
        return and_(column >= _start_of(self.since),
                    column < _start_of(date.fromordinal(self.until.toordinal() + 1)))


# --- gathering the inputs --------------------------------------------------------------------


def _limit(stmt: Any, column: Any, ids: Sequence[str] | None) -> Select[Any]:
    out: Select[Any] = stmt if ids is None else stmt.where(column.in_(ids))
    return out


def gather_inputs(db: Session, on: date, ids: Sequence[str] | None = None,
                  rules: scorer.RuleSet | None = None) -> dict[str, dict[str, int]]:
    """Every input of every institution (``ids``: only these), counted over the rule set's
    window ending on ``on``: one grouped query per kind of input."""
    rules = rules or scorer.load(scorer.current_version())
    w = Window.of(on, rules.window_months)
    out: dict[str, dict[str, int]] = defaultdict(dict)

    def add(rows: Iterable[Any], key: Callable[[Any], str | None]) -> None:
        for row in rows:
            name = key(row)
            if name and row[-1]:
                out[row[0]][name] = out[row[0]].get(name, 0) + int(row[-1])

    # PT: a participant is an organisation; its results count for its institutions.
    published = and_(PtRound.status == RoundStatus.published)
    recent = PtRound.published_at >= _start_of(w.middle)
    unsat = PtResult.verdict == "unsatisfactory"
    pt = _limit(
        select(Institution.id,
               func.sum(case((PtResult.verdict == "satisfactory", 1), else_=0)),
               func.sum(case((PtResult.verdict == "questionable", 1), else_=0)),
               func.sum(case((unsat, 1), else_=0)),
               func.sum(case((and_(unsat, recent), 1), else_=0)))
        .join(PtParticipant, PtParticipant.id == PtResult.participant_id)
        .join(PtRound, PtRound.id == PtResult.round_id)
        .join(Institution, Institution.org_id == PtParticipant.org_id)
        .where(published, w.instants(PtRound.published_at))
        .group_by(Institution.id), Institution.id, ids)
    for inst, good, doubtful, bad, bad_recent in db.execute(pt):
        row = out[inst]
        row["pt_satisfactory"], row["pt_questionable"] = int(good or 0), int(doubtful or 0)
        row["pt_unsatisfactory"] = int(bad or 0)
        # Fewer unsatisfactory results lately than before is an improving trend.
        row["pt_trend"] = (int(bad or 0) - int(bad_recent or 0)) - int(bad_recent or 0)

    signals = _limit(select(Signal.institution_id, Signal.severity, func.count())
                     .where(Signal.status == SignalStatus.confirmed,
                            w.instants(Signal.decided_at))
                     .group_by(Signal.institution_id, Signal.severity),
                     Signal.institution_id, ids)
    add(db.execute(signals), lambda r: f"signals_{r[1].value}")

    complaints = _limit(select(Complaint.institution_id, func.count())
                        .where(Complaint.status == ComplaintStatus.upheld,
                               Complaint.institution_id.is_not(None),
                               w.instants(Complaint.updated_at))
                        .group_by(Complaint.institution_id), Complaint.institution_id, ids)
    add(db.execute(complaints), lambda r: "complaints_upheld")

    findings = _limit(select(Inspection.institution_id, Finding.outcome, func.count())
                      .join(Inspection, Inspection.id == Finding.inspection_id)
                      .where(Finding.outcome != FindingOutcome.compliant,
                             w.instants(Finding.created_at))
                      .group_by(Inspection.institution_id, Finding.outcome),
                      Inspection.institution_id, ids)
    add(db.execute(findings), lambda r: f"findings_{r[1].value}")

    sanctions = _limit(select(Sanction.institution_id, Sanction.kind, func.count())
                       .where(w.dates(Sanction.decided_on))
                       .group_by(Sanction.institution_id, Sanction.kind),
                       Sanction.institution_id, ids)
    add(db.execute(sanctions), lambda r: f"sanctions_{r[1].value}")

    on_time = _limit(select(Sanction.institution_id, func.count())
                     .where(Sanction.kind == SanctionKind.correction,
                            Sanction.corrected_on.is_not(None), Sanction.deadline.is_not(None),
                            Sanction.corrected_on <= Sanction.deadline,
                            w.dates(Sanction.corrected_on))
                     .group_by(Sanction.institution_id), Sanction.institution_id, ids)
    add(db.execute(on_time), lambda r: "corrections_on_time")

    # Qualifications as they stand now: the registry keeps no dated history of them.
    quals = _limit(select(Qualification.institution_id, Qualification.status, func.count())
                   .where(Qualification.status.in_((QualificationStatus.suspended,
                                                    QualificationStatus.withdrawn)))
                   .group_by(Qualification.institution_id, Qualification.status),
                   Qualification.institution_id, ids)
    add(db.execute(quals), lambda r: f"qualifications_{r[1].value}")

    failed = _limit(select(QualificationApplication.institution_id, func.count())
                    .where(QualificationApplication.status == ApplicationStatus.failed,
                           w.dates(func.coalesce(QualificationApplication.checked_on,
                                                 QualificationApplication.check_due)))
                    .group_by(QualificationApplication.institution_id),
                    QualificationApplication.institution_id, ids)
    add(db.execute(failed), lambda r: "commitment_checks_failed")

    disputes = _limit(select(Order.institution_id, func.count())
                      .where(Order.status == OrderStatus.disputed, w.instants(Order.updated_at))
                      .group_by(Order.institution_id), Order.institution_id, ids)
    add(db.execute(disputes), lambda r: "orders_disputed")

    known = set(rules.input_keys())
    return {inst: {k: v for k, v in row.items() if k in known} for inst, row in out.items()}


# --- recomputing -----------------------------------------------------------------------------


def _period(on: date) -> str:
    return f"{on.year:04d}-{on.month:02d}"


def recompute(db: Session, *, institution_ids: Sequence[str] | None = None,
              districts: set[str] | None = None, trigger: str = "monthly",
              on: date | None = None, actor_user_id: str | None = None,
              progress: ProgressFactory | None = None) -> int:
    """Scores the institutions (all; or ``institution_ids``; or those of ``districts``)
    by the current rule set as of ``on`` and stores one score each, auditing each in the
    same transaction. Returns how many were scored. Committed in chunks, so a run over
    many thousands holds neither memory nor the writer for long."""
    on = on or today()
    rules = scorer.load(scorer.current_version())
    q = select(Institution.id, Institution.org_id).order_by(Institution.id)
    if institution_ids is not None:
        q = q.where(Institution.id.in_(list(institution_ids)))
    if districts is not None:
        q = q.where(Institution.district.in_(sorted(districts)))
    targets = list(db.execute(q))
    if not targets:
        return 0
    whole = institution_ids is None and districts is None
    previous = latest_tiers(db, None if whole else [i for i, _ in targets])
    # The whole registry: one grouped query per input for everyone; a part: per chunk.
    everyone = gather_inputs(db, on, None, rules) if whole else None
    factory = progress or bars(show=False)
    done = 0
    with factory(len(targets), "credit tiers") as advance:
        for start in range(0, len(targets), CHUNK):
            part = targets[start:start + CHUNK]
            ids = [i for i, _ in part]
            inputs = everyone if everyone is not None else gather_inputs(db, on, ids, rules)
            # A run as of a past day (catching up, the demo's history) is dated that day.
            now = utcnow() if on >= today() else _start_of(on) + timedelta(hours=1, minutes=30)
            rows, events = [], []
            for inst, org in part:
                counts = inputs.get(inst, {})
                result = scorer.score(counts, rules)
                data = result.as_json()
                row_id = new_id()
                rows.append({"id": row_id, "institution_id": inst, "computed_at": now,
                             "period": _period(on), "trigger": trigger,
                             "rule_version": rules.version, "score": data["score"],
                             "tier": result.tier, "contributions": data["contributions"],
                             "inputs": dict(counts)})
                before = previous.get(inst)
                events.append({"action": "supervision.credit_scored",
                               "object_type": "credit_score", "object_id": row_id,
                               "actor_user_id": actor_user_id, "org_id": org,
                               "data": {"institution_id": inst, "tier": result.tier,
                                        "score": data["score"], "previous_tier": before,
                                        "rule_version": rules.version, "trigger": trigger},
                               "summary": f"tier {before or '-'} -> {result.tier}"})
                if before is not None and before != result.tier:
                    notify.notify(db, org, "supervision.tier",
                                  Msg("Your credit-risk tier changed from {old} to {new}",
                                      old=before, new=result.tier),
                                  link="/supervision/mine")
            db.execute(insert(table(CreditScore)), rows)
            audit.record_many(db, events)
            db.commit()
            done += len(part)
            advance(len(part))
    return done


def recompute_for(db: Session, principal: Principal, institution_id: str | None = None
                  ) -> int:
    """On demand, by a supervisor: one institution of their districts, or all of them."""
    if institution_id is not None:
        inst = _institution(db, institution_id)
        jurisdiction.require_supervisor(db, principal, inst.district, Role.editor)
        return recompute(db, institution_ids=[inst.id], trigger="on_demand",
                         actor_user_id=principal.user_id)
    jurisdiction.require_supervisor(db, principal, None, Role.editor)
    seen = jurisdiction.districts(db, principal)
    return recompute(db, districts=seen, trigger="on_demand", actor_user_id=principal.user_id)


# --- reading ---------------------------------------------------------------------------------


def latest_tiers(db: Session, institution_ids: Iterable[str] | None) -> dict[str, str]:
    """Each institution's latest tier; one never scored gets ``DEFAULT_TIER`` ("B", the
    tier the rule set gives an institution with no record). ``None``: every scored
    institution (those never scored are then absent)."""
    ids = None if institution_ids is None else list(dict.fromkeys(institution_ids))
    out = {inst: tier for inst, (tier, _) in latest_scores(db, ids).items()}
    for inst in ids or ():
        out.setdefault(inst, DEFAULT_TIER)
    return out


def latest_scores(db: Session, ids: Sequence[str] | None) -> dict[str, tuple[str, float]]:
    """The latest (tier, score) of each scored institution among ``ids`` (None: all), read
    in slices so that no statement carries more parameters than a database takes."""
    found: dict[str, tuple[datetime, str, str, float]] = {}
    parts: list[Sequence[str] | None] = [None] if ids is None else \
        [ids[i:i + 5000] for i in range(0, len(ids), 5000)]
    for part in parts:
        newest = select(CreditScore.institution_id, func.max(CreditScore.computed_at)
                        .label("at")).group_by(CreditScore.institution_id)
        if part is not None:
            newest = newest.where(CreditScore.institution_id.in_(part))
        sub = newest.subquery()
        rows = db.execute(select(CreditScore.institution_id, CreditScore.computed_at,
                                 CreditScore.id, CreditScore.tier, CreditScore.score)
                          .join(sub, and_(sub.c.institution_id == CreditScore.institution_id,
                                          sub.c.at == CreditScore.computed_at)))
        for inst, at, row_id, tier, value in rows:
            # Two scores at one instant: the later id (ULIDs sort by creation).
            if inst not in found or (at, row_id) > found[inst][:2]:
                found[inst] = (at, row_id, tier, value)
    return {inst: (v[2], v[3]) for inst, v in found.items()}


def _institution(db: Session, institution_id: str) -> Institution:
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise errors.not_found(Msg("institution"))
    return inst


def is_own(principal: Principal, inst: Institution) -> bool:
    return inst.org_id in principal.roles


def require_reader(db: Session, principal: Principal, inst: Institution) -> None:
    """The institution's own members, or a supervisor of its district."""
    if not principal.authenticated:
        raise errors.unauthorized()
    if not principal.has_scope(SCOPE_READ):
        raise errors.forbidden(Msg("this API token lacks the scope {scope}", scope=SCOPE_READ))
    if is_own(principal, inst):
        return
    jurisdiction.require_supervisor(db, principal, inst.district)


def history(db: Session, principal: Principal, institution_id: str, limit: int = 60
            ) -> tuple[Institution, list[CreditScore]]:
    """An institution's scores, newest first."""
    inst = _institution(db, institution_id)
    require_reader(db, principal, inst)
    scores = list(db.scalars(select(CreditScore).where(CreditScore.institution_id == inst.id)
                             .order_by(CreditScore.computed_at.desc(), CreditScore.id.desc())
                             .limit(limit)))
    return inst, scores


def get_score(db: Session, principal: Principal, score_id: str) -> CreditScore:
    row = db.get(CreditScore, score_id)
    if row is None:
        raise errors.not_found(Msg("credit score"))
    require_reader(db, principal, _institution(db, row.institution_id))
    return row


def stored(row: CreditScore) -> dict[str, Any]:
    """A stored score as published: what ``score.verify`` recomputes."""
    return {"id": row.id, "institution_id": row.institution_id,
            "computed_at": row.computed_at.isoformat(), "period": row.period,
            "trigger": row.trigger, "rule_version": row.rule_version, "score": row.score,
            "tier": row.tier, "contributions": row.contributions, "inputs": row.inputs}


def verify_score(db: Session, principal: Principal, score_id: str) -> dict[str, Any]:
    row = get_score(db, principal, score_id)
    same, result = scorer.verify(stored(row))
    return {"score_id": row.id, "matches": same, "stored": stored(row),
            "recomputed": result.as_json()}


def own_institutions(db: Session, principal: Principal) -> list[Institution]:
    """The institutions of the organisations the user belongs to (not those a regulator
    or the operator may read)."""
    orgs = list(principal.roles)
    if not orgs:
        return []
    return list(db.scalars(select(Institution).where(Institution.org_id.in_(orgs))
                           .order_by(Institution.name_zh)))


def tier_list(db: Session, principal: Principal, district: str | None, offset: int,
              limit: int) -> tuple[list[tuple[Institution, str, float | None]], int]:
    """The institutions a supervisor sees, with their latest tier and score."""
    jurisdiction.require_supervisor(db, principal, district)
    seen = jurisdiction.districts(db, principal)
    q = select(Institution)
    if district is not None:
        q = q.where(Institution.district == district)
    elif seen is not None:
        q = q.where(Institution.district.in_(sorted(seen)))
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    insts = list(db.scalars(q.order_by(Institution.name_zh, Institution.id)
                            .offset(offset).limit(limit)))
    latest = latest_scores(db, [i.id for i in insts])
    return [(i, latest[i.id][0] if i.id in latest else DEFAULT_TIER,
             latest[i.id][1] if i.id in latest else None) for i in insts], total


# --- appeals ---------------------------------------------------------------------------------


MAX_APPEAL = 5000


def appeal(db: Session, principal: Principal, score_id: str, text: str,
           uploads: Sequence[files.Upload] = ()) -> CreditAppeal:
    """The institution's own editors appeal one of its scores; its district's bureau is
    told."""
    row = db.get(CreditScore, score_id)
    if row is None:
        raise errors.not_found(Msg("credit score"))
    inst = _institution(db, row.institution_id)
    held = principal.roles.get(inst.org_id)
    if not principal.authenticated:
        raise errors.unauthorized()
    if not principal.has_scope(SCOPE_WRITE):
        raise errors.forbidden(Msg("this API token lacks the scope {scope}",
                                   scope=SCOPE_WRITE))
    if held is None or held.rank < Role.editor.rank:
        raise errors.forbidden(Msg("only the institution's own editors may appeal its tier"))
    text = text.strip()
    if not text:
        raise errors.invalid("text", Msg("say why the tier is wrong"))
    if len(text) > MAX_APPEAL:
        raise errors.invalid("text", Msg("must have at most {n} characters", n=MAX_APPEAL))
    files.check(uploads)
    if db.scalar(select(func.count()).select_from(CreditAppeal).where(
            CreditAppeal.score_id == row.id, CreditAppeal.status == AppealStatus.open)):
        raise errors.conflict("score_id", Msg("this score already has an open appeal"))
    stored_ids = files.store(db, inst.org_id, inst.id, principal.user_id, uploads)
    item = CreditAppeal(score_id=row.id, institution_id=inst.id, text=text, files=stored_ids)
    db.add(item)
    db.flush()
    audit.record(db, action="supervision.credit_appealed", object_type="credit_appeal",
                 object_id=item.id, actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"score_id": row.id, "tier": row.tier})
    bureau = jurisdiction.bureau_of(db, inst.district)
    if bureau:
        notify.notify(db, bureau, "supervision.appeal",
                      Msg("{name} appealed its credit-risk tier", name=inst.name_zh),
                      link="/supervision/appeals")
    db.commit()
    return item


def decide_appeal(db: Session, principal: Principal, appeal_id: str, upheld: bool,
                  answer: str) -> CreditAppeal:
    item = db.get(CreditAppeal, appeal_id)
    if item is None:
        raise errors.not_found(Msg("appeal"))
    inst = _institution(db, item.institution_id)
    jurisdiction.require_supervisor(db, principal, inst.district, Role.editor)
    if not principal.has_scope(SCOPE_WRITE):
        raise errors.forbidden(Msg("this API token lacks the scope {scope}",
                                   scope=SCOPE_WRITE))
    if item.status is not AppealStatus.open:
        raise errors.conflict("status", Msg("this appeal has been decided already"))
    answer = answer.strip()
    if not answer:
        raise errors.invalid("answer", Msg("give the decision's reasons"))
    if len(answer) > MAX_APPEAL:
        raise errors.invalid("answer", Msg("must have at most {n} characters", n=MAX_APPEAL))
    item.status = AppealStatus.upheld if upheld else AppealStatus.rejected
    item.answer = answer
    item.decided_at = utcnow()
    audit.record(db, action="supervision.credit_appeal_decided", object_type="credit_appeal",
                 object_id=item.id, actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"status": item.status.value})
    notify.notify(db, inst.org_id, "supervision.appeal",
                  Msg("Your appeal against the credit-risk tier was decided: {status}",
                      status=item.status), link="/supervision/mine")
    db.commit()
    if upheld:
        # An upheld appeal means the inputs were wrong and have been put right meanwhile
        # (a signal dismissed, a complaint rejected): the tier is recomputed from them.
        recompute(db, institution_ids=[inst.id], trigger="on_demand",
                  actor_user_id=principal.user_id)
    return item


def appeals_for_institution(db: Session, institution_id: str) -> list[CreditAppeal]:
    return list(db.scalars(select(CreditAppeal).where(
        CreditAppeal.institution_id == institution_id).order_by(CreditAppeal.created_at.desc())))


def list_appeals(db: Session, principal: Principal, status: AppealStatus | None = None,
                 limit: int = 200) -> list[tuple[CreditAppeal, Institution]]:
    """Supervisors: the appeals of their districts; others: their own institutions'."""
    if not principal.authenticated:
        raise errors.unauthorized()
    q = select(CreditAppeal, Institution).join(
        Institution, Institution.id == CreditAppeal.institution_id)
    if jurisdiction.bureau_orgs(principal) or principal.is_operator:
        seen = jurisdiction.districts(db, principal)
        if seen is not None:
            q = q.where(Institution.district.in_(sorted(seen)))
    else:
        q = q.where(Institution.org_id.in_(list(principal.roles)))
    if status is not None:
        q = q.where(CreditAppeal.status == status)
    return [(a, i) for a, i in db.execute(q.order_by(CreditAppeal.created_at.desc())
                                          .limit(limit))]


def appeal_file(db: Session, principal: Principal, appeal_id: str, file_id: str
                ) -> StoredFile:
    """A file of an appeal, for the institution's members and its district's supervisors."""
    item = db.get(CreditAppeal, appeal_id)
    if item is None or file_id not in item.files:
        raise errors.not_found(Msg("file"))
    require_reader(db, principal, _institution(db, item.institution_id))
    row = db.get(StoredFile, file_id)
    if row is None:
        raise errors.not_found(Msg("file"))
    return row


def label(key: str, locale: str, rules: scorer.RuleSet | None = None) -> str:
    """An input's name in the reader's language, from the rule set that defines it."""
    if key == "base":
        return Msg("Base score").localize(locale)
    rules = rules or scorer.load(scorer.current_version())
    for r in rules.inputs:
        if r.key == key:
            return r.label.get(locale, r.label["en"])
    return key
