"""Each rule as SQL over the evidence tables, the same on SQLite and PostgreSQL, streamed.

The supervision rules read other domains' tables (reports' evidence and records, the
equipment and staff registers, PT results, marketplace bookings and listings) read-only in
SQL, for speed: a rule over ten million reports is a join or a window function on the
database, never a Python loop over its rows. Python sees only the rows that raise a signal
(and, for travel and trailing digits, a narrowed set of candidates).

Each rule yields ``Hit``s ordered by subject; rows of one subject (a record with several
faulty items) are merged into one hit with all their evidence rows. With ``ids`` given, a
rule looks only at those records (registration) through indexed queries.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from tichub.core.ids import BEIJING
from tichub.market.models import Booking, Instrument, InstrumentEvent, InstrumentEventKind
from tichub.pt.models import (
    PtCorrectiveAction,
    PtMeasurand,
    PtParticipant,
    PtResult,
    PtRound,
    PtRoundMeasurand,
)
from tichub.registry import standards
from tichub.registry.models import Staff, StandardEdition
from tichub.reports.models import (
    EvidenceItem,
    EvidenceResult,
    EvidenceSampling,
    RecordEvent,
    ReportRecord,
)
from tichub.supervision.signals import rules, stats
from tichub.supervision.signals.cursor import Batch, Statement

STREAM = 2_000  # rows fetched at a time


@dataclass
class Hit:
    code: str
    subject: str
    institution_id: str
    record_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)


_STATEMENTS: dict[tuple[str, str], Any] = {}


@dataclass(frozen=True)
class Ctx:
    db: Session
    ids: Sequence[str] | None = None  # only these records (registration)

    @property
    def dialect(self) -> str:
        return self.db.get_bind().dialect.name

    @property
    def pg(self) -> bool:
        return self.dialect == "postgresql"

    def cached(self, name: str, build: Callable[[], Any]) -> Any:
        """The rule's statement: at registration built once per database kind and kept
        (building and keying a statement cost several times running it there)."""
        if self.ids is None:
            return build()
        key = (name, self.dialect)
        if key not in _STATEMENTS:
            _STATEMENTS[key] = build()
        return _STATEMENTS[key]

    def stream(self, stmt: Any, **params: Any) -> Iterator[Any]:
        """The rows, fetched ``STREAM`` at a time; through the session's connection, which
        skips the ORM's per-statement work (the statements select columns, not objects)."""
        if self.ids is not None:
            yield from self.db.connection().execute(stmt, {"ids": list(self.ids), **params})
            return
        # On the statement: options set on the connection would stay for its later writes.
        yield from self.db.connection().execute(stmt.execution_options(yield_per=STREAM))


class Kind(Protocol):
    """What building a statement needs: the database kind, and whether it is bounded to
    given records (``ids`` not None)."""

    @property
    def pg(self) -> bool: ...

    @property
    def ids(self) -> Sequence[str] | None: ...


@dataclass(frozen=True)
class Compiling:
    """A ``Kind`` for statements built before any session (``cursor.Statement``)."""

    kind: str
    ids: Sequence[str] | None = ()

    @property
    def pg(self) -> bool:
        return self.kind == "postgresql"


# --- dialect helpers ------------------------------------------------------------------------

def bj_date(ctx: Kind, col: Any) -> ColumnElement[Any]:
    """The Beijing date of a UTC instant."""
    if ctx.pg:
        return cast(func.timezone("Asia/Shanghai", col), Date)
    return func.date(col, "+8 hours")


def bj_date_plus(ctx: Kind, col: Any, days: int) -> ColumnElement[Any]:
    if ctx.pg:
        return cast(func.timezone("Asia/Shanghai", col), Date) + days
    return func.date(col, "+8 hours", f"+{days} days")


def json_date(ctx: Kind, expr: Any) -> ColumnElement[Any]:
    """A 'YYYY-MM-DD' text from a JSON document as a date to compare with."""
    # SQLite keeps dates as that text; CAST there would make a number of it.
    return cast(expr, Date) if ctx.pg else expr


def as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_dt(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def day_text(value: Any) -> str:
    d = as_date(value)
    return d.isoformat() if d else ""


def bj_minute(value: Any) -> str:
    return as_dt(value).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def json_text(col: Any) -> ColumnElement[str]:
    return cast(col, String)


def _only(ctx: Kind, col: Any) -> list[ColumnElement[bool]]:
    """At registration, only the new records: an expanding parameter, so that the statement
    is built once and reused (``Ctx.cached``)."""
    return [col.in_(bindparam("ids", expanding=True))] if ctx.ids is not None else []


def item_ref(row: Any) -> dict[str, Any]:
    return {"table": "report_evidence_items",
            "key": {"record_id": row.record_id, "seq": row.seq}}


def grouped(rows: Iterator[Any], code: str, subject: Callable[[Any], str],
            make: Callable[[Any], Hit], evidence: Callable[[Any], dict[str, Any]]
            ) -> Iterator[Hit]:
    """Merges consecutive rows of one subject (the query orders by it) into one hit."""
    current: Hit | None = None
    for row in rows:
        key = subject(row)
        if current is None or current.subject != key:
            if current is not None:
                yield current
            current = make(row)
            current.code, current.subject = code, key
        ev = evidence(row)
        if ev not in current.evidence and len(current.evidence) < 50:
            current.evidence.append(ev)
    if current is not None:
        yield current


# Aliases made once: an ORM alias adapts its columns on first use and remembers them.
IT = aliased(EvidenceItem, name="i")
INS = aliased(Instrument, name="ins")
OI = aliased(EvidenceItem, name="o")
SMP = aliased(EvidenceSampling, name="s")
OS = aliased(EvidenceSampling, name="os")
CAL1 = aliased(InstrumentEvent, name="c1")
CAL2 = aliased(InstrumentEvent, name="c2")
EV = aliased(InstrumentEvent, name="e")
ST = aliased(Staff, name="st")
ED = aliased(StandardEdition, name="ed")
RES = aliased(EvidenceResult, name="res")
AMENDED = aliased(ReportRecord, name="a")


def _instrument_name(row: Any) -> str:
    return row.asset_no or row.instrument_name or row.instrument_ref or ""


# --- instruments ----------------------------------------------------------------------------

CALIBRATIONS = (InstrumentEventKind.calibration, InstrumentEventKind.verification)


def _calibrated(ctx: Ctx, day: Any, e: Any) -> Any:
    return exists().where(e.instrument_id == IT.instrument_id, e.kind.in_(CALIBRATIONS),
                          e.valid_from <= day,
                          or_(e.valid_until.is_(None), e.valid_until >= day))


def instrument_uncalibrated(ctx: Ctx) -> Iterator[Hit]:
    """Items whose start day, or end day, no calibration covers: each a plain NOT EXISTS,
    which the database runs as an anti-join (an OR of the two would be a subquery per
    row)."""
    def build() -> Any:
        start, end = bj_date(ctx, IT.started_at), bj_date(ctx, IT.ended_at)

        def uncovered(day: Any, cal: Any, *extra: Any) -> Select[Any]:
            return (select(IT.record_id, IT.seq, IT.institution_id, IT.instrument_ref,
                           INS.asset_no, INS.name.label("instrument_name"), day.label("day"))
                    .join(INS, INS.id == IT.instrument_id)
                    .where(~_calibrated(ctx, day, cal), *extra, *_only(ctx, IT.record_id)))

        u = union_all(uncovered(start, CAL1),
                      uncovered(end, CAL2, end != start)).subquery("u")
        stmt = select(u).order_by(u.c.record_id, u.c.seq, u.c.day)
        return stmt

    stmt = ctx.cached("instrument_uncalibrated", build)
    yield from grouped(
        ctx.stream(stmt), "INSTRUMENT_UNCALIBRATED", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id, {
            "instrument": _instrument_name(r), "day": day_text(r.day)}),
        item_ref)


def instrument_out_of_service(ctx: Ctx) -> Iterator[Hit]:
    def build() -> Any:
        start, end = bj_date(ctx, IT.started_at), bj_date(ctx, IT.ended_at)
        e = EV
        stmt = (select(IT.record_id, IT.seq, IT.institution_id, IT.instrument_ref, INS.asset_no,
                       INS.name.label("instrument_name"), start.label("start"),
                       e.id.label("event_id"))
                .join(INS, INS.id == IT.instrument_id)
                .join(e, and_(e.instrument_id == IT.instrument_id,
                              e.kind == InstrumentEventKind.out_of_service,
                              e.valid_from <= end,
                              or_(e.valid_until.is_(None), e.valid_until >= start)))
                .where(*_only(ctx, IT.record_id))
                .order_by(IT.record_id, IT.seq))
        return stmt

    stmt = ctx.cached("instrument_out_of_service", build)

    def evidence(r: Any) -> dict[str, Any]:
        return item_ref(r) | {"also": {"table": "instrument_events", "key": {"id": r.event_id}}}

    yield from grouped(
        ctx.stream(stmt), "INSTRUMENT_OUT_OF_SERVICE", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id, {
            "instrument": _instrument_name(r), "day": day_text(r.start)}), evidence)


def instrument_not_registered(ctx: Ctx) -> Iterator[Hit]:
    def build() -> Any:
        stmt = (select(IT.record_id, IT.seq, IT.institution_id, IT.instrument_ref)
                .where(IT.instrument_id.is_(None), IT.instrument_ref != "",
                       *_only(ctx, IT.record_id))
                .order_by(IT.record_id, IT.seq))
        return stmt

    stmt = ctx.cached("instrument_not_registered", build)
    yield from grouped(
        ctx.stream(stmt), "INSTRUMENT_NOT_REGISTERED", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id,
                      {"instrument": r.instrument_ref}), item_ref)


BOOKED = ("confirmed", "completed")  # a booking by another organisation that took place


def instrument_overlap(ctx: Ctx) -> Iterator[Hit]:
    """Items on a one-test-at-a-time instrument overlapping another item or another
    organisation's booking of it."""
    if ctx.ids is not None:
        yield from overlap_new(ctx)
        return
    items = (select(IT.instrument_id.label("instrument_id"), IT.started_at.label("s"),
                    IT.ended_at.label("e"), IT.record_id.label("rid"), IT.seq.label("seq"),
                    IT.institution_id.label("inst"), literal("item").label("kind"))
             .join(INS, INS.id == IT.instrument_id)
             .where(INS.hours_per_test.is_not(None)))
    bookings = (select(Booking.instrument_id, Booking.starts_at, Booking.ends_at,
                       Booking.id, literal(0), INS.institution_id, literal("booking"))
                .join(INS, INS.id == Booking.instrument_id)
                .where(INS.hours_per_test.is_not(None), Booking.org_id != INS.org_id,
                       Booking.status.in_(BOOKED)))
    u = union_all(items, bookings).subquery("u")
    order = (u.c.s, u.c.rid, u.c.seq)
    prev_end = func.max(u.c.e).over(partition_by=u.c.instrument_id, order_by=order,
                                    rows=(None, -1))
    # Ordered by start, the next row's start is the earliest of all that follow (a MIN over
    # a frame to the end would be recomputed for every row).
    next_start = func.lead(u.c.s).over(partition_by=u.c.instrument_id, order_by=order)
    w = select(u, prev_end.label("prev_end"), next_start.label("next_start")).subquery("w")
    stmt = (select(w.c.rid.label("record_id"), w.c.seq, w.c.inst.label("institution_id"),
                   w.c.instrument_id, w.c.s, INS.asset_no, INS.name.label("instrument_name"),
                   literal("").label("instrument_ref"))
            .join(INS, INS.id == w.c.instrument_id)
            .where(w.c.kind == "item", or_(w.c.prev_end > w.c.s, w.c.next_start < w.c.e))
            .order_by(w.c.rid, w.c.seq))
    yield from grouped(
        ctx.stream(stmt), "INSTRUMENT_OVERLAP", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id, {
            "instrument": _instrument_name(r), "count": 2, "at": bj_minute(r.s)}), item_ref)


_SPAN = timedelta(days=7)  # no single test item runs longer


def _overlap_neighbours() -> Any:
    """Items and other organisations' bookings overlapping one item, through the
    (instrument, start) index within the longest plausible test."""
    o = OI
    ins: Any = bindparam("ins")
    s: Any = bindparam("s")
    e: Any = bindparam("e")
    return (select(literal("report_evidence_items").label("tbl"), o.record_id, o.seq)
            .where(o.instrument_id == ins, o.started_at < e,
                   o.started_at > bindparam("lo"), o.ended_at > s,
                   or_(o.record_id != bindparam("rid"), o.seq != bindparam("seq")))
            .union_all(
                select(literal("bookings"), Booking.id, literal(0))
                .join(INS, INS.id == Booking.instrument_id)
                .where(Booking.instrument_id == ins, Booking.starts_at < e,
                       Booking.ends_at > s, Booking.org_id != INS.org_id,
                       Booking.status.in_(BOOKED)))
            .limit(10))


OVERLAP_NEAR = Statement(lambda kind: _overlap_neighbours())


def overlap_ask(batch: Batch, rows: Sequence[Any]) -> list[list[Any]]:
    """Queues the look-up of each new item's neighbours (items on one-test-at-a-time
    instruments: record_id, seq, instrument_id, started_at, ended_at)."""
    out = []
    for r in rows:
        started, ended = as_dt(r.started_at), as_dt(r.ended_at)
        out.append(batch.add(OVERLAP_NEAR, ins=r.instrument_id, s=started, e=ended,
                             lo=started - _SPAN, rid=r.record_id, seq=r.seq))
    return out


def overlap_hits(rows: Sequence[Any], found: Sequence[Sequence[Any]]) -> list[Hit]:
    hits: dict[str, Hit] = {}
    for r, others in zip(rows, found, strict=True):
        if not others:
            continue
        hit = hits.setdefault(r.record_id, Hit(
            "INSTRUMENT_OVERLAP", r.record_id, r.institution_id, r.record_id,
            {"instrument": _instrument_name(r), "count": len(others) + 1,
             "at": bj_minute(r.started_at)}))
        hit.evidence.append(item_ref(r))
        for t, key, seq in others:
            hit.evidence.append({"table": t, "key": {"record_id": key, "seq": seq}
                                 if t != "bookings" else {"id": key}})
    return list(hits.values())


def overlap_new(ctx: Ctx) -> Iterator[Hit]:
    """At registration, one rule at a time: the new items against their neighbours."""
    def items() -> Any:
        return (select(IT.record_id, IT.seq, IT.institution_id, IT.instrument_id,
                       IT.started_at, IT.ended_at, INS.asset_no,
                       INS.name.label("instrument_name"), literal("").label("instrument_ref"))
                .join(INS, INS.id == IT.instrument_id)
                .where(INS.hours_per_test.is_not(None), *_only(ctx, IT.record_id))
                .order_by(IT.record_id, IT.seq))

    rows = list(ctx.stream(ctx.cached("overlap_new_items", items)))
    batch = Batch(ctx.db)
    found = overlap_ask(batch, rows)
    batch.run(last=True)
    yield from overlap_hits(rows, found)


def instrument_over_capacity(ctx: Ctx) -> Iterator[Hit]:
    """Per instrument and Beijing day; at registration only the instruments and days of
    the new items, one Beijing day at a time through the (instrument, start) index."""
    if ctx.ids is None:
        rows: Iterator[Any] = ctx.stream(_capacity_statement(ctx, False))
    else:
        new = list(ctx.stream(ctx.cached("capacity_new", lambda: select(
            IT.instrument_id, IT.started_at).where(IT.instrument_id.is_not(None),
                                                   *_only(ctx, IT.record_id)))))
        batch = Batch(ctx.db)
        found = capacity_ask(batch, new)
        batch.run(last=True)
        rows = iter(_by_instrument_day(found))
    yield from _capacity_hits(rows)


CAPACITY_DAY = Statement(lambda kind: _capacity_statement(Compiling(kind), True))


def capacity_ask(batch: Batch, new: Sequence[Any]) -> list[list[Any]]:
    """Queues, for the new items' (instrument, start), one query per Beijing day over that
    day's items of those instruments only."""
    days: dict[date, set[str]] = {}
    for instrument_id, started in new:
        days.setdefault(as_dt(started).astimezone(BEIJING).date(), set()).add(instrument_id)
    out = []
    for day, instruments in days.items():
        lo = datetime.combine(day, datetime.min.time(), BEIJING).astimezone(UTC)
        out.append(batch.add(CAPACITY_DAY, ins=sorted(instruments), lo=lo,
                             hi=lo + timedelta(days=1)))
    return out


def _by_instrument_day(found: Sequence[Sequence[Any]]) -> list[Any]:
    rows = [r for day in found for r in day]
    rows.sort(key=lambda r: (r.instrument_id, day_text(r.day)))
    return rows


def capacity_hits(found: Sequence[Sequence[Any]]) -> list[Hit]:
    return list(_capacity_hits(iter(_by_instrument_day(found))))


def _capacity_statement(ctx: Kind, one_day: bool) -> Any:
    day = bj_date(ctx, IT.started_at)
    where: list[Any] = [or_(INS.tests_per_day.is_not(None),
                            INS.hours_per_test.is_not(None))]
    if one_day:
        where += [IT.instrument_id.in_(bindparam("ins", expanding=True)),
                  IT.started_at >= bindparam("lo"), IT.started_at < bindparam("hi")]
    count = func.count()
    tpd, hpt = func.max(INS.tests_per_day), func.max(INS.hours_per_test)
    return (select(IT.instrument_id, day.label("day"), count.label("n"), tpd.label("tpd"),
                   hpt.label("hpt"), func.max(IT.institution_id).label("institution_id"),
                   func.max(INS.asset_no).label("asset_no"),
                   func.max(INS.name).label("instrument_name"),
                   literal("").label("instrument_ref"))
            .join(INS, INS.id == IT.instrument_id)
            .where(*where)
            .group_by(IT.instrument_id, day)
            .having(or_(and_(tpd.is_not(None), count > tpd),
                        and_(tpd.is_(None), count * hpt > 24)))
            .order_by(IT.instrument_id, day))


def _capacity_hits(rows: Iterator[Any]) -> Iterator[Hit]:
    for r in rows:
        capacity = r.tpd if r.tpd is not None else int(24 // r.hpt)
        yield Hit("INSTRUMENT_OVER_CAPACITY", f"{r.instrument_id}:{day_text(r.day)}",
                  r.institution_id, None, {
                      "instrument": _instrument_name(r), "day": day_text(r.day),
                      "count": r.n, "capacity": capacity},
                  [{"table": "instruments", "key": {"id": r.instrument_id}},
                   {"table": "report_evidence_items",
                    "key": {"instrument_id": r.instrument_id, "day": day_text(r.day)}}])


# --- people ---------------------------------------------------------------------------------

class _Pair(NamedTuple):
    record_id: str
    seq: int
    institution_id: str
    sampler_id: str
    sampler_ref: str
    at: datetime
    latitude: float
    longitude: float
    p_record_id: str
    p_seq: int
    p_at: datetime
    p_lat: float
    p_lon: float


_TRAVEL_WINDOW = timedelta(hours=rules.TRAVEL_WINDOW_HOURS)

TRAVEL_NEAR = Statement(lambda kind: select(
    OS.record_id, OS.seq, OS.at, OS.latitude, OS.longitude).where(
        OS.sampler_id == bindparam("who"), OS.at >= bindparam("lo"),
        OS.at <= bindparam("hi"), OS.latitude.is_not(None), OS.longitude.is_not(None),
        or_(OS.record_id != bindparam("rid"), OS.seq != bindparam("seq"))))


def travel_ask(batch: Batch, new: Sequence[Any]) -> list[list[Any]]:
    """Queues, for each new sampling event (record_id, seq, institution_id, sampler_id,
    sampler_ref, at, latitude, longitude), the same person's events close in time, by the
    (sampler, at) index."""
    out = []
    for n in new:
        at = as_dt(n.at)
        out.append(batch.add(TRAVEL_NEAR, who=n.sampler_id, lo=at - _TRAVEL_WINDOW,
                             hi=at + _TRAVEL_WINDOW, rid=n.record_id, seq=n.seq))
    return out


def travel_hits(ctx: Ctx, new: Sequence[Any], found: Sequence[Sequence[Any]]) -> list[Hit]:
    pairs = [_Pair(*n, *p) for n, near in zip(new, found, strict=True) for p in near]
    return list(_too_fast(ctx, iter(pairs)))


def staff_travel(ctx: Ctx) -> Iterator[Hit]:
    """Consecutive sampling events of one person (a window over each person's events in
    time; at registration, the new events and their neighbours by the (sampler, at) index);
    the distance is computed here for the few pairs close enough in time."""
    s = SMP
    if ctx.ids is not None:
        mine = list(ctx.stream(ctx.cached("travel_new", lambda: select(
            s.record_id, s.seq, s.institution_id, s.sampler_id, s.sampler_ref, s.at,
            s.latitude, s.longitude).where(
                s.sampler_id.is_not(None), s.latitude.is_not(None), s.longitude.is_not(None),
                *_only(ctx, s.record_id)).order_by(s.record_id, s.seq))))
        batch = Batch(ctx.db)
        found = travel_ask(batch, mine)
        batch.run(last=True)
        yield from travel_hits(ctx, mine, found)
        return
    part: dict[str, Any] = {"partition_by": s.sampler_id,
                            "order_by": (s.at, s.record_id, s.seq)}
    w = (select(s.record_id, s.seq, s.institution_id, s.sampler_id, s.sampler_ref,
                s.at, s.latitude, s.longitude,
                func.lag(s.record_id).over(**part).label("p_record_id"),
                func.lag(s.seq).over(**part).label("p_seq"),
                func.lag(s.at).over(**part).label("p_at"),
                func.lag(s.latitude).over(**part).label("p_lat"),
                func.lag(s.longitude).over(**part).label("p_lon"))
         .where(s.sampler_id.is_not(None), s.latitude.is_not(None),
                s.longitude.is_not(None))
         .subquery("w"))
    rows: Iterator[Any] = ctx.stream(
        select(w).where(w.c.p_at.is_not(None)).order_by(w.c.record_id, w.c.seq))
    yield from _too_fast(ctx, (r for r in rows if as_dt(r.at) - as_dt(r.p_at)
                               <= _TRAVEL_WINDOW))


def _too_fast(ctx: Ctx, pairs_iter: Iterator[Any]) -> Iterator[Hit]:
    """Pairs of one person's events (ordered by the later event's record) too far apart
    for the time between them, one hit per record."""
    names: dict[str, str] = {}
    current: Hit | None = None
    for r in pairs_iter:
        km = stats.great_circle_km(r.latitude, r.longitude, r.p_lat, r.p_lon)
        seconds = abs((as_dt(r.at) - as_dt(r.p_at)).total_seconds())
        if not stats.too_fast(km, seconds, rules.TRAVEL_SPEED_KMH, rules.TRAVEL_MIN_KM):
            continue
        if current is not None and current.subject != r.record_id:
            yield current
            current = None
        if current is None:
            if r.sampler_id not in names:
                names[r.sampler_id] = ctx.db.scalar(
                    select(Staff.name).where(Staff.id == r.sampler_id)) or r.sampler_ref
            speed = stats.speed_kmh(km, seconds)
            current = Hit("STAFF_TRAVEL", r.record_id, r.institution_id, r.record_id, {
                "person": names[r.sampler_id], "km": round(km, 1),
                "minutes": round(seconds / 60), "limit": int(rules.TRAVEL_SPEED_KMH),
                "speed": "∞" if speed == float("inf") else round(speed)})
        for rid, seq in ((r.record_id, r.seq), (r.p_record_id, r.p_seq)):
            ev = {"table": "report_evidence_samplings", "key": {"record_id": rid, "seq": seq}}
            if ev not in current.evidence:
                current.evidence.append(ev)
    if current is not None:
        yield current


def staff_not_employed(ctx: Ctx) -> Iterator[Hit]:
    def build() -> Any:
        st = ST
        s = SMP
        item_day = bj_date(ctx, IT.started_at)
        items = (select(IT.record_id, IT.seq, IT.institution_id, st.name, item_day.label("day"),
                        literal("report_evidence_items").label("tbl"))
                 .join(st, st.id == IT.tester_id)
                 .where(or_(item_day < st.employed_from,
                            and_(st.employed_until.is_not(None),
                                 bj_date(ctx, IT.ended_at) > st.employed_until)),
                        *_only(ctx, IT.record_id)))
        s_day = bj_date(ctx, s.at)
        samplings = (select(s.record_id, s.seq, s.institution_id, st.name, s_day,
                            literal("report_evidence_samplings"))
                     .join(st, st.id == s.sampler_id)
                     .where(or_(s_day < st.employed_from,
                                and_(st.employed_until.is_not(None), s_day > st.employed_until)),
                            *_only(ctx, s.record_id)))
        u = union_all(items, samplings).subquery("u")
        stmt = select(u).order_by(u.c.record_id, u.c.seq)
        return stmt

    stmt = ctx.cached("staff_not_employed", build)
    yield from grouped(
        ctx.stream(stmt), "STAFF_NOT_EMPLOYED", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id,
                      {"person": r.name, "day": day_text(r.day)}),
        lambda r: {"table": r.tbl, "key": {"record_id": r.record_id, "seq": r.seq}})


def signatory_invalid(ctx: Ctx) -> Iterator[Hit]:
    """Each name signing an issued record must be a person of the institution's staff
    register holding the signatory role, employed and authorised on the issue date. Only
    institutions that keep a staff register are checked."""
    only = "AND r.id IN :ids" if ctx.ids is not None else ""
    if ctx.pg:
        names = ("CROSS JOIN LATERAL json_array_elements_text(r.public -> 'signatories') "
                 "AS j(name)")
        name = "j.name"
    else:
        names = ", json_each(r.public, '$.signatories') AS j"
        name = "j.value"
    sql = f"""
        SELECT r.id AS record_id, r.institution_id, r.issued_on, {name} AS name
        FROM report_records r {names}
        WHERE r.event = 'issued' {only}
          AND EXISTS (SELECT 1 FROM staff k WHERE k.institution_id = r.institution_id)
          AND NOT EXISTS (
            SELECT 1 FROM staff s
            WHERE s.institution_id = r.institution_id
              AND (s.name = {name} OR s.staff_no = {name})
              AND CAST(s.roles AS TEXT) LIKE '%"signatory"%'
              AND s.employed_from <= r.issued_on
              AND (s.employed_until IS NULL OR s.employed_until >= r.issued_on)
              AND (s.authorised_from IS NULL OR s.authorised_from <= r.issued_on)
              AND (s.authorised_until IS NULL OR s.authorised_until >= r.issued_on))
        ORDER BY r.id"""
    stmt = ctx.cached("signatory_invalid", lambda: text(sql).bindparams(
        bindparam("ids", expanding=True)) if ctx.ids is not None else text(sql))
    # Both streams are ordered by record: merged, one record's names make one hit.
    rows = heapq.merge(ctx.stream(stmt), signatories_out_of_scope(ctx),
                       key=lambda r: r.record_id)
    yield from grouped(
        rows, "SIGNATORY_INVALID", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id,
                      {"person": r.name, "day": day_text(r.issued_on)}),
        lambda r: {"table": "report_records", "key": {"id": r.record_id},
                   "field": "signatories", "value": r.name}
        | ({"also": {"table": "staff", "key": {"id": r.staff_id},
                     "field": "authorised_for"}} if getattr(r, "staff_id", None) else {}))


class _OutOfScope(NamedTuple):
    record_id: str
    institution_id: str
    issued_on: Any
    name: str
    staff_id: str


def _std_key(raw: str) -> str:
    """The standard's key ("GB 4943.1"), or the raw text made comparable when it does not
    parse (then only the same text matches)."""
    try:
        return standards.parse(raw).key
    except standards.StandardNumberError:
        return " ".join(raw.upper().split())


def signatories_out_of_scope(ctx: Ctx) -> Iterator[_OutOfScope]:
    """Signatories valid on the issue date whose ``authorised_for`` names standards and
    covers none of the record's standards (its entries that are parameters, not standard
    numbers, do not restrict by standard). SQL narrows to the (record, name) pairs in which every
    matching valid signatory has a restricted scope and the record names some standard;
    comparing keys needs the number parser (``registry/standards.py``), which no SQL of
    both databases can run, so that last step is here, on those candidates only."""
    only = "AND r.id IN :ids" if ctx.ids is not None else ""
    if ctx.pg:
        names = ("CROSS JOIN LATERAL json_array_elements_text(r.public -> 'signatories') "
                 "AS j(name)")
        name = "j.name"
        stds = "CAST(r.public -> 'standards' AS TEXT)"
    else:
        names = ", json_each(r.public, '$.signatories') AS j"
        name = "j.value"
        stds = "json_extract(r.public, '$.standards')"
    valid = f"""s.institution_id = r.institution_id
              AND (s.name = {name} OR s.staff_no = {name})
              AND CAST(s.roles AS TEXT) LIKE '%"signatory"%'
              AND s.employed_from <= r.issued_on
              AND (s.employed_until IS NULL OR s.employed_until >= r.issued_on)
              AND (s.authorised_from IS NULL OR s.authorised_from <= r.issued_on)
              AND (s.authorised_until IS NULL OR s.authorised_until >= r.issued_on)"""
    unrestricted = "REPLACE(CAST(s.authorised_for AS TEXT), ' ', '') IN ('[]', '')"
    sql = f"""
        SELECT r.id AS record_id, r.institution_id, r.issued_on, {name} AS name,
               s.id AS staff_id, CAST(s.authorised_for AS TEXT) AS authorised_for,
               {stds} AS standards
        FROM report_records r {names}
        JOIN staff s ON {valid}
        WHERE r.event = 'issued' {only}
          AND REPLACE(COALESCE({stds}, '[]'), ' ', '') <> '[]'
          AND NOT {unrestricted}
          AND NOT EXISTS (SELECT 1 FROM staff s2 WHERE {valid.replace("s.", "s2.")}
                          AND {unrestricted.replace("s.", "s2.")})
        ORDER BY r.id, {name}, s.id"""
    stmt = ctx.cached("signatory_out_of_scope", lambda: text(sql).bindparams(
        bindparam("ids", expanding=True)) if ctx.ids is not None else text(sql))
    keys: dict[str, str] = {}

    def key(raw: str) -> str:
        if raw not in keys:
            keys[raw] = _std_key(raw)
        return keys[raw]

    pair: tuple[str, str] | None = None
    rows: list[Any] = []

    def covers(r: Any) -> bool:
        # ``authorised_for`` may also list parameters ("铅"): a person authorised only for
        # parameters is not restricted by standard, so it is not judged here.
        allowed = {key(a) for a in _json_list(r.authorised_for)
                   if standards.looks_like_standard(a)}
        return not allowed or bool(allowed & {key(x) for x in _json_list(r.standards)})

    def verdict() -> Iterator[_OutOfScope]:
        # One of several matching people (same name) covering a standard is enough.
        if rows and not any(covers(r) for r in rows):
            first = rows[0]
            yield _OutOfScope(first.record_id, first.institution_id, first.issued_on,
                              first.name, first.staff_id)

    for r in ctx.stream(stmt):
        if (r.record_id, r.name) != pair:
            yield from verdict()
            pair, rows = (r.record_id, r.name), []
        rows.append(r)
    yield from verdict()


def _json_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value or [] if isinstance(v, str)]


# --- dates ----------------------------------------------------------------------------------

R = aliased(ReportRecord, name="r")


def issued_before_tested(ctx: Ctx) -> Iterator[Hit]:
    def build() -> Any:
        end = bj_date(ctx, IT.ended_at)
        stmt = (select(IT.record_id, IT.seq, IT.institution_id, R.issued_on, end.label("end"))
                .join(R, R.id == IT.record_id)
                .where(R.issued_on.is_not(None), end > R.issued_on, *_only(ctx, IT.record_id))
                .order_by(IT.record_id, IT.seq))
        return stmt

    stmt = ctx.cached("issued_before_tested", build)
    yield from grouped(
        ctx.stream(stmt), "ISSUED_BEFORE_TESTED", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id, {
            "day": day_text(r.issued_on), "ended": day_text(r.end)}), item_ref)


def tested_before_receipt(ctx: Ctx) -> Iterator[Hit]:
    """An item started before the record's sample receipt date, or before a sampling event
    of the same record."""
    def build() -> Any:
        start = bj_date(ctx, IT.started_at)
        received = json_date(ctx, R.public[("dates", "sample_received")].as_string())
        by_date = (select(IT.record_id, IT.seq, IT.institution_id, IT.started_at,
                          cast(received, String).label("received"),
                          literal("report_records").label("tbl"), literal(0).label("s_seq"))
                   .join(R, R.id == IT.record_id)
                   .where(received.is_not(None), start < received, *_only(ctx, IT.record_id)))
        s = SMP
        by_sampling = (select(IT.record_id, IT.seq, IT.institution_id, IT.started_at,
                              cast(s.at, String), literal("report_evidence_samplings"), s.seq)
                       .join(s, and_(s.record_id == IT.record_id, s.at > IT.started_at))
                       .where(*_only(ctx, IT.record_id)))
        u = union_all(by_date, by_sampling).subquery("u")
        stmt = select(u).order_by(u.c.record_id, u.c.seq)
        return stmt

    stmt = ctx.cached("tested_before_receipt", build)

    def evidence(r: Any) -> dict[str, Any]:
        other = ({"table": "report_records", "key": {"id": r.record_id},
                  "field": "dates.sample_received"} if r.tbl == "report_records" else
                 {"table": r.tbl, "key": {"record_id": r.record_id, "seq": r.s_seq}})
        return item_ref(r) | {"also": other}

    yield from grouped(
        ctx.stream(stmt), "TESTED_BEFORE_RECEIPT", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id, {
            "started": bj_minute(r.started_at),
            "received": str(r.received)[:16] if r.tbl == "report_records"
            else bj_minute(r.received)}), evidence)


def standard_not_in_force(ctx: Ctx) -> Iterator[Hit]:
    def build() -> Any:
        start = bj_date(ctx, IT.started_at)
        ed = ED
        early = and_(ed.implemented_on.is_not(None), start < ed.implemented_on)
        stmt = (select(IT.record_id, IT.seq, IT.institution_id, IT.standard, start.label("day"),
                       ed.id.label("edition_id"), early.label("early"))
                .join(ed, ed.number == IT.standard)
                .where(or_(early, and_(ed.withdrawn_on.is_not(None), start >= ed.withdrawn_on)),
                       *_only(ctx, IT.record_id))
                .order_by(IT.record_id, IT.seq))
        return stmt

    stmt = ctx.cached("standard_not_in_force", build)
    yield from grouped(
        ctx.stream(stmt), "STANDARD_NOT_IN_FORCE", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id, {
            "standard": r.standard, "day": day_text(r.day),
            "why": "not_yet" if r.early else "withdrawn"}),
        lambda r: item_ref(r) | {"also": {"table": "standard_editions",
                                          "key": {"id": r.edition_id}}})
    # The records whose items name no standard (or that carry no items) answer for the
    # standards they print; disjoint from the records above, so no subject comes twice.
    yield from public_standards_not_in_force(ctx)


def public_standards_not_in_force(ctx: Ctx) -> Iterator[Hit]:
    """The record's public ``standards`` against the first day of testing it states
    (``dates.tested_from``, else ``dates.tested_to``), for issued records whose evidence
    items name no standard. Editions are matched by their displayed number, as for items;
    a record without test dates is not checked (the issue date is no test date)."""
    only = "AND r.id IN :ids" if ctx.ids is not None else ""
    if ctx.pg:
        names = ("CROSS JOIN LATERAL json_array_elements_text(r.public -> 'standards') "
                 "AS j(value)")
        tested = ("CAST(COALESCE(r.public -> 'dates' ->> 'tested_from', "
                  "r.public -> 'dates' ->> 'tested_to') AS DATE)")
    else:
        names = ", json_each(r.public, '$.standards') AS j"
        # SQLite keeps dates as 'YYYY-MM-DD' text, which compares as the dates do.
        tested = ("COALESCE(json_extract(r.public, '$.dates.tested_from'), "
                  "json_extract(r.public, '$.dates.tested_to'))")
    sql = f"""
        SELECT t.record_id, t.institution_id, t.standard, t.day, ed.id AS edition_id,
               CASE WHEN ed.implemented_on IS NOT NULL AND t.day < ed.implemented_on
                    THEN 1 ELSE 0 END AS early
        FROM (SELECT r.id AS record_id, r.institution_id, j.value AS standard,
                     {tested} AS day
              FROM report_records r {names}
              WHERE r.event = 'issued' {only}
                AND NOT EXISTS (
                  SELECT 1 FROM report_evidence_items i
                  WHERE i.record_id = r.id AND i.standard IS NOT NULL AND i.standard <> '')
             ) t
        JOIN standard_editions ed ON ed.number = t.standard
        WHERE t.day IS NOT NULL
          AND ((ed.implemented_on IS NOT NULL AND t.day < ed.implemented_on)
               OR (ed.withdrawn_on IS NOT NULL AND t.day >= ed.withdrawn_on))
        ORDER BY t.record_id, t.standard"""
    stmt = ctx.cached("standard_not_in_force_public", lambda: text(sql).bindparams(
        bindparam("ids", expanding=True)) if ctx.ids is not None else text(sql))
    yield from grouped(
        ctx.stream(stmt), "STANDARD_NOT_IN_FORCE", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id, {
            "standard": r.standard, "day": day_text(r.day),
            "why": "not_yet" if r.early else "withdrawn"}),
        lambda r: {"table": "report_records", "key": {"id": r.record_id},
                   "field": "standards", "value": r.standard,
                   "also": {"table": "standard_editions", "key": {"id": r.edition_id}}})


# --- volume ---------------------------------------------------------------------------------

def lab_daily_volume(ctx: Ctx) -> Iterator[Hit]:
    day = bj_date(ctx, IT.started_at)
    per_day = (select(IT.institution_id.label("inst"), day.label("day"),
                      func.count().label("n"))
               .group_by(IT.institution_id, day).subquery("d"))
    inst_cap = (select(Instrument.institution_id.label("inst"), func.sum(case(
        (Instrument.tests_per_day.is_not(None), cast(Instrument.tests_per_day, Float)),
        else_=24.0 / Instrument.hours_per_test)).label("cap"))
        .where(Instrument.institution_id.is_not(None),
               or_(Instrument.tests_per_day.is_not(None),
                   Instrument.hours_per_test.is_not(None)))
        .group_by(Instrument.institution_id).subquery("c"))
    tester = json_text(Staff.roles).like('%"tester"%')
    testers_on_day = (select(func.count()).where(
        Staff.institution_id == per_day.c.inst, tester,
        Staff.employed_from <= per_day.c.day,
        or_(Staff.employed_until.is_(None), Staff.employed_until >= per_day.c.day))
        .scalar_subquery())
    has_testers = exists().where(Staff.institution_id == per_day.c.inst, tester)
    staff_cap = testers_on_day * rules.TESTS_PER_TESTER_DAY
    stmt = (select(per_day.c.inst, per_day.c.day, per_day.c.n, inst_cap.c.cap,
                   case((has_testers, staff_cap), else_=None).label("staff_cap"))
            .join(inst_cap, inst_cap.c.inst == per_day.c.inst)
            .where(or_(per_day.c.n > inst_cap.c.cap,
                       and_(has_testers, per_day.c.n > staff_cap)))
            .order_by(per_day.c.inst, per_day.c.day))
    for r in ctx.stream(stmt):
        yield Hit("LAB_DAILY_VOLUME", f"{r.inst}:{day_text(r.day)}", r.inst, None, {
            "day": day_text(r.day), "count": r.n, "instruments": int(r.cap),
            "staff": "—" if r.staff_cap is None else int(r.staff_cap)},
            [{"table": "report_evidence_items",
              "key": {"institution_id": r.inst, "day": day_text(r.day)}}])


# --- results --------------------------------------------------------------------------------

SEP = "\x1f"


def duplicate_results(ctx: Ctx) -> Iterator[Hit]:
    """Identical result vectors on different issued records (amended originals left out:
    their replacement repeats them by right)."""
    res = RES
    piece = res.parameter + "=" + res.value_text + " " + res.unit
    if ctx.pg:
        vec: Any = literal_column(
            "string_agg(res.parameter || '=' || res.value_text || ' ' || res.unit, "
            "chr(31) ORDER BY res.parameter, res.value_text, res.unit)")
        v = (select(res.record_id.label("rid"), func.count().label("n"), vec.label("vec"))
             .group_by(res.record_id)
             .having(func.count() >= rules.DUPLICATE_MIN_RESULTS).subquery("v"))
    else:
        # SQLite before 3.44 has no ORDER BY in aggregates; it concatenates in the order of
        # an ordered subquery.
        ordered = (select(res.record_id, piece.label("piece"))
                   .order_by(res.record_id, res.parameter, res.value_text, res.unit)
                   .subquery("o"))
        v = (select(ordered.c.record_id.label("rid"), func.count().label("n"),
                    func.group_concat(ordered.c.piece, SEP).label("vec"))
             .group_by(ordered.c.record_id)
             .having(func.count() >= rules.DUPLICATE_MIN_RESULTS).subquery("v"))
    amended = AMENDED
    part: dict[str, Any] = {"partition_by": v.c.vec, "order_by": (R.registered_at, R.id)}
    w = (select(v.c.rid, v.c.n, R.institution_id, R.number,
                func.first_value(R.id).over(**part).label("first_id"),
                func.first_value(R.number).over(**part).label("first_number"),
                func.count().over(partition_by=v.c.vec).label("c"))
         .join(R, R.id == v.c.rid)
         .where(R.event == RecordEvent.issued,
                ~exists().where(amended.refers_to_id == R.id,
                                amended.event == RecordEvent.amended))
         .subquery("w"))
    stmt = (select(w).where(w.c.c > 1, w.c.rid != w.c.first_id).order_by(w.c.rid))
    for r in ctx.stream(stmt):
        yield Hit("DUPLICATE_RESULTS", r.rid, r.institution_id, r.rid,
                  {"count": r.n, "other": r.first_number},
                  [{"table": "report_evidence_results", "key": {"record_id": r.rid}},
                   {"table": "report_evidence_results", "key": {"record_id": r.first_id}}])


def trailing_digits(ctx: Ctx) -> Iterator[Hit]:
    res = RES
    vt = res.value_text
    last = func.substr(vt, func.length(vt), 1)
    significant = func.length(func.replace(func.replace(func.ltrim(vt, "-+0."), ".", ""),
                                           "-", ""))
    stmt = (select(res.institution_id, last.label("d"), func.count().label("n"))
            .where(significant >= rules.DIGITS_MIN_SIGNIFICANT,
                   last.in_([str(d) for d in range(10)]),
                   ~vt.like("%e%"), ~vt.like("%E%"))
            .group_by(res.institution_id, last)
            .order_by(res.institution_id))
    current: str | None = None
    counts: dict[int, int] = {}

    def verdict(inst: str) -> Hit | None:
        flag, chi2, p, n = stats.digits_test(counts, rules.DIGITS_MIN_VALUES,
                                             rules.DIGITS_ALPHA)
        if not flag:
            return None
        return Hit("TRAILING_DIGITS", inst, inst, None, {
            "count": n, "chi2": round(chi2, 1), "p": f"{p:.1e}",
            "alpha": f"{rules.DIGITS_ALPHA:.0e}",
            "digits": ",".join(str(counts.get(d, 0)) for d in range(10))},
            [{"table": "report_evidence_results", "key": {"institution_id": inst}}])

    for r in ctx.stream(stmt):
        if r.institution_id != current:
            if current is not None and (hit := verdict(current)):
                yield hit
            current, counts = r.institution_id, {}
        counts[int(r.d)] = counts.get(int(r.d), 0) + r.n
    if current is not None and (hit := verdict(current)):
        yield hit


def _pt_statement(ctx: Kind) -> Any:
    res = RES
    published = bj_date(ctx, PtRound.published_at)
    return (select(res.record_id, res.seq, res.institution_id, res.parameter, R.issued_on,
                   published.label("published"), PtRound.code.label("round"),
                   PtResult.id.label("pt_result_id"))
            .join(R, R.id == res.record_id)
            .join(PtParticipant, PtParticipant.org_id == res.org_id)
            .join(PtResult, and_(PtResult.participant_id == PtParticipant.id,
                                 PtResult.verdict == "unsatisfactory"))
            .join(PtRound, and_(PtRound.id == PtResult.round_id,
                                PtRound.published_at.is_not(None)))
            .join(PtRoundMeasurand, PtRoundMeasurand.id == PtResult.round_measurand_id)
            .join(PtMeasurand, and_(PtMeasurand.id == PtRoundMeasurand.measurand_id,
                                    func.lower(PtMeasurand.name) == func.lower(res.parameter)))
            .where(R.issued_on > published,
                   R.issued_on <= bj_date_plus(ctx, PtRound.published_at,
                                               rules.PT_WINDOW_DAYS),
                   ~exists().where(PtCorrectiveAction.result_id == PtResult.id,
                                   PtCorrectiveAction.recorded_on <= R.issued_on),
                   *_only(ctx, res.record_id))
            .order_by(res.record_id, res.seq))


PT_NEW = Statement(lambda kind: _pt_statement(Compiling(kind)))


def pt_no_correction(ctx: Ctx) -> Iterator[Hit]:
    yield from pt_hits(ctx.stream(ctx.cached("pt_no_correction",
                                             lambda: _pt_statement(ctx))))


def pt_hits(rows: Iterable[Any]) -> Iterator[Hit]:
    """Results of a record (ordered by it) issued soon after its lab's unsatisfactory PT
    result for that parameter, before any corrective action."""
    yield from grouped(
        iter(rows), "PT_NO_CORRECTION", lambda r: r.record_id,
        lambda r: Hit("", "", r.institution_id, r.record_id, {
            "parameter": r.parameter, "day": day_text(r.issued_on), "round": r.round,
            "days": ((as_date(r.issued_on) or date.min)
                     - (as_date(r.published) or date.min)).days}),
        lambda r: {"table": "report_evidence_results",
                   "key": {"record_id": r.record_id, "seq": r.seq},
                   "also": {"table": "pt_results", "key": {"id": r.pt_result_id}}})


# --- market and log -------------------------------------------------------------------------

# An order's price is agreed once the lab's quote is accepted; a cancelled order agreed
# nothing that stands.
AGREED = ("accepted", "sample_received", "testing", "report_issued", "completed", "disputed")


def price_far_below(ctx: Ctx) -> Iterator[Hit]:
    """Per standard, the market's prices a sample: active listings and the agreed orders
    quoted on a company's request (an order placed from a listing repeats the listing's
    price, so counting it again would let one listing weigh as many times as it sells).
    A listing or an order strictly below ``PRICE_RATIO`` of their median is a signal."""
    if ctx.pg:
        listing_stds = "CROSS JOIN LATERAL json_array_elements_text(l.standards) AS j(value)"
        order_stds = "CROSS JOIN LATERAL json_array_elements_text(d.standards) AS j(value)"
    else:
        listing_stds = ", json_each(l.standards) AS j"
        order_stds = ", json_each(d.standards) AS j"
    agreed = ", ".join(f"'{s}'" for s in AGREED)
    sql = f"""
        WITH o AS (
            SELECT 'listing' AS kind, l.id, l.institution_id, j.value AS std,
                   l.price_fen * 1.0 AS price_fen
            FROM service_listings l {listing_stds}
            WHERE l.active
            UNION ALL
            SELECT 'order', d.id, d.institution_id, j.value,
                   d.amount_fen * 1.0 / d.quantity
            FROM orders d {order_stds}
            WHERE d.listing_id IS NULL AND d.amount_fen IS NOT NULL AND d.quantity > 0
              AND d.status IN ({agreed})),
        ranked AS (
            SELECT std, price_fen,
                   ROW_NUMBER() OVER (PARTITION BY std ORDER BY price_fen) AS rn,
                   COUNT(*) OVER (PARTITION BY std) AS c
            FROM o),
        med AS (
            SELECT std, AVG(price_fen) AS median, MAX(c) AS offers FROM ranked
            WHERE rn IN ((c + 1) / 2, (c + 2) / 2) GROUP BY std)
        SELECT o.kind, o.id, o.institution_id, o.std, o.price_fen, med.median, med.offers
        FROM o JOIN med ON med.std = o.std
        WHERE med.offers >= :min_offers AND o.price_fen < :ratio * med.median
        ORDER BY o.kind, o.id, o.std"""
    for r in ctx.db.execute(text(sql), {"min_offers": rules.PRICE_MIN_OFFERS,
                                        "ratio": rules.PRICE_RATIO}):
        table = "service_listings" if r.kind == "listing" else "orders"
        yield Hit("PRICE_FAR_BELOW_MEDIAN", f"{r.kind}:{r.id}:{r.std}"[:200],
                  r.institution_id, None, {
                      "standard": r.std, "price": f"{float(r.price_fen) / 100:.2f}",
                      "median": f"{float(r.median) / 100:.2f}", "offers": r.offers,
                      "ratio": int(rules.PRICE_RATIO * 100)},
                  [{"table": table, "key": {"id": r.id}}])


def not_signed_by_issuer(ctx: Ctx) -> Iterator[Hit]:
    def build() -> Any:
        stmt = (select(R.id, R.institution_id)
                .where(json_text(R.flags).like('%"not_signed_by_issuer"%'),
                       *_only(ctx, R.id))
                .order_by(R.id))
        return stmt

    stmt = ctx.cached("not_signed_by_issuer", build)
    for r in ctx.stream(stmt):
        yield Hit("NOT_SIGNED_BY_ISSUER", r.id, r.institution_id, r.id, {},
                  [{"table": "report_records", "key": {"id": r.id}, "field": "flags"}])


QUERIES: dict[str, Callable[[Ctx], Iterator[Hit]]] = {
    "INSTRUMENT_UNCALIBRATED": instrument_uncalibrated,
    "INSTRUMENT_OUT_OF_SERVICE": instrument_out_of_service,
    "INSTRUMENT_NOT_REGISTERED": instrument_not_registered,
    "INSTRUMENT_OVERLAP": instrument_overlap,
    "INSTRUMENT_OVER_CAPACITY": instrument_over_capacity,
    "STAFF_TRAVEL": staff_travel,
    "STAFF_NOT_EMPLOYED": staff_not_employed,
    "SIGNATORY_INVALID": signatory_invalid,
    "ISSUED_BEFORE_TESTED": issued_before_tested,
    "TESTED_BEFORE_RECEIPT": tested_before_receipt,
    "STANDARD_NOT_IN_FORCE": standard_not_in_force,
    "LAB_DAILY_VOLUME": lab_daily_volume,
    "DUPLICATE_RESULTS": duplicate_results,
    "TRAILING_DIGITS": trailing_digits,
    "PT_NO_CORRECTION": pt_no_correction,
    "PRICE_FAR_BELOW_MEDIAN": price_far_below,
    "NOT_SIGNED_BY_ISSUER": not_signed_by_issuer,
}
assert set(QUERIES) == set(rules.BY_CODE)
