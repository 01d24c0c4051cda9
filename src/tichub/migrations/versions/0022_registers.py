"""The evidence registers (issue 15): the authorised signatories move into the staff
register (same ids, the signatory role, employed from the first day of authorisation); a
shared instrument of an organisation with one institution becomes that institution's
register entry; the curated standard editions are loaded.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import tichub.core.db
from tichub.core.ids import new_id

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# The tables as this revision knows them, whatever the models say later.
staff = sa.table(
    'staff', sa.column('id', sa.String), sa.column('created_at', tichub.core.db.UTCDateTime()),
    sa.column('institution_id', sa.String), sa.column('org_id', sa.String),
    sa.column('staff_no', sa.String), sa.column('name', sa.String),
    sa.column('title', sa.String), sa.column('roles', sa.JSON),
    sa.column('authorised_for', sa.JSON), sa.column('employed_from', sa.Date),
    sa.column('employed_until', sa.Date), sa.column('authorised_from', sa.Date),
    sa.column('authorised_until', sa.Date))
signatories = sa.table(
    'signatories', sa.column('id', sa.String),
    sa.column('created_at', tichub.core.db.UTCDateTime()),
    sa.column('institution_id', sa.String), sa.column('name', sa.String),
    sa.column('title', sa.String), sa.column('authorised_from', sa.Date),
    sa.column('authorised_until', sa.Date))
institutions = sa.table('institutions', sa.column('id', sa.String), sa.column('org_id', sa.String))
editions = sa.table(
    'standard_editions', sa.column('id', sa.String), sa.column('std_key', sa.String),
    sa.column('year', sa.Integer), sa.column('number', sa.String),
    sa.column('title', sa.String), sa.column('published_on', sa.Date),
    sa.column('implemented_on', sa.Date), sa.column('withdrawn_on', sa.Date),
    sa.column('replaced_by', sa.String), sa.column('source', sa.String))

CURATED = (Path(__file__).resolve().parents[2] / "registry" / "data"
           / "standard_editions.csv")


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


def _curated() -> list[dict[str, object]]:
    from tichub.registry import standards  # a pure function of the text: safe here

    rows = []
    with CURATED.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            parsed = standards.parse(r["number"])
            rows.append({"std_key": parsed.key, "year": parsed.year, "number": parsed.display,
                         "title": r["title"], "published_on": _day(r["published_on"]),
                         "implemented_on": _day(r["implemented_on"]),
                         "withdrawn_on": _day(r["withdrawn_on"]),
                         "replaced_by": r["replaced_by"] or None, "source": r["source"]})
    return rows


def upgrade() -> None:
    conn = op.get_bind()
    held = set(conn.scalars(sa.select(staff.c.id)))
    moved = [
        {"id": s.id, "created_at": s.created_at, "institution_id": s.institution_id,
         "org_id": s.org_id, "staff_no": None, "name": s.name, "title": s.title,
         "roles": ["signatory"], "authorised_for": [], "employed_from": s.authorised_from,
         "employed_until": None, "authorised_from": s.authorised_from,
         "authorised_until": s.authorised_until}
        for s in conn.execute(sa.select(signatories, institutions.c.org_id).join(
            institutions, institutions.c.id == signatories.c.institution_id))
        if s.id not in held]
    if moved:
        conn.execute(sa.insert(staff), moved)
    with op.batch_alter_table('signatories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signatories_institution_id'))
    op.drop_table('signatories')

    # An instrument belongs to its organisation's institution when there is only one.
    op.execute(
        "UPDATE instruments SET institution_id = (SELECT MIN(i.id) FROM institutions i "
        "WHERE i.org_id = instruments.org_id) WHERE institution_id IS NULL AND "
        "(SELECT COUNT(*) FROM institutions i WHERE i.org_id = instruments.org_id) = 1")

    known = {(k, y) for k, y in conn.execute(sa.select(editions.c.std_key, editions.c.year))}
    new = [{"id": new_id(), **r} for r in _curated() if (r["std_key"], r["year"]) not in known]
    if new:
        conn.execute(sa.insert(editions), new)


def downgrade() -> None:
    op.create_table('signatories',
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('authorised_from', sa.Date(), nullable=False),
    sa.Column('authorised_until', sa.Date(), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_signatories_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatories'))
    )
    with op.batch_alter_table('signatories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signatories_institution_id'), ['institution_id'], unique=False)
    conn = op.get_bind()
    # The staff rows stay (the table is 0021's); upgrading again skips the ids it holds.
    back = [{"id": s.id, "created_at": s.created_at, "institution_id": s.institution_id,
             "name": s.name, "title": s.title,
             "authorised_from": s.authorised_from or s.employed_from,
             "authorised_until": s.authorised_until}
            for s in conn.execute(sa.select(staff)) if "signatory" in (s.roles or [])]
    if back:
        conn.execute(sa.insert(signatories), back)
