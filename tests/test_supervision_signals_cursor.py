"""The statements registration runs on the driver's cursor read exactly what SQLAlchemy
reads (dates, instants, enums, JSON, numbers, NULLs; lists; one statement or several sent
as one), on SQLite and PostgreSQL; and the generic-plan setting ends with the
transaction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import literal, select, text
from sqlalchemy.orm import Session

from signals_world import bj, instrument, item, make_lab, record, staff
from tichub.market.models import InstrumentEventKind
from tichub.supervision.signals import cursor, incremental, queries
from tichub.supervision.signals.cursor import Batch, Statement

D = date(2026, 6, 10)


def _world(db: Session) -> list[str]:
    lab = make_lab(db, "cursor@lab.cn")
    ins = instrument(db, lab, "EQ-1", hours_per_test=2.0)
    other = instrument(db, lab, "EQ-2", calibrated=None, tests_per_day=3)
    tester = staff(db, lab, "T1", "张三", ["tester", "sampler"],
                   employed=(date(2020, 1, 1), date(2027, 1, 1)))
    ids = []
    for n in range(3):
        r = record(db, lab, f"R-{n}", issued=D + timedelta(days=n), received=D,
                   signatories=["张三"], standards=["GB 1-2020"],
                   items=[item(ins, bj(D, 9 + n), tester=tester, standard="GB 1-2020"),
                          item(other, bj(D, 10 + n), hours=0.5)],
                   samplings=[{"sampler": tester, "at": bj(D, 7), "lat": 31.25 + n / 100,
                               "lon": 121.5}],
                   results=[("Pb", "1.25"), ("Cd", "0.5")])
        ids.append(r.id)
    return ids


def _as_sqlalchemy(db: Session, stmt: Statement, **params: Any) -> list[tuple[Any, ...]]:
    kind = db.get_bind().dialect.name
    return [tuple(r) for r in db.connection().execute(stmt._build(kind), params)]


STATEMENTS = [incremental._RECORDS, incremental._ITEMS, incremental._SAMPLINGS,
              incremental._EVENTS, incremental._EDITIONS, queries.PT_NEW]


def test_rows_as_sqlalchemy_reads_them(db: Session) -> None:
    ids = _world(db)
    batch = Batch(db)
    got = [batch.add(s, ids=ids) for s in STATEMENTS]
    batch.run()
    for stmt, rows in zip(STATEMENTS, got, strict=True):
        want = _as_sqlalchemy(db, stmt, ids=ids)
        assert [tuple(r) for r in rows] == want
    records, items, samplings = got[0], got[1], got[2]
    assert [r.id for r in records] == sorted(ids)  # the statement's own order, kept
    assert {type(i.started_at).__name__ for i in items} == {"datetime"}
    assert all(i.started_at.utcoffset() == timedelta(0) for i in items)
    assert records[0].issued_on == D and isinstance(records[0].public, dict)
    assert records[0].event.name == "issued"  # the enum, not its text
    assert isinstance(samplings[0].latitude, float) and samplings[0].employed_until == \
        date(2027, 1, 1)
    assert any(i.tests_per_day == 3 and i.hours_per_test is None for i in items)
    db.rollback()


def test_a_repeated_parameter_and_an_empty_list(db: Session) -> None:
    """The capacity statement names one parameter twice (its GROUP BY must match the
    column); an empty list finds nothing."""
    ids = _world(db)
    eq2 = next(r for r in db.connection().execute(
        incremental._ITEMS._build(db.get_bind().dialect.name), {"ids": ids})
        if r.asset_no == "EQ-2")
    batch = Batch(db)
    at_capacity = queries.capacity_ask(batch, [(eq2.instrument_id, bj(D, 15))])
    nothing = batch.add(incremental._RECORDS, ids=[])
    batch.run()
    assert nothing == [] and queries.capacity_hits(at_capacity) == []  # 3 of 3 a day
    lab = make_lab(db, "cursor-more@lab.cn")
    one_more = record(db, lab, "R-4th", items=[item(None, bj(D, 15))])
    db.execute(text("UPDATE report_evidence_items SET instrument_id = :i "
                    "WHERE record_id = :r"), {"i": eq2.instrument_id, "r": one_more.id})
    batch = Batch(db)
    over = queries.capacity_ask(batch, [(eq2.instrument_id, bj(D, 15))])
    batch.run()
    (hit,) = queries.capacity_hits(over)
    assert hit.params["count"] == 4 and hit.params["capacity"] == 3
    assert hit.params["day"] == D.isoformat()
    db.rollback()


def test_one_statement_or_many_read_the_same(db: Session, monkeypatch: Any) -> None:
    ids = _world(db)
    batch = Batch(db)
    together = [batch.add(s, ids=ids) for s in STATEMENTS]
    batch.run()
    monkeypatch.setattr(cursor, "_AS_ONE_AT_MOST", 0)  # each statement on its own
    batch = Batch(db)
    apart = [batch.add(s, ids=ids) for s in STATEMENTS]
    batch.run()
    assert together == apart and any(together)
    db.rollback()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # its setting
def test_generic_plans_only_until_the_last_run(db: Session, monkeypatch: Any) -> None:
    ids = _world(db)

    def mode() -> Any:
        return db.execute(text("SHOW plan_cache_mode")).scalar()

    before = mode()
    assert before != "force_generic_plan"
    for one_statement in (True, False):
        monkeypatch.setattr(cursor, "_AS_ONE_AT_MOST", 12 if one_statement else 0)
        batch = Batch(db)
        batch.add(incremental._RECORDS, ids=ids)
        batch.add(incremental._ITEMS, ids=ids)
        batch.run()
        assert mode() == "force_generic_plan"
        batch.add(incremental._SAMPLINGS, ids=ids)
        batch.add(incremental._EVENTS, ids=ids)
        batch.run(last=True)
        assert mode() == before
        batch = Batch(db)
        batch.add(incremental._RECORDS, ids=ids)
        batch.run()
        batch.run(last=True)  # nothing left to ask: set back all the same
        assert mode() == before
    incremental.check(db, ids)
    assert mode() == before
    db.rollback()


def test_constants_and_untyped_columns(db: Session) -> None:
    """A statement's own constants (an enum list, a literal) go with it."""
    ids = _world(db)
    stmt = Statement(lambda kind: select(literal("x").label("tbl"),
                                         incremental.InstrumentEvent.kind)
                     .where(incremental.InstrumentEvent.kind.in_(
                         [InstrumentEventKind.calibration])))
    batch = Batch(db)
    rows = batch.add(stmt)
    batch.run()
    assert rows and {r.tbl for r in rows} == {"x"}
    assert {r.kind for r in rows} == {InstrumentEventKind.calibration}
    assert ids
    db.rollback()
