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


def upgrade() -> None:
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('website', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_column('website')
        batch_op.drop_column('email')
        batch_op.drop_column('phone')
