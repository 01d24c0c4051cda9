"""Overload (issue 12) against a real uvicorn server: how long a report registration waits
while a 100,000-row scope import runs, and how a burst of 200 concurrent bookings of one
instrument is answered (status counts, answer times, GET /log/checkpoint meanwhile).

    python bench/overload.py                       # SQLite, and PostgreSQL when reachable
    python bench/overload.py --rows 20000 --burst 100 --sqlite-only
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

import tichub
from machine import cpu_model
from tichub.core import service as core
from tichub.core.auth import Principal, _principal_for_user
from tichub.core.db import make_engine, make_sessionmaker
from tichub.core.ids import new_id
from tichub.core.migrate import upgrade
from tichub.core.models import OrgKind, Role
from tichub.market import service as market
from tichub.market.schemas import InstrumentIn
from tichub.registry import service as registry
from tichub.registry.credit_code import check_character
from tichub.registry.schemas import InstitutionIn, QualificationIn, ScopeLineIn, SignatoryIn
from tichub.reports.note import Signer

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ORIGIN = "tichub.bench/reports"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def account(db: Any, email: str, kind: OrgKind) -> tuple[Any, Principal]:
    org = core.create_organisation(db, name=f"Org {email}", kind=kind)
    user = core.create_user(db, email=email, password="bench-password-1", org=org,
                            role=Role.admin)
    db.commit()
    db.refresh(user)
    return org, Principal(**_principal_for_user(user))


def token(db: Any, org: Any, p: Principal, scopes: list[str]) -> dict[str, str]:
    _, plain = core.create_token(db, principal=p, org_id=org.id, name="bench", scopes=scopes)
    return {"Authorization": f"Bearer {plain}"}


@contextmanager
def served(url: str, workdir: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = str(Path(tichub.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src, "TICHUB_DATABASE_URL": url,
           "TICHUB_SECRET_KEY": "bench-secret", "TICHUB_COOKIE_SECURE": "false",
           "TICHUB_LOG_ORIGIN": ORIGIN, "TICHUB_LOG_KEY": Signer.generate(ORIGIN).encode(),
           "TICHUB_LOG_INTEGRATE_EVERY": "0.5"}
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "tichub.app:create_app",
                             "--factory", "--port", str(port), "--log-level", "warning",
                             "--no-access-log"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/log/checkpoint", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def setup(url: str, burst: int) -> dict[str, Any]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        lab_org, lab = account(db, "lab@bench.cn", OrgKind.lab)
        first17 = "91310115000000001"
        inst = registry.create_institution(db, lab, lab_org.id, InstitutionIn(
            name_zh="甲检测", credit_code=first17 + check_character(first17),
            district="pudong"))
        q = registry.add_qualification(db, lab, inst.id, QualificationIn(
            kind="cnas", number="CNAS L0001", valid_until=date(2030, 1, 1), status="valid"))
        registry.replace_scope(db, lab, q.id, [ScopeLineIn(
            standard="GB 31241-2022", product="锂离子电池", parameter="过充电保护")])
        registry.add_signatory(db, lab, inst.id, SignatoryIn(
            name="张工", authorised_from=date(2020, 1, 1)))
        db.commit()
        owner_org, owner = account(db, "owner@bench.cn", OrgKind.lab)
        instrument = market.add_instrument(db, owner, InstrumentIn(
            org_id=owner_org.id, name="质谱仪", kind="ICP-MS", hourly_rate_fen=60_000,
            calibration_due=date.today() + timedelta(days=365)))
        firm_org, firm = account(db, "firm@bench.cn", OrgKind.enterprise)
        out = {"inst": inst.id, "lab_auth": token(db, lab_org, lab, [
            "reports:write", "registry:write", "registry:read"]),
            "instrument": instrument.id, "firm": firm_org.id,
            "firm_auths": [token(db, firm_org, firm, ["market:write"]) for _ in range(burst)]}
    engine.dispose()
    return out


def report(inst: str, number: str) -> dict[str, Any]:
    return {"number": number, "kind": "test_report", "institution_id": inst,
            "client": "上海某储能科技有限公司", "product": "锂离子电池组",
            "standards": ["GB 31241-2022"], "marks": ["CNAS"],
            "sample_received_on": "2026-01-02", "tested_from": "2026-01-03",
            "tested_to": "2026-01-04", "issued_on": "2026-01-05", "signatories": ["张工"],
            "conclusion": "合格", "pdf_sha256": "ab" * 32}


def scope_csv(rows: int) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["qualification", "standard", "product", "parameter", "product_en"])
    w.writerow(["CNAS L0001", "GB 31241-2022", "锂离子电池", "过充电保护", ""])
    for i in range(rows - 1):
        w.writerow(["CNAS L0001", f"GB/T {2000 + i % 7000}-20{10 + i % 12}", f"产品{i % 997}",
                    f"参数{i}", f"product {i % 997}"])
    return out.getvalue().encode()


def import_meanwhile(base: str, s: dict[str, Any], rows: int) -> None:
    """Registrations, one every half second, while the import runs."""
    data = scope_csv(rows)
    result: dict[str, Any] = {}

    def run() -> None:
        t = time.perf_counter()
        r = httpx.post(f"{base}/api/registry/institutions/{s['inst']}/scope/import",
                       files={"file": ("scope.csv", data, "text/csv")}, headers=s["lab_auth"],
                       timeout=900)
        result["status"], result["seconds"] = r.status_code, time.perf_counter() - t

    worker = threading.Thread(target=run)
    worker.start()
    delays: list[float] = []
    statuses: Counter[int] = Counter()
    n = 0
    while worker.is_alive():
        time.sleep(0.5)
        n += 1
        t = time.perf_counter()
        r = httpx.post(f"{base}/api/reports", json=report(s["inst"], f"B-{new_id()}"),
                       headers=s["lab_auth"], timeout=900)
        if worker.is_alive():  # only those answered while the import still ran
            delays.append(time.perf_counter() - t)
            statuses[r.status_code] += 1
    worker.join()
    print(f"  import of {rows:,} rows: {result['status']} in {result['seconds']:.1f} s")
    print(f"  registrations meanwhile: {dict(statuses)}; answer time median "
          f"{statistics.median(delays):.3f} s, p90 {pct(delays, 0.9):.3f} s, "
          f"max {max(delays):.3f} s ({len(delays)} sent)")


async def bookings(base: str, s: dict[str, Any], burst: int) -> None:
    now = datetime.now(UTC) + timedelta(hours=8)
    first = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
             + timedelta(days=62)).replace(day=1) - timedelta(hours=8)
    limits = httpx.Limits(max_connections=burst + 10, max_keepalive_connections=burst + 10)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        async def one(i: int) -> tuple[int, float]:
            start = first + timedelta(hours=i % 50)
            t = time.perf_counter()
            r = await client.post(f"/api/instruments/{s['instrument']}/bookings",
                                  headers=s["firm_auths"][i],
                                  json={"org_id": s["firm"], "starts_at": start.isoformat(),
                                        "ends_at": (start + timedelta(hours=3)).isoformat()})
            return r.status_code, time.perf_counter() - t

        done = asyncio.Event()
        polls: list[float] = []

        async def poll() -> None:
            async with httpx.AsyncClient(base_url=base, timeout=60) as own:
                while not done.is_set():
                    t = time.perf_counter()
                    await own.get("/log/checkpoint")
                    polls.append(time.perf_counter() - t)
                    await asyncio.sleep(0.2)

        poller = asyncio.create_task(poll())
        t0 = time.perf_counter()
        answers = await asyncio.gather(*(one(i) for i in range(burst)))
        wall = time.perf_counter() - t0
        done.set()
        await poller
    times = [t for _, t in answers]
    print(f"  {burst} concurrent bookings in {wall:.1f} s: "
          f"{dict(sorted(Counter(st for st, _ in answers).items()))}")
    print(f"  answer time median {statistics.median(times):.2f} s, p90 {pct(times, 0.9):.2f} s,"
          f" p99 {pct(times, 0.99):.2f} s, max {max(times):.2f} s")
    print(f"  GET /log/checkpoint meanwhile: {len(polls)} polls, median "
          f"{statistics.median(polls):.3f} s, max {max(polls):.3f} s")


def run(url: str, name: str, rows: int, burst: int) -> None:
    print(f"{name}:")
    with tempfile.TemporaryDirectory() as tmp:
        if url.startswith("sqlite"):
            url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        s = setup(url, burst)
        with served(url, Path(tmp)) as base:
            asyncio.run(bookings(base, s, burst))
            import_meanwhile(base, s, rows)
        locked = (Path(tmp) / "server.log").read_text().count("database is locked")
        print(f"  'database is locked' in the server's log: {locked}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--burst", type=int, default=200)
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores")
    run("sqlite", "SQLite", args.rows, args.burst)
    if not args.sqlite_only:
        schema = f"bench_{new_id().lower()}"
        admin = create_engine(PG)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as exc:
            print(f"PostgreSQL: not reachable ({exc.__class__.__name__})")
            return 0
        try:
            run(f"{PG}?options=-csearch_path%3D{schema},public", "PostgreSQL", args.rows,
                args.burst)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
