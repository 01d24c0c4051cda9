"""PT: round report PDFs, rendered in the background and cached until the round changes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pt_report_pdfs',
        sa.Column('id', sa.String(length=26), nullable=False),
        sa.Column('round_id', sa.String(length=26), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('viewer', sa.String(length=200), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('job', sa.String(length=26), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=True),
        sa.Column('started_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['pt_rounds.id'],
                                name=op.f('fk_pt_report_pdfs_round_id_pt_rounds')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pt_report_pdfs')),
        sa.UniqueConstraint('round_id', 'locale', 'viewer', name='pt_report_pdf_key'),
    )
    op.create_index(op.f('ix_pt_report_pdfs_round_id'), 'pt_report_pdfs', ['round_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pt_report_pdfs_round_id'), table_name='pt_report_pdfs')
    op.drop_table('pt_report_pdfs')
