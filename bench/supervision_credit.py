"""The monthly credit-tier run at scale (issue 15): N institutions, each with a random record
(confirmed signals, upheld complaints, sanctions, findings-free inspections, disputed
orders), scored by ``tichub supervision tiers``' use case; prints institutions scored per
second, the time of the input queries alone, and peak memory, on SQLite (and PostgreSQL
with --pg URL).

    python bench/supervision_credit.py [--institutions 20000] [--pg postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from machine import cpu_model, peak_rss_mib
from tichub.core.db import make_engine, make_sessionmaker, table
from tichub.core.ids import new_id, today, utcnow
from tichub.core.migrate import upgrade
from tichub.core.models import Organisation, OrgKind
from tichub.registry.districts import DISTRICTS
from tichub.registry.models import Institution
from tichub.supervision.credit import service
from tichub.supervision.models import (
    Complaint,
    ComplaintStatus,
    Sanction,
    SanctionKind,
    Severity,
    Signal,
    SignalStatus,
)


def build(url: str, n: int, seed: int = 2027) -> None:
    rng = random.Random(seed)
    engine = make_engine(url)
    now, day = utcnow(), today()
    orgs, insts, signals, complaints, sanctions = [], [], [], [], []
    bureau = new_id()
    orgs.append({"id": bureau, "name": "bureau", "kind": OrgKind.regulator.value,
                 "created_at": now})
    for i in range(n):
        org, inst = new_id(), new_id()
        district = DISTRICTS[i % len(DISTRICTS)].slug
        orgs.append({"id": org, "name": f"lab {i}", "kind": OrgKind.lab.value,
                     "created_at": now})
        insts.append({"id": inst, "org_id": org, "seq": i + 1, "kind": "lab",
                      "name_zh": f"实验室{i}", "credit_code": f"{i:018d}",
                      "district": district, "published": True, "created_at": now,
                      "updated_at": now})
        for k in range(rng.choice([0, 0, 0, 1, 2, 5])):
            signals.append({"id": new_id(), "code": "BENCH", "subject": f"{inst}-{k}",
                            "severity": rng.choice(list(Severity)).value,
                            "institution_id": inst, "org_id": org, "district": district,
                            "status": SignalStatus.confirmed.value, "params": {},
                            "evidence": [], "source": "batch", "reason": "",
                            "question": "", "answer": "", "answer_files": [],
                            "decided_at": now - timedelta(days=rng.randint(1, 900)),
                            "created_at": now})
        if rng.random() < 0.1:
            complaints.append({"id": new_id(), "tracking_code": f"TS-{i:012d}",
                               "institution_id": inst, "district": district, "text": "t",
                               "contact_name": "", "contact": "", "files": [], "outcome": "",
                               "status": ComplaintStatus.upheld.value, "updated_at": now,
                               "created_at": now})
        if rng.random() < 0.05:
            sanctions.append({"id": new_id(), "institution_id": inst, "bureau_org_id": bureau,
                              "kind": rng.choice(list(SanctionKind)).value,
                              "decision_no": f"D-{i}", "signal_ids": [],
                              "false_numbers": [], "key_field": False, "reason": "",
                              "basis": "", "created_at": now,
                              "decided_on": day - timedelta(days=rng.randint(0, 700))})
    with make_sessionmaker(engine)() as db:
        for model, rows in ((Organisation, orgs), (Institution, insts), (Signal, signals),
                            (Complaint, complaints), (Sanction, sanctions)):
            for start in range(0, len(rows), 5000):
                db.execute(insert(table(model)), rows[start:start + 5000])
        db.commit()
    engine.dispose()
    print(f"  built {n:,} institutions, {len(signals):,} confirmed signals, "
          f"{len(complaints):,} upheld complaints, {len(sanctions):,} sanctions")


def run(url: str, n: int) -> None:
    build(url, n)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        t0 = time.perf_counter()
        inputs = service.gather_inputs(db, today())
        gathered = time.perf_counter() - t0
        t0 = time.perf_counter()
        scored = service.recompute(db)
        whole = time.perf_counter() - t0
        t0 = time.perf_counter()
        tiers = service.latest_tiers(db, None)
        read = time.perf_counter() - t0
    engine.dispose()
    mix = {t: sum(1 for v in tiers.values() if v == t) for t in "ABCD"}
    print(f"  inputs of {len(inputs):,} institutions gathered in {gathered:.2f} s "
          f"(one grouped query per input)")
    print(f"  monthly run: {scored:,} institutions scored, stored and audited in "
          f"{whole:.1f} s = {scored / whole:,.0f} institutions/s")
    print(f"  latest tiers of all read in {read:.2f} s; tier mix {mix}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--institutions", type=int, default=20_000)
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL to run on as well")
    args = parser.parse_args()
    print(f"credit tiers on {cpu_model()}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        print("SQLite:")
        run(url, args.institutions)
    if args.pg:
        upgrade(args.pg)
        print("PostgreSQL:")
        run(args.pg, args.institutions)
    print(f"peak RSS {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
