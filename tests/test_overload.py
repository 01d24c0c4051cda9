"""Overload is an answer, never a 500: a burst of bookings and a long import against a real
server, and the SQLite writer gate's bounded wait."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from conftest import LOG_KEY
from server import make_instrument, make_lab, month_after_next, report, served
from tichub.core.db import make_engine, make_sessionmaker
from tichub.market.models import Booking
from tichub.registry.models import ScopeLine
from tichub.reports.models import ReportRecord

BURST = 200
ANSWER_WITHIN = 30.0  # seconds: the acceptance line for every answer
BEIJING_OFFSET = timedelta(hours=8)


async def _burst(url: str, inst_id: str, auths: list[dict[str, str]], org_id: str,
                 base: datetime) -> tuple[list[tuple[int, dict[str, Any]]], list[int]]:
    """BURST bookings of overlapping slots at once, each by its own client (API token),
    and GET /log/checkpoint polled while they run. Returns each booking's (status, body)
    and each poll's status."""
    limits = httpx.Limits(max_connections=BURST + 10, max_keepalive_connections=BURST + 10)
    async with httpx.AsyncClient(base_url=url, timeout=ANSWER_WITHIN, limits=limits) as client:
        async def one(i: int) -> tuple[int, dict[str, Any]]:
            start = base + timedelta(hours=i % 50)  # three hours each: most overlap
            try:
                r = await client.post(f"/api/instruments/{inst_id}/bookings",
                                      headers=auths[i],
                                      json={"org_id": org_id, "starts_at": start.isoformat(),
                                            "ends_at": (start + timedelta(hours=3)).isoformat(),
                                            "purpose": f"burst {i}"})
            except httpx.TimeoutException:
                return 0, {}  # no answer within the bound
            return r.status_code, r.json()

        done = asyncio.Event()
        polls: list[int] = []

        async def poll() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=ANSWER_WITHIN) as own:
                while not done.is_set():
                    try:
                        polls.append((await own.get("/log/checkpoint")).status_code)
                    except httpx.TimeoutException:
                        polls.append(0)
                    await asyncio.sleep(0.2)

        poller = asyncio.create_task(poll())
        answers = await asyncio.gather(*(one(i) for i in range(BURST)))
        done.set()
        await poller
        return list(answers), polls


def test_a_burst_of_bookings_is_answered_and_stored_as_answered(
        database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    with factory() as db:
        instrument = make_instrument(db, BURST)
        lab = make_lab(db)
    with served(database_url, LOG_KEY, tmp_path) as (url, log_file):
        # One registered report, so that the log has a checkpoint to serve.
        r = httpx.post(f"{url}/api/reports", json=report(lab, "R-2026-0001"), headers=lab.auth,
                       timeout=ANSWER_WITHIN)
        assert r.status_code == 201, r.text
        for _ in range(100):
            if httpx.get(f"{url}/log/checkpoint", timeout=ANSWER_WITHIN).status_code == 200:
                break
            time.sleep(0.1)
        base = month_after_next(datetime.now(UTC) + BEIJING_OFFSET) - BEIJING_OFFSET
        answers, polls = asyncio.run(_burst(url, instrument.id, instrument.auths,
                                            instrument.booker.org.id, base))
    statuses = Counter(s for s, _ in answers)  # 0: no answer within the bound
    assert set(statuses) <= {201, 409, 503}, (statuses, log_file.read_text()[-3000:])
    for status, body in answers:
        if status == 503:
            assert body["status"] == 503
    # The server answered the polls throughout, each within the bound.
    assert polls and set(polls) == {200}, polls
    # Every 201 is stored, and every stored booking was answered 201.
    acknowledged = {body["id"] for s, body in answers if s == 201}
    with factory() as db:
        stored = list(db.scalars(select(Booking).where(Booking.instrument_id == instrument.id)
                                 .order_by(Booking.starts_at)))
    assert acknowledged and {b.id for b in stored} == acknowledged
    for before, after in pairwise(stored):
        assert before.ends_at <= after.starts_at, (before.id, after.id)
    engine.dispose()


def _scope_csv(number: str, rows: int) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["qualification", "standard", "product", "parameter", "product_en"])
    # The line the registration below relies on stays in the new scope.
    w.writerow([number, "GB 31241-2022", "锂离子电池", "过充电保护", ""])
    for i in range(rows - 1):
        w.writerow([number, f"GB/T {2000 + i % 7000}-20{10 + i % 12}", f"产品{i % 997}",
                    f"参数{i}", f"product {i % 997}"])
    return out.getvalue().encode()


IMPORT_ROWS = 100_000


def test_a_registration_is_not_held_up_by_a_long_scope_import(
        database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    with factory() as db:
        lab = make_lab(db)
    data = _scope_csv("CNAS L0001", IMPORT_ROWS)
    with served(database_url, LOG_KEY, tmp_path) as (url, log_file):
        imported: dict[str, Any] = {}

        def run_import() -> None:
            r = httpx.post(f"{url}/api/registry/institutions/{lab.institution_id}/scope/import",
                           files={"file": ("scope.csv", data, "text/csv")}, headers=lab.auth,
                           timeout=600)
            imported["status"], imported["body"] = r.status_code, r.text

        worker = threading.Thread(target=run_import)
        worker.start()
        # Sent once the import is under way: its upload is done and its rows are being read.
        time.sleep(2)
        assert worker.is_alive(), imported
        r = httpx.post(f"{url}/api/reports", json=report(lab, "R-2026-0002"), headers=lab.auth,
                       timeout=600)
        import_running = worker.is_alive()
        with factory() as db:
            lines = db.scalar(select(func.count()).select_from(ScopeLine))
            stored = db.scalar(select(func.count()).select_from(ReportRecord)
                               .where(ReportRecord.number == "R-2026-0002"))
        worker.join()
        assert r.status_code == 201, r.text
        # Answered and committed while the import had not yet published its lines.
        assert (import_running, stored, lines) == (True, 1, 1)
        assert imported["status"] == 200, imported["body"][:2000]
        with factory() as db:
            assert db.scalar(select(func.count()).select_from(ScopeLine)) == IMPORT_ROWS
        # The report enters the log once the import is done, without the integrator failing.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with factory() as db:
                if db.scalar(select(func.count()).select_from(ReportRecord)
                             .where(ReportRecord.number == "R-2026-0002",
                                    ReportRecord.log_index.is_not(None))):
                    break
            time.sleep(0.2)
    assert "database is locked" not in log_file.read_text()
    engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_write_that_waits_too_long_for_the_writer_gets_503(app: Any, db: Any) -> None:
    """The gate's bound: a write that cannot have the SQLite writer in time is answered
    503 with Retry-After and leaves nothing behind; once the writer is free it succeeds."""
    from fastapi.testclient import TestClient

    lab = make_lab(db)
    app.state.settings.write_wait = 0.2
    app.state.engine.dispose()
    engine = app.state.engine = make_engine(app.state.settings.database_url, write_wait=0.2)
    app.state.sessionmaker = make_sessionmaker(engine)
    other = make_sessionmaker(make_engine(app.state.settings.database_url))()
    with TestClient(app) as client:
        other.execute(select(1))
        other.query(ReportRecord).filter(ReportRecord.number == "x").delete()  # takes the writer
        r = client.post("/api/reports", json=report(lab, "R-2026-0003"), headers=lab.auth)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["retry-after"]) > 0
        other.rollback()
        assert db.scalar(select(func.count()).select_from(ReportRecord)) == 0
        r = client.post("/api/reports", json=report(lab, "R-2026-0003"), headers=lab.auth)
        assert r.status_code == 201, r.text
    other.close()
