"""The PT round report PDF of the demo round (issue 13): how long a reader waits for it.

Seeds the demo into a temporary SQLite database, then renders the published demo round's
report PDF as the background job does (charts as PNG, then WeasyPrint), in Chinese and in
English, and serves it again from the cache. Target: under 5 s from nothing to the PDF.
Prints wall and CPU time of each phase (the machine may be shared: CPU time is the steadier
figure), and the old way (charts as inline SVG) for comparison.

    python bench/pt_report.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model, peak_rss_mib


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from sqlalchemy import select

    from tichub.core.config import Settings
    from tichub.core.db import make_engine, make_sessionmaker
    from tichub.core.migrate import upgrade
    from tichub.demo import seed as demo
    from tichub.demo.acting import acting
    from tichub.demo.pt import PROVIDER_EMAIL, seed_pt
    from tichub.pt import pdfs, report
    from tichub.pt.models import PtRound, RoundStatus
    from tichub.reports.service import Log

    print(f"machine: {cpu_model()}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        upgrade(url)
        settings = Settings(database_url=url, secret_key="bench", log_integrate_every=0)
        factory = make_sessionmaker(make_engine(url))
        with factory() as db:
            demo.seed(db, scale=0.1, seed=2027)
            seed_pt(db, Log.from_settings(settings), seed=2027)
            found = acting(db, PROVIDER_EMAIL)
            assert found is not None
            provider = found[0]
            rnd = db.scalars(select(PtRound).where(PtRound.status == RoundStatus.published)
                             .order_by(PtRound.deadline.desc())).first()
            assert rnd is not None
            n = sum(len(it.rows) for m in report.service.round_report(
                db, provider, rnd.id)[1] for it in m.items)
            print(f"round {rnd.scheme.code}/{rnd.code}: {n} results")
            report.pdf("zh", provider, report.context(db, provider, rnd.id, fmt="png"))  # warm

            def timed(fmt: str, locale: str) -> tuple[float, float, float, float, int]:
                w0, c0 = time.perf_counter(), time.process_time()
                content = report.context(db, provider, rnd.id, fmt=fmt)  # type: ignore[arg-type]
                w1, c1 = time.perf_counter(), time.process_time()
                pdf = report.pdf(locale, provider, content)
                w2, c2 = time.perf_counter(), time.process_time()
                return w1 - w0, c1 - c0, w2 - w1, c2 - c1, len(pdf)

            for fmt in ("png", "svg"):
                for locale in ("zh", "en"):
                    runs = [timed(fmt, locale) for _ in range(args.repeat)]
                    total = statistics.median(r[0] + r[2] for r in runs)
                    cpu = statistics.median(r[1] + r[3] for r in runs)
                    charts = statistics.median(r[0] for r in runs)
                    layout = statistics.median(r[2] for r in runs)
                    verdict = ("met" if total < 5 else "MISSED") if fmt == "png" else "old way"
                    print(f"{fmt} charts, {locale}: charts {charts:.2f} s + PDF {layout:.2f} s "
                          f"= {total:.2f} s wall, {cpu:.2f} s CPU, {runs[0][4] / 1024:.0f} KiB "
                          f"(median of {args.repeat}; target < 5 s: {verdict})")

            # The job as the page starts it, then the cached PDF.
            w0 = time.perf_counter()
            pdfs.request(db, factory, provider, rnd.id, "zh")
            pdfs.wait()
            w1 = time.perf_counter()
            status = pdfs.request(db, factory, provider, rnd.id, "zh")
            w2 = time.perf_counter()
            assert status.pdf is not None
            print(f"background job to a ready PDF: {w1 - w0:.2f} s; "
                  f"served from the cache: {(w2 - w1) * 1000:.0f} ms")
    print(f"process peak RSS {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
