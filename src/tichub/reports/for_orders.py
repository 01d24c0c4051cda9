"""Reports as an order needs them: which of a lab's registered reports can close an order.

An order is closed by a report that is the lab's own, still valid, names one of the
order's standards and was issued no earlier than the lab had the sample. The market asks
here; the rule's words (why a report does not fit) are the market's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.reports import numbers
from tichub.reports.models import RecordEvent, ReportRecord

# Later events that take a document out of use (a reinstatement puts it back).
VOIDING = (RecordEvent.withdrawn, RecordEvent.revoked, RecordEvent.amended,
           RecordEvent.suspended)
# An edition's year closes a standard's number: GB 31241-2022, IEC 62133-2:2017.
EDITION = re.compile(r"[-:](?:19|20)\d\d$")


@dataclass(frozen=True)
class Candidate:
    """A registered report, as an order's page and rule see it."""

    record_id: str
    number: str
    org_id: str
    issued_on: date | None
    standards: tuple[str, ...]
    valid: bool


def standard_key(name: str) -> tuple[str, str]:
    """A standard's number without the spacing and width people type it in, split into
    its base and edition ("GB 31241-2022" → ("GB31241", "2022"))."""
    form = unicodedata.normalize("NFKC", name).upper().replace(" ", "")
    edition = EDITION.search(form)
    if edition is None:
        return form, ""
    return form[:edition.start()], edition.group()[1:]


def same_standard(a: str, b: str) -> bool:
    """One standard, allowing one side to leave out the edition; two editions differ."""
    (base_a, year_a), (base_b, year_b) = standard_key(a), standard_key(b)
    return base_a == base_b and (year_a == year_b or not year_a or not year_b)


def names_any(standards: Iterable[str], wanted: Iterable[str]) -> bool:
    wanted = list(wanted)
    return any(same_standard(s, w) for s in standards for w in wanted)


def _voided(db: Session, record_ids: list[str]) -> set[str]:
    """Of these issued records, those whose latest later event takes them out of use."""
    if not record_ids:
        return set()
    latest: dict[str, RecordEvent] = {}
    for refers_to, event in db.execute(
            select(ReportRecord.refers_to_id, ReportRecord.event)
            .where(ReportRecord.refers_to_id.in_(record_ids))
            .order_by(ReportRecord.registered_at, ReportRecord.id)):
        if refers_to is not None:
            latest[refers_to] = event
    return {r for r, e in latest.items() if e in VOIDING}


def _candidate(record: ReportRecord, valid: bool) -> Candidate:
    return Candidate(record.id, record.number, record.org_id, record.issued_on,
                     tuple(record.public.get("standards") or ()), valid)


def find(db: Session, number: str) -> list[Candidate]:
    """Every issued document registered under ``number`` (any issuer), newest first."""
    try:
        key = numbers.lookup_key(number)
    except ValueError:
        return []
    records = list(db.scalars(select(ReportRecord).where(
        ReportRecord.number_key == key, ReportRecord.event == RecordEvent.issued)
        .order_by(ReportRecord.registered_at.desc()).limit(20)))
    voided = _voided(db, [r.id for r in records])
    return [_candidate(r, r.id not in voided) for r in records]


def matching(db: Session, org_id: str, standards: Iterable[str], since: date | None,
             limit: int = 50) -> list[Candidate]:
    """The lab's valid reports naming any of ``standards``, issued on or after ``since``,
    newest first: the ones that may close an order."""
    wanted = list(standards)
    q = select(ReportRecord).where(ReportRecord.org_id == org_id,
                                   ReportRecord.event == RecordEvent.issued)
    if since is not None:
        q = q.where(ReportRecord.issued_on >= since)
    # Standards live in the logged JSON; the lab's recent reports are few enough to read.
    records = list(db.scalars(q.order_by(ReportRecord.issued_on.desc(),
                                         ReportRecord.registered_at.desc()).limit(1000)))
    records = [r for r in records if names_any(r.public.get("standards") or (), wanted)]
    voided = _voided(db, [r.id for r in records])
    return [_candidate(r, True) for r in records if r.id not in voided][:limit]
