"""Signals: the corrective actions a lab records after an unsatisfactory PT result (the rule
PT_NO_CORRECTION looks for them).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pt_corrective_actions',
        sa.Column('result_id', sa.String(length=26), nullable=False),
        sa.Column('org_id', sa.String(length=26), nullable=False),
        sa.Column('recorded_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('recorded_by', sa.String(length=26), nullable=True),
        sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('id', sa.String(length=26), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'],
                                name=op.f('fk_pt_corrective_actions_org_id_organisations')),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name=op.f('fk_pt_corrective_actions_recorded_by_users')),
        sa.ForeignKeyConstraint(['result_id'], ['pt_results.id'],
                                name=op.f('fk_pt_corrective_actions_result_id_pt_results')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pt_corrective_actions')),
    )
    op.create_index(op.f('ix_pt_corrective_actions_org_id'), 'pt_corrective_actions',
                    ['org_id'], unique=False)
    op.create_index(op.f('ix_pt_corrective_actions_result_id'), 'pt_corrective_actions',
                    ['result_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pt_corrective_actions_result_id'),
                  table_name='pt_corrective_actions')
    op.drop_index(op.f('ix_pt_corrective_actions_org_id'), table_name='pt_corrective_actions')
    op.drop_table('pt_corrective_actions')
