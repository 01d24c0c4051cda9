"""Signals' use cases: storing what the rules found (once per rule and subject), triage by
the supervisors of the institution's district, asking the lab to explain and its answer,
and the figures colleagues read (confirmed counts, open counts by district, precision).

Who sees a signal: the supervisors of its district (``supervision.jurisdiction``) always;
its lab only once asked to explain or once confirmed; nobody else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, tuple_
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal
from tichub.core.db import table
from tichub.core.ids import new_id, utcnow
from tichub.core.messages import Msg
from tichub.core.models import OrgKind, Role
from tichub.core.notify import notify
from tichub.core.schemas import _CONTROL
from tichub.registry.models import Institution
from tichub.supervision import files as stored_files
from tichub.supervision import jurisdiction
from tichub.supervision.models import Severity, Signal, SignalStatus, StoredFile
from tichub.supervision.signals import rules
from tichub.supervision.signals.queries import Hit

CHUNK = 500  # hits written per round trip
MAX_FILES = stored_files.MAX_FILES
MAX_FILE_BYTES = stored_files.MAX_FILE
Upload = stored_files.Upload
DECIDED = (SignalStatus.confirmed, SignalStatus.dismissed)
LAB_KINDS = (OrgKind.lab, OrgKind.certification_body)


# --- storing what the rules found -----------------------------------------------------------

def save_hits(db: Session, hits: Iterable[Hit], source: str = "batch",
              counts: dict[str, int] | None = None) -> int:
    """Writes the hits not already stored (by rule and subject: a rerun never raises a
    signal twice, and a dismissed one stays dismissed); returns how many were new.
    ``counts`` (rule → new signals) is added to as it goes."""
    new = 0
    chunk: list[Hit] = []
    for hit in hits:
        chunk.append(hit)
        if len(chunk) >= CHUNK:
            new += _save_chunk(db, chunk, source, counts)
            chunk = []
    if chunk:
        new += _save_chunk(db, chunk, source, counts)
    return new


def merge(hits: Iterable[Hit]) -> dict[tuple[str, str], Hit]:
    """One hit per rule and subject, with the evidence of all."""
    merged: dict[tuple[str, str], Hit] = {}
    for h in hits:
        key = (h.code, h.subject)
        if key in merged:
            merged[key].evidence.extend(e for e in h.evidence
                                        if e not in merged[key].evidence)
        else:
            merged[key] = h
    return merged


def signal_row(h: Hit, place: tuple[str, str | None], number: str | None, source: str,
               now: datetime) -> dict[str, Any]:
    """The stored signal of a hit (``place``: the institution's organisation and district)."""
    org_id, district = place
    return {"id": new_id(), "created_at": now, "code": h.code, "subject": h.subject[:200],
            "severity": rules.rule(h.code).severity, "institution_id": h.institution_id,
            "org_id": org_id, "district": district or "", "record_id": h.record_id,
            "number": number, "params": h.params, "evidence": h.evidence, "source": source,
            "status": SignalStatus.open, "reason": "", "question": "", "answer": "",
            "answer_files": []}


def _save_chunk(db: Session, hits: list[Hit], source: str,
                counts: dict[str, int] | None) -> int:
    merged = merge(hits)
    known = set(db.execute(select(Signal.code, Signal.subject).where(
        tuple_(Signal.code, Signal.subject).in_(list(merged)))).all())
    fresh = [h for k, h in merged.items() if k not in known]
    if not fresh:
        return 0
    places = dict((i, (o, d)) for i, o, d in db.execute(
        select(Institution.id, Institution.org_id, Institution.district)
        .where(Institution.id.in_({h.institution_id for h in fresh}))).all())
    numbers: dict[str, str] = {}
    record_ids = {h.record_id for h in fresh if h.record_id}
    if record_ids:
        from tichub.reports.models import ReportRecord  # read-only: the number shown

        numbers = dict(db.execute(select(ReportRecord.id, ReportRecord.number)
                                  .where(ReportRecord.id.in_(record_ids))).all())
    now = utcnow()
    rows = []
    for h in fresh:
        if h.institution_id not in places:
            continue
        rows.append(signal_row(h, places[h.institution_id],
                               numbers.get(h.record_id or ""), source, now))
        if counts is not None:
            counts[h.code] = counts.get(h.code, 0) + 1
    if rows:
        db.execute(insert(table(Signal)), rows)
    return len(rows)


# --- reading --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    district: str | None = None
    code: str | None = None
    severity: Severity | None = None
    status: SignalStatus | None = None
    institution_id: str | None = None


def _supervised(db: Session, principal: Principal, f: Filters) -> Any:
    jurisdiction.require_supervisor(db, principal, f.district)
    seen = jurisdiction.districts(db, principal)
    q = select(Signal)
    if seen is not jurisdiction.ALL:
        q = q.where(Signal.district.in_(seen))
    if f.district:
        q = q.where(Signal.district == f.district)
    if f.code:
        q = q.where(Signal.code == f.code)
    if f.severity:
        q = q.where(Signal.severity == f.severity)
    if f.status:
        q = q.where(Signal.status == f.status)
    if f.institution_id:
        q = q.where(Signal.institution_id == f.institution_id)
    return q


def list_signals(db: Session, principal: Principal, f: Filters, offset: int = 0,
                 limit: int = 50) -> tuple[list[Signal], int]:
    """The signals of the districts the supervisor sees, newest first."""
    q = _supervised(db, principal, f)
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    items = list(db.scalars(q.order_by(Signal.created_at.desc(), Signal.id.desc())
                            .offset(offset).limit(limit)))
    return items, total


def iter_signals(db: Session, principal: Principal, f: Filters) -> Iterator[Signal]:
    """Every matching signal, for exports, streamed."""
    q = _supervised(db, principal, f).order_by(Signal.created_at.desc(), Signal.id.desc())
    yield from db.scalars(q.execution_options(yield_per=1000))


def lab_sees(principal: Principal, s: Signal) -> bool:
    return s.org_id in principal.roles and (s.asked_at is not None
                                            or s.status is SignalStatus.confirmed)


def get_signal(db: Session, principal: Principal, signal_id: str) -> Signal:
    """A signal for its supervisors, or for its lab once asked or confirmed; to anyone else
    it does not exist."""
    s = db.get(Signal, signal_id)
    if s is None:
        raise errors.not_found(Msg("signal"))
    if not principal.authenticated:
        raise errors.unauthorized()
    if jurisdiction.supervises(db, principal, s.district) and (
            principal.is_operator or jurisdiction.bureau_orgs(principal)):
        return s
    if lab_sees(principal, s):
        return s
    raise errors.not_found(Msg("signal"))


def is_supervisor_of(db: Session, principal: Principal, s: Signal) -> bool:
    return bool(principal.is_operator or (jurisdiction.bureau_orgs(principal)
                                          and jurisdiction.supervises(db, principal,
                                                                      s.district)))


def lab_signals(db: Session, principal: Principal, org_id: str | None = None
                ) -> list[Signal]:
    """The signals a lab may see about its own institutions: asked about, or confirmed."""
    orgs = [o for o in principal.roles if principal.kinds.get(o) in LAB_KINDS]
    if org_id is not None:
        if org_id not in orgs:
            raise errors.forbidden()
        orgs = [org_id]
    if not orgs:
        return []
    return list(db.scalars(select(Signal).where(
        Signal.org_id.in_(orgs),
        or_(Signal.asked_at.is_not(None), Signal.status == SignalStatus.confirmed))
        .order_by(Signal.asked_at.desc(), Signal.created_at.desc()).limit(500)))


def explanation(s: Signal) -> Msg:
    return rules.rule(s.code).explain(s.params or {})


def files_of(db: Session, s: Signal) -> list[StoredFile]:
    if not s.answer_files:
        return []
    return list(db.scalars(select(StoredFile).where(StoredFile.id.in_(s.answer_files))
                           .order_by(StoredFile.created_at)))


def get_file(db: Session, principal: Principal, signal_id: str, file_id: str) -> StoredFile:
    s = get_signal(db, principal, signal_id)
    if file_id not in (s.answer_files or []):
        raise errors.not_found(Msg("file"))
    f = db.get(StoredFile, file_id)
    if f is None:
        raise errors.not_found(Msg("file"))
    return f


# --- triage ---------------------------------------------------------------------------------

def _for_supervisor(db: Session, principal: Principal, signal_id: str) -> Signal:
    s = db.get(Signal, signal_id)
    if s is None:
        raise errors.not_found(Msg("signal"))
    try:
        jurisdiction.require_supervisor(db, principal, s.district, Role.editor)
    except errors.Problem:
        # Outside the district, the signal is as if it did not exist.
        if lab_sees(principal, s) or jurisdiction.supervises(db, principal, s.district):
            raise
        raise errors.not_found(Msg("signal")) from None
    if principal.scopes is not None and "supervision:write" not in principal.scopes:
        raise errors.forbidden(Msg("this API token lacks the scope {scope}",
                                   scope="supervision:write"))
    return s


def decide(db: Session, principal: Principal, signal_id: str, status: SignalStatus,
           reason: str = "") -> Signal:
    """open → under review → confirmed or dismissed (with a reason). A decided signal
    stays decided."""
    s = _for_supervisor(db, principal, signal_id)
    if s.status in DECIDED:
        raise errors.conflict("status", Msg("this signal was already decided: {status}",
                                            status=s.status))
    if status is SignalStatus.open:
        raise errors.invalid("status", Msg("a signal cannot be reopened"))
    if status in DECIDED and not reason.strip():
        raise errors.invalid("reason", Msg("say why"))
    if status is s.status:
        raise errors.conflict("status", Msg("the signal is already {status}", status=status))
    before = s.status
    s.status = status
    s.reason = reason.strip()
    s.decided_by = principal.user_id if principal.user_id != "cli" else None
    s.decided_at = utcnow()
    audit.record(db, action=f"supervision.signal.{status.value}", object_type="signal",
                 object_id=s.id, actor_user_id=s.decided_by, org_id=None,
                 data={"code": s.code, "institution_id": s.institution_id,
                       "from": before.value, "to": status.value, "reason": s.reason},
                 summary=f"{s.code} {s.number or s.subject}: {before.value} → {status.value}")
    if status is SignalStatus.confirmed:
        notify(db, s.org_id, "supervision.signal", Msg(
            "The regulator confirmed a signal about your institution: {rule}",
            rule=rules.rule(s.code).title), link=f"/supervision/mine/signals/{s.id}")
    db.commit()
    return s


def ask(db: Session, principal: Principal, signal_id: str, question: str) -> Signal:
    """Asks the lab to explain: from now on the lab sees the signal and may answer."""
    s = _for_supervisor(db, principal, signal_id)
    if s.status in DECIDED:
        raise errors.conflict("status", Msg("this signal was already decided: {status}",
                                            status=s.status))
    if not question.strip():
        raise errors.invalid("question", Msg("write the question"))
    s.question = question.strip()
    s.asked_at = utcnow()
    s.asked_by = principal.user_id if principal.user_id != "cli" else None
    if s.status is SignalStatus.open:
        s.status = SignalStatus.under_review
    audit.record(db, action="supervision.signal.asked", object_type="signal", object_id=s.id,
                 actor_user_id=s.asked_by, org_id=s.org_id,
                 data={"code": s.code, "question": s.question},
                 summary=f"the regulator asks about {s.code} {s.number or ''}".strip())
    notify(db, s.org_id, "supervision.signal", Msg(
        "The regulator asks you to explain: {rule}", rule=rules.rule(s.code).title),
        body=s.question, link=f"/supervision/mine/signals/{s.id}")
    db.commit()
    return s


def answer(db: Session, principal: Principal, signal_id: str, text: str,
           files: Sequence[Upload] = ()) -> Signal:
    """The lab's answer, with files; it may answer again until the signal is decided."""
    s = db.get(Signal, signal_id)
    if s is None or s.org_id not in principal.roles or s.asked_at is None:
        raise errors.not_found(Msg("signal"))
    if principal.roles[s.org_id].rank < Role.editor.rank:
        raise errors.forbidden(Msg("this needs the role: {role}", role=Role.editor))
    if principal.scopes is not None and "supervision:write" not in principal.scopes:
        raise errors.forbidden(Msg("this API token lacks the scope {scope}",
                                   scope="supervision:write"))
    if s.status in DECIDED:
        raise errors.conflict("status", Msg("this signal was already decided: {status}",
                                            status=s.status))
    # Control characters (a NUL above all) no database keeps: a form or a file name may
    # carry them.
    text = _CONTROL.sub("", text)
    if not text.strip():
        raise errors.invalid("answer", Msg("write the answer"))
    ids = list(s.answer_files or []) + stored_files.store(
        db, s.org_id, s.institution_id, principal.user_id, files,
        already=len(s.answer_files or []))
    s.answer = text.strip()
    s.answer_files = ids
    s.answered_at = utcnow()
    audit.record(db, action="supervision.signal.answered", object_type="signal",
                 object_id=s.id, actor_user_id=principal.user_id, org_id=s.org_id,
                 data={"code": s.code, "files": ids},
                 summary=f"answer to the regulator about {s.code} {s.number or ''}".strip())
    db.commit()
    return s


# --- figures for colleagues -----------------------------------------------------------------

def confirmed_counts(db: Session, institution_id: str,
                     since: datetime | None = None) -> dict[Severity, int]:
    """Confirmed signals about an institution by severity (decided since ``since``): the
    credit tiers' input."""
    q = (select(Signal.severity, func.count()).where(
        Signal.institution_id == institution_id, Signal.status == SignalStatus.confirmed)
        .group_by(Signal.severity))
    if since is not None:
        q = q.where(Signal.decided_at >= since)
    found = {Severity(sev): n for sev, n in db.execute(q).all()}
    return {sev: found.get(sev, 0) for sev in Severity}


def open_counts_by_district(db: Session, districts: set[str] | None
                            ) -> dict[str, dict[Severity, int]]:
    """Open and under-review signals per district and severity (``None``: every district)
    for the dashboard."""
    q = (select(Signal.district, Signal.severity, func.count())
         .where(Signal.status.in_((SignalStatus.open, SignalStatus.under_review)))
         .group_by(Signal.district, Signal.severity))
    if districts is not None:
        q = q.where(Signal.district.in_(districts))
    out: dict[str, dict[Severity, int]] = {}
    for district, sev, n in db.execute(q).all():
        out.setdefault(district, {s: 0 for s in Severity})[Severity(sev)] = n
    return out


@dataclass(frozen=True)
class Precision:
    code: str
    confirmed: int
    dismissed: int
    open: int

    @property
    def precision(self) -> float | None:
        decided = self.confirmed + self.dismissed
        return None if decided == 0 else self.confirmed / decided


def precision_by_rule(db: Session, districts: set[str] | None = None) -> list[Precision]:
    """Each rule's precision from the supervisors' decisions: confirmed ÷ (confirmed +
    dismissed); rules with no signal show zeros."""
    q = select(Signal.code, Signal.status, func.count()).group_by(Signal.code, Signal.status)
    if districts is not None:
        q = q.where(Signal.district.in_(districts))
    tally: dict[str, dict[str, int]] = {r.code: {} for r in rules.RULES}
    for code, status, n in db.execute(q).all():
        tally.setdefault(code, {})[SignalStatus(status).value] = n
    return [Precision(code, t.get("confirmed", 0), t.get("dismissed", 0),
                      t.get("open", 0) + t.get("under_review", 0))
            for code, t in tally.items()]


TABLES: dict[str, Msg] = {
    "report_evidence_items": Msg("Test item"),
    "report_evidence_samplings": Msg("Sampling event"),
    "report_evidence_results": Msg("Results"),
    "report_records": Msg("Report record"),
    "instruments": Msg("Instrument"),
    "instrument_events": Msg("Calibration or outage"),
    "standard_editions": Msg("Standard edition"),
    "service_listings": Msg("Service offer"),
    "pt_results": Msg("PT result"),
    "bookings": Msg("Marketplace booking"),
}
KEYS: dict[str, Msg] = {
    "record_id": Msg("record"), "seq": Msg("No."), "id": Msg("id"),
    "instrument_id": Msg("instrument"), "institution_id": Msg("institution"),
    "day": Msg("day"),
}
FIELDS: dict[str, Msg] = {
    "parameter": Msg("Parameter"), "standard": Msg("Standard"),
    "instrument_id": Msg("Instrument (register)"), "instrument_ref": Msg("Instrument as given"),
    "tester_id": Msg("Tester (register)"), "tester_ref": Msg("Tester as given"),
    "started_at": Msg("Started"), "ended_at": Msg("Ended"), "what": Msg("Sample"),
    "sampler_id": Msg("Sampler (register)"), "sampler_ref": Msg("Sampler as given"),
    "district": Msg("District"), "latitude": Msg("Latitude"), "longitude": Msg("Longitude"),
    "at": Msg("Time"), "value_text": Msg("Value"), "value": Msg("Value (number)"),
    "unit": Msg("Unit"),
}


def _keyed(key: dict[str, Any]) -> list[tuple[Msg, Any]]:
    return [(KEYS.get(k, Msg("key")), v) for k, v in key.items()]


def evidence_rows(db: Session, s: Signal) -> list[dict[str, Any]]:
    """The evidence rows as stored in the signal, named as people call them, each with the
    row's current fields where it is an evidence row (read-only, for the supervisor)."""
    from tichub.reports.models import EvidenceItem, EvidenceResult, EvidenceSampling

    models: dict[str, Any] = {"report_evidence_items": EvidenceItem,
                              "report_evidence_samplings": EvidenceSampling,
                              "report_evidence_results": EvidenceResult}
    out = []
    for ev in (s.evidence or [])[:50]:
        table_name = str(ev.get("table"))
        key = ev.get("key", {})
        row: dict[str, Any] = {"table": table_name,
                               "label": TABLES.get(table_name, Msg("Row")),
                               "key": _keyed(key), "fields": []}
        model = models.get(table_name)
        if model is not None and "record_id" in key and "seq" in key:
            found = db.get(model, (key["record_id"], key["seq"]))
            if found is not None:
                row["fields"] = [(FIELDS[c.key], getattr(found, c.key))
                                 for c in model.__table__.columns if c.key in FIELDS
                                 and getattr(found, c.key) not in (None, "")]
        also = ev.get("also")
        if also:
            row["also"] = {"label": TABLES.get(str(also.get("table")), Msg("Row")),
                           "key": _keyed(also.get("key", {}))}
        out.append(row)
    return out
