"""The rules run at registration, on the records just prepared, in the registration's own
transaction. Only the rules that look at the new records run here (``Rule.incremental``);
the rules over the whole registry (daily volume, duplicate vectors, trailing digits, prices)
wait for the batch run.

A registration is one record, or a LIMS's call of a hundred, and the target is a p99 under
2 ms a record: one SQL statement per rule made the round trips dominate. So the work is two
rounds of fixed statements (``cursor``; on PostgreSQL each round is one round trip): first
the new records, their evidence, the register rows the evidence names and the PT results;
then what those name elsewhere (the signers in the staff register, and, for the rules that
need other records, the items, bookings and samplings near the new ones in time, narrow
indexed queries bounded to the new records' instruments, people and time window). The
rules about one record are judged here in Python, the same rules and thresholds as the
batch's SQL in ``queries.py`` (``tests/test_supervision_signals_rules.py`` holds the two to
the same answers). New signals are a third round, only when there are some. Like the batch,
these queries read the reports' evidence and the equipment, staff and standards registers
read-only, for speed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import bindparam, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tichub.core.db import table
from tichub.core.ids import BEIJING, utcnow
from tichub.market.models import Instrument, InstrumentEvent, InstrumentEventKind
from tichub.registry.models import Institution, Staff, StandardEdition
from tichub.reports.models import (
    EvidenceItem,
    EvidenceSampling,
    RecordEvent,
    ReportRecord,
)
from tichub.supervision.models import Signal
from tichub.supervision.signals import queries, rules, service
from tichub.supervision.signals.cursor import Batch, Statement
from tichub.supervision.signals.queries import Hit, as_dt, bj_minute, day_text, item_ref

_IDS: Any = bindparam("ids", expanding=True)
_KEYS: Any = bindparam("keys", expanding=True)
_NAMES: Any = bindparam("names", expanding=True)

# Compiled once per database kind and run on the cursor (``cursor``): building, keying and
# expanding a SQLAlchemy statement cost several times running it here.
_RECORDS = Statement(lambda kind: select(
    ReportRecord.id, ReportRecord.institution_id, ReportRecord.issued_on, ReportRecord.event,
    ReportRecord.public, ReportRecord.flags, ReportRecord.number,
    Institution.org_id, Institution.district,
).outerjoin(Institution, Institution.id == ReportRecord.institution_id)
    .where(ReportRecord.id.in_(_IDS)).order_by(ReportRecord.id))

_ITEMS = Statement(lambda kind: select(
    EvidenceItem.record_id, EvidenceItem.seq, EvidenceItem.institution_id,
    EvidenceItem.standard, EvidenceItem.instrument_id, EvidenceItem.instrument_ref,
    EvidenceItem.tester_id, EvidenceItem.started_at, EvidenceItem.ended_at,
    Instrument.id.label("ins_id"), Instrument.asset_no,
    Instrument.name.label("instrument_name"), Instrument.tests_per_day,
    Instrument.hours_per_test,
    Staff.id.label("staff_id"), Staff.name.label("staff_name"),
    Staff.employed_from, Staff.employed_until)
    .outerjoin(Instrument, Instrument.id == EvidenceItem.instrument_id)
    .outerjoin(Staff, Staff.id == EvidenceItem.tester_id)
    .where(EvidenceItem.record_id.in_(_IDS))
    .order_by(EvidenceItem.record_id, EvidenceItem.seq))

_SAMPLINGS = Statement(lambda kind: select(
    EvidenceSampling.record_id, EvidenceSampling.seq, EvidenceSampling.institution_id,
    EvidenceSampling.sampler_id, EvidenceSampling.sampler_ref, EvidenceSampling.at,
    EvidenceSampling.latitude, EvidenceSampling.longitude,
    Staff.id.label("staff_id"), Staff.name.label("staff_name"),
    Staff.employed_from, Staff.employed_until)
    .outerjoin(Staff, Staff.id == EvidenceSampling.sampler_id)
    .where(EvidenceSampling.record_id.in_(_IDS))
    .order_by(EvidenceSampling.record_id, EvidenceSampling.seq))

# The register rows the new items name, found through the items (no second round trip).
_EVENTS = Statement(lambda kind: select(
    InstrumentEvent.id, InstrumentEvent.instrument_id, InstrumentEvent.kind,
    InstrumentEvent.valid_from, InstrumentEvent.valid_until)
    .where(InstrumentEvent.instrument_id.in_(
        select(EvidenceItem.instrument_id).where(EvidenceItem.record_id.in_(_IDS))),
        InstrumentEvent.kind.in_((*queries.CALIBRATIONS, InstrumentEventKind.out_of_service))))

_EDITIONS = Statement(lambda kind: select(
    StandardEdition.id, StandardEdition.number, StandardEdition.implemented_on,
    StandardEdition.withdrawn_on)
    .where(StandardEdition.number.in_(
        select(EvidenceItem.standard).where(EvidenceItem.record_id.in_(_IDS)))))

_SIGNERS = Statement(lambda kind: select(
    Staff.institution_id, Staff.name, Staff.staff_no, Staff.roles, Staff.employed_from,
    Staff.employed_until, Staff.authorised_from, Staff.authorised_until, Staff.authorised_for)
    .where(Staff.institution_id.in_(_KEYS),
           or_(Staff.name.in_(_NAMES), Staff.staff_no.in_(_NAMES))))
_KEEPS_REGISTER = Statement(lambda kind: select(Staff.institution_id)
                            .where(Staff.institution_id.in_(_KEYS))
                            .group_by(Staff.institution_id))


def check(db: Session, record_ids: Sequence[str]) -> int:
    """Raises the signals the new records and their evidence show; returns how many. Does
    not commit: the caller's transaction holds the records and their signals together."""
    if not record_ids:
        return 0
    ids = list(record_ids)
    # First round: the new records, their evidence and the register rows it names.
    batch = Batch(db)
    records = batch.add(_RECORDS, ids=ids)
    items = batch.add(_ITEMS, ids=ids)
    samplings = batch.add(_SAMPLINGS, ids=ids)
    events_found = batch.add(_EVENTS, ids=ids)
    editions_found = batch.add(_EDITIONS, ids=ids)
    pt = batch.add(queries.PT_NEW, ids=ids)
    batch.run()
    # Second round: what those name elsewhere (signers, neighbours in time).
    signers = _ask_signers(batch, records)
    single = [_item_view(i) for i in items if i.ins_id is not None
              and i.hours_per_test is not None]
    overlaps = queries.overlap_ask(batch, single)
    counted = [(i.instrument_id, i.started_at) for i in items if i.ins_id is not None
               and (i.tests_per_day is not None or i.hours_per_test is not None)]
    capacity = queries.capacity_ask(batch, counted)
    travelled = [_sampling_view(s) for s in samplings if s.sampler_id is not None
                 and s.latitude is not None and s.longitude is not None]
    travel = queries.travel_ask(batch, travelled)
    batch.run(last=True)

    ctx = queries.Ctx(db, ids)
    hits: list[Hit] = []
    hits += _not_signed(records)
    hits += _signatories(ctx, signers)
    if items:
        by_id = {r.id: r for r in records}
        by_record: dict[str, list[Any]] = {}
        for s in samplings:
            by_record.setdefault(s.record_id, []).append(s)
        events: dict[str, list[Any]] = {}
        for e in events_found:
            events.setdefault(e.instrument_id, []).append(e)
        hits += _grouped("INSTRUMENT_UNCALIBRATED", _uncalibrated(items, events))
        hits += _grouped("INSTRUMENT_OUT_OF_SERVICE", _out_of_service(items, events))
        hits += _grouped("INSTRUMENT_NOT_REGISTERED", (
            (i, {"instrument": i.instrument_ref}, item_ref(i)) for i in items
            if i.instrument_id is None and i.instrument_ref not in (None, "")))
        hits += _grouped("ISSUED_BEFORE_TESTED", _issued_before(items, by_id))
        hits += _grouped("TESTED_BEFORE_RECEIPT", _before_receipt(items, by_id, by_record,
                                                                  batch.kind == "postgresql"))
        hits += _grouped("STANDARD_NOT_IN_FORCE", _standards(items, editions_found))
    # A record whose items name no standard is judged by the standards it lists, against its
    # first day of testing: the batch's own query, bounded to the new records.
    with_standard = {i.record_id for i in items if i.standard}
    if any(r.event == RecordEvent.issued and r.id not in with_standard and _listed(r)
           for r in records):
        hits += list(queries.public_standards_not_in_force(ctx))
    hits += _not_employed(items, samplings)
    hits += queries.overlap_hits(single, overlaps)
    hits += queries.capacity_hits(capacity)
    hits += queries.travel_hits(ctx, travelled, travel)
    hits += queries.pt_hits(pt)
    for h in hits:
        assert rules.rule(h.code).incremental
    return _save(db, batch, hits, records) if hits else 0


def _insert_signal(kind: str) -> Any:
    """A signal, unless one of its rule and subject is stored (a dismissed one stays
    dismissed); returning its id if written."""
    signals = table(Signal)
    values = {c: bindparam(f"v_{c}", type_=signals.c[c].type) for c in _SIGNAL_COLUMNS}
    make = pg_insert if kind == "postgresql" else sqlite_insert
    return (make(signals).values(values)
            .on_conflict_do_nothing(index_elements=["code", "subject"])
            .returning(signals.c.id))


_SIGNAL_COLUMNS = ("id", "created_at", "code", "subject", "severity", "institution_id",
                   "org_id", "district", "record_id", "number", "params", "evidence", "source",
                   "status", "reason", "question", "answer", "answer_files")
_SAVE = Statement(_insert_signal)


def _save(db: Session, batch: Batch, hits: list[Hit], records: Sequence[Any]) -> int:
    """The new signals, in one more round trip: the places and numbers they show were read
    with the records. A hit about an institution none of the records belongs to (possible
    only for an instrument's day shared across institutions) is saved the general way."""
    places = {r.institution_id: (r.org_id, r.district) for r in records
              if r.org_id is not None}
    numbers = {r.id: r.number for r in records}
    now = utcnow()
    written, elsewhere = [], []
    for h in service.merge(hits).values():
        if h.institution_id not in places:
            elsewhere.append(h)
            continue
        row = service.signal_row(h, places[h.institution_id],
                                 numbers.get(h.record_id or ""), "registration", now)
        written.append(batch.add(_SAVE, **{f"v_{k}": row[k] for k in _SIGNAL_COLUMNS}))
    batch.run(generic=False)
    saved = sum(len(w) for w in written)
    return saved + (service.save_hits(db, elsewhere, "registration") if elsewhere else 0)


# --- helpers --------------------------------------------------------------------------------

Judged = tuple[Any, dict[str, Any], dict[str, Any]]  # row, the hit's params, its evidence


def _grouped(code: str, rows: Iterator[Judged]) -> list[Hit]:
    """One hit per record, its params from the record's first faulty row (as the batch's
    ``queries.grouped`` does over rows ordered the same way)."""
    out: dict[str, Hit] = {}
    for row, params, ev in rows:
        hit = out.get(row.record_id)
        if hit is None:
            hit = out[row.record_id] = Hit(code, row.record_id, row.institution_id,
                                           row.record_id, params)
        if ev not in hit.evidence and len(hit.evidence) < 50:
            hit.evidence.append(ev)
    return list(out.values())


def _bj_day(value: Any) -> date:
    return as_dt(value).astimezone(BEIJING).date()


def _name(i: Any) -> str:
    return i.asset_no or i.instrument_name or i.instrument_ref or ""


def _item_view(i: Any) -> Any:
    # The batch names an instrument by its register row here, never by the lab's reference.
    return SimpleNamespace(record_id=i.record_id, seq=i.seq, institution_id=i.institution_id,
                           instrument_id=i.instrument_id, started_at=i.started_at,
                           ended_at=i.ended_at, asset_no=i.asset_no,
                           instrument_name=i.instrument_name, instrument_ref="")


class _Event(NamedTuple):
    """A new sampling event in the shape ``queries.staff_travel`` pairs up."""

    record_id: str
    seq: int
    institution_id: str
    sampler_id: str
    sampler_ref: str
    at: Any
    latitude: float
    longitude: float


def _sampling_view(s: Any) -> _Event:
    return _Event(s.record_id, s.seq, s.institution_id, s.sampler_id, s.sampler_ref, s.at,
                  s.latitude, s.longitude)


# --- records --------------------------------------------------------------------------------

def _not_signed(records: Sequence[Any]) -> list[Hit]:
    return [Hit("NOT_SIGNED_BY_ISSUER", r.id, r.institution_id, r.id, {},
                [{"table": "report_records", "key": {"id": r.id}, "field": "flags"}])
            for r in records
            if isinstance(r.flags, list) and "not_signed_by_issuer" in r.flags]


def _signers(r: Any) -> list[str]:
    names = (r.public or {}).get("signatories") if isinstance(r.public, dict) else None
    return [str(n) for n in names] if isinstance(names, list) else []


def _listed(r: Any) -> bool:
    """The record lists standards and a day of testing (what the public-standards check
    needs)."""
    public: dict[str, Any] = r.public if isinstance(r.public, dict) else {}
    found = public.get("dates")
    dates: dict[str, Any] = found if isinstance(found, dict) else {}
    return bool(public.get("standards")) and bool(
        dates.get("tested_from") or dates.get("tested_to"))


class _Signers(NamedTuple):
    signed: list[tuple[Any, list[str]]]  # issued records and the names signing them
    staff: list[Any]  # staff rows of those institutions bearing those names
    keeping: list[Any]  # which of those institutions keep a staff register


def _ask_signers(batch: Batch, records: Sequence[Any]) -> _Signers:
    signed = [(r, _signers(r)) for r in records if r.event == RecordEvent.issued]
    signed = [(r, names) for r, names in signed if names]
    if not signed:
        return _Signers([], [], [])
    insts = sorted({r.institution_id for r, _ in signed})
    names = sorted({n for _, ns in signed for n in ns})
    return _Signers(signed, batch.add(_SIGNERS, keys=insts, names=names),
                    batch.add(_KEEPS_REGISTER, keys=insts))


def _signatories(ctx: queries.Ctx, found: _Signers) -> list[Hit]:
    """Each name signing an issued record must be a signatory of the institution's staff
    register, employed and authorised on the issue date, and (when their authorisation names
    standards) authorised for one the record lists; only institutions keeping a register are
    checked. The last part is the batch's own check, run only when a signer's authorisation
    is restricted."""
    signed, staff = found.signed, found.staff
    if not signed:
        return []
    keeping = {k.institution_id for k in found.keeping}

    def valid(name: str, inst: str, day: date | None) -> bool:
        if day is None:
            return False
        return any(s.institution_id == inst and name in (s.name, s.staff_no)
                   and "signatory" in (s.roles or [])
                   and s.employed_from is not None and s.employed_from <= day
                   and (s.employed_until is None or s.employed_until >= day)
                   and (s.authorised_from is None or s.authorised_from <= day)
                   and (s.authorised_until is None or s.authorised_until >= day)
                   for s in staff)

    out: list[Hit] = []
    for r, ns in signed:
        if r.institution_id not in keeping:
            continue
        hit: Hit | None = None
        for n in ns:
            if valid(n, r.institution_id, r.issued_on):
                continue
            if hit is None:
                hit = Hit("SIGNATORY_INVALID", r.id, r.institution_id, r.id,
                          {"person": n, "day": day_text(r.issued_on)})
                out.append(hit)
            ev = {"table": "report_records", "key": {"id": r.id}, "field": "signatories",
                  "value": n}
            if ev not in hit.evidence and len(hit.evidence) < 50:
                hit.evidence.append(ev)
    if any(s.authorised_for for s in staff) and any(
            (r.public or {}).get("standards") for r, _ in signed):
        by_record = {h.record_id: h for h in out}
        for o in queries.signatories_out_of_scope(ctx):
            hit = by_record.get(o.record_id)
            if hit is None:
                hit = by_record[o.record_id] = Hit(
                    "SIGNATORY_INVALID", o.record_id, o.institution_id, o.record_id,
                    {"person": o.name, "day": day_text(o.issued_on)})
                out.append(hit)
            ev = {"table": "report_records", "key": {"id": o.record_id},
                  "field": "signatories", "value": o.name,
                  "also": {"table": "staff", "key": {"id": o.staff_id},
                           "field": "authorised_for"}}
            if ev not in hit.evidence and len(hit.evidence) < 50:
                hit.evidence.append(ev)
    return out


# --- instruments ----------------------------------------------------------------------------

def _covers(e: Any, day: date) -> bool:
    return e.valid_from <= day and (e.valid_until is None or e.valid_until >= day)


def _uncalibrated(items: Sequence[Any], events: dict[str, list[Any]]) -> Iterator[Judged]:
    for i in items:
        if i.ins_id is None:
            continue
        cals = [e for e in events.get(i.instrument_id, ()) if e.kind in queries.CALIBRATIONS]
        start, end = _bj_day(i.started_at), _bj_day(i.ended_at)
        for day in sorted({start, end}):
            if not any(_covers(e, day) for e in cals):
                yield i, {"instrument": _name(i), "day": day.isoformat()}, item_ref(i)


def _out_of_service(items: Sequence[Any], events: dict[str, list[Any]]) -> Iterator[Judged]:
    for i in items:
        if i.ins_id is None:
            continue
        start, end = _bj_day(i.started_at), _bj_day(i.ended_at)
        for e in sorted(events.get(i.instrument_id, ()), key=lambda e: e.id):
            if (e.kind == InstrumentEventKind.out_of_service and e.valid_from <= end
                    and (e.valid_until is None or e.valid_until >= start)):
                yield (i, {"instrument": _name(i), "day": start.isoformat()},
                       item_ref(i) | {"also": {"table": "instrument_events",
                                               "key": {"id": e.id}}})


def _standards(items: Sequence[Any], found: Sequence[Any]) -> Iterator[Judged]:
    editions: dict[str, list[Any]] = {}
    for ed in found:
        editions.setdefault(ed.number, []).append(ed)
    for i in items:
        day = _bj_day(i.started_at)
        for ed in sorted(editions.get(i.standard or "", ()), key=lambda e: e.id):
            early = ed.implemented_on is not None and day < ed.implemented_on
            if early or (ed.withdrawn_on is not None and day >= ed.withdrawn_on):
                yield (i, {"standard": i.standard, "day": day.isoformat(),
                           "why": "not_yet" if early else "withdrawn"},
                       item_ref(i) | {"also": {"table": "standard_editions",
                                               "key": {"id": ed.id}}})


# --- dates ----------------------------------------------------------------------------------

def _issued_before(items: Sequence[Any], records: dict[str, Any]) -> Iterator[Judged]:
    for i in items:
        issued = records[i.record_id].issued_on
        end = _bj_day(i.ended_at)
        if issued is not None and end > issued:
            yield i, {"day": day_text(issued), "ended": end.isoformat()}, item_ref(i)


def _received(r: Any) -> tuple[date, str] | None:
    """The record's sample receipt date, and as the batch shows it."""
    dates = r.public.get("dates") if isinstance(r.public, dict) else None
    raw = dates.get("sample_received") if isinstance(dates, dict) else None
    if not isinstance(raw, str) or not raw:
        return None
    try:
        day = date.fromisoformat(raw[:10])
    except ValueError:
        return None
    return day, raw


def _before_receipt(items: Sequence[Any], records: dict[str, Any],
                    samplings: dict[str, list[Any]], pg: bool) -> Iterator[Judged]:
    for i in items:
        start = _bj_day(i.started_at)
        got = _received(records[i.record_id])
        if got is not None and start < got[0]:
            shown = got[0].isoformat() if pg else got[1]
            yield (i, {"started": bj_minute(i.started_at), "received": shown[:16]},
                   item_ref(i) | {"also": {"table": "report_records",
                                           "key": {"id": i.record_id},
                                           "field": "dates.sample_received"}})
        began = as_dt(i.started_at)
        for s in samplings.get(i.record_id, ()):
            if as_dt(s.at) > began:
                yield (i, {"started": bj_minute(i.started_at), "received": bj_minute(s.at)},
                       item_ref(i) | {"also": {"table": "report_evidence_samplings",
                                               "key": {"record_id": i.record_id,
                                                       "seq": s.seq}}})


# --- people ---------------------------------------------------------------------------------

def _not_employed(items: Sequence[Any], samplings: Sequence[Any]) -> list[Hit]:
    rows: list[tuple[str, int, int, Judged]] = []
    for i in items:
        if i.staff_id is None:
            continue
        day, end = _bj_day(i.started_at), _bj_day(i.ended_at)
        if day < i.employed_from or (i.employed_until is not None
                                     and end > i.employed_until):
            rows.append((i.record_id, i.seq, 0, (
                i, {"person": i.staff_name, "day": day.isoformat()},
                {"table": "report_evidence_items",
                 "key": {"record_id": i.record_id, "seq": i.seq}})))
    for s in samplings:
        if s.staff_id is None:
            continue
        day = _bj_day(s.at)
        if day < s.employed_from or (s.employed_until is not None
                                     and day > s.employed_until):
            rows.append((s.record_id, s.seq, 1, (
                s, {"person": s.staff_name, "day": day.isoformat()},
                {"table": "report_evidence_samplings",
                 "key": {"record_id": s.record_id, "seq": s.seq}})))
    rows.sort(key=lambda r: r[:3])
    return _grouped("STAFF_NOT_EMPLOYED", (r[3] for r in rows))
