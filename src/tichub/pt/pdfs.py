"""Round report PDFs, rendered in the background and kept until the report changes.

Rendering takes seconds (charts, then WeasyPrint's layout): a request for the PDF starts a
job and answers at once with a page that shows its progress; the PDF is served from the
table once ready, to every reader with the same view, until a result, an assessment or the
round itself changes (the report's digest, ``report.digest``). One job renders at a time
per process, so a burst of requests queues rather than starving the other pages of the two
cores; of two readers asking at once, one claims the job and the other waits for it.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tichub.core.auth import Principal
from tichub.core.ids import new_id, utcnow
from tichub.pt import report, service
from tichub.pt.models import PtReportPdf

log = logging.getLogger(__name__)

QUEUED, CHARTS, LAYOUT, READY, FAILED = "queued", "charts", "layout", "ready", "failed"
RUNNING = (QUEUED, CHARTS, LAYOUT)
# A job that has run this long died with its process: the next request starts it again.
ABANDONED_AFTER = timedelta(minutes=5)

_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pt-report-pdf")


@dataclass(frozen=True)
class Status:
    state: str
    pdf: bytes | None = None
    name: str = ""


def _row(db: Session, round_id: str, locale: str, viewer: str) -> PtReportPdf | None:
    return db.scalar(select(PtReportPdf).where(
        PtReportPdf.round_id == round_id, PtReportPdf.locale == locale,
        PtReportPdf.viewer == viewer).execution_options(populate_existing=True))


def _filename(code: str, round_code: str, locale: str) -> str:
    return f"{code}-{round_code}-{locale}.pdf"


def request(db: Session, factory: sessionmaker[Session], principal: Principal,
            round_id: str, locale: str) -> Status:
    """The reader's PDF if current, or the state of the job rendering it (started now if
    none is). Refuses, as the report does, readers who may not read the round."""
    rnd, measurands, mine = service.round_report(db, principal, round_id)
    version = report.digest(rnd, measurands, mine, locale)
    viewer = ",".join(sorted(mine))
    name = _filename(rnd.scheme.code, rnd.code, locale)
    row = _row(db, rnd.id, locale, viewer)
    if row is not None and row.version == version:
        if row.state == READY and row.pdf is not None:
            return Status(READY, row.pdf, name)
        if row.state in RUNNING and utcnow() - row.started_at < ABANDONED_AFTER:
            return Status(row.state, name=name)
    job = new_id()
    if row is None:
        db.add(PtReportPdf(round_id=rnd.id, locale=locale, viewer=viewer, version=version,
                           state=QUEUED, job=job, started_at=utcnow()))
        try:
            db.commit()
        except IntegrityError:  # another reader claimed it first: wait for theirs
            db.rollback()
            return Status(QUEUED, name=name)
    else:
        claimed = db.execute(update(PtReportPdf).where(
            PtReportPdf.id == row.id, PtReportPdf.job == row.job).values(
            version=version, state=QUEUED, job=job, pdf=None, started_at=utcnow(),
            finished_at=None))
        db.commit()
        if getattr(claimed, "rowcount", 0) != 1:
            return Status(QUEUED, name=name)
    _pool.submit(_render, factory, principal, rnd.id, locale, viewer, job)
    return Status(QUEUED, name=name)


def progress(db: Session, principal: Principal, round_id: str, locale: str) -> str:
    """The state of the reader's PDF job: ``ready`` when it may be fetched (or has to be
    asked for again: none, or another job's), else the job's stage, or ``failed``."""
    rnd, _measurands, mine = service.round_report(db, principal, round_id)
    row = _row(db, rnd.id, locale, ",".join(sorted(mine)))
    if row is None:
        return READY  # nothing under way: asking for the PDF starts it
    if row.state in RUNNING and utcnow() - row.started_at >= ABANDONED_AFTER:
        return READY
    return row.state


def _set(db: Session, row_filter: tuple[str, str], **values: object) -> bool:
    row_id, job = row_filter
    done = db.execute(update(PtReportPdf).where(PtReportPdf.id == row_id,
                                                PtReportPdf.job == job).values(**values))
    db.commit()
    return getattr(done, "rowcount", 0) == 1


def _render(factory: sessionmaker[Session], principal: Principal, round_id: str, locale: str,
            viewer: str, job: str) -> None:
    with factory() as db:
        row = db.scalar(select(PtReportPdf).where(PtReportPdf.round_id == round_id,
                                                  PtReportPdf.locale == locale,
                                                  PtReportPdf.viewer == viewer,
                                                  PtReportPdf.job == job))
        if row is None:
            return  # claimed again by a newer job
        key = (row.id, job)
        try:
            if not _set(db, key, state=CHARTS):
                return
            rnd, measurands, mine = service.round_report(db, principal, round_id)
            # The digest of what is drawn now, which may be newer than the request's.
            version = report.digest(rnd, measurands, mine, locale)
            content = report.build(rnd, measurands, mine, fmt="png")
            if not _set(db, key, state=LAYOUT):
                return
            pdf = report.pdf(locale, principal, content)
            _set(db, key, state=READY, pdf=pdf, version=version, finished_at=utcnow())
        except Exception:
            log.exception("round report PDF of %s (%s) failed", round_id, locale)
            db.rollback()
            try:
                _set(db, key, state=FAILED, finished_at=utcnow())
            except Exception:  # the database itself failed: the job counts as abandoned
                log.exception("could not mark the PDF job %s failed", job)


def wait(timeout: float = 60.0) -> None:
    """Blocks until every queued job has run: for tests and the command line."""
    _pool.submit(lambda: None).result(timeout=timeout)
