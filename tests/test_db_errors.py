"""A transaction PostgreSQL rolled back for a deadlock is a refusal to try now (503 with
Retry-After), not a server fault: made here with a real deadlock between two sessions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from conftest import pg_base_url, pg_unreachable, skip_or_fail
from tichub.core.db import is_locked


def test_a_postgresql_deadlock_counts_as_busy() -> None:
    reason = pg_unreachable()
    if reason:
        skip_or_fail("postgres", reason)
    engine = create_engine(pg_base_url())
    # Advisory locks: a deadlock without any table, so nothing of other tests is touched.
    barrier = threading.Barrier(2)
    caught: list[BaseException] = []

    def lock(first: int, second: int) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": first})
                barrier.wait(timeout=10)
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": second})
        except OperationalError as exc:
            caught.append(exc)

    keys = (7_240_001, 7_240_002)
    threads = [threading.Thread(target=lock, args=keys),
               threading.Thread(target=lock, args=keys[::-1])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    engine.dispose()
    assert len(caught) == 1, caught  # PostgreSQL breaks the cycle by failing one of them
    assert getattr(caught[0].orig, "sqlstate", None) == "40P01"
    assert is_locked(caught[0])


def test_other_database_errors_are_not_busy() -> None:
    reason = pg_unreachable()
    if reason:
        skip_or_fail("postgres", reason)
    engine = create_engine(pg_base_url())
    with pytest.raises(Exception) as raised, engine.begin() as conn:
        conn.execute(text("SELECT 1 / 0"))
    engine.dispose()
    assert not is_locked(raised.value)
