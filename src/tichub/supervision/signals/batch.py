"""The batch run: every rule over the whole registry, as SQL on the database, streamed; the
signals not already raised are stored, and the run with its per-rule figures is recorded in
``SignalRun``. Memory stays bounded: rows come in fetches of ``queries.STREAM`` and hits are
written in chunks of ``service.CHUNK``."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tichub.core import audit
from tichub.core.ids import utcnow
from tichub.core.progress import ProgressFactory, bars
from tichub.reports.models import ReportRecord
from tichub.supervision.models import SignalRun
from tichub.supervision.signals import queries, rules, service


def run(db: Session, progress: ProgressFactory | None = None,
        codes: Sequence[str] | None = None, actor: str | None = None) -> SignalRun:
    """Runs the rules (all, or ``codes``) and commits after each one, so a long run's
    signals are usable as it goes. Returns the recorded run."""
    todo = [r for r in rules.RULES if codes is None or r.code in codes]
    records = db.scalar(select(func.count()).select_from(ReportRecord)) or 0
    run_row = SignalRun(started_at=utcnow(), status="running", records=records, raised=0,
                        figures={})
    db.add(run_row)
    db.commit()
    figures: dict[str, dict[str, float]] = {}
    ctx = queries.Ctx(db)
    with (progress or bars(False))(len(todo), "signals") as step:
        for rule in todo:
            t0 = time.perf_counter()
            counts: dict[str, int] = {}
            found = 0

            def counted(hits: Iterator[queries.Hit]) -> Iterator[queries.Hit]:
                nonlocal found
                for h in hits:
                    found += 1
                    yield h

            new = service.save_hits(db, counted(queries.QUERIES[rule.code](ctx)), "batch",
                                    counts)
            db.commit()
            figures[rule.code] = {"found": found, "new": new,
                                  "seconds": round(time.perf_counter() - t0, 3)}
            step(1)
    run_row.finished_at = utcnow()
    run_row.status = "done"
    run_row.raised = int(sum(f["new"] for f in figures.values()))
    run_row.figures = figures
    audit.record(db, action="supervision.signals.run", object_type="signal_run",
                 object_id=run_row.id, actor_user_id=actor, org_id=None,
                 data={"records": records, "raised": run_row.raised},
                 summary=f"signal rules over {records} records: {run_row.raised} new")
    db.commit()
    return run_row
