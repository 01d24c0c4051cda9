"""A load test with mixed traffic (issue 12): the public searching and verifying, labs
registering reports with their own API tokens, companies booking instruments and ordering
tests, all at once against one server process, for a fixed time (Locust, headless).

It sets everything up itself: a fresh database (SQLite file, or a fresh schema in PostgreSQL),
the demo data (`tichub demo seed`), labs with tokens, instruments and listings, and uvicorn on
a free loopback port. Traffic goes to 127.0.0.1 only; the run stops by itself.

It reports requests, failures by kind, server errors (the bar: 0), throughput, p50/p95/p99
per request kind; that the log integrated during the run (checkpoint sizes sampled) and
covered every acknowledged registration within seconds of the end; and that every
acknowledged write (201) is in the database afterwards.

    python bench/load.py                          # SQLite, 5 minutes
    python bench/load.py --db postgres --duration 120
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import create_engine, select, text

from machine import cpu_model
from tichub.core import service as core
from tichub.core.auth import Principal, _principal_for_user
from tichub.core.db import make_engine, make_sessionmaker
from tichub.core.models import OrgKind, Role
from tichub.market import orders
from tichub.market import service as market
from tichub.market.models import Booking, Order
from tichub.market.schemas import InstrumentIn, ListingIn
from tichub.registry import service as registry
from tichub.registry.credit_code import check_character
from tichub.registry.models import QualificationKind, QualificationStatus
from tichub.registry.schemas import InstitutionIn, QualificationIn, ScopeLineIn, SignatoryIn
from tichub.reports.models import ReportRecord

HERE = Path(__file__).resolve().parent
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_load"
BIN = Path(sys.executable).parent
STANDARD = ("GB 31241-2022", "锂离子电池", "过充电保护")
LABS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(kind: str, work: Path, pg: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{work / 'load.db'}"
    engine = create_engine(pg, connect_args={"connect_timeout": 5})
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    return f"{pg}?options=-csearch_path%3D{PG_SCHEMA},public"


def tichub(env: dict[str, str], work: Path, *args: str) -> None:
    subprocess.run([str(BIN / "tichub"), *args], env=env, cwd=work, check=True,
                   stdout=subprocess.DEVNULL, timeout=1800)


def account(db, email: str, kind: OrgKind) -> tuple[str, Principal]:  # type: ignore[no-untyped-def]
    org = core.create_organisation(db, name=f"Load {email}", kind=kind)
    user = core.create_user(db, email=email, password="load-bench-password", org=org,
                            role=Role.admin)
    db.commit()
    db.refresh(user)
    return org.id, Principal(**_principal_for_user(user))


def set_up(url: str) -> dict[str, Any]:
    """Labs (each an institution able to register reports, an instrument, a listing, a
    token), a company with a token, and the demo's report numbers to verify."""
    engine = make_engine(url)
    out: dict[str, Any] = {"labs": [], "instruments": [], "listings": []}
    with make_sessionmaker(engine)() as db:
        for n in range(LABS):
            org, p = account(db, f"lab{n}@load.bench", OrgKind.lab)
            first17 = f"91310115{990000000 + n:09d}"
            inst = registry.create_institution(db, p, org, InstitutionIn(
                name_zh=f"负载测试实验室{n}", credit_code=first17 + check_character(first17),
                district="pudong"))
            q = registry.add_qualification(db, p, inst.id, QualificationIn(
                kind=QualificationKind.cnas, number=f"CNAS L9{n:03d}",
                valid_until=date(2030, 1, 1), status=QualificationStatus.valid))
            registry.replace_scope(db, p, q.id, [ScopeLineIn(
                standard=STANDARD[0], product=STANDARD[1], parameter=STANDARD[2])])
            registry.add_signatory(db, p, inst.id, SignatoryIn(
                name="张工", title="授权签字人", authorised_from=date(2020, 1, 1)))
            instrument = market.add_instrument(db, p, InstrumentIn(
                org_id=org, name=f"ICP-MS {n}", kind="ICP-MS", hourly_rate_fen=60_000,
                max_advance_days=365, hours_per_day=24, enterprise_share_pct=100))
            listing = orders.add_listing(db, p, ListingIn(
                org_id=org, institution_id=inst.id, title="锂离子电池安全检测",
                standards=[STANDARD[0]], price_fen=300_000))
            _, token = core.create_token(db, principal=p, org_id=org, name="load",
                                         scopes=["reports:write", "market:write"])
            db.commit()
            out["labs"].append({"n": n, "inst": inst.id, "token": token, "signatory": "张工",
                                "standard": STANDARD[0]})
            out["instruments"].append(instrument.id)
            out["listings"].append(listing.id)
        company, cp = account(db, "company@load.bench", OrgKind.enterprise)
        _, token = core.create_token(db, principal=cp, org_id=company, name="load",
                                     scopes=["market:write"])
        db.commit()
        out["company"] = {"org": company, "token": token}
        numbers = list(db.scalars(select(ReportRecord.number).distinct().limit(200)))
    engine.dispose()
    out["numbers"] = [*numbers, "NOT-REGISTERED-1", "NOT-REGISTERED-2"]
    return out


def checkpoint_size(base: str) -> int | None:
    try:
        r = httpx.get(f"{base}/log/checkpoint", timeout=10)
    except httpx.HTTPError:
        return None
    return int(r.text.splitlines()[1]) if r.status_code == 200 else None


class Sampler(threading.Thread):
    """Every few seconds: the log's checkpoint size and the server's resident memory."""

    def __init__(self, base: str, pid: int) -> None:
        super().__init__(daemon=True)
        self.base, self.proc = base, psutil.Process(pid)
        self.sizes: list[tuple[float, int | None]] = []
        self.peak_rss = 0
        self.stop = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.stop.wait(5):
            self.sizes.append((time.monotonic() - start, checkpoint_size(self.base)))
            with contextlib.suppress(psutil.Error):
                self.peak_rss = max(self.peak_rss, self.proc.memory_info().rss)


def read_stats(prefix: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    with open(f"{prefix}_stats.csv") as fh:
        stats = list(csv.DictReader(fh))
    with open(f"{prefix}_failures.csv") as fh:
        failures = list(csv.DictReader(fh))
    return stats, failures


def lost_writes(url: str, acks: list[dict[str, str]], size: int) -> dict[str, Any]:
    """Every acknowledged write looked up in the database; registrations in the log too."""
    by_kind: dict[str, set[str]] = {}
    for a in acks:
        by_kind.setdefault(a["kind"], set()).add(a["id"])
    engine = make_engine(url)
    found: dict[str, Any] = {}
    with make_sessionmaker(engine)() as db:
        for kind, model in (("registration", ReportRecord), ("booking", Booking),
                            ("order", Order)):
            ids = sorted(by_kind.get(kind, set()))
            present = set()
            for k in range(0, len(ids), 500):
                present |= set(db.scalars(select(model.id).where(model.id.in_(ids[k:k + 500]))))
            found[kind] = {"acknowledged": len(ids), "missing": len(set(ids) - present)}
        ids = sorted(by_kind.get("registration", set()))
        beyond = 0
        for k in range(0, len(ids), 500):
            rows = db.execute(select(ReportRecord.log_index).where(
                ReportRecord.id.in_(ids[k:k + 500]))).scalars()
            beyond += sum(1 for i in rows if i is None or i >= size)
        found["registration"]["outside the checkpoint"] = beyond
    engine.dispose()
    return found


def percentile(row: dict[str, str], p: str) -> str:
    return row.get(p, "") or "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--pg-url", default=PG, help="a PostgreSQL database; the run uses a fresh "
                    f"schema {PG_SCHEMA} in it")
    ap.add_argument("--duration", type=int, default=300, help="seconds of traffic")
    ap.add_argument("--users", type=int, default=50, help="simulated clients at once")
    ap.add_argument("--scale", type=float, default=0.3, help="demo data scale")
    ap.add_argument("--max-in-flight", type=int, help="TICHUB_MAX_IN_FLIGHT for the server")
    ap.add_argument("--max-queued", type=int, help="TICHUB_MAX_QUEUED for the server")
    ap.add_argument("--queue-wait", type=float, help="TICHUB_QUEUE_WAIT for the server")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if not 1 <= args.duration <= 3600 or not 1 <= args.users <= 500:
        ap.error("--duration 1..3600 s, --users 1..500")

    work = Path(tempfile.mkdtemp(prefix="tichub-load-"))
    url = fresh_database(args.db, work, args.pg_url)
    env = {**os.environ, "TICHUB_DATABASE_URL": url, "TICHUB_SECRET_KEY": "load-bench-" * 4,
           "TICHUB_COOKIE_SECURE": "false"}
    for name in ("max_in_flight", "max_queued", "queue_wait"):
        if getattr(args, name) is not None:
            env[f"TICHUB_{name.upper()}"] = str(getattr(args, name))
    t0 = time.monotonic()
    tichub(env, work, "db", "upgrade")
    tichub(env, work, "demo", "seed", "--scale", str(args.scale), "--no-progress")
    setup = set_up(url)
    print(f"set up in {time.monotonic() - t0:.0f} s: demo scale {args.scale}, {LABS} labs, "
          f"{len(setup['numbers'])} numbers to verify", flush=True)
    (work / "setup.json").write_text(json.dumps(setup))
    acks_path = work / "acks.jsonl"
    acks_path.touch()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = open(work / "server.log", "w")  # noqa: SIM115 (open while the server runs)
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "tichub.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=work, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while checkpoint_size(base) is None:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start; see " + str(work / "server.log"))
            time.sleep(0.5)
        start_size = checkpoint_size(base) or 0
        sampler = Sampler(base, server.pid)
        sampler.start()
        prefix = work / "locust"
        with open(work / "locust.log", "w") as locust_log:
            subprocess.run(
                [str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless",
                 "-u", str(args.users), "-r", str(max(1, args.users // 10)),
                 "-t", f"{args.duration}s", "--host", base, "--csv", str(prefix),
                 "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"],
                env={**env, "BENCH_LOAD_SETUP": str(work / "setup.json"),
                     "BENCH_LOAD_ACKS": str(acks_path)},
                cwd=work, timeout=args.duration + 180, check=False,
                stdout=subprocess.DEVNULL, stderr=locust_log)
        end = time.monotonic()
        sampler.stop.set()
        acks = [json.loads(line) for line in acks_path.read_text().splitlines() if line]
        # The log must cover every acknowledged registration within seconds of the end.
        covered_after = None
        while time.monotonic() - end < 30:
            size = checkpoint_size(base) or 0
            found = lost_writes(url, acks, size)
            if found["registration"]["outside the checkpoint"] == 0:
                covered_after = time.monotonic() - end
                break
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(30)
        server_log.close()

    stats, failures = read_stats(prefix)
    # Locust words a failure "CatchResponseError('HTTP 503')"; a refused connection has none.
    status = {i: m[1] if (m := re.search(r"HTTP (\d{3})", f["Error"])) else ""
              for i, f in enumerate(failures)}
    server_errors = sum(int(f["Occurrences"]) for i, f in enumerate(failures)
                        if status[i].startswith("5") and status[i] != "503")
    refusals = sum(int(f["Occurrences"]) for i, f in enumerate(failures) if status[i] == "503")
    by_kind = Counter({f"{f['Name']}: {f['Error']}": int(f["Occurrences"]) for f in failures})
    logged = (work / "server.log").read_text()
    total = next(r for r in stats if r["Name"] == "Aggregated")
    sizes = [s for _, s in sampler.sizes if s is not None]
    figures = {
        "database": args.db, "duration_s": args.duration, "users": args.users,
        "gate": {k: env.get(f"TICHUB_{k.upper()}", "default") for k in
                 ("max_in_flight", "max_queued", "queue_wait")},
        "cpu": cpu_model(), "cpus": os.cpu_count(),
        "requests": int(total["Request Count"]), "failures": int(total["Failure Count"]),
        "server_errors_5xx": server_errors, "refused_503": refusals,
        "server_log_errors": logged.count("Traceback"),
        "throughput_rps": float(total["Requests/s"]),
        "kinds": {r["Name"]: {"requests": int(r["Request Count"]),
                              "failures": int(r["Failure Count"]),
                              "p50_ms": percentile(r, "50%"), "p95_ms": percentile(r, "95%"),
                              "p99_ms": percentile(r, "99%"), "rps": float(r["Requests/s"])}
                  for r in stats},
        "failures_by_kind": dict(by_kind),
        "log": {"size_at_start": start_size, "sampled_sizes": sizes,
                "grew_during_run": len(set(sizes)) > 1,
                "covered_every_registration_after_s": covered_after},
        "writes": found,
        "server_peak_rss_mib": round(sampler.peak_rss / 2**20),
        "work_dir": str(work),
    }
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.db == "postgres":
        engine = create_engine(args.pg_url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        engine.dispose()
    lost = sum(v["missing"] for v in found.values())
    ok = server_errors == 0 and lost == 0 and covered_after is not None
    print("PASS" if ok else "FAIL", f"server errors {server_errors}, lost writes {lost}, "
          f"log covered after {covered_after}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
