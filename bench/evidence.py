"""What evidence costs a registration (issue 15; issue 18 wants 10,000 records/s).

Registers the same records twice over in batches of 1,000 through ``reports.service.register``,
once without evidence and once with typical evidence (3 items naming the lab's instruments and
testers, one sampling, 4 results), on a fresh SQLite database (or ``--database-url``), and
prints records per second for each and the difference per record.

    python bench/evidence.py                  # 20,000 records each way
    python bench/evidence.py --records 50000 --database-url postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from tichub.core.db import make_engine, make_sessionmaker
from tichub.core.migrate import upgrade
from tichub.market.models import Instrument
from tichub.registry.models import Staff
from tichub.reports import service
from tichub.reports.evidence.schemas import (
    EvidenceIn,
    ItemIn,
    ResultIn,
    SamplingIn,
)
from tichub.reports.note import Signer
from tichub.reports.schemas import RecordIn
from tlog import lab

BATCH = 1000
START = datetime(2026, 1, 3, 1, 0, tzinfo=UTC)


def record(i: int, inst: str, with_evidence: bool, run: int) -> RecordIn:
    evidence = None
    if with_evidence:
        start = START + timedelta(minutes=i % 5000)
        evidence = EvidenceIn(
            items=[ItemIn(parameter=p, standard="GB 31241-2022", instrument=f"EQ-{1 + k:03d}",
                          tester=f"ST-{3 + k:03d}", started_at=start,
                          ended_at=start + timedelta(hours=1))
                   for k, p in enumerate(("过充电保护", "外部短路", "挤压"))],
            samplings=[SamplingIn(what="电池组", sampler="ST-007", district="pudong",
                                  latitude=31.2 + (i % 100) / 1000, longitude=121.5,
                                  at=START - timedelta(days=1))],
            results=[ResultIn(parameter=p, value=f"{(i * 7 + k) % 1000 / 100:.3f}", unit="V")
                     for k, p in enumerate(("开路电压", "内阻", "容量", "温升"))])
    return RecordIn(number=f"EV-{run}-{i:08d}", kind="test_report",
                    institution_id=inst, client="上海某储能科技有限公司", product="锂离子电池组",
                    sample=f"样品 {i}", standards=["GB 31241-2022"],
                    sample_received_on=date(2026, 1, 2), tested_from=date(2026, 1, 3),
                    tested_to=date(2026, 1, 4), issued_on=date(2026, 1, 5), evidence=evidence)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/evidence-bench.db"
    upgrade(url)
    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    principal, inst = lab(db)
    org = next(iter(principal.roles))
    for n in range(1, 9):
        db.add(Instrument(org_id=org, institution_id=inst, asset_no=f"EQ-{n:03d}",
                          name=f"EQ-{n:03d}", kind="bench", shared=False))
    for n in range(1, 11):
        db.add(Staff(institution_id=inst, org_id=org, staff_no=f"ST-{n:03d}", name=f"员工{n}",
                     roles=["tester", "sampler"], employed_from=date(2020, 1, 1)))
    db.commit()
    log = service.Log("bench.tichub/evidence", Signer.generate("bench.tichub/evidence"))
    rates = {}
    # Alternately, twice each: the later pair runs on a warm process and a fuller table.
    for run, with_evidence in enumerate((False, True, False, True)):
        items = [record(i, inst, with_evidence, run) for i in range(args.records)]
        t0 = time.perf_counter()
        for start in range(0, args.records, BATCH):
            service.register(db, principal, log, items[start:start + BATCH])
        rates[with_evidence] = args.records / (time.perf_counter() - t0)
    print(f"{engine.dialect.name}, {args.records} records a pass, batches of {BATCH}")
    print(f"  without evidence: {rates[False]:8.0f} records/s")
    print(f"  with evidence:    {rates[True]:8.0f} records/s "
          f"(3 items, 1 sampling, 4 results each)")
    print(f"  evidence costs {1000 / rates[True] - 1000 / rates[False]:.3f} ms a record")


if __name__ == "__main__":
    main()
