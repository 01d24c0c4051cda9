"""Registry: an institution's phone, e-mail and website, shown on its public page.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: on SQLite a batch copies the table and drops the old
# one, which the foreign keys of every table that references institutions refuse once rows
# exist. Both databases add and drop a column in place (SQLite since 3.35).
COLUMNS = (('phone', 40), ('email', 254), ('website', 300))


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column('institutions', sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.execute(f'ALTER TABLE institutions DROP COLUMN {name}')
