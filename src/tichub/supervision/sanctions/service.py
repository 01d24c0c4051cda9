"""Sanction use cases: the only code that writes sanctions. Each one changes what it must
elsewhere through that domain's service (the qualification's status in the registry, a
false report's revocation in the log), audits and tells the lab, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import audit, errors, notify
from tichub.core.auth import Principal
from tichub.core.ids import today
from tichub.core.messages import Msg
from tichub.core.models import Organisation, Role
from tichub.registry import service as registry
from tichub.registry.models import Institution, QualificationKind, QualificationStatus
from tichub.reports import service as reports
from tichub.reports.models import RecordEvent, ReportRecord
from tichub.supervision.inspections.service import acting_bureau
from tichub.supervision.jurisdiction import ALL, districts, require_supervisor
from tichub.supervision.models import Inspection, Sanction, SanctionKind, Signal
from tichub.supervision.sanctions.schemas import LiftIn, SanctionIn

# Administrative penalties (an order to correct is not one): a false report within two years
# of one is a repeat offence.
PENALTIES = (SanctionKind.warning, SanctionKind.fine, SanctionKind.suspension,
             SanctionKind.revocation, SanctionKind.dishonesty_list)
# SAMR's January 2026 opinion: serious circumstances.
KEY_FIELD_LIMIT = 2
ANY_FIELD_LIMIT = 10
REPEAT_YEARS = 2
# A false report is in a key field when its sanction says so, or when the logged record's
# product or standards name one: children's products, motor vehicles, e-bikes, fire
# products, hazardous chemicals, CCC or licensed products. Words and standard numbers, both
# matched case-insensitively as substrings (docs/supervision-draw.md lists them too).
KEY_WORDS = ("儿童", "童装", "童车", "玩具", "婴", "机动车", "汽车", "车辆", "摩托车",
             "电动自行车", "电动车", "消防", "灭火", "防火", "阻燃", "危险化学品", "危化",
             "ccc", "3c", "强制性产品认证", "生产许可", "toy", "child", "vehicle", "e-bike",
             "fire", "hazardous chemical")
KEY_STANDARDS = ("gb 6675", "gb 14746", "gb 14747", "gb 17761", "gb 43854", "gb 7258",
                 "gb 4351", "gb 8624", "gb 25506", "gb 15603", "gb 30000", "gb 28007",
                 "gb 31701", "gb 27887", "gb 14748")


def is_key_field(public: dict[str, Any]) -> bool:
    """Whether a logged record's own words put it in a key field."""
    text = " ".join([str(public.get("product") or ""),
                     *(str(s) for s in public.get("standards") or [])]).lower()
    return any(w in text for w in KEY_WORDS) or any(s in text for s in KEY_STANDARDS)


# --- the 2026 thresholds ---------------------------------------------------------------------

@dataclass
class Thresholds:
    institution_id: str
    false_reports: int = 0
    key_field_reports: int = 0
    repeat: bool = False
    reasons: list[Msg] = field(default_factory=list)
    already_revoked: bool = False

    @property
    def propose_revocation(self) -> bool:
        return bool(self.reasons) and not self.already_revoked


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _key_numbers(db: Session, institution_id: str, wanted: Iterable[str]) -> set[str]:
    """The numbers among ``wanted`` whose issued record reads as a key field. Reads the
    report log's table directly, read-only: a supervision rule over many records."""
    wanted = list(set(wanted))
    if not wanted:
        return set()
    rows = db.execute(select(ReportRecord.number_key, ReportRecord.public).where(
        ReportRecord.institution_id == institution_id, ReportRecord.number_key.in_(wanted),
        ReportRecord.event == RecordEvent.issued))
    return {n for n, public in rows if isinstance(public, dict) and is_key_field(public)}


def thresholds(db: Session, institution_id: str, pending: Sequence[str] = (),
               pending_key: bool = False, on: date | None = None) -> Thresholds:
    """The institution's confirmed false reports against the 2026 thresholds, with a sanction
    being drafted (``pending`` numbers, decided ``on``) counted as if recorded."""
    rows = list(db.scalars(select(Sanction).where(Sanction.institution_id == institution_id)
                           .order_by(Sanction.decided_on, Sanction.id)))
    events: list[tuple[date, SanctionKind | None, list[str], bool]] = [
        (s.decided_on, s.kind, list(s.false_numbers), s.key_field) for s in rows]
    if pending:
        events.append((on or today(), None, list(pending), pending_key))
    found: set[str] = set()
    flagged: set[str] = set()
    for _, _, nums, key in events:
        found.update(nums)
        if key:
            flagged.update(nums)
    flagged |= _key_numbers(db, institution_id, found - flagged)
    t = Thresholds(institution_id, len(found), len(flagged))
    penalties = [d for d, kind, _, _ in events if kind in PENALTIES]
    t.repeat = any(p < d <= _add_years(p, REPEAT_YEARS)
                   for d, _, nums, _ in events if nums for p in penalties)
    if t.key_field_reports >= KEY_FIELD_LIMIT:
        t.reasons.append(Msg("{n} false reports in key fields (the threshold is {limit})",
                             n=t.key_field_reports, limit=KEY_FIELD_LIMIT))
    if t.false_reports >= ANY_FIELD_LIMIT:
        t.reasons.append(Msg("{n} false reports (the threshold is {limit})",
                             n=t.false_reports, limit=ANY_FIELD_LIMIT))
    if t.repeat:
        t.reasons.append(Msg("a false report within {years} years of a penalty",
                             years=REPEAT_YEARS))
    t.already_revoked = any(s.kind is SanctionKind.revocation and s.lifted_on is None
                            for s in rows)
    return t


# --- recording -------------------------------------------------------------------------------

def institution_for(db: Session, principal: Principal, institution_id: str,
                    role: Role = Role.viewer) -> Institution:
    """The institution, for a supervisor of its district."""
    inst = db.get(Institution, institution_id)
    if inst is None:
        require_supervisor(db, principal, None, role)
        raise errors.not_found(Msg("institution"))
    require_supervisor(db, principal, inst.district, role)
    return inst


def _qualifications(inst: Institution, chosen: str | None, kind: SanctionKind) -> list[Any]:
    if chosen is not None:
        found = [q for q in inst.qualifications if q.id == chosen]
        if not found:
            raise errors.invalid("qualification_id", Msg("is not a qualification of this "
                                                         "institution"))
        return found
    cma = [q for q in inst.qualifications if q.kind is QualificationKind.cma
           and q.status is not QualificationStatus.withdrawn]
    if not cma:
        raise errors.invalid("kind", Msg("{kind}: the institution holds no CMA qualification in "
                                         "force", kind=kind))
    return cma


def record_sanction(db: Session, principal: Principal, log: reports.Log,
                    data: SanctionIn) -> Sanction:
    inst = institution_for(db, principal, data.institution_id, Role.editor)
    bureau, district = acting_bureau(db, principal, data.bureau_org_id)
    if district is not None and district != inst.district:
        raise errors.forbidden(Msg("this institution is outside your bureau's district"))
    if data.inspection_id is not None:
        inspection = db.get(Inspection, data.inspection_id)
        if inspection is None or inspection.institution_id != inst.id:
            raise errors.invalid("inspection_id", Msg("is not an inspection of this institution"))
    if data.signal_ids:
        known = set(db.scalars(select(Signal.id).where(Signal.id.in_(data.signal_ids),
                                                       Signal.institution_id == inst.id)))
        if missing := [s for s in data.signal_ids if s not in known]:
            raise errors.invalid("signal_ids", Msg("is not a signal about this institution: "
                                                   "{id}", id=missing[0]))
    quals = []
    if data.kind in (SanctionKind.suspension, SanctionKind.revocation):
        quals = _qualifications(inst, data.qualification_id, data.kind)
    bureau_name = db.get(Organisation, bureau)
    receipts = reports.revoke_by_regulator(
        db, principal, log, inst.id, data.false_numbers,
        reports.Regulator(bureau_name.name if bureau_name else "", data.decision_no),
        data.reason or data.decision_no) if data.false_numbers else []
    status = QualificationStatus.suspended if data.kind is SanctionKind.suspension \
        else QualificationStatus.withdrawn
    for q in quals:
        registry.set_status_by_regulator(db, principal, q, status, data.decision_no)
    sanction = Sanction(
        institution_id=inst.id, bureau_org_id=bureau, kind=data.kind,
        decision_no=data.decision_no.strip(), decided_on=data.decided_on, deadline=data.deadline,
        fine_fen=data.fine_fen, reason=data.reason, basis=data.basis,
        inspection_id=data.inspection_id, signal_ids=list(data.signal_ids),
        false_numbers=list(data.false_numbers), key_field=data.key_field)
    db.add(sanction)
    db.flush()
    audit.record(db, action="supervision.sanction", object_type="sanction", object_id=sanction.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"kind": data.kind.value, "decision_no": sanction.decision_no,
                       "institution_id": inst.id, "fine_fen": data.fine_fen,
                       "qualifications": [q.id for q in quals],
                       "revoked": [r.record_id for r in receipts]})
    notify.notify(db, inst.org_id, "supervision.sanction", Msg(
        "The market regulator decided {kind} against {name} (decision {no})",
        kind=data.kind, name=inst.name_zh, no=sanction.decision_no),
        link=f"/supervision/sanctions/{sanction.id}")
    db.commit()
    return sanction


def _own(db: Session, principal: Principal, sanction_id: str) -> tuple[Sanction, Institution]:
    sanction = db.get(Sanction, sanction_id)
    if sanction is None:
        require_supervisor(db, principal, None, Role.editor)
        raise errors.not_found(Msg("sanction"))
    inst = institution_for(db, principal, sanction.institution_id, Role.editor)
    acting_bureau(db, principal, sanction.bureau_org_id)
    return sanction, inst


def lift_sanction(db: Session, principal: Principal, sanction_id: str, data: LiftIn) -> Sanction:
    """Ends a suspension (the qualification is in force again) or takes the institution off
    the dishonesty list."""
    sanction, inst = _own(db, principal, sanction_id)
    if sanction.kind not in (SanctionKind.suspension, SanctionKind.dishonesty_list):
        raise errors.conflict("kind", Msg("only a suspension or a listing is lifted"))
    if sanction.lifted_on is not None:
        raise errors.conflict("lifted_on", Msg("lifted already"))
    on = data.on or today()
    if on < sanction.decided_on:
        raise errors.invalid("on", Msg("is before the decision"))
    sanction.lifted_on = on
    if sanction.kind is SanctionKind.suspension:
        for q in inst.qualifications:
            if q.kind is QualificationKind.cma and q.status is QualificationStatus.suspended:
                registry.set_status_by_regulator(db, principal, q, QualificationStatus.valid,
                                                 sanction.decision_no)
    audit.record(db, action="supervision.sanction_lifted", object_type="sanction",
                 object_id=sanction.id, actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"on": on.isoformat(), "reason": data.reason})
    notify.notify(db, inst.org_id, "supervision.sanction", Msg(
        "The market regulator lifted {kind} (decision {no})", kind=sanction.kind,
        no=sanction.decision_no), link=f"/supervision/sanctions/{sanction.id}")
    db.commit()
    return sanction


def mark_corrected(db: Session, principal: Principal, sanction_id: str,
                   on: date | None = None) -> Sanction:
    sanction, inst = _own(db, principal, sanction_id)
    if sanction.kind is not SanctionKind.correction:
        raise errors.conflict("kind", Msg("only an order to correct is corrected"))
    if sanction.corrected_on is not None:
        raise errors.conflict("corrected_on", Msg("corrected already"))
    sanction.corrected_on = on or today()
    audit.record(db, action="supervision.sanction_corrected", object_type="sanction",
                 object_id=sanction.id, actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"on": sanction.corrected_on.isoformat(),
                       "in_time": bool(sanction.deadline and
                                       sanction.corrected_on <= sanction.deadline)})
    db.commit()
    return sanction


# --- reading ---------------------------------------------------------------------------------

def get_sanction(db: Session, principal: Principal, sanction_id: str) -> Sanction:
    """A sanction: public (administrative penalties are disclosed), so anyone may read it."""
    sanction = db.get(Sanction, sanction_id)
    if sanction is None:
        raise errors.not_found(Msg("sanction"))
    return sanction


def list_sanctions(db: Session, principal: Principal, institution_id: str | None = None,
                   limit: int = 500) -> list[Sanction]:
    """Sanctions in the supervisor's districts, newest first."""
    require_supervisor(db, principal)
    seen = districts(db, principal)
    q = select(Sanction).join(Institution, Institution.id == Sanction.institution_id)
    if seen is not ALL:
        q = q.where(Institution.district.in_(seen))
    if institution_id:
        q = q.where(Sanction.institution_id == institution_id)
    return list(db.scalars(q.order_by(Sanction.decided_on.desc(), Sanction.id.desc())
                           .limit(limit)))


def public_sanctions(db: Session, limit: int = 1000) -> list[Sanction]:
    return list(db.scalars(select(Sanction).order_by(Sanction.decided_on.desc(),
                                                     Sanction.id.desc()).limit(limit)))


def dishonesty_list(db: Session, institution_id: str | None = None) -> list[Sanction]:
    """Listings in force (not lifted), newest first; of one institution if given."""
    q = select(Sanction).where(Sanction.kind == SanctionKind.dishonesty_list,
                               Sanction.lifted_on.is_(None))
    if institution_id:
        q = q.where(Sanction.institution_id == institution_id)
    return list(db.scalars(q.order_by(Sanction.decided_on.desc(), Sanction.id.desc())))


def of_institution(db: Session, institution_id: str) -> list[Sanction]:
    return list(db.scalars(select(Sanction).where(Sanction.institution_id == institution_id)
                           .order_by(Sanction.decided_on.desc(), Sanction.id.desc())))


