"""Standard editions: the only code that writes ``standard_editions``.

An edition is in force from its implementation date (its publication date when it has
none) up to the day before its withdrawal: on the withdrawal date itself the edition no
longer stands, because that is the day its successor takes over. An edition the register
does not know counts as in force: the register is curated, not complete.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal
from tichub.core.errors import FieldError
from tichub.core.ids import today
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.core.pagination import PageParams
from tichub.core.schemas import InputModel
from tichub.core.tables import Columns, read_table
from tichub.registry import standards
from tichub.registry.models import StandardEdition
from tichub.supervision import jurisdiction
from tichub.supervision.registers import cells

CURATED = Path(__file__).resolve().parent.parent / "data" / "standard_editions.csv"

IN_FORCE, NOT_YET, WITHDRAWN, UNKNOWN = "in_force", "not_yet", "withdrawn", "unknown"


class EditionIn(InputModel):
    number: str = Field(min_length=1, max_length=100, examples=["GB 4943.1-2022"],
                        description="with its year: an edition, not a standard")
    title: str = Field(default="", max_length=300)
    published_on: date | None = None
    implemented_on: date | None = None
    withdrawn_on: date | None = None
    replaced_by: str | None = Field(default=None, max_length=100)
    source: str = Field(min_length=1, max_length=300,
                        description="where the dates come from: an address or a document")


class EditionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    std_key: str
    year: int | None
    number: str
    title: str
    published_on: date | None
    implemented_on: date | None
    withdrawn_on: date | None
    replaced_by: str | None
    source: str


class InForceOut(BaseModel):
    standard: str
    day: date
    in_force: bool
    reason: str = Field(description="in_force, not_yet, withdrawn or unknown (unknown counts "
                                    "as in force)")
    edition: EditionOut | None = None


def status_on(e: StandardEdition, day: date) -> str:
    start = e.implemented_on or e.published_on
    if start is not None and day < start:
        return NOT_YET
    if e.withdrawn_on is not None and day >= e.withdrawn_on:
        return WITHDRAWN
    return IN_FORCE


def edition_in_force(db: Session, standard_text: str, day: date) -> tuple[bool, str]:
    """Whether the standard, as a report names it, was in force on ``day``: (True,
    "in_force"), (False, "not_yet"), (False, "withdrawn"), or (True, "unknown") for a
    number that does not parse or an edition the register lacks. Without a year the
    standard is in force when any of its editions is."""
    try:
        parsed = standards.parse(standard_text)
    except standards.StandardNumberError:
        return True, UNKNOWN
    q = select(StandardEdition).where(StandardEdition.std_key == parsed.key)
    if parsed.year is not None:
        q = q.where(StandardEdition.year == parsed.year)
    found = list(db.scalars(q))
    if not found:
        return True, UNKNOWN
    states = [status_on(e, day) for e in found]
    if IN_FORCE in states:
        return True, IN_FORCE
    # Of a standard's editions none in force: too early if none had started yet.
    return False, NOT_YET if all(s == NOT_YET for s in states) else WITHDRAWN


def edition_of(db: Session, standard_text: str) -> StandardEdition | None:
    try:
        parsed = standards.parse(standard_text)
    except standards.StandardNumberError:
        return None
    if parsed.year is None:
        return None
    return db.scalar(select(StandardEdition).where(StandardEdition.std_key == parsed.key,
                                                   StandardEdition.year == parsed.year))


def list_editions(db: Session, page: PageParams, q: str = "",
                  status: str = "", on: date | None = None) -> tuple[list[StandardEdition], int]:
    """Public: the editions, filtered by words of the number or title, and by their status
    on ``on``."""
    query = select(StandardEdition)
    if q.strip():
        like = f"%{q.strip()}%"
        key = q.strip()
        with suppress(standards.StandardNumberError):
            key = standards.parse(q).key
        query = query.where(or_(StandardEdition.number.ilike(like),
                                StandardEdition.title.ilike(like),
                                StandardEdition.std_key == key))
    rows = list(db.scalars(query.order_by(StandardEdition.std_key, StandardEdition.year)))
    if status:
        day = on or today()
        rows = [e for e in rows if status_on(e, day) == status]
    return rows[page.offset:page.offset + page.per_page], len(rows)


def count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(StandardEdition)) or 0)


# --- writing ----------------------------------------------------------------------------------

def may_import(principal: Principal) -> bool:
    return principal.is_operator or bool(jurisdiction.bureau_orgs(principal, Role.editor))


def _require_importer(principal: Principal) -> None:
    if not principal.authenticated:
        raise errors.unauthorized()
    if not may_import(principal):
        raise errors.forbidden(Msg("only the platform operator and the market regulator keep "
                                   "the standards' dates"))


def check_edition(data: EditionIn, row: int | None = None
                  ) -> tuple[dict[str, Any], list[FieldError]]:
    errs: list[FieldError] = []
    try:
        parsed = standards.parse(data.number)
    except standards.StandardNumberError as exc:
        return {}, [FieldError("number", exc.args[0], row)]
    if parsed.year is None:
        errs.append(FieldError("number", Msg("name the edition with its year, e.g. {example}",
                                             example=f"{parsed.key}-2022"), row))
    start = data.implemented_on or data.published_on
    if data.published_on and data.implemented_on and data.implemented_on < data.published_on:
        errs.append(FieldError("implemented_on", Msg("is before the publication"), row))
    if start and data.withdrawn_on and data.withdrawn_on < start:
        errs.append(FieldError("withdrawn_on", Msg("is before the edition took effect"), row))
    replaced = None
    if data.replaced_by:
        try:
            replaced = standards.parse(data.replaced_by).display
        except standards.StandardNumberError as exc:
            errs.append(FieldError("replaced_by", exc.args[0], row))
    if len(parsed.key) > 80:
        errs.append(FieldError("number", Msg("must have at most {n} characters", n=80), row))
    return {"std_key": parsed.key, "year": parsed.year, "number": parsed.display,
            "title": data.title.strip(), "published_on": data.published_on,
            "implemented_on": data.implemented_on, "withdrawn_on": data.withdrawn_on,
            "replaced_by": replaced, "source": data.source.strip()}, errs


def _upsert(db: Session, values: dict[str, Any]) -> tuple[StandardEdition, bool]:
    row = db.scalar(select(StandardEdition).where(StandardEdition.std_key == values["std_key"],
                                                  StandardEdition.year == values["year"]))
    created = row is None
    if row is None:
        row = StandardEdition(**values)
        db.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
    return row, created


def save_edition(db: Session, principal: Principal, data: EditionIn) -> StandardEdition:
    """Adds an edition, or replaces the dates of the one with that number and year."""
    _require_importer(principal)
    values, errs = check_edition(data)
    if errs:
        raise errors.Problem(422, "Invalid input", errors=errs)
    row, created = _upsert(db, values)
    db.flush()
    audit.record(db, action="edition.added" if created else "edition.updated",
                 object_type="standard_edition", object_id=row.id,
                 actor_user_id=principal.user_id, org_id=None,
                 data={k: str(v) for k, v in values.items()})
    db.commit()
    return row


COLUMNS: Columns = {
    "number": ("number", "标准编号", "standard"),
    "title": ("title", "标准名称"),
    "published_on": ("published_on", "发布日期"),
    "implemented_on": ("implemented_on", "实施日期"),
    "withdrawn_on": ("withdrawn_on", "废止日期"),
    "replaced_by": ("replaced_by", "被代替", "代替标准"),
    "source": ("source", "来源"),
}
REQUIRED = ("number", "source")


def plan(rows: list[tuple[int, dict[str, str]]], errs: list[FieldError]) -> list[dict[str, Any]]:
    planned: dict[tuple[str, int | None], dict[str, Any]] = {}
    for n, c in rows:
        row_errs = [FieldError(f, Msg("must not be empty"), n) for f in REQUIRED if not c.get(f)]
        dates = {f: cells.day(c.get(f, ""), f, n, row_errs)
                 for f in ("published_on", "implemented_on", "withdrawn_on")}
        if row_errs:
            errs.extend(row_errs)
            continue
        try:
            data = EditionIn(number=c["number"], title=c.get("title", ""),
                             replaced_by=c.get("replaced_by") or None, source=c["source"],
                             **dates)
        except ValidationError as exc:
            errs.extend(errors.field_errors(exc.errors(), row=n))
            continue
        values, row_errs = check_edition(data, n)
        key = (values.get("std_key", ""), values.get("year"))
        if not row_errs and key in planned:
            row_errs.append(FieldError("number", Msg("{number} appears twice in the file",
                                                     number=values["number"]), n))
        errs.extend(row_errs)
        if not row_errs:
            planned[key] = values
    return list(planned.values())


def import_editions(db: Session, principal: Principal | None, filename: str, data: bytes) -> int:
    """Adds or updates every edition in the file; the whole file or nothing. ``principal``
    None: the platform's own setup (the curated file)."""
    if principal is not None:
        _require_importer(principal)
    rows, errs = read_table(filename, data, COLUMNS, REQUIRED)
    planned = plan(rows, errs)
    if errs:
        errs.sort(key=lambda e: e.row or 0)
        raise errors.Problem(422, "Import refused", detail=f"{len(errs)} error(s); nothing was "
                             "imported", errors=errs)
    if not planned:
        raise errors.invalid("file", Msg("has no editions"))
    for values in planned:
        _upsert(db, values)
    db.flush()
    audit.record(db, action="edition.imported", object_type="standard_edition",
                 object_id="import",
                 actor_user_id=principal.user_id if principal else None, org_id=None,
                 data={"editions": len(planned), "file": filename})
    db.commit()
    return len(planned)


def load_curated(db: Session) -> int:
    """The editions shipped with the platform (``registry/data/standard_editions.csv``)."""
    return import_editions(db, None, CURATED.name, CURATED.read_bytes())
