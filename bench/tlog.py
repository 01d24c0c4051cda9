"""The report log at scale: 1,000,000 records on SQLite (issue 3).

Targets on the 2-core machine: appends ≥ 10,000/s through the service (registration in
batches of 1,000, then integration), inclusion- and consistency-proof generation p99 under
2 ms, and GET /api/reports/verify ≥ 2,000 req/s with p99 under 20 ms on loopback. The peer,
pymerkle 7 (InmemoryTree), builds the same tree from the same leaf bytes in the same run.

    python bench/tlog.py                    # builds var/bench/tlog-1000000.db, then reuses it
    python bench/tlog.py --entries 20000    # a quicker, smaller run (its own database)
    python bench/tlog.py --entries 20000 --profile   # cProfile of registering and integrating

Building is resumable: every batch is committed and the build's timings are kept beside the
database (``tlog-N.json``), so an interrupted build goes on where it stopped, and a run on a
built database prints the rates measured while it was built. The log key the checkpoints
were signed with is kept beside it too (``tlog-N.key``, a bench-only key).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from pymerkle import InmemoryTree
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from machine import cpu_model, peak_rss_mib  # bench/, beside this script
from tichub.core import service as core
from tichub.core.auth import Principal
from tichub.core.db import make_engine, make_sessionmaker
from tichub.core.migrate import upgrade
from tichub.core.models import OrgKind, Role, User
from tichub.core.progress import bars
from tichub.registry import service as registry
from tichub.registry.credit_code import check_character
from tichub.registry.models import (
    Institution,
    QualificationKind,
    QualificationStatus,
)
from tichub.registry.schemas import InstitutionIn, QualificationIn, ScopeLineIn, SignatoryIn
from tichub.reports import merkle, service, tiles
from tichub.reports.models import LogCheckpoint, RecordEvent, ReportRecord
from tichub.reports.note import Signer
from tichub.reports.schemas import RecordIn

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "bench.tichub.local/reports"
LAB_EMAIL = "bench-lab@tichub.local"
STANDARD = ("GB 31241-2022", "锂离子电池", "过充电保护")
SIGNATORIES = ("张工", "李工")
BATCH = 1_000  # the batch API's limit
CHUNK = 50_000  # entries registered between integrations while building
TARGET_APPENDS = 10_000.0  # per second
TARGET_PROOF_P99_MS = 2.0
TARGET_VERIFY_RPS = 2_000.0
TARGET_VERIFY_P99_MS = 20.0


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


# --- the data ------------------------------------------------------------------------------

def number(i: int) -> str:
    return f"BENCH-{i:08d}"


def record_in(i: int, inst: str) -> RecordIn:
    """Record ``i`` of the log: a test report issued, and one in a hundred a withdrawal of a
    report issued in an earlier batch."""
    if i % 100 == 99 and i >= BATCH + 99:
        return RecordIn(number=number(i - BATCH - 99), kind="test_report",
                        event=RecordEvent.withdrawn, institution_id=inst,
                        reason="客户要求撤回 / withdrawn at the client's request")
    return RecordIn(
        number=number(i), kind="test_report", institution_id=inst,
        client=f"上海某储能科技有限公司 {i % 997}", product="锂离子电池组",
        sample=f"样品 S{i:08d}", standards=[STANDARD[0]], marks=["CNAS"],
        sample_received_on=date(2026, 1, 2), tested_from=date(2026, 1, 3),
        tested_to=date(2026, 1, 4), issued_on=date(2026, 1, 5), valid_until=date(2029, 1, 5),
        signatories=list(SIGNATORIES), conclusion="合格 / pass",
        pdf_sha256=hashlib.sha256(number(i).encode()).hexdigest())


def lab(db: Session) -> tuple[Principal, str]:
    """The bench lab's principal and institution, created on first use."""
    user = db.scalar(select(User).where(User.email == LAB_EMAIL))
    if user is None:
        org = core.create_organisation(db, name="基准检测实验室 (bench)", kind=OrgKind.lab)
        user = core.create_user(db, email=LAB_EMAIL, password="bench-password-2027", org=org,
                                role=Role.admin)
        db.commit()
    org_id = user.memberships[0].org_id
    principal = Principal(user_id=user.id, email=user.email, roles={org_id: Role.admin},
                          kinds={org_id: OrgKind.lab})
    inst = db.scalar(select(Institution.id).where(Institution.org_id == org_id))
    if inst is None:
        first17 = "91310115" + f"{990001:09d}"
        created = registry.create_institution(db, principal, org_id, InstitutionIn(
            name_zh="基准检测(上海)有限公司", credit_code=first17 + check_character(first17),
            district="pudong"))
        q = registry.add_qualification(db, principal, created.id, QualificationIn(
            kind=QualificationKind.cnas, number="CNAS L9001", valid_until=date(2030, 1, 1),
            status=QualificationStatus.valid))
        registry.replace_scope(db, principal, q.id, [ScopeLineIn(
            standard=STANDARD[0], product=STANDARD[1], parameter=STANDARD[2])])
        inst = created.id
    held = {s.name for s in registry.list_signatories(db, principal, inst)}
    for name in SIGNATORIES:
        if name not in held:
            registry.add_signatory(db, principal, inst, SignatoryIn(
                name=name, title="授权签字人", authorised_from=date(2025, 1, 1)))
    return principal, inst


def log_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Signer.generate(ORIGIN).encode()
    path.write_text(key)
    path.chmod(0o600)
    return key


# --- building: appends through the service -------------------------------------------------

class Stats:
    """The build's timings, kept beside the database so that a resumed build adds to them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"registered": 0, "integrated": 0, "register_s": 0.0,
                                     "integrate_s": 0.0, "register_cpu_s": 0.0,
                                     "integrate_cpu_s": 0.0, "runs": 0}
        if path.exists():
            self.data.update(json.loads(path.read_text()))

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        tmp.replace(self.path)


def build(url: str, entries: int, log: service.Log, stats: Stats,
          profile: tuple[cProfile.Profile, cProfile.Profile] | None, analyze: bool) -> None:
    upgrade(url)
    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    principal, inst = lab(db)
    have = db.scalar(select(func.count()).select_from(ReportRecord)) or 0
    todo = max(0, entries - have)
    if todo == 0 and service.count_pending(db) == 0:
        db.close()
        engine.dispose()
        return
    stats.data["runs"] += 1
    prof_reg, prof_int = profile or (None, None)
    # The registration queries need fresh planner statistics on SQLite. Without any, a
    # document's earlier records are looked up through the institution index (every record
    # of the lab); with statistics taken when the table was small, the batch's IN-list
    # queries scan the whole table. Either way registration slows down linearly as the log
    # grows. So the bench runs ANALYZE (untimed) whenever the table has doubled since the
    # last one and after every chunk, as an operator's periodic `PRAGMA optimize` would;
    # --no-analyze measures the service as shipped.
    last_analyzed = 0

    def maintain(count: int, chunk_end: bool) -> None:
        nonlocal last_analyzed
        if analyze and (count >= 2 * last_analyzed or chunk_end):
            t0 = time.perf_counter()
            db.execute(text("ANALYZE"))
            db.commit()
            last_analyzed = count
            stats.data["analyze_runs"] = stats.data.get("analyze_runs", 0) + 1
            stats.data["analyze_s"] = stats.data.get("analyze_s", 0.0) + (
                time.perf_counter() - t0)
    stats.data.setdefault("analyze", analyze)

    def integrate() -> None:
        latest = service.latest_checkpoint(db)
        before = latest.size if latest else 0
        if prof_int:
            prof_int.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        size = service.integrate_all(db, log)
        stats.data["integrate_s"] += time.perf_counter() - t0
        stats.data["integrate_cpu_s"] += time.process_time() - c0
        if prof_int:
            prof_int.disable()
        stats.data["integrated"] += size - before
        stats.save()

    integrate()  # whatever an interrupted build left queued
    with bars(show=True)(todo, f"registering {todo:,} records") as advance:
        i = have
        while i < entries:
            chunk_end = min(entries, i + CHUNK)
            while i < chunk_end:
                items = [record_in(j, inst) for j in range(i, min(chunk_end, i + BATCH))]
                if prof_reg:
                    prof_reg.enable()
                t0, c0 = time.perf_counter(), time.process_time()
                service.register(db, principal, log, items)
                stats.data["register_s"] += time.perf_counter() - t0
                stats.data["register_cpu_s"] += time.process_time() - c0
                if prof_reg:
                    prof_reg.disable()
                stats.data["registered"] += len(items)
                stats.save()
                i += len(items)
                maintain(i, False)
                advance(len(items))
            db.expunge_all()  # a long-running service holds no million objects either
            integrate()
            maintain(i, True)
    db.close()
    engine.dispose()


def print_profile(label: str, prof: cProfile.Profile, top: int = 22) -> None:
    out = io.StringIO()
    st = pstats.Stats(prof, stream=out)
    total = sum(v[2] for v in st.stats.values())  # type: ignore[attr-defined]
    print(f"\nprofile of {label}: {total:.2f} s of own time in all; top by own time "
          f"(share of all), with cumulative time", file=sys.stderr)
    rows = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in rows[:top]:
        where = f"{Path(file).name}:{line}({fn})" if line else fn
        print(f"  {tt:7.2f} s {100 * tt / total:5.1f} %  cum {ct:7.2f} s  {nc:>10,}  {where}",
              file=sys.stderr)
    print(f"top by cumulative time ({label}):", file=sys.stderr)
    st.sort_stats("cumulative").print_stats(28)
    for line in out.getvalue().splitlines():
        if re.match(r"\s*\d", line):
            print("  " + line, file=sys.stderr)


# --- proofs ----------------------------------------------------------------------------------

def time_proofs(db: Session, log: service.Log, samples: int) -> dict[str, list[float]]:
    latest = service.latest_checkpoint(db)
    assert latest is not None
    size, root = latest.size, bytes.fromhex(latest.root_hash)
    rng = random.Random(9162)
    sizes = list(db.scalars(select(LogCheckpoint.size).where(LogCheckpoint.size < size)))
    out: dict[str, list[float]] = {"inclusion": [], "consistency": [], "bundle": []}
    # Warm the page cache and the statement cache, as a running server would be.
    for _ in range(50):
        merkle.inclusion_proof(service.tree(db, size), rng.randrange(size), size)
    checks: list[tuple[int, list[bytes]]] = []
    for _ in range(samples):
        index = rng.randrange(size)
        t0 = time.perf_counter()
        proof = merkle.inclusion_proof(service.tree(db, size), index, size)
        out["inclusion"].append((time.perf_counter() - t0) * 1000)
        checks.append((index, proof))
    leaf_hashes = {i: h for i, h in db.execute(
        select(ReportRecord.log_index, ReportRecord.leaf_hash)
        .where(ReportRecord.log_index.in_([i for i, _ in checks])))}
    for index, proof in checks:  # every proof checked, outside the timing
        merkle.verify_inclusion(bytes.fromhex(leaf_hashes[index]), index, size, proof, root)

    roots = {n: h for n, h in db.execute(select(LogCheckpoint.size, LogCheckpoint.root_hash))}
    for _ in range(samples):
        old = rng.choice(sizes) if sizes else rng.randrange(1, size + 1)
        t0 = time.perf_counter()
        cproof = merkle.consistency_proof(service.tree(db, size), old, size)
        out["consistency"].append((time.perf_counter() - t0) * 1000)
        old_root = (bytes.fromhex(roots[old]) if old in roots
                    else merkle.root(service.tree(db, old), old))
        merkle.verify_consistency(old, size, old_root, root, cproof)

    # For context: the whole bundle use case (record, latest checkpoint, proof, base64).
    ids = list(db.scalars(select(ReportRecord.id).where(ReportRecord.log_index.in_(
        [rng.randrange(size) for _ in range(min(samples, 500))]))))
    for record_id in ids:
        t0 = time.perf_counter()
        service.bundle(db, log, record_id)
        out["bundle"].append((time.perf_counter() - t0) * 1000)
    return out


# --- the peer --------------------------------------------------------------------------------

def time_peer(db: Session, size: int, root: bytes) -> dict[str, float]:
    t0 = time.perf_counter()
    leaves = list(db.scalars(select(ReportRecord.leaf).where(ReportRecord.log_index < size)
                             .order_by(ReportRecord.log_index)))
    read_s = time.perf_counter() - t0
    assert len(leaves) == size

    t0 = time.perf_counter()
    theirs = InmemoryTree("sha256")
    for data in leaves:
        theirs.append_entry(data)
    their_root = theirs.get_root()
    pymerkle_s = time.perf_counter() - t0
    del theirs

    t0 = time.perf_counter()
    ours = merkle.MemoryTree(leaves)
    our_root = ours.root()
    memory_s = time.perf_counter() - t0
    del ours

    t0 = time.perf_counter()
    hashes = [merkle.leaf_hash(d) for d in leaves]
    changed = tiles.append(0, {}, hashes)
    tile_root = merkle.root(tiles.TileSource(size, lambda lv, ix, w: changed[(lv, ix)][
        :w * merkle.HASH_SIZE]), size)
    tiles_s = time.perf_counter() - t0
    if not their_root == our_root == tile_root == root:
        raise SystemExit("the roots differ: pymerkle, MemoryTree, tiles and the checkpoint")
    return {"read_s": read_s, "pymerkle_s": pymerkle_s, "memory_s": memory_s,
            "tiles_s": tiles_s}


# --- the verify endpoint under load -----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, key: str, workers: int) -> tuple[list[subprocess.Popen[bytes]], str]:
    """``workers`` uvicorn processes on one port, each on a socket of its own bound with
    SO_REUSEPORT, so that the kernel spreads connections over them evenly. (uvicorn's own
    --workers share one socket, and whichever process wakes first may take every
    connection a load tool opens at once, which measures one core, not two.)"""
    port = free_port()
    env = dict(os.environ, TICHUB_DATABASE_URL=url, TICHUB_LOG_INTEGRATE_EVERY="0",
               TICHUB_LOG_ORIGIN=ORIGIN, TICHUB_LOG_KEY=key, TICHUB_SECRET_KEY="bench",
               TICHUB_COOKIE_SECURE="false")
    procs = []
    for _ in range(workers):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        # uvicorn takes a socket given by --fd for a Unix one and leaves Nagle's algorithm
        # on; accepted connections inherit this from the listener (Linux).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(1024)
        procs.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "uvicorn"), "tichub.app:create_app",
             "--factory", "--fd", str(sock.fileno()), "--no-access-log",
             "--log-level", "warning"], env=env, cwd=ROOT, pass_fds=[sock.fileno()]))
        sock.close()  # the child holds its copy
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    answered = 0  # in a row, each on a new connection, so each lands on some socket
    while answered < 4 * workers:
        if time.monotonic() > deadline:
            for proc in procs:
                proc.terminate()
            raise SystemExit("uvicorn did not answer within 60 s")
        for proc in procs:
            if proc.poll() is not None:
                raise SystemExit(f"uvicorn exited with {proc.returncode}")
        try:
            r = httpx.get(f"{base}/log/checkpoint", timeout=5, headers={"Connection": "close"})
            answered = answered + 1 if r.status_code == 200 else 0
        except httpx.HTTPError:
            answered = 0
            time.sleep(0.2)
    time.sleep(1.0)  # the last processes to start finish their imports
    return procs, base


WRK_SCRIPT = """
local numbers = {%s}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(seed * 7919)
end
function request()
  return wrk.format("GET", "/api/reports/verify?number=" .. numbers[math.random(#numbers)])
end
"""


def load_wrk(base: str, numbers: list[str], connections: int, seconds: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % ",".join(f'"{n}"' for n in numbers))
        script = f.name
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                              "--timeout", "5s", "-s", script, base],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            raise SystemExit(f"cannot read the {label}th percentile from wrk:\n{out}")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", out)
    assert rps and total
    return {"rps": float(rps.group(1)), "p50": ms("50"), "p99": ms("99"),
            "requests": int(total.group(1)), "bad": int(bad.group(1)) if bad else 0,
            "timeouts": int(timeouts.group(1)) if timeouts else 0}


def load_python(base: str, numbers: list[str], connections: int,
                seconds: int) -> dict[str, float]:
    """The same load without wrk: asyncio and httpx, ``connections`` requests in flight."""

    async def run() -> dict[str, float]:
        latencies: list[float] = []
        bad = 0
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=5) as client:
            end = time.perf_counter() + seconds
            rng = random.Random(7)

            async def worker() -> None:
                nonlocal bad
                while time.perf_counter() < end:
                    t0 = time.perf_counter()
                    try:
                        r = await client.get("/api/reports/verify",
                                             params={"number": rng.choice(numbers)})
                        bad += r.status_code != 200
                    except httpx.TimeoutException:
                        bad += 1
                    latencies.append((time.perf_counter() - t0) * 1000)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(connections)))
            elapsed = time.perf_counter() - started
        return {"rps": len(latencies) / elapsed, "p50": pct(latencies, 50),
                "p99": pct(latencies, 99), "requests": len(latencies), "bad": bad,
                "timeouts": 0}

    return asyncio.run(run())


def time_verify(url: str, key: str, numbers: list[str], workers: int,
                runs: list[tuple[str, int]], seconds: int, tool: str) -> list[dict[str, float]]:
    """One server, several loads: (what, connections), what being "registered" (random
    registered numbers) or "unregistered" (a number the log does not hold: one query, no
    record to check; the cost of the HTTP stack and the database session)."""
    procs, base = serve(url, key, workers)
    try:
        check = httpx.get(f"{base}/api/reports/verify", params={"number": numbers[0]}).json()
        # verify checks each record against the signed log: the key must be the DB's.
        if not check.get("found") or check.get("integrity", "verified") != "verified":
            raise SystemExit(f"verify of {numbers[0]} did not verify: {check}")
        load = load_wrk if tool == "wrk" else load_python
        out = []
        for what, connections in runs:
            pool = numbers if what == "registered" else ["UNREGISTERED-0000"]
            load(base, pool, connections, 2)  # warm-up, not counted
            out.append(load(base, pool, connections, seconds))
        return out
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


# --- the run -------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=2_000, help="proofs of each kind")
    ap.add_argument("--seconds", type=int, default=15, help="load per server configuration")
    ap.add_argument("--connections", type=int, default=16, help="concurrent connections")
    ap.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--profile", action="store_true",
                    help="profile registration and integration with cProfile (slower)")
    ap.add_argument("--no-analyze", action="store_true",
                    help="never run ANALYZE while building (the service as shipped)")
    ap.add_argument("--build-only", action="store_true")
    args = ap.parse_args()
    name = f"tlog-{args.entries}" + ("-noanalyze" if args.no_analyze else "")
    path = ROOT / "var" / "bench" / f"{name}.db"
    url = f"sqlite:///{path}"
    key = log_key(path.with_suffix(".key"))
    log = service.Log(ORIGIN, Signer.parse(key))
    stats = Stats(path.with_suffix(".json"))
    profiles = (cProfile.Profile(), cProfile.Profile()) if args.profile else None

    run_started = time.perf_counter()
    build(url, args.entries, log, stats, profiles, not args.no_analyze)
    if profiles:
        print_profile("registration (service.register)", profiles[0])
        print_profile("integration (service.integrate_all)", profiles[1])
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.machine()}, "
          f"python {platform.python_version()}, database sqlite "
          f"({path.stat().st_size / 2**30:.2f} GiB file)")
    if args.build_only:
        return
    s = stats.data
    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    latest = service.latest_checkpoint(db)
    assert latest is not None and latest.size == args.entries, "the log is not fully built"
    size = latest.size
    n_checkpoints = db.scalar(select(func.count()).select_from(LogCheckpoint))
    print(f"log: {size:,} entries, {n_checkpoints:,} checkpoints, "
          f"{service.count_pending(db)} queued")

    reg_rate = s["registered"] / s["register_s"]
    int_rate = s["integrated"] / s["integrate_s"]
    both = size / (s["register_s"] + s["integrate_s"])
    analyzed = (f"ANALYZE run {s['analyze_runs']} times, {s['analyze_s']:.0f} s untimed"
                if s.get("analyze_runs") else "no ANALYZE")
    print(f"appends (measured while building, over {s['runs']} run(s), batches of {BATCH:,}, "
          f"integrated every {CHUNK:,}, {analyzed}): register {reg_rate:,.0f}/s "
          f"({s['register_s']:.0f} s), integrate {int_rate:,.0f}/s ({s['integrate_s']:.0f} s), "
          f"combined {both:,.0f}/s")
    print(f"  the same on this process's CPU time (what other load on the machine does not "
          f"slow): register {s['registered'] / s['register_cpu_s']:,.0f}/s, integrate "
          f"{s['integrated'] / s['integrate_cpu_s']:,.0f}/s, combined "
          f"{size / (s['register_cpu_s'] + s['integrate_cpu_s']):,.0f}/s")

    proofs = time_proofs(db, log, args.samples)
    for kind in ("inclusion", "consistency", "bundle"):
        v = proofs[kind]
        print(f"{kind:>11} proof ms ({len(v):,}): p50 {pct(v, 50):.3f}  p99 {pct(v, 99):.3f}  "
              f"max {max(v):.3f}" + ("  (service.bundle: record, checkpoint, proof; context)"
                                     if kind == "bundle" else ""))

    peer = time_peer(db, size, bytes.fromhex(latest.root_hash))
    ratio = s["integrate_s"] / peer["pymerkle_s"]
    print(f"peer, {size:,} leaves (read from the database in {peer['read_s']:.1f} s): "
          f"pymerkle InmemoryTree {peer['pymerkle_s']:.2f} s; our integration (tiles in "
          f"SQLite, checkpoints signed) {s['integrate_s']:.2f} s: ratio {ratio:.2f}× "
          f"pymerkle's time")
    print(f"  in memory: MemoryTree {peer['memory_s']:.2f} s "
          f"({peer['memory_s'] / peer['pymerkle_s']:.2f}× pymerkle), tiles.append "
          f"{peer['tiles_s']:.2f} s ({peer['tiles_s'] / peer['pymerkle_s']:.2f}×); "
          f"all four roots agree")

    rng = random.Random(2027)
    picks = sorted(rng.sample(range(size), min(size, 10_000)))
    numbers = sorted(set(db.scalars(select(ReportRecord.number)
                                    .where(ReportRecord.log_index.in_(picks)))))
    db.close()
    engine.dispose()
    tool = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
    c = args.connections
    # One process, then two (one per core), each also under twice the connections.
    plan = {1: [("registered", c), ("unregistered", c)],
            2: [("registered", c), ("registered", 2 * c)]}
    loads: list[tuple[int, str, int, dict[str, float]]] = []
    for workers, runs in plan.items():
        results = time_verify(url, key, numbers, workers, runs, args.seconds, tool)
        for (what, conns), r in zip(runs, results, strict=True):
            loads.append((workers, what, conns, r))
            print(f"verify, {workers} uvicorn process(es), {tool} {conns} connections "
                  f"{args.seconds} s, " + (f"{len(numbers):,} registered numbers"
                                           if what == "registered" else
                                           "an unregistered number (context)") +
                  f": {r['rps']:,.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms "
                  f"({r['requests']:,.0f} requests, {r['bad']:.0f} not 200, "
                  f"{r['timeouts']:.0f} timed out after 5 s)")

    print(f"peak memory (RSS): {peak_rss_mib():.0f} MiB; this run took "
          f"{time.perf_counter() - run_started:.0f} s")
    print(f"target appends ≥ {TARGET_APPENDS:,.0f}/s (register + integrate): "
          f"{verdict(both >= TARGET_APPENDS)} ({both:,.0f}/s)")
    for kind in ("inclusion", "consistency"):
        p99 = pct(proofs[kind], 99)
        print(f"target {kind} proof p99 < {TARGET_PROOF_P99_MS:.0f} ms: "
              f"{verdict(p99 < TARGET_PROOF_P99_MS)} ({p99:.3f} ms)")
    for workers, what, conns, r in loads:
        if (workers, what, conns) != (2, "registered", c):
            continue  # the target is the 2-core machine's: a process per core
        ok = (r["rps"] >= TARGET_VERIFY_RPS and r["p99"] < TARGET_VERIFY_P99_MS
              and not r["bad"] and not r["timeouts"])
        print(f"target verify ≥ {TARGET_VERIFY_RPS:,.0f} req/s, p99 < "
              f"{TARGET_VERIFY_P99_MS:.0f} ms, {workers} processes, {conns} connections: "
              f"{verdict(ok)} ({r['rps']:,.0f} req/s, p99 {r['p99']:.1f} ms)")


if __name__ == "__main__":
    main()
