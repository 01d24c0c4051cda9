"""Directory search at scale: 20,000 institutions, about 2,000,000 scope lines, 200 queries.

Target (issue 2): p95 under 50 ms on SQLite on the 2-core machine. The queries go through
the whole HTTP stack in-process (routing, search, loading the page of institutions, JSON).

    python bench/search.py                      # builds var/bench/search.db once, then reuses it
    python bench/search.py --institutions 2000  # a quicker, smaller run
    python bench/search.py --database-url postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from machine import cpu_model, peak_rss_mib  # bench/, beside this script
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.core.db import make_engine, make_sessionmaker
from tichub.core.migrate import upgrade
from tichub.core.progress import bars
from tichub.demo import seed as demo
from tichub.registry.districts import DISTRICTS
from tichub.registry.models import Institution, ScopeLine

ROOT = Path(__file__).resolve().parent.parent


def build(url: str, institutions: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    if db.scalar(select(func.count()).select_from(Institution)):
        db.close()
        engine.dispose()
        return
    started = time.perf_counter()
    counts = demo.seed(db, scale=institutions / 300, seed=2027, progress=bars(show=True))
    if engine.dialect.name == "sqlite":
        db.execute(text("ANALYZE"))
        db.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
    else:
        db.execute(text("ANALYZE"))
    db.commit()
    print(f"built {counts} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    db.close()
    engine.dispose()


def queries(n: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = list(csv.DictReader((ROOT / "src/tichub/demo/data/standards.csv")
                               .open(encoding="utf-8")))
    out: list[dict[str, Any]] = []
    kinds = ["cma", "cnas", "cbtl"]
    for i in range(n):
        r = rng.choice(rows)
        mix = i % 10
        number = r["standard"]
        if mix in (0, 1):  # standard numbers, as people type them
            q = rng.choice([number, number.split("-")[0].split(":")[0],
                            number.replace(" ", "").lower()])
            out.append({"q": q})
        elif mix in (2, 3):  # Chinese text
            out.append({"q": rng.choice([r["product_zh"], r["parameters_zh"].split(";")[0],
                                         r["product_zh"][:4]])})
        elif mix == 4:  # English text
            out.append({"q": rng.choice([r["product_en"],
                                         r["parameters_en"].split(";")[0]]).lower()})
        elif mix == 5:  # text and a district
            out.append({"q": r["product_zh"], "district": rng.choice(DISTRICTS).slug})
        elif mix == 6:  # standard, qualification kind and status
            out.append({"standard": number, "kind": rng.choice(kinds), "status": "valid"})
        elif mix == 7:  # product and parameter fields
            out.append({"product": r["product_zh"], "parameter": r["parameters_zh"].split(";")[0]})
        elif mix == 8:  # browsing by filters alone, deeper pages
            out.append({"district": rng.choice(DISTRICTS).slug, "kind": rng.choice(kinds),
                        "page": rng.randint(1, 3)})
        else:  # English text with filters
            out.append({"q": r["product_en"].split()[0].lower(), "status": "valid",
                        "district": [rng.choice(DISTRICTS).slug, rng.choice(DISTRICTS).slug]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--institutions", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    url = args.database_url or f"sqlite:///{ROOT}/var/bench/search-{args.institutions}.db"

    build(url, args.institutions)
    rss_after_build = peak_rss_mib()
    app = create_app(Settings(database_url=url, secret_key="bench", cookie_secure=False))
    with app.state.sessionmaker() as db:
        n_inst = db.scalar(select(func.count()).select_from(Institution))
        n_lines = db.scalar(select(func.count()).select_from(ScopeLine))
    qs = queries(args.queries, random.Random(7))
    client = TestClient(app)
    for q in qs[:20]:  # warm the caches, as a running server would be
        client.get("/api/registry/search", params=q)

    latencies: list[float] = []
    totals: list[int] = []
    by_kind: dict[str, list[float]] = {}
    for i, q in enumerate(qs):
        t0 = time.perf_counter()
        r = client.get("/api/registry/search", params=q)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            raise SystemExit(f"query {q} failed: {r.status_code} {r.text[:200]}")
        latencies.append(ms)
        totals.append(r.json()["total"])
        by_kind.setdefault(["standard", "standard", "zh text", "zh text", "en text",
                            "text+district", "standard+filters", "product+parameter",
                            "filters only", "en text+filters"][i % 10], []).append(ms)

    def pct(values: list[float], p: float) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]

    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.machine()}, "
          f"python {platform.python_version()}, database {make_engine(url).dialect.name}")
    print(f"data: {n_inst:,} institutions, {n_lines:,} scope lines")
    print(f"queries: {len(qs)}, median results {statistics.median(totals):.0f}, "
          f"with no result {sum(1 for t in totals if t == 0)}")
    print(f"latency ms: p50 {pct(latencies, 50):.1f}  p95 {pct(latencies, 95):.1f}  "
          f"max {max(latencies):.1f}")
    for kind, values in by_kind.items():
        print(f"  {kind:18s} p50 {statistics.median(values):6.1f}  max {max(values):6.1f}")
    print(f"peak memory (RSS): {peak_rss_mib():.0f} MiB "
          f"(after building or opening: {rss_after_build:.0f} MiB)")
    target = 50.0
    verdict = "meets" if pct(latencies, 95) < target else "MISSES"
    print(f"target p95 < {target:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
