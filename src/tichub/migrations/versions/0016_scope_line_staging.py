"""Registry: a staging table for scope imports, written in chunks and published whole.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scope_line_staging',
        sa.Column('import_id', sa.String(length=26), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('line_id', sa.String(length=26), nullable=False),
        sa.Column('qualification_id', sa.String(length=26), nullable=False),
        sa.Column('institution_id', sa.String(length=26), nullable=False),
        sa.Column('doc_key', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('standard', sa.String(length=100), nullable=False),
        sa.Column('std_key', sa.String(length=80), nullable=False),
        sa.Column('std_year', sa.Integer(), nullable=True),
        sa.Column('standard_title', sa.String(length=300), nullable=True),
        sa.Column('product', sa.String(length=300), nullable=False),
        sa.Column('parameter', sa.String(length=300), nullable=False),
        sa.Column('product_en', sa.String(length=300), nullable=True),
        sa.Column('parameter_en', sa.String(length=300), nullable=True),
        sa.Column('method_clause', sa.String(length=100), nullable=True),
        sa.Column('limitation', sa.Text(), nullable=True),
        sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('import_id', 'seq', name=op.f('pk_scope_line_staging')),
    )


def downgrade() -> None:
    op.drop_table('scope_line_staging')
