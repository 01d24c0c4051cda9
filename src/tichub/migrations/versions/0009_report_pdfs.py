"""report pdfs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_pdfs',
    sa.Column('record_id', sa.String(length=26), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=26), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['report_records.id'], name=op.f('fk_report_pdfs_record_id_report_records')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_report_pdfs_uploaded_by_users')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_report_pdfs'))
    )


def downgrade() -> None:
    op.drop_table('report_pdfs')
