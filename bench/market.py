"""The marketplace under contention (issue 5): bookings/s and voucher redemptions/s with 16
threads racing for one instrument and one voucher, on SQLite and PostgreSQL; and the page
time of a lab's inbox holding 100,000 orders (GET /api/orders, in-process HTTP).

    python bench/market.py                  # SQLite, and PostgreSQL when reachable
    python bench/market.py --orders 10000   # a smaller inbox
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text

from machine import cpu_model, peak_rss_mib
from tichub.app import create_app
from tichub.core import errors
from tichub.core import service as core
from tichub.core.auth import Principal, _principal_for_user
from tichub.core.config import Settings
from tichub.core.db import make_engine, make_sessionmaker, table
from tichub.core.ids import new_id, utcnow
from tichub.core.migrate import upgrade
from tichub.core.models import Organisation, OrgKind, Role
from tichub.market import service
from tichub.market.models import Order, OrderStatus
from tichub.market.schemas import BookingIn, InstrumentIn, ProgrammeIn, RedeemIn, VoucherIn
from tichub.registry.models import Institution

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
THREADS = 16


def account(db, email: str, kind: OrgKind) -> tuple[Organisation, Principal]:  # type: ignore[no-untyped-def]
    org = core.create_organisation(db, name=f"Org {email}", kind=kind)
    user = core.create_user(db, email=email, password="bench-password-1", org=org,
                            role=Role.admin)
    db.commit()
    db.refresh(user)
    return org, Principal(**_principal_for_user(user))


def race(factory, attempts: int, work) -> tuple[int, int, float]:  # type: ignore[no-untyped-def]
    """Runs ``work(i, db)`` for every attempt on THREADS threads; (won, refused, seconds)."""
    lock = threading.Lock()
    counts = {"won": 0, "refused": 0}

    def one(i: int) -> None:
        with factory() as db:
            try:
                work(i, db)
                key = "won"
            except errors.Problem as exc:
                assert exc.status == 409, exc
                key = "refused"
        with lock:
            counts[key] += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(attempts)))
    return counts["won"], counts["refused"], time.perf_counter() - start


def contention(url: str, attempts: int) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as db:
        lab, lp = account(db, "lab@bench.cn", OrgKind.lab)
        firm, fp = account(db, "firm@bench.cn", OrgKind.enterprise)
        ops, op = account(db, "ops@bench.cn", OrgKind.operator)
        inst = service.add_instrument(db, lp, InstrumentIn(
            org_id=lab.id, name="ICP-MS", kind="ICP-MS", hourly_rate_fen=60_000,
            max_advance_days=365))
        prog = service.create_programme(db, op, ProgrammeIn(
            org_id=ops.id, code="BENCH", name="bench", budget_fen=10**12,
            valid_from=date(2020, 1, 1), valid_until=date(2099, 12, 31), notice_days=0))
        service.review_provider(db, op, service.apply_as_provider(db, lp, prog.id, lab.id).id,
                                approve=True)
        voucher = service.issue_voucher(db, op, prog.id, VoucherIn(
            holder_org_id=firm.id, face_fen=10**10, valid_until=date(2099, 12, 31)))
    base = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                           microsecond=0)

    def book(i: int, db) -> None:  # type: ignore[no-untyped-def]
        # every other attempt asks for a slot another attempt also wants
        slot = base + timedelta(minutes=15 * (i // 2))
        service.book(db, fp, inst.id, BookingIn(org_id=firm.id, starts_at=slot,
                                                ends_at=slot + timedelta(minutes=15)))

    def redeem(i: int, db) -> None:  # type: ignore[no-untyped-def]
        service.redeem(db, fp, voucher.id, RedeemIn(
            provider_org_id=lab.id, reference=f"ORDER-{i}", order_amount_fen=20_000,
            amount_fen=100))

    won, refused, secs = race(factory, attempts, book)
    r_won, r_refused, r_secs = race(factory, attempts, redeem)
    with factory() as db:
        balances = service.balances(db, prog.id)
        assert sum(balances.values()) == 0 and r_won * 100 == balances[f"provider:{lab.id}"]
    engine.dispose()
    return {"attempts": attempts, "bookings": won, "refused": refused,
            "booking attempts/s": attempts / secs, "bookings/s": won / secs,
            "redemptions": r_won, "redemptions/s": r_won / r_secs,
            "redemption failures": r_refused}


def inbox(url: str, n: int) -> dict[str, float]:
    upgrade(url)
    app = create_app(Settings(database_url=url, secret_key="bench", cookie_secure=False,
                              log_integrate_every=0))
    factory = app.state.sessionmaker
    with factory() as db:
        lab, lp = account(db, "inbox-lab@bench.cn", OrgKind.lab)
        firm, _ = account(db, "inbox-firm@bench.cn", OrgKind.enterprise)
        inst_id = new_id()
        db.execute(insert(table(Institution)).values(
            id=inst_id, org_id=lab.id, seq=900_000, kind="lab", name_zh="基准实验室",
            credit_code="91310000BENCH0001X", district="pudong", address="", published=True,
            specialised=False, headquarters=False, created_at=utcnow(), updated_at=utcnow()))
        statuses = list(OrderStatus)
        now = utcnow()
        rows = [{"id": new_id(), "number": f"ORD-B-{i:07d}", "company_org_id": firm.id,
                 "lab_org_id": lab.id, "institution_id": inst_id, "product": f"样品 {i}",
                 "standards": ["GB 31241-2022"], "quantity": 1, "sample_delivery": "mail",
                 "sample_return": False, "notes": "", "status": statuses[i % len(statuses)],
                 "amount_fen": 100_000 + i, "voucher_fen": 0, "review": "",
                 "updated_at": now - timedelta(seconds=i), "created_at": now}
                for i in range(n)]
        for k in range(0, n, 10_000):
            db.execute(insert(table(Order)), rows[k:k + 10_000])
        db.commit()
        _, token = core.create_token(db, principal=lp, org_id=lab.id, name="bench",
                                     scopes=["market:write"])
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("ANALYZE orders"))
            db.commit()
    times: dict[str, list[float]] = {"first page": [], "page 100": [], "status filter": []}
    with TestClient(app) as client:
        head = {"Authorization": f"Bearer {token}"}
        params = {"first page": {"org_id": lab.id}, "page 100": {"org_id": lab.id, "page": 100},
                  "status filter": {"org_id": lab.id, "status": "testing"}}
        for _ in range(40):
            for name, p in params.items():
                start = time.perf_counter()
                r = client.get("/api/orders", params=p, headers=head)
                times[name].append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200 and r.json()["total"] > 0, r.text
    app.state.engine.dispose()
    return {f"{k} p50 ms": statistics.median(v) for k, v in times.items()} | {
        f"{k} p95 ms": sorted(v)[int(0.95 * len(v)) - 1] for k, v in times.items()}


def pg_url() -> str | None:
    try:
        engine = create_engine(PG, connect_args={"connect_timeout": 3})
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS bench_market CASCADE"))
            conn.execute(text("CREATE SCHEMA bench_market"))
        engine.dispose()
    except Exception as exc:
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); SQLite only")
        return None
    return f"{PG}?options=-csearch_path%3Dbench_market,public"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attempts", type=int, default=2000)
    ap.add_argument("--orders", type=int, default=100_000)
    args = ap.parse_args()
    print(f"machine: {cpu_model()}; {THREADS} threads racing")
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"SQLite": f"sqlite:///{Path(tmp) / 'market.db'}",
                "SQLite inbox": f"sqlite:///{Path(tmp) / 'inbox.db'}"}
        pg = pg_url()
        for name, url in (("SQLite", urls["SQLite"]), ("PostgreSQL", pg)):
            if url is None:
                continue
            figures = contention(url, args.attempts)
            print(f"{name}: " + ", ".join(f"{k} {v:,.0f}" for k, v in figures.items()))
        for name, url in (("SQLite", urls["SQLite inbox"]), ("PostgreSQL", pg)):
            if url is None:
                continue
            figures = inbox(url, args.orders)
            print(f"{name} inbox of {args.orders:,} orders: " + ", ".join(
                f"{k} {v:.1f}" for k, v in figures.items()))
    print(f"peak RSS {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
